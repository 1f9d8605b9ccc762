/**
 * A small client of Kumul's REST API, used by the CLI's client commands (`kumul jobs submit|list|
 * get|cancel`, `kumul bill`). Errors from the API keep their code, status and field messages.
 */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly key: string | undefined,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<T> {
    const headers: Record<string, string> = { accept };
    if (this.key) headers.authorization = `Bearer ${this.key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiCallError(0, 'KUMUL_UNREACHABLE', `cannot reach ${this.baseUrl}: ${(err as Error).cause ?? (err as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) {
      try {
        const { error } = JSON.parse(text) as { error: { code: string; message: string; fields?: { field: string; message: string }[] } };
        throw new ApiCallError(response.status, error.code, error.message, error.fields ?? []);
      } catch (err) {
        if (err instanceof ApiCallError) throw err;
        throw new ApiCallError(response.status, `HTTP_${response.status}`, text.slice(0, 200));
      }
    }
    return (accept === 'application/json' ? JSON.parse(text) : text) as T;
  }
}
