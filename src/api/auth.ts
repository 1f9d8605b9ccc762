/**
 * Who is calling: the `Authorization: Bearer <key>` of every `/v1` request, checked by the routes' `onRequest`
 * hooks (`auth.tenant` for any key, `auth.operator` for operator keys) before the body is even read.
 * Order: the per-key rate limit (429), the key lookup (401), the role (403).
 *
 * Lookups go to `store.findTenantByKey` and are cached for `cacheTtlMs` (a few seconds) by the key's SHA-256,
 * found or not, so a burst of submissions costs one store query. Revoking a key or changing a tenant through
 * this API forgets the cached entries at once; on another service instance they live out their TTL.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Store, Tenant } from '../store/port.ts';
import { ApiError } from './errors.ts';
import type { RateLimits } from './rate-limit.ts';

export interface Principal {
  tenant: Tenant;
  /** The visible id of the key used. */
  keyId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hooks on authenticated routes; null elsewhere. */
    principal: Principal | null;
  }
}

export interface AuthOptions {
  store: Store;
  /** The per-key and per-address limits (rate-limit.ts), shared across instances through Redis when configured. */
  rateLimits: RateLimits;
  /** How long a lookup is trusted, ms. */
  cacheTtlMs: number;
  /** Monotonic real time, ms. */
  nowMs: () => number;
  /** Entries kept at most (oldest dropped first). */
  maxCached?: number;
}

interface CacheEntry {
  principal: Principal | null;
  expiresMs: number;
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

function unauthorized(message: string): ApiError {
  return new ApiError('KUMUL_UNAUTHORIZED', message, undefined, { 'www-authenticate': 'Bearer realm="kumul"' });
}

export class Auth {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly maxCached: number;

  constructor(private readonly options: AuthOptions) {
    this.maxCached = options.maxCached ?? 10_000;
  }

  /** Hook for routes any valid key may call. */
  readonly tenant: onRequestAsyncHookHandler = async (request) => {
    request.principal = await this.authenticate(request);
  };

  /** Hook for routes without a key (the dashboard's aggregate views): the rate limit applies per client address. */
  readonly anonymous: onRequestAsyncHookHandler = async (request) => {
    const waitS = await this.options.rateLimits.take(request, `address:${request.ip}`);
    if (waitS > 0) throw new ApiError('KUMUL_RATE_LIMITED', `too many requests from ${request.ip}; retry in ${waitS} s`, undefined, { 'retry-after': String(waitS) });
  };

  /** Hook for operator routes. */
  readonly operator: onRequestAsyncHookHandler = async (request) => {
    const principal = await this.authenticate(request);
    if (principal.tenant.role !== 'operator') throw new ApiError('KUMUL_FORBIDDEN', 'this route is for operator keys only');
    request.principal = principal;
  };

  /** Drops cached lookups of a key (after it is revoked). */
  forgetKey(keyId: string): void {
    for (const [hash, entry] of this.cache) if (entry.principal?.keyId === keyId) this.cache.delete(hash);
  }

  /** Drops cached lookups of a tenant's keys (after its role or quotas change). */
  forgetTenant(tenantId: string): void {
    for (const [hash, entry] of this.cache) if (entry.principal?.tenant.id === tenantId) this.cache.delete(hash);
  }

  private async authenticate(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    if (header === undefined) throw unauthorized('no API key: send Authorization: Bearer <key>');
    const match = BEARER.exec(header);
    if (!match) throw unauthorized('the Authorization header must be Bearer <key>');
    const hash = createHash('sha256').update(match[1]).digest('base64url');
    const waitS = await this.options.rateLimits.take(request, hash);
    if (waitS > 0) throw new ApiError('KUMUL_RATE_LIMITED', `too many requests with this key; retry in ${waitS} s`, undefined, { 'retry-after': String(waitS) });
    const principal = await this.lookup(hash, match[1]);
    if (!principal) throw unauthorized('unknown or revoked API key');
    return principal;
  }

  private async lookup(hash: string, key: string): Promise<Principal | null> {
    const nowMs = this.options.nowMs();
    const cached = this.cache.get(hash);
    if (cached && cached.expiresMs > nowMs) return cached.principal;
    const found = await this.options.store.findTenantByKey(key);
    const principal = found && { tenant: found.tenant, keyId: found.key.id };
    this.cache.delete(hash);
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(hash, { principal, expiresMs: nowMs + this.options.cacheTtlMs });
    return principal;
  }
}

/** The caller of an authenticated route (a bug if the route has no auth hook). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`route ${request.routeOptions.url} has no auth hook`);
  return request.principal;
}

/**
 * Whose jobs or bill a request acts on: the key's own tenant, or for an operator the `?tenant=` it names.
 * A tenant naming another tenant is refused (403), not silently served its own.
 */
export function scopeTenantId(request: FastifyRequest, requested: string | undefined): string {
  const { tenant } = principalOf(request);
  if (requested === undefined || requested === tenant.id) return tenant.id;
  if (tenant.role === 'operator') return requested;
  throw new ApiError('KUMUL_FORBIDDEN', 'only operator keys may act for another tenant (?tenant=)');
}
