/**
 * The services routes (docs/services.md "The service") on the hami scenario: create, list, read, post demand, routing,
 * delete; tenant keys see their own services, operators all; bad input names the field as the services and demand
 * files' checks do; the routes are in /openapi.json. On SQLite, and PostgreSQL when KUMUL_TEST_PG is set.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { FixedClock } from '../../src/service/clock.ts';
import { Metrics } from '../../src/service/metrics.ts';
import { ScenarioState } from '../../src/service/scenario-state.ts';
import type { Store } from '../../src/store/port.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import { API_BACKENDS } from './fixtures.ts';
import { useBackend } from '../store/harness.ts';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;

export function chatBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'chat',
    model: '8B chat',
    poolClass: 'ai',
    unitsPerReplica: 1,
    throughput: { requestsPerS: 10 },
    latency: { objectiveMs: 300, percentile: 95, serviceTimeMs: 250 },
    coldStart: { warmUpS: 60, energyKWh: 0.02 },
    minReplicas: { total: 1 },
    ...over,
  };
}

for (const backend of API_BACKENDS) {
  describe(`services routes (${backend})`, () => {
    const pg = backend === 'postgres' ? useBackend('postgres') : null;
    let store: Store;
    let app: FastifyInstance;
    let clock: FixedClock;
    let keys: Record<string, string>;
    let wakes: number;

    beforeEach(async () => {
      store = pg ? pg.store : await openStore('sqlite::memory:');
      clock = new FixedClock(T0 + 30 * 60_000);
      const scenario = await ScenarioState.open(store, { scenario: 'hami', dispatch: { policy: 'optimize', objective: 'cost' }, horizonHours: 48 }, T0);
      wakes = 0;
      app = buildApp({ store, clock, metrics: new Metrics(), network: () => scenario.network(), scenario, wake: () => void wakes++ });
      keys = {};
      for (const [id, role] of [['ops', 'operator'], ['lab', 'tenant'], ['city', 'tenant']] as const) {
        await store.createTenant({ id, name: id, role, maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
        const key = await store.createApiKey(id, 'test', T0);
        if (!key.ok) throw new Error(key.reason);
        keys[id] = key.plaintext;
      }
    });

    afterEach(async () => {
      await app.close();
      if (!pg) await store.close();
    });

    const call = (key: string, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) =>
      app.inject({ method, url, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, payload: body === undefined ? undefined : JSON.stringify(body) });

    it('creates, lists and reads services; a tenant sees only its own, an operator all', async () => {
      const created = await call(keys.lab, 'POST', '/v1/services', chatBody());
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toMatchObject({ id: 'chat', tenant: 'lab', status: 'active', spec: { minReplicas: { total: 1, perSite: {} } }, deletedAt: null });
      expect(wakes).toBe(1);
      expect((await call(keys.lab, 'POST', '/v1/services', chatBody())).statusCode).toBe(409);
      expect((await call(keys.city, 'POST', '/v1/services', chatBody({ id: 'voice' }))).statusCode).toBe(201);
      expect((await call(keys.lab, 'GET', '/v1/services')).json().services.map((s: { id: string }) => s.id)).toEqual(['chat']);
      expect((await call(keys.ops, 'GET', '/v1/services')).json().services.map((s: { tenant: string; id: string }) => `${s.tenant}/${s.id}`)).toEqual(['city/voice', 'lab/chat']);
      expect((await call(keys.ops, 'GET', '/v1/services?tenant=city')).json().services.length).toBe(1);
      expect((await call(keys.lab, 'GET', '/v1/services?tenant=city')).statusCode).toBe(403);
      // Another tenant's service reads as one that does not exist.
      expect((await call(keys.city, 'GET', '/v1/services/chat')).statusCode).toBe(404);
      const read = await call(keys.lab, 'GET', '/v1/services/chat');
      expect(read.json()).toMatchObject({ id: 'chat', current: null, upcoming: [] });
    });

    it('refuses bad services naming the field, as the services file does, and stores nothing', async () => {
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [chatBody({ poolClass: 'gpu' }), 'poolClass', /must be one of ai, general, hpc/],
        [chatBody({ latency: { objectiveMs: 300, percentile: 95, serviceTimeMs: 300 } }), 'latency.serviceTimeMs', /must be below objectiveMs/],
        [chatBody({ sites: ['hami', 'lhasa'] }), 'sites[1]', /unknown site 'lhasa'/],
        [chatBody({ minReplicas: { perSite: { mars: 1 } } }), 'minReplicas.perSite.mars', /unknown site 'mars'/],
        [chatBody({ unitsPerReplica: 999 }), 'unitsPerReplica', /no allowed site has a ai pool of 999 units/],
        [chatBody({ replicas: 3 }), 'replicas', /unknown field/],
        [chatBody({ throughput: { tokensPerS: 100 } }), 'throughput', /requestsPerS/],
      ];
      for (const [body, field, message] of cases) {
        const res = await call(keys.lab, 'POST', '/v1/services', body);
        expect(res.statusCode, field).toBe(400);
        const error = res.json().error;
        expect(error.code).toBe('KUMUL_VALIDATION');
        expect(error.fields.find((f: { field: string }) => f.field === field)?.message, `${field}: ${res.body}`).toMatch(message);
      }
      expect(await store.listServices()).toEqual([]);
      // A minimum the tenant's quota could never hold is refused as a job of that size would be.
      await store.updateTenant('lab', { maxConcurrentUnits: { ai: 4, general: null, hpc: null } }, T0);
      const over = await call(keys.lab, 'POST', '/v1/services', chatBody({ unitsPerReplica: 2, minReplicas: { total: 3 } }));
      expect(over.statusCode).toBe(422);
      expect(over.json().error).toMatchObject({ code: 'KUMUL_QUOTA_EXCEEDED', fields: [{ field: 'minReplicas.total', message: expect.stringMatching(/need 6 units, over tenant lab's maxConcurrentUnits.ai \(4\)/) }] });
      expect((await call(keys.lab, 'POST', '/v1/services', chatBody({ unitsPerReplica: 2, minReplicas: { total: 2 } }))).statusCode).toBe(201);
    });

    it('takes demand as a demand file, naming bad fields, and stores it by region and slot', async () => {
      await call(keys.lab, 'POST', '/v1/services', chatBody());
      const demand = (over: Record<string, unknown> = {}) => ({ version: 1, start: '2026-06-01T00:00Z', slotMinutes: 60, series: [{ service: 'chat', region: 'beijing', requestsPerS: [10, 20, 30] }, { service: 'chat', region: 'shanghai', requestsPerS: [5, 5, 5] }], ...over });
      const ok = await call(keys.lab, 'POST', '/v1/services/chat/demand', demand());
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json()).toEqual({ values: 6 });
      expect(await store.serviceDemand({ tenantId: 'lab', serviceId: 'chat' }, T0, T0 + 3 * HOUR)).toContainEqual({ region: 'beijing', slotMs: T0 + HOUR, requestsPerS: 20 });
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [demand({ series: [{ service: 'chat', region: 'lhasa', requestsPerS: [1] }] }), 'series[0].region', /unknown user region 'lhasa'; scenario 'hami' has beijing/],
        [demand({ series: [{ service: 'voice', region: 'beijing', requestsPerS: [1] }] }), 'series[0].service', /unknown service 'voice'/],
        [demand({ series: [{ service: 'chat', region: 'beijing', requestsPerS: [-1] }] }), 'series[0].requestsPerS[0]', /≥ 0/],
        [demand({ slotMinutes: 15 }), 'slotMinutes', /is 15; the plan's slots are 60 minutes/],
        [demand({ start: '2026-06-01T00:30Z' }), 'start', /not on a 60-minute slot boundary/],
        [demand({ series: [{ service: 'chat', region: 'beijing', requestsPerS: [1, 2] }, { service: 'chat', region: 'beijing', requestsPerS: [1, 2] }] }), 'series[1]', /duplicate series/],
      ];
      for (const [body, field, message] of cases) {
        const res = await call(keys.lab, 'POST', '/v1/services/chat/demand', body);
        expect(res.statusCode, field).toBe(400);
        expect(res.json().error.fields.find((f: { field: string }) => f.field === field)?.message, `${field}: ${res.body}`).toMatch(message);
      }
      expect((await store.serviceDemand({ tenantId: 'lab', serviceId: 'chat' }, 0, Number.MAX_SAFE_INTEGER)).length).toBe(6);
      expect((await call(keys.city, 'POST', '/v1/services/chat/demand', demand())).statusCode).toBe(404);
    });

    it('shows the placement of the slot now, its routing for load balancers, and stops showing it once deleted', async () => {
      await call(keys.lab, 'POST', '/v1/services', chatBody());
      expect((await call(keys.lab, 'GET', '/v1/services/chat/routing')).statusCode).toBe(404);
      const ref = { tenantId: 'lab', serviceId: 'chat' };
      const slot = (slotMs: number, replicas: Record<string, number>) => ({
        slotMs,
        replicas,
        coldStarts: {},
        routes: [
          { region: 'beijing', site: 'beijing', requestsPerS: 30, weight: 0.75 },
          { region: 'beijing', site: 'zhengzhou', requestsPerS: 10, weight: 0.25 },
        ],
        regions: { beijing: { demandRps: 50, servedRps: 40, unservedRps: 10, latencyMs: 263.4 } },
        plannedMs: T0,
      });
      await store.putServicePlacements([{ ref, slots: [slot(T0, { beijing: 3, zhengzhou: 1 }), slot(T0 + HOUR, { beijing: 2 })] }], T0);
      await store.addReplica({ ref: 'd/lab/svc~chat/beijing~1', ...ref, site: 'beijing', pool: 'beijing-ai', units: 1, requestedMs: T0 });
      await store.replicaStarted('d/lab/svc~chat/beijing~1', T0);
      const read = (await call(keys.lab, 'GET', '/v1/services/chat')).json();
      expect(read.current).toMatchObject({ slotStart: '2026-06-01T00:00:00Z', replicas: { beijing: 3, zhengzhou: 1 }, running: { beijing: 1 }, regions: { beijing: { attainmentPct: 80, latencyMs: 263.4 } } });
      expect(read.upcoming).toEqual([{ slotStart: '2026-06-01T01:00:00Z', replicas: { beijing: 2 } }]);
      const routing = await call(keys.lab, 'GET', '/v1/services/chat/routing');
      expect(routing.json()).toEqual({
        service: 'chat',
        tenant: 'lab',
        slotStart: '2026-06-01T00:00:00Z',
        validUntil: '2026-06-01T01:00:00Z',
        plannedAt: '2026-06-01T00:00:00Z',
        regions: [{ region: 'beijing', backends: [{ site: 'beijing', weight: 0.75 }, { site: 'zhengzhou', weight: 0.25 }], unservedShare: 0.2 }],
      });
      expect((await call(keys.ops, 'GET', '/v1/services/chat/routing?tenant=lab')).statusCode).toBe(200);
      const history = (await call(keys.lab, 'GET', '/v1/services/chat/placements?hoursBack=1&hoursAhead=2')).json();
      expect(history).toMatchObject({ service: 'chat', slotMinutes: 60, replicaRequestsPerS: 10, now: '2026-06-01T00:30:00Z' });
      expect(history.regions.map((r: { id: string }) => r.id)).toContain('beijing');
      expect(history.slots.map((s: { slotStart: string; replicas: object }) => [s.slotStart, s.replicas])).toEqual([
        ['2026-06-01T00:00:00Z', { beijing: 3, zhengzhou: 1 }],
        ['2026-06-01T01:00:00Z', { beijing: 2 }],
      ]);
      expect((await call(keys.lab, 'GET', '/v1/services/chat/placements?hoursAhead=999')).json().error.fields[0].field).toBe('hoursAhead');
      expect((await call(keys.city, 'DELETE', '/v1/services/chat')).statusCode).toBe(404);
      const deleted = await call(keys.lab, 'DELETE', '/v1/services/chat');
      expect(deleted.json()).toMatchObject({ status: 'deleted', deletedAt: '2026-06-01T00:30:00Z' });
      expect((await call(keys.lab, 'GET', '/v1/services/chat/routing')).statusCode).toBe(404);
      expect((await call(keys.lab, 'DELETE', '/v1/services/chat')).statusCode).toBe(404);
    });

    it('documents the routes in /openapi.json', async () => {
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      for (const path of ['/v1/services', '/v1/services/{id}', '/v1/services/{id}/demand', '/v1/services/{id}/routing', '/v1/services/{id}/placements']) expect(doc.paths[path], path).toBeDefined();
      expect(Object.keys(doc.paths['/v1/services/{id}']).sort()).toEqual(['delete', 'get']);
    });
  });
}
