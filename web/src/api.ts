/**
 * The dashboard's calls to the API (same origin). Dashboard routes need no key; jobs, bills and tenants
 * take the logged-in key (`Authorization: Bearer …`), kept in sessionStorage for this tab only.
 */
import type { ApiErrorBody, BackupDataset, BackupDatasetSummary, Bill, Job, JobEvent, JobPlan, NetworkNow, Savings, ServicePlacements, ServiceSummary, SiteEnergy, Tenant, UnplacedSummary } from './types.ts';

/** An API answer that was not 2xx, with the API's error code and message when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

export interface Session {
  tenantId: string;
  key: string;
  role: 'operator' | 'tenant';
  name: string;
}

const SESSION_KEY = 'kumul.session';

export function currentSession(): Session | null {
  try {
    const text = sessionStorage.getItem(SESSION_KEY);
    return text ? (JSON.parse(text) as Session) : null;
  } catch {
    return null;
  }
}

async function request<T>(path: string, init: RequestInit & { key?: string } = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('accept', 'application/json');
  const key = init.key ?? currentSession()?.key;
  if (key && !path.startsWith('/v1/dashboard')) headers.set('authorization', `Bearer ${key}`);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  const response = await fetch(path, { ...init, headers });
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = (body as ApiErrorBody | null)?.error;
    throw new ApiError(response.status, error?.code ?? `HTTP_${response.status}`, error?.message ?? (text.slice(0, 200) || response.statusText), error?.fields);
  }
  return body as T;
}

/** Checks a tenant id and key against `GET /v1/tenants/:id` and keeps them for this tab. */
export async function logIn(tenantId: string, key: string): Promise<Session> {
  const tenant = await request<Tenant>(`/v1/tenants/${encodeURIComponent(tenantId)}`, { key });
  const session: Session = { tenantId: tenant.id, key, role: tenant.role, name: tenant.name };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

export function logOut(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

const q = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : '';
};

export const api = {
  network: () => request<NetworkNow>('/v1/dashboard/network'),
  energy: (siteId: string, hoursBack = 24, hoursAhead = 48) => request<SiteEnergy>(`/v1/dashboard/energy/${encodeURIComponent(siteId)}${q({ hoursBack, hoursAhead })}`),
  unplaced: () => request<UnplacedSummary>('/v1/dashboard/unplaced'),
  savings: (bucket: 'hour' | 'day') => request<Savings>(`/v1/dashboard/savings${q({ bucket })}`),
  jobs: (filter: { status?: string; class?: string; poolClass?: string; tenant?: string; limit?: number }) =>
    request<{ jobs: Job[]; next: string | null }>(`/v1/jobs${q({ limit: 200, ...filter })}`),
  job: (id: string, tenant?: string) => request<Job>(`/v1/jobs/${encodeURIComponent(id)}${q({ tenant })}`),
  plan: (id: string, tenant?: string) => request<JobPlan>(`/v1/jobs/${encodeURIComponent(id)}/plan${q({ tenant })}`),
  events: (id: string, tenant?: string) => request<{ events: JobEvent[] }>(`/v1/jobs/${encodeURIComponent(id)}/events${q({ tenant })}`),
  submit: (job: Record<string, unknown>) => request<{ jobs: Job[] }>('/v1/jobs', { method: 'POST', body: JSON.stringify(job) }),
  cancel: (id: string, tenant?: string) => request<Job>(`/v1/jobs/${encodeURIComponent(id)}/cancel${q({ tenant })}`, { method: 'POST' }),
  bill: (tenantId: string, month?: string) => request<Bill>(`/v1/tenants/${encodeURIComponent(tenantId)}/bill${q({ month })}`),
  services: () => request<{ services: ServiceSummary[] }>(`/v1/services${q({ status: 'active' })}`),
  servicePlacements: (id: string, tenant?: string) => request<ServicePlacements>(`/v1/services/${encodeURIComponent(id)}/placements${q({ tenant, hoursBack: 24, hoursAhead: 48 })}`),
  backupDatasets: () => request<{ datasets: BackupDatasetSummary[] }>('/v1/backup/datasets'),
  backupDataset: (id: string, tenant?: string) => request<BackupDataset>(`/v1/backup/datasets/${encodeURIComponent(id)}${q({ tenant })}`),
};
