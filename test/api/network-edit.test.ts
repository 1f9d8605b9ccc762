/**
 * The operator's scenario routes on a service whose scenario document is in the store: sites, links, signal CSV
 * uploads and policies change the network jobs are checked against; bad changes are 400s naming the field or CSV
 * line and leave the stored version as it was; tenants get 403; a site with running work cannot be deleted.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { FixedClock } from '../../src/service/clock.ts';
import { Metrics } from '../../src/service/metrics.ts';
import { ScenarioState } from '../../src/service/scenario-state.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import type { Store } from '../../src/store/port.ts';
import { T0, jobBody, plannedJob } from './fixtures.ts';

const constant = (value: number) => ({ actual: { source: 'constant', value } });
const SIGNALS = { priceYuanPerKWh: constant(0.5), carbonGPerKWh: constant(500), renewableKW: constant(0) };
const AI_POOL = { class: 'ai', unit: 'accelerator', units: 64, unitsPerNode: 8, peakTflopsPerNode: { fp64: 53, fp32: 51, bf16: 661 }, powerCurve: [{ load: 0, powerW: 120 }, { load: 1, powerW: 700 }] };
const GENERAL_POOL = { class: 'general', unit: 'core', units: 256, unitsPerNode: 64, peakTflopsPerNode: { fp64: 5, fp32: 10, bf16: 20 }, powerCurve: [{ load: 0, powerW: 3 }, { load: 1, powerW: 9 }] };
const site = (name: string, pools: unknown[]) => ({ name, region: 'Xinjiang', lat: 42.8, lon: 93.5, pue: 1.2, renewable: { priceYuanPerKWh: 0.2, carbonGPerKWh: 20 }, pools });
const LINK = { bandwidthGbps: 10, latencyMs: 30, costYuanPerGB: 0.01, energyKWhPerGB: 0.002 };

/** Two sites with ai pools only, constant signals, one link. */
function scenarioFile() {
  return {
    version: 1,
    id: 'edit-test',
    name: 'Edit test',
    description: 'Two sites for the scenario route tests.',
    period: { start: '2026-06-01T00:00Z', slots: 24, slotMinutes: 60 },
    sites: [
      { id: 'hami', ...site('Hami', [AI_POOL]), signals: SIGNALS },
      { id: 'beijing', ...site('Beijing', [{ ...AI_POOL, units: 8 }]), signals: SIGNALS },
    ],
    links: [{ from: 'hami', to: 'beijing', ...LINK }],
    assumptions: [],
  };
}

/** `time,value` rows, hourly from T0. */
function csv(values: (number | string)[]): string {
  return ['time,value', ...values.map((v, i) => `${new Date(T0 + i * 3_600_000).toISOString()},${v}`)].join('\n');
}

describe('operator routes that change the network', () => {
  let store: Store;
  let app: FastifyInstance;
  let operator = '';
  let wakes = 0;

  beforeEach(async () => {
    wakes = 0;
    store = await openStore('sqlite::memory:');
    const file = join(mkdtempSync(join(tmpdir(), 'kumul-edit-')), 'scenario.json');
    writeFileSync(file, JSON.stringify(scenarioFile()));
    const clock = new FixedClock(T0);
    const scenario = await ScenarioState.open(store, { scenario: file, dispatch: { policy: 'optimize', objective: 'cost' }, horizonHours: 24 }, T0);
    app = buildApp({ store, clock, metrics: new Metrics(), network: () => scenario.network(), scenario, wake: () => void wakes++ });
    await store.createTenant({ id: 'ops', name: 'Operator', role: 'operator', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
    const key = await store.createApiKey('ops', 'test', T0);
    if (!key.ok) throw new Error(key.reason);
    operator = key.plaintext;
  });

  afterEach(async () => {
    await app.close();
    await store.close();
  });

  function call(key: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown, contentType = 'application/json') {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (body !== undefined) headers['content-type'] = contentType;
    return app.inject({ method, url, headers, payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  }
  const current = async () => (await call(operator, 'GET', '/v1/scenario')).json();
  async function tenant(id: string): Promise<string> {
    const res = await call(operator, 'POST', '/v1/tenants', { id, name: id, maxConcurrentUnits: {} });
    return res.json().apiKey;
  }

  test('a new site with a general pool makes a job that needs one acceptable', async () => {
    const key = await tenant('lab');
    const job = jobBody('etl', { poolClass: 'general', class: 'batch', units: 64, origin: 'hami' });
    const refused = await call(key, 'POST', '/v1/jobs', job);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.fields).toEqual([{ field: 'poolClass', message: 'no general pool at any site' }]);

    const put = await call(operator, 'PUT', '/v1/sites/zhengzhou', { ...site('Zhengzhou', [GENERAL_POOL]), signals: SIGNALS });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toEqual({ version: 2 });
    expect(wakes).toBe(1);
    expect((await call(key, 'POST', '/v1/jobs', job)).statusCode).toBe(201);
    const sites = (await call(operator, 'GET', '/v1/sites')).json().sites;
    expect(sites.map((s: { id: string }) => s.id)).toEqual(['hami', 'beijing', 'zhengzhou']);
    expect(sites[2].pools[0]).toMatchObject({ id: 'zhengzhou-general', units: 256 });

    // Replacing the site without signals keeps them.
    const replaced = await call(operator, 'PUT', '/v1/sites/zhengzhou', site('Zhengzhou East', [GENERAL_POOL]));
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect((await current()).scenario.sites[2]).toMatchObject({ name: 'Zhengzhou East', signals: SIGNALS });
  });

  test('a link is added, replaced either way round, and deleted', async () => {
    await call(operator, 'PUT', '/v1/sites/zhengzhou', { ...site('Zhengzhou', [GENERAL_POOL]), signals: SIGNALS });
    const added = await call(operator, 'PUT', '/v1/links', { from: 'hami', to: 'zhengzhou', ...LINK });
    expect(added.statusCode, added.body).toBe(200);
    const replaced = await call(operator, 'PUT', '/v1/links', { from: 'zhengzhou', to: 'hami', ...LINK, bandwidthGbps: 40 });
    expect(replaced.json()).toEqual({ version: 4 });
    const links = (await call(operator, 'GET', '/v1/links')).json().links;
    expect(links).toHaveLength(2);
    expect(links[1]).toMatchObject({ from: 'zhengzhou', to: 'hami', bandwidthGbps: 40 });
    expect((await call(operator, 'DELETE', '/v1/links/hami/zhengzhou')).statusCode).toBe(200);
    expect((await current()).scenario.links).toHaveLength(1);
    expect((await call(operator, 'DELETE', '/v1/links/hami/zhengzhou')).statusCode).toBe(404);
  });

  test('a signal CSV is stored inline and read back through GET /v1/scenario', async () => {
    const values = Array.from({ length: 30 }, (_, i) => 400 + i);
    const res = await call(operator, 'PUT', '/v1/sites/hami/signals/carbonGPerKWh?series=forecast&unit=kgCO2/MWh', csv(values), 'text/csv');
    expect(res.statusCode, res.body).toBe(200);
    const { version, scenario } = await current();
    expect(version).toBe(2);
    expect(scenario.sites[0].signals.carbonGPerKWh).toEqual({
      actual: { source: 'constant', value: 500 },
      forecast: { source: 'series', start: '2026-06-01T00:00Z', stepMinutes: 60, values, unit: 'kgCO2/MWh' },
    });
  });

  test('a signal CSV without a unit is in the signal’s own unit (kW for renewables, as documented)', async () => {
    const values = Array.from({ length: 30 }, (_, i) => 100 + i);
    expect((await call(operator, 'PUT', '/v1/sites/hami/signals/renewableKW', csv(values), 'text/csv')).statusCode).toBe(200);
    expect((await current()).scenario.sites[0].signals.renewableKW.actual).toMatchObject({ source: 'series', values, unit: 'kW' });
  });

  test('bad changes are 400s naming the field or CSV line, and the stored version stays', async () => {
    const cases: [string, 'PUT' | 'DELETE', string, unknown, string, { field: string; message: RegExp }][] = [
      ['bad CSV line', 'PUT', '/v1/sites/hami/signals/renewableKW', csv([1, 2, 'lots', 4]), 'text/csv', { field: 'body', message: /^CSV line 4: value 'lots'/ }],
      ['CSV not covering the horizon', 'PUT', '/v1/sites/hami/signals/renewableKW', csv([1, 2, 3]), 'text/csv', { field: 'body', message: /no data covers 2026-06-01T03:00Z/ }],
      ['unknown signal name', 'PUT', '/v1/sites/hami/signals/windSpeed', csv([1, 2]), 'text/csv', { field: 'signal', message: /must be one of priceYuanPerKWh/ }],
      ['unit of another signal', 'PUT', '/v1/sites/hami/signals/renewableKW?unit=yuan/kWh', csv([1, 2]), 'text/csv', { field: 'unit', message: /must be one of W, kW/ }],
      ['link to an unknown site', 'PUT', '/v1/links', { from: 'hami', to: 'xian', ...LINK }, 'application/json', { field: 'to', message: /unknown site 'xian'/ }],
      ['pool with negative units', 'PUT', '/v1/sites/urumqi', { ...site('Urumqi', [{ ...AI_POOL, units: -8 }]), signals: SIGNALS }, 'application/json', { field: 'pools[0].units', message: /positive integer/ }],
      ['two pools of one class', 'PUT', '/v1/sites/urumqi', { ...site('Urumqi', [AI_POOL, AI_POOL]), signals: SIGNALS }, 'application/json', { field: 'pools[1].class', message: /already has a pool of class 'ai'/ }],
      ['new site without signals', 'PUT', '/v1/sites/urumqi', site('Urumqi', [AI_POOL]), 'application/json', { field: 'signals', message: /required for a new site/ }],
    ];
    for (const [name, method, url, body, type, expected] of cases) {
      const res = await call(operator, method, url, body, type);
      expect(res.statusCode, `${name}: ${res.body}`).toBe(400);
      const fields: { field: string; message: string }[] = res.json().error.fields;
      expect(fields[0].field, name).toBe(expected.field);
      expect(fields[0].message, name).toMatch(expected.message);
      expect((await current()).version, name).toBe(1);
    }
    for (const url of ['/v1/sites/nowhere', '/v1/links/hami/nowhere']) expect((await call(operator, 'DELETE', url)).statusCode, url).toBe(404);
    expect((await call(operator, 'PUT', '/v1/sites/nowhere/signals/renewableKW', csv([1, 2]), 'text/csv')).statusCode).toBe(404);
    expect((await current()).version).toBe(1);
    expect(wakes).toBe(0);
  });

  test('policies are read and changed; a bad objective is refused', async () => {
    expect((await call(operator, 'GET', '/v1/policies')).json()).toEqual({ policy: 'optimize', objective: 'cost' });
    const put = await call(operator, 'PUT', '/v1/policies', { policy: 'asap-any', objective: 'cost=1,carbon=0.2' });
    expect(put.json()).toEqual({ version: 2 });
    expect((await current()).dispatch).toEqual({ policy: 'asap-any', objective: 'cost=1,carbon=0.2' });
    const bad = await call(operator, 'PUT', '/v1/policies', { policy: 'fastest', objective: 'speed' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields.map((f: { field: string }) => f.field)).toEqual(['policy', 'objective']);
  });

  test('a tenant key gets 403 on every route here', async () => {
    const key = await tenant('lab');
    const calls: ['GET' | 'PUT' | 'DELETE', string, unknown?, string?][] = [
      ['GET', '/v1/scenario'],
      ['PUT', '/v1/sites/x', { ...site('X', [AI_POOL]), signals: SIGNALS }],
      ['DELETE', '/v1/sites/beijing'],
      ['PUT', '/v1/links', { from: 'hami', to: 'beijing', ...LINK }],
      ['DELETE', '/v1/links/hami/beijing'],
      ['PUT', '/v1/sites/hami/signals/renewableKW', csv([1, 2]), 'text/csv'],
      ['GET', '/v1/policies'],
      ['PUT', '/v1/policies', { policy: 'optimize', objective: 'carbon' }],
    ];
    for (const [method, url, body, type] of calls) expect((await call(key, method, url, body, type)).statusCode, `${method} ${url}`).toBe(403);
    expect((await current()).version).toBe(1);
  });

  test('a site with a running job cannot be deleted (409); one without can, with its links', async () => {
    const key = await tenant('lab');
    expect((await call(key, 'POST', '/v1/jobs', jobBody('llm'))).statusCode).toBe(201);
    const ref = { tenantId: 'lab', jobId: 'llm' };
    expect((await store.planJob(ref, plannedJob('llm'), { nowMs: T0 })).ok).toBe(true);
    expect((await store.startRun(ref, 'lab/llm/0', { nowMs: T0 })).ok).toBe(true);
    const refused = await call(operator, 'DELETE', '/v1/sites/hami');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.message).toMatch(/site hami has 1 planned or running job\(s\) \(e\.g\. lab\/llm\)/);
    const deleted = await call(operator, 'DELETE', '/v1/sites/beijing');
    expect(deleted.statusCode, deleted.body).toBe(200);
    const { scenario } = await current();
    expect(scenario.sites.map((s: { id: string }) => s.id)).toEqual(['hami']);
    expect(scenario.links).toEqual([]);
  });
});
