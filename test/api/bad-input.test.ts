/**
 * Bad input: each case gets its status, its catalogue code and the field it names, and nothing stored changes
 * (the jobs counted before and after). Every error body has the one shape `{ error: { code, message, status, fields? } }`.
 */
import { describe, expect, test } from 'vitest';
import { ApiFixture, jobBody, useApi } from './fixtures.ts';

interface Case {
  name: string;
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Operator key instead of the tenant's. */
  operator?: boolean;
  status: number;
  code: string;
  /** The field the error must name (absent: no field list expected). */
  field?: string;
  /** A piece of that field's message. */
  says?: string;
}

const big = { jobs: Array.from({ length: 4000 }, (_, i) => jobBody(`job-${i}`, { origin: 'x'.repeat(100) })) };

const CASES: Case[] = [
  { name: 'malformed JSON', body: '{"id": "a",', status: 400, code: 'KUMUL_VALIDATION', field: 'body', says: 'JSON' },
  { name: 'empty body with a JSON content type', body: '', status: 400, code: 'KUMUL_VALIDATION', field: 'body' },
  { name: 'body not an object', body: [1, 2], status: 400, code: 'KUMUL_VALIDATION', field: 'body' },
  { name: 'not JSON at all', body: 'id=a', headers: { 'content-type': 'text/plain' }, status: 415, code: 'KUMUL_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'wrong type', body: jobBody('a', { units: '4' }), status: 400, code: 'KUMUL_VALIDATION', field: 'units', says: 'expected number' },
  { name: 'fractional units', body: jobBody('a', { units: 1.5 }), status: 400, code: 'KUMUL_VALIDATION', field: 'units' },
  { name: 'zero duration', body: jobBody('a', { durationS: 0 }), status: 400, code: 'KUMUL_VALIDATION', field: 'durationS' },
  { name: 'negative input', body: jobBody('a', { inputGb: -1 }), status: 400, code: 'KUMUL_VALIDATION', field: 'inputGb' },
  { name: 'boolean as text', body: jobBody('a', { interruptible: 'yes' }), status: 400, code: 'KUMUL_VALIDATION', field: 'interruptible' },
  { name: 'unknown class', body: jobBody('a', { class: 'mining' }), status: 400, code: 'KUMUL_VALIDATION', field: 'class' },
  { name: 'command too long', body: jobBody('a', { command: 'x'.repeat(65_537) }), status: 400, code: 'KUMUL_VALIDATION', field: 'command' },
  { name: 'empty command', body: jobBody('a', { command: '' }), status: 400, code: 'KUMUL_VALIDATION', field: 'command' },
  { name: 'bad id', body: jobBody('-a b'), status: 400, code: 'KUMUL_VALIDATION', field: 'id', says: 'not an id' },
  { name: 'missing field', body: jobBody('a', { release: undefined }), status: 400, code: 'KUMUL_VALIDATION', field: 'release', says: 'required' },
  { name: 'unknown field', body: jobBody('a', { priority: 9 }), status: 400, code: 'KUMUL_VALIDATION', field: 'priority', says: 'unknown field' },
  { name: 'tenant field (the key decides)', body: jobBody('a', { tenant: 'other' }), status: 400, code: 'KUMUL_VALIDATION', field: 'tenant', says: 'unknown field' },
  { name: 'unknown field in a batch job', body: { jobs: [jobBody('a'), jobBody('b', { gpu: 'h100' })] }, status: 400, code: 'KUMUL_VALIDATION', field: 'jobs[1].gpu' },
  { name: 'unknown field beside jobs', body: { jobs: [jobBody('a')], dryRun: true }, status: 400, code: 'KUMUL_VALIDATION', field: 'dryRun' },
  { name: 'empty batch', body: { jobs: [] }, status: 400, code: 'KUMUL_VALIDATION', field: 'jobs' },
  { name: 'impossible date', body: { jobs: [jobBody('a'), jobBody('b'), jobBody('c', { deadline: '2026-02-30T00:00Z' })] }, status: 400, code: 'KUMUL_VALIDATION', field: 'jobs[2].deadline', says: 'no such date' },
  { name: 'instant without a zone', body: jobBody('a', { release: '2026-06-01T03:00' }), status: 400, code: 'KUMUL_VALIDATION', field: 'release', says: 'Z or an offset' },
  { name: 'hour 24', body: jobBody('a', { release: '2026-06-01T24:00Z' }), status: 400, code: 'KUMUL_VALIDATION', field: 'release' },
  { name: 'deadline before release + duration', body: jobBody('a', { release: '2026-06-01T03:00Z', durationS: 7200, deadline: '2026-06-01T04:00Z' }), status: 400, code: 'KUMUL_VALIDATION', field: 'deadline', says: 'before release + duration (2026-06-01T05:00:00Z)' },
  { name: 'deadline a second before release + duration', body: jobBody('a', { durationS: 3600, deadline: '2026-06-01T03:59:59Z' }), status: 400, code: 'KUMUL_VALIDATION', field: 'deadline', says: 'before release + duration' },
  { name: 'unknown origin', body: jobBody('a', { origin: 'lhasa' }), status: 400, code: 'KUMUL_VALIDATION', field: 'origin', says: 'unknown site lhasa' },
  { name: 'unknown allowed site', body: { jobs: [jobBody('a', { allowedSites: ['hami', 'atlantis'] })] }, status: 400, code: 'KUMUL_VALIDATION', field: 'jobs[0].allowedSites[1]', says: 'unknown site atlantis' },
  { name: 'allowed site twice', body: jobBody('a', { allowedSites: ['hami', 'hami'] }), status: 400, code: 'KUMUL_VALIDATION', field: 'allowedSites[1]', says: 'twice' },
  { name: 'empty allowed sites (null means any)', body: jobBody('a', { allowedSites: [] }), status: 400, code: 'KUMUL_VALIDATION', field: 'allowedSites' },
  { name: 'pool class at no allowed site', body: jobBody('a', { poolClass: 'hpc', units: 2, allowedSites: ['beijing', 'zhengzhou'] }), status: 400, code: 'KUMUL_VALIDATION', field: 'poolClass', says: 'no hpc pool' },
  { name: 'more units than any pool', body: jobBody('a', { units: 65 }), status: 400, code: 'KUMUL_VALIDATION', field: 'units', says: 'largest ai pool' },
  { name: 'more units than the tenant quota', body: { jobs: [jobBody('a'), jobBody('b', { units: 17 })] }, status: 422, code: 'KUMUL_QUOTA_EXCEEDED', field: 'jobs[1].units', says: 'maxConcurrentUnits.ai (16)' },
  { name: 'an id twice in a batch', body: { jobs: [jobBody('a'), jobBody('a')] }, status: 400, code: 'KUMUL_VALIDATION', field: 'jobs[1].id', says: 'jobs[0]' },
  { name: 'an id already stored', body: { jobs: [jobBody('fresh'), jobBody('stored')] }, status: 409, code: 'KUMUL_CONFLICT', says: 'stored' },
  { name: 'prototype pollution', body: '{"__proto__": {"x": 1}, "id": "a"}', status: 400, code: 'KUMUL_VALIDATION', field: 'body' },
  { name: 'a body over 1 MiB', body: big, status: 413, code: 'KUMUL_PAYLOAD_TOO_LARGE', field: 'body' },
  { name: 'acting for another tenant', url: '/v1/jobs?tenant=globex', body: jobBody('a'), status: 403, code: 'KUMUL_FORBIDDEN' },
  { name: 'operator acting for a missing tenant', url: '/v1/jobs?tenant=nobody', body: jobBody('a'), operator: true, status: 404, code: 'KUMUL_NOT_FOUND' },
  { name: 'unknown query parameter', method: 'GET', url: '/v1/jobs?colour=red', status: 400, code: 'KUMUL_VALIDATION', field: 'colour' },
  { name: 'limit 0', method: 'GET', url: '/v1/jobs?limit=0', status: 400, code: 'KUMUL_VALIDATION', field: 'limit' },
  { name: 'limit not a number', method: 'GET', url: '/v1/jobs?limit=ten', status: 400, code: 'KUMUL_VALIDATION', field: 'limit' },
  { name: 'unknown status', method: 'GET', url: '/v1/jobs?status=submitted,lost', status: 400, code: 'KUMUL_VALIDATION', field: 'status[1]' },
  { name: 'a cursor this store never gave', method: 'GET', url: '/v1/jobs?after=bm9wZQ', status: 400, code: 'KUMUL_VALIDATION', field: 'after' },
  { name: 'bad job id in the path', method: 'GET', url: '/v1/jobs/%2Ebad', status: 400, code: 'KUMUL_VALIDATION', field: 'id' },
  { name: 'unknown job', method: 'GET', url: '/v1/jobs/nope', status: 404, code: 'KUMUL_NOT_FOUND' },
  { name: 'unknown job to cancel', url: '/v1/jobs/nope/cancel', status: 404, code: 'KUMUL_NOT_FOUND' },
  { name: 'bad expected version', url: '/v1/jobs/stored/cancel?expectedVersion=-1', status: 400, code: 'KUMUL_VALIDATION', field: 'expectedVersion' },
  { name: 'bad month', method: 'GET', url: '/v1/tenants/acme/bill?month=2026-13', status: 400, code: 'KUMUL_VALIDATION', field: 'month' },
  { name: 'bad bill format', method: 'GET', url: '/v1/tenants/acme/bill?format=xlsx', status: 400, code: 'KUMUL_VALIDATION', field: 'format' },
  { name: 'unknown route', method: 'GET', url: '/v1/nothing', status: 404, code: 'KUMUL_NOT_FOUND' },
  { name: 'tenant without a name', url: '/v1/tenants', operator: true, body: { id: 'x', name: ' ' }, status: 400, code: 'KUMUL_VALIDATION', field: 'name' },
  { name: 'negative quota', url: '/v1/tenants', operator: true, body: { id: 'x', name: 'X', maxConcurrentUnits: { ai: -1 } }, status: 400, code: 'KUMUL_VALIDATION', field: 'maxConcurrentUnits.ai' },
  { name: 'quota of an unknown pool class', url: '/v1/tenants', operator: true, body: { id: 'x', name: 'X', maxConcurrentUnits: { tpu: 8 } }, status: 400, code: 'KUMUL_VALIDATION', field: 'maxConcurrentUnits.tpu' },
  { name: 'tenant id taken', url: '/v1/tenants', operator: true, body: { id: 'acme', name: 'Acme again' }, status: 409, code: 'KUMUL_CONFLICT' },
  { name: 'empty patch', method: 'PATCH', url: '/v1/tenants/acme', operator: true, body: {}, status: 400, code: 'KUMUL_VALIDATION', field: 'body' },
  { name: 'patch of a missing tenant', method: 'PATCH', url: '/v1/tenants/nobody', operator: true, body: { name: 'N' }, status: 404, code: 'KUMUL_NOT_FOUND' },
  { name: 'key for a missing tenant', url: '/v1/tenants/nobody/keys', operator: true, body: { label: 'x' }, status: 404, code: 'KUMUL_NOT_FOUND' },
  { name: 'revoking a key id of the wrong shape', method: 'DELETE', url: '/v1/keys/abc', operator: true, status: 400, code: 'KUMUL_VALIDATION', field: 'keyId' },
  { name: 'revoking an unknown key', method: 'DELETE', url: '/v1/keys/kml_AAAAAAAA', operator: true, status: 404, code: 'KUMUL_NOT_FOUND' },
];

describe('bad input is refused with a code, a status and the field, and changes nothing', () => {
  const api = useApi();

  async function setUp(f: ApiFixture): Promise<string> {
    const key = await f.tenant('acme', { ai: 16 });
    await f.tenant('globex');
    expect((await f.call(key, 'POST', '/v1/jobs', jobBody('stored'))).statusCode).toBe(201);
    return key;
  }

  test.each(CASES)('$name → $status $code $field', async (c) => {
    const { f } = api;
    const key = await setUp(f);
    const before = { jobs: await f.jobCount(), tenants: (await f.store.listTenants()).length, wakes: f.wakes };
    const res = await f.call(c.operator ? f.operatorKey : key, c.method ?? 'POST', c.url ?? '/v1/jobs', c.body, c.headers);
    expect(res.statusCode).toBe(c.status);
    const { error } = res.json();
    expect(Object.keys(res.json())).toEqual(['error']);
    expect(error).toMatchObject({ code: c.code, status: c.status });
    expect(typeof error.message).toBe('string');
    if (c.field !== undefined) {
      const field = error.fields?.find((x: { field: string }) => x.field === c.field);
      expect(field, JSON.stringify(error.fields)).toBeDefined();
      if (c.says) expect(field.message).toContain(c.says);
    } else if (c.says) {
      expect(error.message).toContain(c.says);
    }
    expect({ jobs: await f.jobCount(), tenants: (await f.store.listTenants()).length, wakes: f.wakes }).toEqual(before);
    expect((await f.store.getJob({ tenantId: 'acme', jobId: 'stored' }))?.version).toBe(1);
  });

  test('every problem of a batch is listed, each with its own field', async () => {
    const { f } = api;
    const key = await setUp(f);
    const res = await f.call(key, 'POST', '/v1/jobs', { jobs: [jobBody('a', { units: 0 }), jobBody('b'), jobBody('c', { release: 'soon', extra: 1 })] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.fields.map((x: { field: string }) => x.field).sort()).toEqual(['jobs[0].units', 'jobs[2].extra', 'jobs[2].release']);
  });

  test('a smaller body limit applies', async () => {
    const f = await ApiFixture.open({ bodyLimitBytes: 1000 });
    try {
      const key = await f.tenant('acme');
      const res = await f.call(key, 'POST', '/v1/jobs', { jobs: ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => jobBody(id)) });
      expect([res.statusCode, res.json().error.code]).toEqual([413, 'KUMUL_PAYLOAD_TOO_LARGE']);
      expect(await f.jobCount()).toBe(0);
    } finally {
      await f.close();
    }
  });

  test('a bug answers 500 KUMUL_INTERNAL without its detail', async () => {
    const { f } = api;
    const key = await setUp(f);
    f.store.getJob = async () => {
      throw new Error('secret detail: connection to 10.1.2.3 lost');
    };
    const res = await f.call(key, 'GET', '/v1/jobs/stored');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'KUMUL_INTERNAL', message: 'internal error', status: 500 } });
  });

  test('GET /healthz answers 503 when the store fails', async () => {
    const { f } = api;
    f.store.getTenant = async () => {
      throw new Error('database is locked');
    };
    const res = await f.call(null, 'GET', '/healthz');
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('KUMUL_UNAVAILABLE');
  });
});
