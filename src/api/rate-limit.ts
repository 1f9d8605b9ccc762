/**
 * Per-key request limits for the API, with the maintained plugin @fastify/rate-limit. auth.ts calls `take` before
 * looking a key up (per presented key: its SHA-256) and on the keyless routes (per client address).
 *
 * Each key may make `perMinute` requests in a minute that starts at its first request (a fixed window: the plugin's
 * counter, set to expire after the window); the next gets 429 with `Retry-After`, the seconds left in the window.
 * The counters live in Redis when the service is given one (`kumul serve --redis redis://…`, `KUMUL_REDIS_URL`), so
 * every instance on that Redis counts the same requests; without Redis, in the plugin's in-memory store of this
 * instance (the embedded default).
 *
 * Redis unreachable fails open: the request goes ahead unlimited, `kumul_rate_limit_store_errors_total` counts it and
 * a warning is logged (the first error after a success, then at most once a minute). Limits are a guard against
 * floods, not part of any answer; an outage of the guard must not take the API down with it. Commands fail fast
 * (no queue while disconnected, a 500 ms timeout) so that requests are not held up while Redis is away.
 */
import rateLimitPlugin from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import type { Metrics } from '../service/metrics.ts';

/** The window the limit counts requests in, ms. */
export const RATE_LIMIT_WINDOW_MS = 60_000;
/** Redis keys of the counters start with this (then the key's hash, or `address:<ip>`). */
export const DEFAULT_RATE_LIMIT_NAMESPACE = 'kumul:rate-limit:';
/** Counters the in-memory store keeps at most (least recently used dropped first). */
const LOCAL_KEYS = 100_000;
/** At most one warning this often while the store keeps failing, ms. */
const WARN_EVERY_MS = 60_000;

export interface RateLimitOptions {
  /** Requests per key per minute (positive). */
  perMinute: number;
  /** The shared store (from `connectRedis`); null or absent: this instance's memory. The caller closes it. */
  redis?: Redis | null;
  /** Prefix of the counters' Redis keys (default `kumul:rate-limit:`); tests use one of their own. */
  namespace?: string;
  metrics: Metrics;
  /** Where store failures are reported. */
  warn: (line: string) => void;
}

export class RateLimits {
  /** The key each request is counted under, set by `take` just before the plugin reads it. */
  private readonly keys = new WeakMap<FastifyRequest, string>();
  private limiter: ReturnType<FastifyInstance['createRateLimit']> | null = null;
  private failing = false;
  private lastWarnMs = -Infinity;
  private readonly countErrors: (by?: number) => void;

  /** Registers the plugin on `app` (buildApp calls it once, before the routes). */
  constructor(
    private readonly app: FastifyInstance,
    private readonly options: RateLimitOptions,
  ) {
    if (!(Number.isSafeInteger(options.perMinute) && options.perMinute > 0)) throw new Error(`rateLimitPerMinute: must be a positive integer, got ${options.perMinute}`);
    this.countErrors = options.metrics.counter('kumul_rate_limit_store_errors_total', 'Requests let through unlimited because the rate-limit store (Redis) failed');
    this.countErrors(0); // shown from the start, so that an alert on it has a series to watch
    app.register(rateLimitPlugin, {
      global: false, // only the routes whose auth hooks call take()
      max: options.perMinute,
      timeWindow: RATE_LIMIT_WINDOW_MS,
      keyGenerator: (request) => this.keys.get(request) ?? `address:${request.ip}`,
      cache: LOCAL_KEYS,
      skipOnError: false, // take() decides what a failure means
      ...(options.redis ? { redis: options.redis, nameSpace: options.namespace ?? DEFAULT_RATE_LIMIT_NAMESPACE } : {}),
    });
  }

  /** Where the counters are: `redis` or `memory`. */
  get store(): 'redis' | 'memory' {
    return this.options.redis ? 'redis' : 'memory';
  }

  /** Counts one request of `request` under `key`: 0 when it may go ahead, else the seconds until the window ends (for Retry-After). */
  async take(request: FastifyRequest, key: string): Promise<number> {
    this.limiter ??= this.app.createRateLimit();
    this.keys.set(request, key);
    let result;
    try {
      result = await this.limiter(request);
    } catch (error) {
      this.storeFailed(error);
      return 0;
    }
    this.failing = false;
    if (result.isAllowed || !result.isExceeded) return 0;
    return Math.max(1, result.ttlInSeconds);
  }

  private storeFailed(error: unknown): void {
    this.countErrors(1);
    const nowMs = Date.now();
    if (this.failing && nowMs - this.lastWarnMs < WARN_EVERY_MS) return;
    this.failing = true;
    this.lastWarnMs = nowMs;
    this.options.warn(`rate limits: the ${this.store} store failed (${error instanceof Error ? error.message : String(error)}); requests go ahead unlimited until it answers`);
  }
}

/**
 * A Redis client for the shared counters, for `kumul serve --redis URL`: commands fail at once while disconnected and
 * after 500 ms without an answer; it reconnects by itself (every 0.2 s to 2 s). Waits up to `waitMs` for the first
 * connection and warns when Redis does not answer by then (the service starts anyway, limits failing open).
 */
export async function connectRedis(url: string, warn: (line: string) => void, waitMs = 2000): Promise<Redis> {
  if (!/^rediss?:\/\/[^\s]+$/.test(url)) throw new Error(`--redis: '${url}' is not a redis://HOST:PORT[/DB] or rediss:// URL`);
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 500,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // One line when Redis goes away (an error or a lost connection), one when it answers again; none per retry.
  let reported = false;
  let up = false;
  const report = (why: string) => {
    if (reported) return;
    reported = true;
    warn(`rate limits: Redis at ${redactUrl(url)}: ${why}; reconnecting (limits fail open meanwhile)`);
  };
  redis.on('error', (error: Error) => report(error.message));
  redis.on('close', () => {
    if (up) report('connection lost');
    up = false;
  });
  redis.on('ready', () => {
    if (reported) warn(`rate limits: Redis at ${redactUrl(url)} answers again`);
    reported = false;
    up = true;
  });
  const ready = await new Promise<boolean>((resolve) => {
    if (redis.status === 'ready') return resolve(true);
    const timer = setTimeout(() => resolve(false), waitMs);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!ready) warn(`rate limits: Redis at ${redactUrl(url)} did not answer within ${waitMs} ms; serving with limits failing open until it does`);
  return redis;
}

/** The URL without its password, for log lines. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
