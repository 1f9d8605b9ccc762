/**
 * Rate limits shared through Redis (src/api/rate-limit.ts): two API instances on one store and one Redis count a
 * key's requests together, and a client address's on the keyless routes; without Redis each counts its own. Redis
 * going away fails open (requests go ahead, counted in /metrics, one warning), and limits hold again once it is back.
 */
import type { ChildProcess } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type AppOptions } from '../../src/api/app.ts';
import { connectRedis } from '../../src/api/rate-limit.ts';
import { FixedClock } from '../../src/service/clock.ts';
import type { ServiceContext } from '../../src/service/context.ts';
import { Metrics } from '../../src/service/metrics.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import type { Store } from '../../src/store/port.ts';
import { TEST_REDIS_URL, checkTestRedis, freePort, kill, startRedisServer, testNamespace } from '../support/redis.ts';
import { T0, testNetwork } from './fixtures.ts';

/** One store, a tenant `lab` with a key, and API instances over it (each with its own metrics, as separate processes). */
class Service {
  readonly apps: FastifyInstance[] = [];
  readonly metrics: Metrics[] = [];
  readonly warnings: string[] = [];
  key = '';

  private constructor(readonly store: Store) {}

  static async open(): Promise<Service> {
    const service = new Service(await openStore('sqlite::memory:'));
    const created = await service.store.createTenant({ id: 'lab', name: 'Lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
    if (!created.ok) throw new Error(created.reason);
    const key = await service.store.createApiKey('lab', 'test', T0);
    if (!key.ok) throw new Error(key.reason);
    service.key = key.plaintext;
    return service;
  }

  /** Another API instance on the store. */
  instance(options: AppOptions): FastifyInstance {
    const metrics = new Metrics();
    const ctx: ServiceContext = { store: this.store, clock: new FixedClock(T0), metrics, network: testNetwork, wake: () => {} };
    const app = buildApp(ctx, { warn: (line) => this.warnings.push(line), ...options });
    this.apps.push(app);
    this.metrics.push(metrics);
    return app;
  }

  async close(): Promise<void> {
    for (const app of this.apps) await app.close();
    await this.store.close();
  }
}

const withKey = (app: FastifyInstance, key: string) => app.inject({ method: 'GET', url: '/v1/jobs', headers: { authorization: `Bearer ${key}` } });

describe('rate limits in Redis', () => {
  let service: Service;
  const clients: Redis[] = [];
  const servers: ChildProcess[] = [];

  beforeAll(checkTestRedis);
  afterEach(async () => {
    await service?.close();
    for (const redis of clients.splice(0)) redis.disconnect();
    for (const server of servers.splice(0)) await kill(server);
  });

  async function redisAt(url: string): Promise<Redis> {
    const redis = await connectRedis(url, (line) => service.warnings.push(line), 1000);
    clients.push(redis);
    return redis;
  }

  it('counts a key’s requests over both instances: the 429 comes at the combined limit, with Retry-After and Kumul’s error body', async () => {
    service = await Service.open();
    const redis = await redisAt(TEST_REDIS_URL);
    const options = { rateLimitPerMinute: 4, rateLimitRedis: redis, rateLimitNamespace: testNamespace() };
    const [a, b] = [service.instance(options), service.instance(options)];
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await withKey(i % 2 === 0 ? a : b, service.key)).statusCode);
    expect(codes).toEqual([200, 200, 200, 200, 429]);
    const limited = await withKey(b, service.key);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(58);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.json()).toEqual({ error: { code: 'KUMUL_RATE_LIMITED', status: 429, message: `too many requests with this key; retry in ${limited.headers['retry-after']} s` } });
    // Another key, even an unknown one, has its own count: 401, not 429.
    expect((await withKey(a, 'kml_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB')).statusCode).toBe(401);
    expect(service.warnings).toEqual([]);
  });

  it('counts a client address on the keyless routes over both instances', async () => {
    service = await Service.open();
    const redis = await redisAt(TEST_REDIS_URL);
    const options = { rateLimitPerMinute: 3, rateLimitRedis: redis, rateLimitNamespace: testNamespace() };
    const [a, b] = [service.instance(options), service.instance(options)];
    const from = (app: FastifyInstance, remoteAddress: string) => app.inject({ method: 'GET', url: '/v1/dashboard/unplaced', remoteAddress });
    const codes = [];
    for (const app of [a, b, a, b]) codes.push((await from(app, '10.1.2.3')).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    expect((await from(b, '10.1.2.3')).json().error.message).toMatch(/^too many requests from 10\.1\.2\.3; retry in \d+ s$/);
    expect((await from(b, '10.1.2.4')).statusCode).toBe(200);
  });

  it('without Redis, each instance counts only its own requests', async () => {
    service = await Service.open();
    const [a, b] = [service.instance({ rateLimitPerMinute: 2 }), service.instance({ rateLimitPerMinute: 2 })];
    const codes = [];
    for (const app of [a, b, a, b, a, b]) codes.push((await withKey(app, service.key)).statusCode);
    expect(codes).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it('fails open while Redis is down (counted, warned once, not held up), and limits again once it is back', async () => {
    service = await Service.open();
    const port = await freePort();
    servers.push(await startRedisServer(port));
    const redis = await redisAt(`redis://127.0.0.1:${port}`);
    const app = service.instance({ rateLimitPerMinute: 2, rateLimitRedis: redis, rateLimitNamespace: testNamespace() });
    expect((await Promise.all([1, 2, 3].map(() => withKey(app, service.key)))).map((r) => r.statusCode).sort()).toEqual([200, 200, 429]);

    await kill(servers.pop()!);
    const started = Date.now();
    for (let i = 0; i < 4; i++) expect((await withKey(app, service.key)).statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(4 * 600); // each request waits at most the 500 ms command timeout
    expect(service.metrics[0].render()).toContain('kumul_rate_limit_store_errors_total 4');
    const failOpen = service.warnings.filter((line) => line.startsWith('rate limits: the redis store failed'));
    expect(failOpen).toHaveLength(1);
    expect(failOpen[0]).toMatch(/requests go ahead unlimited until it answers$/);

    // Back (empty: it keeps nothing on disk); the client reconnects by itself.
    servers.push(await startRedisServer(port));
    const deadline = Date.now() + 10_000;
    while (redis.status !== 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(redis.status).toBe('ready');
    expect(service.warnings.some((line) => /Redis at redis:\/\/127\.0\.0\.1:\d+ answers again/.test(line))).toBe(true);
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await withKey(app, service.key)).statusCode);
    expect(codes).toEqual([200, 200, 429]);
  });

  it('fails open after the 500 ms command timeout when Redis hangs (stopped, connection open)', async () => {
    service = await Service.open();
    const port = await freePort();
    const server = await startRedisServer(port);
    servers.push(server);
    const redis = await redisAt(`redis://127.0.0.1:${port}`);
    const app = service.instance({ rateLimitPerMinute: 1, rateLimitRedis: redis, rateLimitNamespace: testNamespace() });
    expect((await withKey(app, service.key)).statusCode).toBe(200);
    server.kill('SIGSTOP');
    try {
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        expect((await withKey(app, service.key)).statusCode).toBe(200);
        expect(Date.now() - started).toBeLessThan(1500);
      }
      expect(service.metrics[0].render()).toContain('kumul_rate_limit_store_errors_total 2');
    } finally {
      server.kill('SIGCONT');
    }
  });

  it('starts without a Redis that does not answer, saying so, and serves with limits failing open', async () => {
    service = await Service.open();
    const port = await freePort(); // nobody listens there
    const started = Date.now();
    const redis = await redisAt(`redis://127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(service.warnings.join('\n')).toMatch(/did not answer within 1000 ms; serving with limits failing open until it does/);
    const app = service.instance({ rateLimitPerMinute: 1, rateLimitRedis: redis });
    for (let i = 0; i < 3; i++) expect((await withKey(app, service.key)).statusCode).toBe(200);
  });

  it('refuses a URL that is not redis://, naming the option', async () => {
    await expect(connectRedis('http://127.0.0.1:6379', () => {})).rejects.toThrow(/^--redis: 'http:\/\/127\.0\.0\.1:6379' is not a redis:\/\/HOST:PORT\[\/DB\] or rediss:\/\/ URL$/);
    service = await Service.open();
  });
});
