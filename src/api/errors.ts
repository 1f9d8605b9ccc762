/**
 * The API's error catalogue: every error a client can get, as a stable code with its HTTP status.
 * Routes and hooks throw `ApiError`s (store refusals through `fromRefusal`); the app's error handler
 * (app.ts, `toApiError`) turns anything thrown, fastify's own errors included, into the one body shape
 * `{ error: { code, message, status, fields? } }` described by `ErrorBody`.
 */
import { z } from 'zod';
import { isStoreUnreachable } from '../store/dialects.ts';
import type { Refusal } from '../store/port.ts';

export const ERROR_STATUS = {
  /** Malformed JSON, wrong types, unknown fields, impossible dates or windows, unknown sites: `fields` names each. */
  KUMUL_VALIDATION: 400,
  /** No API key, or one that is unknown or revoked. */
  KUMUL_UNAUTHORIZED: 401,
  /** A key that may not do this: a tenant on an operator route, or on another tenant's bill. */
  KUMUL_FORBIDDEN: 403,
  /** No such route, job, tenant or key (a tenant asking for another tenant's job gets this too). */
  KUMUL_NOT_FOUND: 404,
  /** The store refused: a duplicate id, a transition the job's state does not allow, a stale version; a site with work on it cannot be deleted. */
  KUMUL_CONFLICT: 409,
  /** The body is larger than the limit (1 MiB by default). */
  KUMUL_PAYLOAD_TOO_LARGE: 413,
  /** The body is not `application/json` (`text/csv` for signal uploads). */
  KUMUL_UNSUPPORTED_MEDIA_TYPE: 415,
  /** A job needs more units at once than the tenant's `maxConcurrentUnits` for its pool class: it could never run. */
  KUMUL_QUOTA_EXCEEDED: 422,
  /** Too many requests with one key; `Retry-After` says when to try again. */
  KUMUL_RATE_LIMITED: 429,
  /** A bug; the message says nothing more, the log has the detail. */
  KUMUL_INTERNAL: 500,
  /** The store cannot be reached (`GET /healthz`). */
  KUMUL_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** One problem with one field, named as a path into the request: `jobs[2].deadline`, `limit`, `body`. */
export interface FieldError {
  field: string;
  message: string;
}

export const FieldErrorSchema = z.object({ field: z.string(), message: z.string() });

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      status: z.number().int(),
      fields: z.array(FieldErrorSchema).optional(),
    }),
  })
  .meta({ id: 'Error' });

export type ErrorBodyValue = z.infer<typeof ErrorBody>;

export class ApiError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: FieldError[],
    /** Response headers that go with the error (`Retry-After`, `WWW-Authenticate`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.statusCode = ERROR_STATUS[code];
  }

  body(): ErrorBodyValue {
    return { error: { code: this.code, message: this.message, status: this.statusCode, ...(this.fields ? { fields: this.fields } : {}) } };
  }
}

/** A validation error listing its fields; the message repeats the first ones so a log line is enough. */
export function validationError(fields: FieldError[]): ApiError {
  const shown = fields.slice(0, 3).map((f) => `${f.field}: ${f.message}`);
  const more = fields.length > 3 ? ` (and ${fields.length - 3} more)` : '';
  return new ApiError('KUMUL_VALIDATION', `invalid request: ${shown.join('; ')}${more}`, fields);
}

const REFUSAL_CODE: Record<Refusal['code'], ErrorCode> = {
  'not-found': 'KUMUL_NOT_FOUND',
  invalid: 'KUMUL_VALIDATION',
  duplicate: 'KUMUL_CONFLICT',
  'illegal-transition': 'KUMUL_CONFLICT',
  'version-mismatch': 'KUMUL_CONFLICT',
};

/** A store refusal as the API reports it; `field` names the request field an `invalid` refusal is about. */
export function fromRefusal(refusal: Refusal, field?: string): ApiError {
  const code = REFUSAL_CODE[refusal.code];
  const fields = code === 'KUMUL_VALIDATION' ? [{ field: field ?? 'body', message: refusal.reason }] : undefined;
  return new ApiError(code, refusal.reason, fields);
}

/** Fastify's own errors (body parsing, limits, unknown routes) by their code. */
const FASTIFY_ERRORS: Record<string, (error: Error) => ApiError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: (e) => validationError([{ field: 'body', message: `not valid JSON: ${e.message}` }]),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => validationError([{ field: 'body', message: 'empty, but the content type says JSON' }]),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => validationError([{ field: 'body', message: 'its length differs from Content-Length' }]),
  FST_ERR_CTP_BODY_TOO_LARGE: () => new ApiError('KUMUL_PAYLOAD_TOO_LARGE', 'the request body is larger than the limit', [{ field: 'body', message: 'too large' }]),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new ApiError('KUMUL_UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/json'),
  FST_ERR_NOT_FOUND: () => new ApiError('KUMUL_NOT_FOUND', 'no such route'),
};

const BY_STATUS: Partial<Record<number, ErrorCode>> = { 400: 'KUMUL_VALIDATION', 401: 'KUMUL_UNAUTHORIZED', 403: 'KUMUL_FORBIDDEN', 404: 'KUMUL_NOT_FOUND', 413: 'KUMUL_PAYLOAD_TOO_LARGE', 415: 'KUMUL_UNSUPPORTED_MEDIA_TYPE', 429: 'KUMUL_RATE_LIMITED' };

/** Anything thrown while serving a request, as a catalogue error; null means a bug (answered as KUMUL_INTERNAL). */
export function toApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  if (!(error instanceof Error)) return null;
  if (isStoreUnreachable(error)) {
    const why = error.message || String((error as Error & { code?: string }).code);
    return new ApiError('KUMUL_UNAVAILABLE', `the store cannot be reached (${why}); nothing was changed: retry later`, undefined, { 'retry-after': '5' });
  }
  const { code, statusCode } = error as Error & { code?: string; statusCode?: number };
  const known = code !== undefined ? FASTIFY_ERRORS[code] : undefined;
  if (known) return known(error);
  // Other client errors fastify raises (a secure-json-parse refusal, a bad URL): keep their status and message.
  const byStatus = statusCode !== undefined ? BY_STATUS[statusCode] : undefined;
  if (byStatus === 'KUMUL_VALIDATION') return validationError([{ field: 'body', message: error.message }]);
  if (byStatus) return new ApiError(byStatus, error.message);
  return null;
}

export function internalError(): ApiError {
  return new ApiError('KUMUL_INTERNAL', 'internal error');
}
