/**
 * The probe routes (src/api/routes/probes.ts) on a service context with the simulated executor: POST /v1/probes
 * answers 202 with the run, the run is followed to its end, GET /v1/probes lists what it stored; operator keys only;
 * bad sites and pools are 400 naming the field; without an executor 404.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.ts';
import { SimulatedExecutor } from '../../src/exec/simulated.ts';
import { FixedClock } from '../../src/service/clock.ts';
import type { ServiceContext } from '../../src/service/context.ts';
import { Metrics } from '../../src/service/metrics.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import type { Store } from '../../src/store/port.ts';
import { makeSite, T0 } from '../fixtures/scenario-builder.ts';

const network = { sites: [makeSite('hami').ai(8).pool('general', 64).site()], links: [] };

let store: Store;
let app: FastifyInstance;
let operator = '';
let tenant = '';

async function start(withExecutor: boolean): Promise<void> {
  store = await openStore('sqlite::memory:');
  const clock = new FixedClock(T0);
  const ctx: ServiceContext = { store, clock, metrics: new Metrics(), network: () => network, wake: () => {}, ...(withExecutor ? { executor: new SimulatedExecutor() } : {}) };
  app = buildApp(ctx);
  for (const [id, role] of [['ops', 'operator'], ['lab', 'tenant']] as const) {
    await store.createTenant({ id, name: id, role, maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
    const key = await store.createApiKey(id, 'test', T0);
    if (!key.ok) throw new Error(key.reason);
    if (id === 'ops') operator = key.plaintext;
    else tenant = key.plaintext;
  }
}

function call(key: string, method: 'GET' | 'POST', url: string, body?: unknown) {
  return app.inject({ method, url, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });
}

afterEach(async () => {
  await app.close();
  await store.close();
});

describe('with the simulated executor', () => {
  beforeEach(() => start(true));

  it('POST starts a run (202), the run ends done, GET /v1/probes lists the stored probe', async () => {
    const res = await call(operator, 'POST', '/v1/probes', { site: 'hami', pool: 'general', threshold: 0.5 });
    expect(res.statusCode).toBe(202);
    const { run, started } = res.json();
    expect(started).toBe(true);
    expect(run).toMatchObject({ site: 'hami', pools: ['general'], state: 'running', startedAt: '2026-06-01T00:00:00Z', endedAt: null, probes: [] });
    // The same site again while it runs: that run, not a second benchmark on the same cores.
    const again = await call(operator, 'POST', '/v1/probes', { site: 'hami' });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ started: false, run: { id: run.id } });

    let state = 'running';
    let followed: { state: string; probes: string[] } | null = null;
    for (let i = 0; i < 300 && state === 'running'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const got = await call(operator, 'GET', `/v1/probes/runs/${run.id}`);
      expect(got.statusCode).toBe(200);
      followed = got.json().run;
      state = followed!.state;
    }
    expect(followed).toMatchObject({ state: 'done', probes: ['probe.hami.general.1780272000000'] });

    const listed = await call(operator, 'GET', '/v1/probes?site=hami&pool=general');
    expect(listed.statusCode).toBe(200);
    const [probe] = listed.json().probes;
    expect(probe).toMatchObject({ id: 'probe.hami.general.1780272000000', site: 'hami', pool: 'general', measuredAt: '2026-06-01T00:00:00Z', kind: 'cpu', threshold: 0.5, error: null });
    expect(probe.perNodeGflops.fp64).toBeGreaterThan(0);
    // The fixture's pools advertise 53 TFLOPS fp64 per node: two shared cores are far below half of that.
    expect(probe.ratio.fp64).toBeCloseTo(probe.perNodeGflops.fp64 / 53_000, 12);
    expect(probe.flagged).toBe(true);
    expect((await call(operator, 'GET', '/v1/probes?site=beijing')).json()).toEqual({ probes: [] });
  });

  it('bad sites, pools and queries are 400 naming the field; tenant keys 403; an unknown run 404', async () => {
    const site = await call(operator, 'POST', '/v1/probes', { site: 'atlantis' });
    expect(site.statusCode).toBe(400);
    expect(site.json().error.fields).toEqual([{ field: 'site', message: 'no site "atlantis" in the network (sites: hami)' }]);
    const pool = await call(operator, 'POST', '/v1/probes', { site: 'hami', pool: 'quantum' });
    expect(pool.statusCode).toBe(400);
    expect(pool.json().error.fields).toEqual([{ field: 'pool', message: 'site hami has no pool "quantum" (pools: ai, general)' }]);
    const threshold = await call(operator, 'POST', '/v1/probes', { site: 'hami', threshold: 1.5 });
    expect(threshold.statusCode).toBe(400);
    expect(threshold.json().error.fields[0].field).toBe('threshold');
    expect((await call(operator, 'GET', '/v1/probes?limit=0')).statusCode).toBe(400);
    expect((await call(operator, 'GET', '/v1/probes?since=yesterday')).json().error.fields[0].field).toBe('since');
    expect((await call(tenant, 'POST', '/v1/probes', { site: 'hami' })).statusCode).toBe(403);
    expect((await call(tenant, 'GET', '/v1/probes')).statusCode).toBe(403);
    expect((await call(operator, 'GET', '/v1/probes/runs/nope')).statusCode).toBe(404);
    expect(await store.listProbes()).toEqual({ ok: true, probes: [] });
  });
});

describe('without an executor', () => {
  beforeEach(() => start(false));

  it('POST /v1/probes is 404 saying why; stored probes are still listed', async () => {
    const res = await call(operator, 'POST', '/v1/probes', { site: 'hami' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toBe('this service has no executor to run probes with');
    expect((await call(operator, 'GET', '/v1/probes')).json()).toEqual({ probes: [] });
  });
});
