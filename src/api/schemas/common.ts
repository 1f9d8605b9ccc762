/**
 * Schema pieces every route group uses: ids, instants, the tenant scope of tenant routes, error responses.
 * Route files compose them into one zod schema per route, the single source of validation, types and OpenAPI.
 */
import { z } from 'zod';
import { formatInstant, parseInstantMs } from '../../jobs/instant.ts';
import { ID_PATTERN } from '../../store/validate.ts';
import { ERROR_STATUS, ErrorBody, type ErrorCode } from '../errors.ts';

/** Tenant and job ids, as the store keeps them. */
export const Id = z
  .string()
  .regex(ID_PATTERN, 'not an id (1-128 of A-Z a-z 0-9 . _ : -, starting with a letter or digit)')
  .meta({ description: '1-128 characters of A-Z a-z 0-9 . _ : -, starting with a letter or digit', example: 'llm-ft-1' });

/** An ISO 8601 instant with `Z` or an offset (as in jobs files), parsed strictly to epoch milliseconds: `2026-02-30T00:00Z` is refused. */
export const InstantInput = z
  .string()
  .meta({ format: 'date-time', description: 'ISO 8601 instant with Z or an offset', example: '2026-06-01T03:00:00Z' })
  .transform((text, ctx) => {
    const ms = parseInstantMs(text);
    if (ms !== null) return ms;
    ctx.issues.push({ code: 'custom', input: text, message: `${JSON.stringify(text)} is not an ISO 8601 instant with Z or an offset (e.g. 2026-06-01T03:00Z), or no such date` });
    return z.NEVER;
  });

/** Instants in responses: UTC, milliseconds only when not zero (`formatInstant`). */
export const Instant = z.string().meta({ format: 'date-time', example: '2026-06-01T03:00:00Z' });
export const iso = formatInstant;

/** `?tenant=`: an operator acts on that tenant's jobs; a tenant may only name itself. */
export const TenantScope = z.strictObject({
  tenant: Id.optional().meta({ description: "Operator only: act on this tenant's jobs (default: the key's own tenant)" }),
});

export const SECURITY = [{ bearerAuth: [] }];

/** The error responses a route declares (one body shape; the description lists the codes), for OpenAPI and for serializing them. */
export function errorResponses(...codes: ErrorCode[]) {
  const responses: Record<number, { description: string; content: { 'application/json': { schema: typeof ErrorBody } } }> = {};
  for (const code of codes) {
    const status = ERROR_STATUS[code];
    const description = responses[status] ? `${responses[status].description}, ${code}` : code;
    responses[status] = { description, content: { 'application/json': { schema: ErrorBody } } };
  }
  return responses;
}

/** Errors any authenticated route can answer with. */
export const AUTH_ERRORS: ErrorCode[] = ['KUMUL_VALIDATION', 'KUMUL_UNAUTHORIZED', 'KUMUL_FORBIDDEN', 'KUMUL_RATE_LIMITED', 'KUMUL_INTERNAL'];
