/**
 * The REST API of `kumul serve`, composed (no listening: server.ts does that, tests call `app.inject()`).
 * Every route has one zod schema that validates the request (validation.ts), types the handler, checks and
 * serializes the answer, and becomes the OpenAPI document (`GET /openapi.json`, `GET /docs`).
 * Every error leaves as `{ error: { code, message, status, fields? } }` from the catalogue in errors.ts (the Carbon Aware
 * SDK's routes excepted, which answer in that SDK's shape).
 *
 * Routes (routes/*): health and metrics (no key); jobs (tenant keys); tenants, keys, sites and links, and changes
 * to the scenario — sites, links, signal uploads, policies (operator keys); bills (a tenant its own, an operator
 * any); the web dashboard's views and live events (no key, aggregates only). docs/api.md is the guide.
 */
import { performance } from 'node:perf_hooks';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { serializerCompiler } from 'fastify-type-provider-zod';
import type { ServiceContext } from '../service/context.ts';
import { Auth } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import { ApiError, ERROR_CODES, internalError, toApiError } from './errors.ts';
import { swaggerOptions } from './openapi.ts';
import type { Redis } from 'ioredis';
import { RateLimits } from './rate-limit.ts';
import { SubmitQueue } from './submit-queue.ts';
import { backupRoutes } from './routes/backup.ts';
import { billRoutes } from './routes/bills.ts';
import { carbonAwareRoutes } from './routes/carbon-aware.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { docsRoutes } from './routes/docs.ts';
import { healthRoutes } from './routes/health.ts';
import { jobRoutes } from './routes/jobs.ts';
import { networkRoutes } from './routes/network.ts';
import { probeRoutes } from './routes/probes.ts';
import { scenarioRoutes } from './routes/scenario.ts';
import { serviceRoutes } from './routes/services.ts';
import { signalRoutes } from './routes/signals.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { webRoutes } from './routes/web.ts';
import { validatorCompiler } from './validation.ts';

export const API_VERSION = '0.1.0';

export interface AppOptions {
  /** Largest request body, bytes (default 1 MiB); larger ones get 413. */
  bodyLimitBytes?: number;
  /** Requests per minute per API key, and per client address on keyless routes (default 6000); a key may burst a minute's worth at once. */
  rateLimitPerMinute?: number;
  /** Where the rate-limit counters are shared with other instances (rate-limit.ts, `connectRedis`); absent: in this instance's memory. */
  rateLimitRedis?: Redis | null;
  /** Prefix of the counters' Redis keys (default `kumul:rate-limit:`). */
  rateLimitNamespace?: string;
  /** Where the API reports trouble that does not fail a request (the rate-limit store failing); default: fastify's logger. */
  warn?: (line: string) => void;
  /** How long a key's lookup is cached, ms (default 5000). */
  keyCacheTtlMs?: number;
  /** Fastify's logger (pino); off by default. */
  logger?: boolean;
  /** Monotonic real time for the key cache (default `performance.now`); tests move it by hand. */
  monotonicNowMs?: () => number;
}

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 6000;
export const DEFAULT_KEY_CACHE_TTL_MS = 5000;

export function buildApp(ctx: ServiceContext, options: AppOptions = {}): FastifyInstance {
  const app = Fastify({ bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES, logger: options.logger ?? false, exposeHeadRoutes: false });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('principal', null);
  // Bodies are JSON only: fastify's text/plain parser would hand strings to the schemas.
  app.removeContentTypeParser('text/plain');

  const nowMs = options.monotonicNowMs ?? (() => performance.now());
  const rateLimits = new RateLimits(app, {
    perMinute: options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE,
    redis: options.rateLimitRedis ?? null,
    ...(options.rateLimitNamespace !== undefined ? { namespace: options.rateLimitNamespace } : {}),
    metrics: ctx.metrics,
    warn: options.warn ?? ((line) => app.log.warn(line)),
  });
  const auth = new Auth({ store: ctx.store, rateLimits, cacheTtlMs: options.keyCacheTtlMs ?? DEFAULT_KEY_CACHE_TTL_MS, nowMs });

  const countRequest = ctx.metrics.counter('kumul_api_requests_total', 'API requests answered, by route, method and status');
  const countSeconds = ctx.metrics.counter('kumul_api_request_seconds_total', 'Time spent answering API requests, by route (divide by requests for the mean)');
  const countSubmitted = ctx.metrics.counter('kumul_api_jobs_submitted_total', 'Jobs stored by POST /v1/jobs, by pool class');
  const countError = ctx.metrics.counter('kumul_api_errors_total', 'Error answers of the API, by error code (docs/api.md, "Errors")');
  // Every code from 0, so that Prometheus sees a code's first error as an increase.
  for (const code of ERROR_CODES) countError(0, { code });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    countRequest(1, { route, method: request.method, status: String(reply.statusCode) });
    countSeconds(reply.elapsedTime / 1000, { route });
  });

  app.setErrorHandler((error, request, reply) => {
    let apiError = toApiError(error);
    if (!apiError) {
      request.log.error({ err: error }, 'internal error');
      apiError = internalError();
    }
    countError(1, { code: apiError.code });
    return reply.code(apiError.statusCode).headers(apiError.headers).send(apiError.body());
  });
  app.setNotFoundHandler((request) => {
    throw new ApiError('KUMUL_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
  });

  app.register(swagger, swaggerOptions(API_VERSION));

  const submitQueue = new SubmitQueue(ctx.store, { nowMs: () => ctx.clock.nowMs() });
  const deps: ApiDeps = { ctx, auth, submitQueue, countSubmitted };
  for (const routes of [healthRoutes, docsRoutes, jobRoutes, billRoutes, tenantRoutes, networkRoutes, scenarioRoutes, signalRoutes, dashboardRoutes, probeRoutes, carbonAwareRoutes, serviceRoutes, backupRoutes]) app.register(routes, deps);
  app.register(webRoutes, deps); // the dashboard's built files at / (dist/web/)
  return app;
}
