/**
 * Every route's happy path, on SQLite in memory and (when KUMUL_TEST_PG is set, as in `npm test` and CI) on PostgreSQL.
 */
import { describe, expect, test } from 'vitest';
import { API_BACKENDS, jobBody, meteringRow, plannedJob, useApi } from './fixtures.ts';
import { openStore } from '../../src/store/kysely-store.ts';

test('sqlite::memory: opens a migrated store (the API tests run on it)', async () => {
  const store = await openStore('sqlite::memory:');
  expect(await store.listTenants()).toEqual([]);
  await store.close();
});

for (const backend of API_BACKENDS) {
  describe(`API happy paths on ${backend}`, () => {
    const api = useApi(backend);

    test('GET /healthz answers ok after asking the store', async () => {
      const res = await api.f.call(null, 'GET', '/healthz');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok', store: 'ok' });
    });

    test('POST /v1/jobs stores one job (deadline defaults to release + 7 d) and wakes the loop', async () => {
      const { f } = api;
      const key = await f.tenant('acme');
      const res = await f.call(key, 'POST', '/v1/jobs', jobBody('llm-1', { deadline: undefined, inputGb: undefined, interruptible: undefined, allowedSites: undefined }));
      expect(res.statusCode).toBe(201);
      const [job] = res.json().jobs;
      expect(job).toMatchObject({ id: 'llm-1', tenant: 'acme', status: 'submitted', version: 1, release: '2026-06-01T03:00:00Z', deadline: '2026-06-08T03:00:00Z', inputGb: 0, interruptible: false, allowedSites: null });
      expect(f.wakes).toBe(1);
      const stored = await f.store.getJob({ tenantId: 'acme', jobId: 'llm-1' });
      expect(stored?.job.deadlineMs).toBe(Date.parse('2026-06-08T03:00:00Z'));
    });

    test('POST /v1/jobs takes a deadline equal to release + duration (no slack: start at release)', async () => {
      const { f } = api;
      const key = await f.tenant('acme');
      const res = await f.call(key, 'POST', '/v1/jobs', jobBody('now-1', { release: '2026-06-01T03:00Z', durationS: 3600, deadline: '2026-06-01T04:00Z' }));
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().jobs[0]).toMatchObject({ id: 'now-1', status: 'submitted', release: '2026-06-01T03:00:00Z', deadline: '2026-06-01T04:00:00Z' });
    });

    test('POST /v1/jobs stores a batch whole, with offsets and allowed sites', async () => {
      const { f } = api;
      const key = await f.tenant('acme');
      const jobs = [jobBody('a', { release: '2026-06-01T11:00:00+08:00', allowedSites: ['hami', 'beijing'] }), jobBody('b', { poolClass: 'general', units: 64, class: 'batch', origin: 'zhengzhou' })];
      const res = await f.call(key, 'POST', '/v1/jobs', { jobs });
      expect(res.statusCode).toBe(201);
      expect(res.json().jobs.map((j: { id: string; release: string }) => [j.id, j.release])).toEqual([
        ['a', '2026-06-01T03:00:00Z'],
        ['b', '2026-06-01T03:00:00Z'],
      ]);
      expect(await f.jobCount()).toBe(2);
    });

    test('GET /v1/jobs filters by status, class and pool class, and pages with limit/after', async () => {
      const { f } = api;
      const key = await f.tenant('acme');
      const jobs = Array.from({ length: 5 }, (_, i) => jobBody(`j${i}`, i % 2 === 0 ? {} : { poolClass: 'general', class: 'batch', units: 16 }));
      expect((await f.call(key, 'POST', '/v1/jobs', { jobs })).statusCode).toBe(201);
      await f.call(key, 'POST', '/v1/jobs/j0/cancel');

      const ids = async (query: string) => (await f.call(key, 'GET', `/v1/jobs${query}`)).json().jobs.map((j: { id: string }) => j.id);
      expect(await ids('?status=cancelled')).toEqual(['j0']);
      expect(await ids('?status=submitted,cancelled&class=batch')).toEqual(['j1', 'j3']);
      expect(await ids('?poolClass=ai&status=submitted')).toEqual(['j2', 'j4']);

      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page: { jobs: { id: string }[]; next: string | null } = (await f.call(key, 'GET', `/v1/jobs?limit=2${after ? `&after=${after}` : ''}`)).json();
        expect(page.jobs.length).toBeLessThanOrEqual(2);
        seen.push(...page.jobs.map((j) => j.id));
        after = page.next;
      } while (after);
      expect(seen).toEqual(['j0', 'j1', 'j2', 'j3', 'j4']);
    });

    test('GET /v1/jobs/{id}, /plan (where, when, why) and /events', async () => {
      const { f } = api;
      const key = await f.tenant('acme');
      await f.call(key, 'POST', '/v1/jobs', jobBody('llm-1'));
      const unplanned = await f.call(key, 'GET', '/v1/jobs/llm-1/plan');
      expect(unplanned.json()).toEqual({ id: 'llm-1', tenant: 'acme', status: 'submitted', version: 1, plan: null, unplaced: null });

      f.clock.advance(60_000);
      const planned = await f.store.planJob({ tenantId: 'acme', jobId: 'llm-1' }, plannedJob('llm-1'), { nowMs: f.clock.nowMs() });
      expect(planned.ok).toBe(true);

      const job = await f.call(key, 'GET', '/v1/jobs/llm-1');
      expect(job.statusCode).toBe(200);
      expect(job.json()).toMatchObject({ id: 'llm-1', status: 'planned', version: 2, updated: '2026-06-01T00:01:00Z' });

      const plan = await f.call(key, 'GET', '/v1/jobs/llm-1/plan');
      expect(plan.statusCode).toBe(200);
      expect(plan.json()).toEqual({ id: 'llm-1', tenant: 'acme', status: 'planned', version: 2, plan: plannedJob('llm-1'), unplaced: null });

      const events = await f.call(key, 'GET', '/v1/jobs/llm-1/events');
      expect(events.json().events.map((e: { version: number; name: string; from: string | null; to: string; at: string }) => [e.version, e.name, e.from, e.to, e.at])).toEqual([
        [1, 'submit', null, 'submitted', '2026-06-01T00:00:00Z'],
        [2, 'planJob', 'submitted', 'planned', '2026-06-01T00:01:00Z'],
      ]);
    });

    test('POST /v1/jobs/{id}/cancel cancels, wakes the loop, and refuses a second time (409)', async () => {
      const { f } = api;
      const key = await f.tenant('acme');
      await f.call(key, 'POST', '/v1/jobs', jobBody('a'));
      const wakes = f.wakes;
      const stale = await f.call(key, 'POST', '/v1/jobs/a/cancel?expectedVersion=7');
      expect([stale.statusCode, stale.json().error.code]).toEqual([409, 'KUMUL_CONFLICT']);
      const res = await f.call(key, 'POST', '/v1/jobs/a/cancel?expectedVersion=1');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: 'a', status: 'cancelled', version: 2 });
      expect(f.wakes).toBe(wakes + 1);
      const again = await f.call(key, 'POST', '/v1/jobs/a/cancel');
      expect([again.statusCode, again.json().error.code]).toEqual([409, 'KUMUL_CONFLICT']);
    });

    test("an operator acts on any tenant's jobs with ?tenant= and lists everyone's without it", async () => {
      const { f } = api;
      const acme = await f.tenant('acme');
      await f.tenant('globex');
      await f.call(acme, 'POST', '/v1/jobs', jobBody('a'));
      const onBehalf = await f.call(f.operatorKey, 'POST', '/v1/jobs?tenant=globex', jobBody('g'));
      expect(onBehalf.statusCode).toBe(201);
      expect(onBehalf.json().jobs[0].tenant).toBe('globex');
      expect((await f.call(f.operatorKey, 'GET', '/v1/jobs/a?tenant=acme')).json().tenant).toBe('acme');
      expect((await f.call(f.operatorKey, 'GET', '/v1/jobs/a/events?tenant=acme')).statusCode).toBe(200);
      expect((await f.call(f.operatorKey, 'GET', '/v1/jobs/a/plan?tenant=acme')).statusCode).toBe(200);
      const all = (await f.call(f.operatorKey, 'GET', '/v1/jobs')).json().jobs.map((j: { tenant: string; id: string }) => `${j.tenant}/${j.id}`);
      expect(all.sort()).toEqual(['acme/a', 'globex/g']);
      expect((await f.call(f.operatorKey, 'GET', '/v1/jobs?tenant=globex')).json().jobs.map((j: { id: string }) => j.id)).toEqual(['g']);
      expect((await f.call(f.operatorKey, 'POST', '/v1/jobs/a/cancel?tenant=acme')).json().status).toBe('cancelled');
    });

    test('tenants: create (key shown once), list, read, patch quotas (merged), new key, revoke', async () => {
      const { f } = api;
      const created = await f.call(f.operatorKey, 'POST', '/v1/tenants', { id: 'acme', name: 'Acme', maxConcurrentUnits: { ai: 16 }, keyLabel: 'ci' });
      expect(created.statusCode).toBe(201);
      const body = created.json();
      expect(body.apiKey).toMatch(/^kml_[A-Za-z0-9_-]{43}$/);
      expect(body.key).toMatchObject({ id: body.apiKey.slice(0, 12), tenant: 'acme', label: 'ci', revoked: null });
      expect(body.tenant).toMatchObject({ id: 'acme', role: 'tenant', maxConcurrentUnits: { ai: 16, general: null, hpc: null } });

      const list = await f.call(f.operatorKey, 'GET', '/v1/tenants');
      expect(list.json().tenants.map((t: { id: string; keys: unknown[] }) => [t.id, t.keys.length])).toEqual([
        ['acme', 1],
        ['ops', 1],
      ]);
      expect(JSON.stringify(list.json())).not.toContain(body.apiKey);

      const self = await f.call(body.apiKey, 'GET', '/v1/tenants/acme');
      expect(self.statusCode).toBe(200);
      expect(self.json().keys[0].id).toBe(body.key.id);

      const patched = await f.call(f.operatorKey, 'PATCH', '/v1/tenants/acme', { name: 'Acme Corp', maxConcurrentUnits: { hpc: 4 } });
      expect(patched.statusCode).toBe(200);
      expect(patched.json()).toMatchObject({ name: 'Acme Corp', maxConcurrentUnits: { ai: 16, general: null, hpc: 4 } });

      const second = await f.call(f.operatorKey, 'POST', '/v1/tenants/acme/keys', { label: 'laptop' });
      expect(second.statusCode).toBe(201);
      const secondKey = second.json().apiKey;
      expect((await f.call(secondKey, 'GET', '/v1/jobs')).statusCode).toBe(200);

      const revoked = await f.call(f.operatorKey, 'DELETE', `/v1/keys/${body.key.id}`);
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json().key.revoked).toBe('2026-06-01T00:00:00Z');
      expect((await f.call(body.apiKey, 'GET', '/v1/jobs')).statusCode).toBe(401);
      expect((await f.call(secondKey, 'GET', '/v1/jobs')).statusCode).toBe(200);
    });

    test('GET /v1/sites and /v1/links show the network', async () => {
      const { f } = api;
      const sites = await f.call(f.operatorKey, 'GET', '/v1/sites');
      expect(sites.statusCode).toBe(200);
      expect(sites.json().sites).toEqual(f.network.sites);
      const links = await f.call(f.operatorKey, 'GET', '/v1/links');
      expect(links.json().links).toEqual(f.network.links);
    });

    test('GET /v1/tenants/{id}/bill: lines per job, totals from the month, CSV with a header', async () => {
      const { f } = api;
      const key = await f.tenant('acme');
      await f.call(key, 'POST', '/v1/jobs', { jobs: [jobBody('a'), jobBody('b')] });
      for (const row of [meteringRow('acme', 'a', 'r1', '2026-06-01T03:00:00Z', 2), meteringRow('acme', 'b', 'r1', '2026-06-02T03:00:00Z', 1), meteringRow('acme', 'b', 'r2', '2026-07-01T00:00:00Z', 1)]) {
        expect((await f.store.recordMetering(row, T0ms)).ok).toBe(true);
      }
      const res = await f.call(key, 'GET', '/v1/tenants/acme/bill?month=2026-06');
      expect(res.statusCode).toBe(200);
      const bill = res.json();
      expect(bill.lines.map((l: { jobId: string; rows: number; unitHours: number }) => [l.jobId, l.rows, l.unitHours])).toEqual([
        ['a', 1, 8],
        ['b', 1, 4],
      ]);
      expect(bill.totals).toMatchObject({ rows: 2, unitHours: 12, energyKWh: 30, greenKWh: 18, costYuan: 9.75, greenShare: 0.6 });
      const csv = await f.call(f.operatorKey, 'GET', '/v1/tenants/acme/bill?month=2026-06', undefined, { accept: 'text/csv' });
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(csv.body.split('\n')[0]).toBe('kind,job_id,site,pool,rows,unit_hours,energy_kwh,green_kwh,cost_yuan,carbon_kg,pflop_h_fp64,pflop_h_fp32,pflop_h_bf16,green_share,quantity,unit,unit_price_yuan');
      // Two jobs and the total, then the backup part (none stored or moved: zeros).
      const rows = csv.body.trimEnd().split('\n');
      expect(rows.map((r) => r.split(',')[0])).toEqual(['kind', 'line', 'line', 'total', 'backup_storage', 'backup_transfer', 'backup_total']);
    });

    test('GET /metrics counts requests by route and status, submitted jobs, and errors by code', async () => {
      const { f } = api;
      const key = await f.tenant('acme');
      await f.call(key, 'POST', '/v1/jobs', { jobs: [jobBody('a'), jobBody('b', { poolClass: 'general' })] });
      await f.call(key, 'GET', '/v1/jobs/nope');
      const res = await f.call(null, 'GET', '/metrics');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(res.body).toContain('kumul_api_requests_total{method="POST",route="/v1/jobs",status="201"} 1');
      expect(res.body).toContain('kumul_api_requests_total{method="GET",route="/v1/jobs/:id",status="404"} 1');
      expect(res.body).toContain('kumul_api_jobs_submitted_total{pool_class="ai"} 1');
      expect(res.body).toContain('kumul_api_jobs_submitted_total{pool_class="general"} 1');
      expect(res.body).toContain('kumul_api_errors_total{code="KUMUL_NOT_FOUND"} 1');
      expect(res.body).toContain('kumul_api_errors_total{code="KUMUL_CONFLICT"} 0');
    });
  });
}

const T0ms = Date.parse('2026-06-01T00:00:00Z');
