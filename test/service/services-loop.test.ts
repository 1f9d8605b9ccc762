/**
 * Inference services in the dispatch loop, end to end on the hami scenario (a real SQLite store, HiGHS, the
 * simulated executor, the API in front, a hand-moved clock): services are placed first in each cycle and their
 * replicas started and stopped through the executor as held runs; no region is routed over its latency budget;
 * services and batch together stay within every pool in every slot; a link failure re-routes the regions whose budget
 * it broke at the very next cycle; replicas are metered into the tenant's bill and shown in /metrics.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/store/port.ts';
import { SimulatedExecutor } from '../../src/exec/simulated.ts';
import { roundTripsMs } from '../../src/core/services/model.ts';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import type { LpSolver } from '../../src/core/lp/model.ts';
import { HOUR, SLOTS, T0, demand, service, servicesWorld, type ServicesWorld } from './services-fixtures.ts';

/** `values` for the first slots, then `rest` up to SLOTS. */
function shape(values: number[], rest: number): number[] {
  return [...values, ...new Array<number>(SLOTS - values.length).fill(rest)];
}

describe('services in the dispatch loop', () => {
  let w: ServicesWorld;
  let executor: SimulatedExecutor;

  beforeEach(async () => {
    executor = new SimulatedExecutor();
    w = await servicesWorld(executor);
  });

  afterEach(async () => {
    await w.close();
  });

  /** Every route of every stored slot of a service is within its budget on the network in force; returns the slots routed. */
  async function routesWithinBudget(id: string, budgetMs: number): Promise<number> {
    const rtt = roundTripsMs(w.scenario.network(), w.scenario.userRegions());
    const slots = await w.store.servicePlacements({ tenantId: 'lab', serviceId: id }, T0, T0 + 48 * HOUR);
    for (const slot of slots)
      for (const route of slot.routes) expect(rtt.get(route.region)!.get(route.site)!, `${route.region} → ${route.site}`).toBeLessThanOrEqual(budgetMs + 1e-6);
    return slots.filter((slot) => slot.routes.length > 0).length;
  }

  it('starts the replicas the placement keeps, stops them as demand falls and when deleted, and bills and shows them', async () => {
    expect((await w.call(w.keys.lab, 'POST', '/v1/services', service('chat'))).status).toBe(201);
    const posted = await w.call(w.keys.lab, 'POST', '/v1/services/chat/demand', demand('chat', { beijing: shape([120, 120], 5), shanghai: shape([60, 60], 5), chengdu: shape([40, 40], 5) }));
    expect(posted.status).toBe(200);
    await w.loop.tick();
    const [slot0] = await w.store.servicePlacements({ tenantId: 'lab', serviceId: 'chat' }, T0, T0 + HOUR);
    const placed0 = Object.values(slot0.replicas).reduce((a, b) => a + b, 0);
    expect(placed0).toBeGreaterThanOrEqual(22); // 220 req/s at 10 req/s a replica
    expect(Object.values(slot0.regions).every((r) => r.unservedRps === 0)).toBe(true);
    // Every replica the placement keeps is a run started in the executor, held (still running hours later).
    const live = await w.store.replicaRuns({ live: true });
    expect(live.length).toBe(placed0);
    const bySite: Record<string, number> = {};
    for (const r of live) bySite[r.site] = (bySite[r.site] ?? 0) + 1;
    expect(bySite).toEqual(slot0.replicas);
    expect(await executor.status(live[0].ref, T0 + 10 * HOUR)).toMatchObject({ state: 'running', endedMs: null });
    expect((await w.call(w.keys.lab, 'GET', '/v1/services/chat')).body.current).toMatchObject({ replicas: slot0.replicas, running: slot0.replicas, regions: { beijing: { attainmentPct: 100 } } });
    expect(await routesWithinBudget('chat', 50)).toBeGreaterThan(0);

    // Demand falls after two hours: the cycle of hour 2 keeps fewer replicas, the others are stopped in the executor.
    for (const hours of [1, 2]) {
      w.clock.set(T0 + hours * HOUR);
      await w.loop.tick();
    }
    const [slot2] = await w.store.servicePlacements({ tenantId: 'lab', serviceId: 'chat' }, T0 + 2 * HOUR, T0 + 3 * HOUR);
    const placed2 = Object.values(slot2.replicas).reduce((a, b) => a + b, 0);
    expect(placed2).toBeLessThan(placed0);
    expect((await w.store.replicaRuns({ live: true })).length).toBe(placed2);
    // (The cycle of hour 1 may move a replica too: stopped then, another started.)
    const stopped = (await w.store.replicaRuns()).filter((r) => r.stoppedMs !== null);
    expect(stopped.length).toBeGreaterThanOrEqual(placed0 - placed2);
    for (const r of stopped) expect(await executor.status(r.ref, T0 + 3 * HOUR)).toMatchObject({ state: 'cancelled', endedMs: r.stoppedMs });
    expect(await routesWithinBudget('chat', 50)).toBeGreaterThan(0);

    // Metering: every replica's time up to the slot now (hour 2), warm-up included, in the bill.
    const bill = (await w.call(w.keys.lab, 'GET', '/v1/tenants/lab/bill?month=2026-06')).body;
    const replicaHours = bill.services.reduce((h: number, l: { replicaHours: number }) => h + l.replicaHours, 0);
    const ran = (await w.store.replicaRuns()).reduce((h, r) => h + (Math.min(r.stoppedMs ?? Infinity, T0 + 2 * HOUR) - r.startedMs!) / HOUR, 0);
    expect(ran).toBeGreaterThan(placed0); // two hours of at least the replicas slot 1 kept
    expect(replicaHours).toBeCloseTo(ran, 6);
    for (const line of bill.services) {
      expect(line.energyKWh).toBeGreaterThan(0);
      expect(line.carbonKg).toBeGreaterThanOrEqual(0);
      expect(line.greenKWh).toBeLessThanOrEqual(line.energyKWh + 1e-9);
    }
    expect(bill.totals.energyKWh).toBeCloseTo(bill.services.reduce((e: number, l: { energyKWh: number }) => e + l.energyKWh, 0), 6);
    const csv = await w.app.inject({ method: 'GET', url: '/v1/tenants/lab/bill?month=2026-06&format=csv', headers: { authorization: `Bearer ${w.keys.lab}` } });
    expect(csv.body.split('\n').filter((l) => l.startsWith('service,chat,')).length).toBe(bill.services.length);

    const metrics = w.metrics.render();
    for (const [site, n] of Object.entries(slot2.replicas)) expect(metrics).toContain(`kumul_service_replicas{service="chat",site="${site}",tenant="lab"} ${n}`);
    expect(metrics).toMatch(/kumul_service_attainment_ratio\{region="beijing",service="chat",tenant="lab"\} 1\b/);
    expect(metrics).toMatch(/kumul_service_energy_joules_total\{site="\w+"\} [1-9]/);
    // Valid exposition for Prometheus (promtool, as test/service/prometheus.test.ts checks the whole /metrics).
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    expect(checked.status, `${checked.stdout}${checked.stderr}`).toBe(0);

    // Deleted: every replica stopped at the next tick, and the gauges go.
    expect((await w.call(w.keys.lab, 'DELETE', '/v1/services/chat')).status).toBe(200);
    w.clock.set(T0 + 2 * HOUR + 15 * 60_000);
    await w.loop.tick();
    expect(await w.store.replicaRuns({ live: true })).toEqual([]);
    expect(w.metrics.render()).not.toContain('kumul_service_replicas{');
  });

  it('keeps services and batch within every pool in every slot, services first', async () => {
    // 250 req/s at urumqi only: about 25 of its 32 accelerators; batch jobs of 16 that may run only there must wait.
    await w.call(w.keys.lab, 'POST', '/v1/services', service('chat', { sites: ['urumqi'], minReplicas: { total: 2 } }));
    await w.call(w.keys.lab, 'POST', '/v1/services/chat/demand', demand('chat', { beijing: shape(new Array(8).fill(250), 20) }));
    const job = (id: string): JobSpec => ({ id, class: 'training', poolClass: 'ai', units: 16, durationS: 3 * 3600, releaseMs: T0, deadlineMs: T0 + 20 * HOUR, origin: 'urumqi', inputGb: 0, interruptible: false, allowedSites: ['urumqi'] });
    expect((await w.store.submitJobs('lab', [job('a'), job('b'), job('c')], T0)).ok).toBe(true);
    await w.loop.tick();
    const slots = await w.store.servicePlacements({ tenantId: 'lab', serviceId: 'chat' }, T0, T0 + SLOTS * HOUR);
    expect(slots.length).toBe(SLOTS);
    const jobs = await Promise.all(['a', 'b', 'c'].map((id) => w.store.getJob({ tenantId: 'lab', jobId: id })));
    expect(jobs.every((j) => j!.plan?.site === 'urumqi')).toBe(true);
    const poolUnits = w.scenario.network().sites.find((s) => s.id === 'urumqi')!.pools.find((p) => p.class === 'ai')!.units;
    let busiest = 0;
    for (const slot of slots) {
      const batch = jobs.reduce((u, j) => u + j!.plan!.runs.filter((r) => Date.parse(r.start) < slot.slotMs + HOUR && Date.parse(r.end) > slot.slotMs).reduce((a, r) => a + r.units, 0), 0);
      const replicas = slot.replicas.urumqi ?? 0;
      expect(replicas + batch, new Date(slot.slotMs).toISOString()).toBeLessThanOrEqual(poolUnits);
      busiest = Math.max(busiest, replicas);
      if (slot.slotMs < T0 + 8 * HOUR) expect(Object.values(slot.regions).every((r) => r.unservedRps === 0)).toBe(true);
    }
    expect(busiest).toBeGreaterThan(poolUnits - 16); // the check above could fail: batch had to move round the services
    expect(Math.min(...jobs.map((j) => Date.parse(j!.plan!.runs[0].start)))).toBeGreaterThanOrEqual(T0 + 8 * HOUR - 3 * HOUR);
  });

  it('re-routes the regions whose latency budget a link failure broke, at the next cycle', async () => {
    // A 25 ms budget: Beijing reaches Qingyang in 19.8 ms through Zhengzhou; without that link, in 50.4 ms.
    await w.call(w.keys.lab, 'POST', '/v1/services', service('voice', { latency: { objectiveMs: 125, percentile: 95, serviceTimeMs: 100 }, sites: ['qingyang', 'beijing'] }));
    await w.call(w.keys.lab, 'POST', '/v1/services/voice/demand', demand('voice', { beijing: shape([], 80) }));
    await w.loop.tick();
    const before = (await w.call(w.keys.lab, 'GET', '/v1/services/voice/routing')).body;
    expect(before.regions).toEqual([{ region: 'beijing', backends: [{ site: 'qingyang', weight: 1 }], unservedShare: 0 }]);
    expect(await routesWithinBudget('voice', 25)).toBe(SLOTS);

    // Ten minutes later the link fails: the change wakes the loop, and its next tick re-routes.
    w.clock.set(T0 + 10 * 60_000);
    expect((await w.call(w.keys.ops, 'DELETE', '/v1/links/qingyang/zhengzhou')).status).toBe(200);
    await w.loop.tick();
    const after = (await w.call(w.keys.lab, 'GET', '/v1/services/voice/routing')).body;
    expect(after.plannedAt).toBe('2026-06-01T00:10:00Z');
    expect(after.regions).toEqual([{ region: 'beijing', backends: [{ site: 'beijing', weight: 1 }], unservedShare: 0 }]);
    expect(await routesWithinBudget('voice', 25)).toBe(SLOTS);
    // The replicas moved with it: none left at qingyang.
    const live = await w.store.replicaRuns({ live: true });
    expect(live.length).toBeGreaterThan(0);
    expect(live.every((r) => r.site === 'beijing')).toBe(true);
  });
  it('after a restart follows the replicas it started, stops a recorded one that never reached the executor when the placement has no room for it, and starts no copies', async () => {
    await w.call(w.keys.lab, 'POST', '/v1/services', service('chat', { sites: ['beijing'] }));
    await w.call(w.keys.lab, 'POST', '/v1/services/chat/demand', demand('chat', { beijing: shape([], 35) }));
    await w.loop.tick();
    const before = await w.store.replicaRuns({ live: true });
    expect(before.length).toBe(4);
    // A crash between recording a replica and submitting it: the row is there, the executor never saw it.
    const ref = before[0].ref.replace(/~\d+$/, '~99');
    await w.store.addReplica({ ref, tenantId: 'lab', serviceId: 'chat', site: 'beijing', pool: before[0].pool, units: 1, requestedMs: T0 });
    expect(await executor.status(ref, T0)).toBeNull();
    // A new loop on the same store and executor (a restarted service).
    const restarted = w.restart();
    w.clock.set(T0 + 5 * 60_000);
    await restarted.tick();
    // Five recorded for a placement of four: the one never submitted is the extra, stopped without a start; the four
    // started before run on, none started twice.
    expect(await executor.status(ref, T0 + 5 * 60_000)).toBeNull();
    expect((await w.store.replicaRuns()).find((r) => r.ref === ref)).toMatchObject({ startedMs: null, stoppedMs: T0 + 5 * 60_000 });
    const live = await w.store.replicaRuns({ live: true });
    expect(live.length).toBe(4);
    const refs = new Set((await w.store.replicaRuns()).map((r) => r.ref));
    expect(refs.size).toBe(5);
    expect(live.map((r) => r.ref).sort()).toEqual(before.map((r) => r.ref).sort());
    for (const r of live) expect(await executor.status(r.ref, T0 + 5 * 60_000)).toMatchObject({ state: 'running', startedMs: T0 });

    // One replica ends on its own while another recorded one never reached the executor: that one is kept and
    // submitted once under its name, and no other replica is started.
    const lost = live[0];
    await executor.cancel(lost.ref, T0 + 9 * 60_000);
    const pending = lost.ref.replace(/~\d+$/, '~98');
    await w.store.addReplica({ ref: pending, tenantId: 'lab', serviceId: 'chat', site: 'beijing', pool: lost.pool, units: 1, requestedMs: T0 + 9 * 60_000 });
    w.clock.set(T0 + 10 * 60_000);
    await w.restart().tick();
    expect(await executor.status(pending, T0 + 10 * 60_000)).toMatchObject({ state: 'running', startedMs: T0 + 10 * 60_000 });
    expect((await w.store.replicaRuns()).find((r) => r.ref === lost.ref)).toMatchObject({ stoppedMs: T0 + 9 * 60_000 });
    expect((await w.store.replicaRuns({ live: true })).map((r) => r.ref).sort()).toEqual([...live.slice(1).map((r) => r.ref), pending].sort());
    expect((await w.store.replicaRuns()).length).toBe(6);
  });
  it('plans batch around the replicas running when a services placement fails, and says so', async () => {
    const highs = await loadHighsSolver();
    let broken = false;
    // Broken: the next call fails (the services placement solves first in a cycle), as HiGHS does when it aborts.
    const solver: LpSolver = (model, options) => {
      if (broken) {
        broken = false;
        throw new Error('HiGHS aborted');
      }
      return highs(model, options);
    };
    await w.close();
    w = await servicesWorld(executor, 'carbon', solver);
    await w.call(w.keys.lab, 'POST', '/v1/services', service('chat', { sites: ['urumqi'] }));
    await w.call(w.keys.lab, 'POST', '/v1/services/chat/demand', demand('chat', { beijing: shape([], 250) }));
    await w.loop.tick();
    const running = (await w.store.replicaRuns({ live: true })).length;
    expect(running).toBeGreaterThan(16);
    // The solver fails for the services' LPs: a job that could take urumqi's units must wait for them all the same.
    broken = true;
    const job: JobSpec = { id: 'big', class: 'training', poolClass: 'ai', units: 16, durationS: 3600, releaseMs: T0, deadlineMs: T0 + 40 * HOUR, origin: 'urumqi', inputGb: 0, interruptible: false, allowedSites: ['urumqi'] };
    await w.store.submitJobs('lab', [job], T0);
    w.clock.set(T0 + 15 * 60_000);
    w.loop.wake();
    await w.loop.tick();
    expect(w.logged.some((l) => /services placement failed: .*HiGHS aborted; the replicas running keep their units/.test(l))).toBe(true);
    expect(w.metrics.render()).toMatch(/^kumul_services_placement_failures_total 1$/m);
    expect((await w.store.replicaRuns({ live: true })).length).toBe(running);
    // Not placed on the units the replicas hold (32 − running < 16) over the services' look-ahead: after it.
    const planned = await w.store.getJob({ tenantId: 'lab', jobId: 'big' });
    expect(planned!.plan).not.toBeNull();
    expect(Date.parse(planned!.plan!.runs[0].start)).toBeGreaterThanOrEqual(T0 + SLOTS * HOUR);
  });
});
