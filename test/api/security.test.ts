/**
 * Who may do what: keys, roles, tenants kept apart (another tenant's job is 404, its bill 403), the per-key
 * rate limit, and the key cache (one store lookup per key per TTL; revocation through the API at once).
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { ApiFixture, jobBody, useApi } from './fixtures.ts';

describe('authentication', () => {
  const api = useApi();

  test.each([
    ['no Authorization header', undefined],
    ['another scheme', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l'],
    ['an unknown key', 'Bearer kml_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['not even a key', 'Bearer hunter2'],
  ])('%s → 401 with WWW-Authenticate', async (_name, authorization) => {
    const { f } = api;
    const res = await f.app.inject({ method: 'GET', url: '/v1/jobs', headers: authorization ? { authorization } : {} });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('KUMUL_UNAUTHORIZED');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="kumul"');
  });

  test('an unauthenticated submission is refused before its body is read, and stores nothing', async () => {
    const { f } = api;
    const res = await f.call(null, 'POST', '/v1/jobs', '{not json');
    expect(res.statusCode).toBe(401);
    expect(await f.jobCount()).toBe(0);
  });

  test('health, metrics and docs need no key', async () => {
    const { f } = api;
    for (const url of ['/healthz', '/metrics', '/openapi.json', '/docs']) expect((await f.call(null, 'GET', url)).statusCode, url).toBe(200);
  });
});

describe('tenants are kept apart', () => {
  const api = useApi();

  async function twoTenants(f: ApiFixture) {
    const acme = await f.tenant('acme');
    const globex = await f.tenant('globex');
    expect((await f.call(acme, 'POST', '/v1/jobs', jobBody('secret'))).statusCode).toBe(201);
    return { acme, globex };
  }

  test.each([
    ['read', 'GET', '/v1/jobs/secret'],
    ['cancel', 'POST', '/v1/jobs/secret/cancel'],
    ['plan', 'GET', '/v1/jobs/secret/plan'],
    ['events', 'GET', '/v1/jobs/secret/events'],
  ] as const)("another tenant's job: %s → 404, as if it did not exist", async (_name, method, url) => {
    const { f } = api;
    const { globex } = await twoTenants(f);
    const theirs = await f.call(globex, method, url);
    const missing = await f.call(globex, method, url.replace('secret', 'missing'));
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json().error.code).toBe('KUMUL_NOT_FOUND');
    expect(theirs.json().error.message).toBe(missing.json().error.message.replace('missing', 'secret'));
    const job = await f.store.getJob({ tenantId: 'acme', jobId: 'secret' });
    expect([job?.status, job?.version]).toEqual(['submitted', 1]);
  });

  test("another tenant's jobs are not listed, and ?tenant= naming them is 403", async () => {
    const { f } = api;
    const { globex } = await twoTenants(f);
    expect((await f.call(globex, 'GET', '/v1/jobs')).json().jobs).toEqual([]);
    for (const [method, url] of [
      ['GET', '/v1/jobs?tenant=acme'],
      ['GET', '/v1/jobs/secret?tenant=acme'],
      ['POST', '/v1/jobs/secret/cancel?tenant=acme'],
      ['GET', '/v1/jobs/secret/plan?tenant=acme'],
      ['GET', '/v1/jobs/secret/events?tenant=acme'],
    ] as const) {
      const res = await f.call(globex, method, url);
      expect([res.statusCode, res.json().error.code], url).toEqual([403, 'KUMUL_FORBIDDEN']);
    }
    expect((await f.store.getJob({ tenantId: 'acme', jobId: 'secret' }))?.status).toBe('submitted');
  });

  test('the same job id in two tenants is two jobs', async () => {
    const { f } = api;
    const { globex } = await twoTenants(f);
    expect((await f.call(globex, 'POST', '/v1/jobs', jobBody('secret', { units: 2 }))).statusCode).toBe(201);
    expect((await f.call(globex, 'GET', '/v1/jobs/secret')).json()).toMatchObject({ tenant: 'globex', units: 2 });
  });

  test("another tenant's bill → 403; its own → 200", async () => {
    const { f } = api;
    const { acme, globex } = await twoTenants(f);
    const res = await f.call(globex, 'GET', '/v1/tenants/acme/bill?month=2026-06');
    expect([res.statusCode, res.json().error.code]).toEqual([403, 'KUMUL_FORBIDDEN']);
    expect((await f.call(globex, 'GET', '/v1/tenants/acme/bill?format=csv')).statusCode).toBe(403);
    expect((await f.call(acme, 'GET', '/v1/tenants/acme/bill?month=2026-06')).statusCode).toBe(200);
    expect((await f.call(f.operatorKey, 'GET', '/v1/tenants/acme/bill?month=2026-06')).statusCode).toBe(200);
    expect((await f.call(f.operatorKey, 'GET', '/v1/tenants/nobody/bill?month=2026-06')).statusCode).toBe(404);
  });

  test.each([
    ['POST', '/v1/tenants', { id: 'evil', name: 'Evil', role: 'operator' }],
    ['GET', '/v1/tenants', undefined],
    ['GET', '/v1/tenants/acme', undefined],
    ['PATCH', '/v1/tenants/globex', { role: 'operator' }],
    ['PATCH', '/v1/tenants/globex', { maxConcurrentUnits: { ai: null } }],
    ['POST', '/v1/tenants/acme/keys', { label: 'stolen' }],
    ['DELETE', '/v1/keys/kml_AAAAAAAA', undefined],
    ['GET', '/v1/sites', undefined],
    ['GET', '/v1/links', undefined],
  ] as const)('a tenant key on %s %s → 403, nothing changed', async (method, url, body) => {
    const { f } = api;
    const { globex } = await twoTenants(f);
    const tenantsBefore = await f.store.listTenants();
    const keysBefore = await f.store.listApiKeys('acme');
    const res = await f.call(globex, method, url, body);
    expect([res.statusCode, res.json().error.code]).toEqual([403, 'KUMUL_FORBIDDEN']);
    expect(await f.store.listTenants()).toEqual(tenantsBefore);
    expect(await f.store.listApiKeys('acme')).toEqual(keysBefore);
  });

  test('the last operator cannot be made a tenant', async () => {
    const { f } = api;
    const res = await f.call(f.operatorKey, 'PATCH', '/v1/tenants/ops', { role: 'tenant' });
    expect([res.statusCode, res.json().error.code]).toEqual([409, 'KUMUL_CONFLICT']);
    await f.tenant('second');
    expect((await f.call(f.operatorKey, 'PATCH', '/v1/tenants/second', { role: 'operator' })).statusCode).toBe(200);
    expect((await f.call(f.operatorKey, 'PATCH', '/v1/tenants/ops', { role: 'tenant' })).statusCode).toBe(200);
    // The change applies to the key at once: it is a tenant key now.
    expect((await f.call(f.operatorKey, 'GET', '/v1/tenants')).statusCode).toBe(403);
  });
});

describe('rate limit per key', () => {
  const api = useApi('sqlite', { rateLimitPerMinute: 3 });
  // The in-memory store of @fastify/rate-limit reads Date.now(): the tests move it by hand.
  beforeEach(() => void vi.useFakeTimers({ toFake: ['Date'] }));
  afterEach(() => void vi.useRealTimers());

  test('a key gets a minute of requests at once, then 429 with Retry-After until the minute that began with its first request ends; other keys are not affected', async () => {
    const { f } = api;
    const acme = await f.tenant('acme');
    const globex = await f.tenant('globex');
    const startMs = Date.now();
    for (let i = 0; i < 3; i++) expect((await f.call(acme, 'GET', '/v1/jobs')).statusCode).toBe(200);
    const limited = await f.call(acme, 'POST', '/v1/jobs', jobBody('a'));
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: { code: 'KUMUL_RATE_LIMITED', status: 429, message: 'too many requests with this key; retry in 60 s' } });
    expect(limited.headers['retry-after']).toBe('60');
    expect(await f.jobCount()).toBe(0);
    expect((await f.call(globex, 'GET', '/v1/jobs')).statusCode).toBe(200);

    vi.setSystemTime(startMs + 41_000);
    expect((await f.call(acme, 'GET', '/v1/jobs')).headers['retry-after']).toBe('19');
    vi.setSystemTime(startMs + 60_000);
    for (let i = 0; i < 3; i++) expect((await f.call(acme, 'GET', '/v1/jobs')).statusCode).toBe(200);
    expect((await f.call(acme, 'GET', '/v1/jobs')).statusCode).toBe(429);
  });

  test('unknown keys are limited too (guessing costs tokens)', async () => {
    const { f } = api;
    const guess = 'kml_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await f.call(guess, 'GET', '/v1/jobs')).statusCode);
    expect(codes).toEqual([401, 401, 401, 429]);
  });
});

describe('key cache', () => {
  const api = useApi('sqlite', { keyCacheTtlMs: 5000 });

  function countLookups(f: ApiFixture): () => number {
    let n = 0;
    const find = f.store.findTenantByKey.bind(f.store);
    f.store.findTenantByKey = (key) => {
      n++;
      return find(key);
    };
    return () => n;
  }

  test('one store lookup per key per TTL', async () => {
    const { f } = api;
    const key = await f.tenant('acme');
    const lookups = countLookups(f);
    for (let i = 0; i < 5; i++) expect((await f.call(key, 'GET', '/v1/jobs')).statusCode).toBe(200);
    expect(lookups()).toBe(1);
    f.monotonicMs += 5000;
    await f.call(key, 'GET', '/v1/jobs');
    expect(lookups()).toBe(2);
  });

  test('a key revoked through the API fails at once; revoked elsewhere (another instance), within the TTL', async () => {
    const { f } = api;
    const key = await f.tenant('acme');
    const other = await f.call(f.operatorKey, 'POST', '/v1/tenants/acme/keys', { label: 'other' });
    const otherKey: string = other.json().apiKey;
    expect((await f.call(key, 'GET', '/v1/jobs')).statusCode).toBe(200);
    expect((await f.call(otherKey, 'GET', '/v1/jobs')).statusCode).toBe(200);

    await f.call(f.operatorKey, 'DELETE', `/v1/keys/${key.slice(0, 12)}`);
    expect((await f.call(key, 'GET', '/v1/jobs')).statusCode).toBe(401);

    await f.store.revokeApiKey(otherKey.slice(0, 12), f.clock.nowMs());
    expect((await f.call(otherKey, 'GET', '/v1/jobs')).statusCode).toBe(200);
    f.monotonicMs += 5000;
    expect((await f.call(otherKey, 'GET', '/v1/jobs')).statusCode).toBe(401);
  });

  test('a quota lowered through the API applies to the next submission', async () => {
    const { f } = api;
    const key = await f.tenant('acme', { ai: 16 });
    expect((await f.call(key, 'POST', '/v1/jobs', jobBody('a', { units: 8 }))).statusCode).toBe(201);
    await f.call(f.operatorKey, 'PATCH', '/v1/tenants/acme', { maxConcurrentUnits: { ai: 4 } });
    const res = await f.call(key, 'POST', '/v1/jobs', jobBody('b', { units: 8 }));
    expect([res.statusCode, res.json().error.code]).toEqual([422, 'KUMUL_QUOTA_EXCEEDED']);
  });
});
