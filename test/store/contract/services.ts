/**
 * Inference services in the store (migration 0012): services per tenant (duplicate ids refused, a deleted id taken
 * again), demand per region and slot (replaced by slot, all or none), placements (a cycle's slots replace the
 * later ones), replica runs (recorded once, started and stopped once) and their metering (idempotent by key, summed
 * per month for bills), and the loop's writes fenced by the dispatch lease.
 */
import { expect, it } from 'vitest';
import type { ServiceSpec } from '../../../src/core/services/model.ts';
import { LeaseLost, type ServiceBurst, type ServicePlacementSlot } from '../../../src/store/port.ts';
import type { Harness } from '../harness.ts';
import { T0_MS, at, tenant } from '../fixtures.ts';

const HOUR = 3_600_000;

export function serviceSpec(id: string): ServiceSpec {
  return {
    id,
    model: '8B chat',
    poolClass: 'ai',
    unitsPerReplica: 1,
    throughput: { requestsPerS: 10 },
    latency: { objectiveMs: 300, percentile: 95, serviceTimeMs: 250 },
    coldStart: { warmUpS: 60, energyKWh: 0.02 },
    minReplicas: { total: 1, perSite: {} },
    sites: null,
  };
}

function slot(slotMs: number, replicas: Record<string, number>): ServicePlacementSlot {
  return { slotMs, replicas, coldStarts: {}, routes: [{ region: 'beijing', site: 'hami', requestsPerS: 5, weight: 1 }], regions: { beijing: { demandRps: 5, servedRps: 5, unservedRps: 0, latencyMs: 280 } }, plannedMs: T0_MS };
}

export function serviceContract(h: Harness): void {
  it('stores services per tenant, refuses a duplicate active id, and lets a deleted id be taken again', async () => {
    expect((await h.store.createTenant(tenant('lab'), T0_MS)).ok).toBe(true);
    expect(await h.store.createService('nobody', serviceSpec('chat'), T0_MS)).toMatchObject({ ok: false, code: 'not-found' });
    const created = await h.store.createService('lab', serviceSpec('chat'), T0_MS);
    expect(created).toMatchObject({ ok: true, service: { tenantId: 'lab', serviceId: 'chat', status: 'active', spec: serviceSpec('chat') } });
    expect(await h.store.createService('lab', serviceSpec('chat'), at(1))).toMatchObject({ ok: false, code: 'duplicate' });
    expect(await h.store.createService('lab', { ...serviceSpec('chat'), id: 'bad id' }, at(1))).toMatchObject({ ok: false, code: 'invalid' });
    expect(await h.store.getService({ tenantId: 'lab', serviceId: 'chat' })).toMatchObject({ spec: serviceSpec('chat'), createdMs: T0_MS });
    expect(await h.store.deleteService({ tenantId: 'lab', serviceId: 'chat' }, at(2))).toMatchObject({ ok: true, service: { status: 'deleted', deletedMs: at(2) } });
    expect(await h.store.deleteService({ tenantId: 'lab', serviceId: 'chat' }, at(3))).toMatchObject({ ok: false, code: 'not-found' });
    expect((await h.store.listServices({ statuses: ['active'] })).length).toBe(0);
    expect(await h.store.createService('lab', { ...serviceSpec('chat'), model: 'v2' }, at(4))).toMatchObject({ ok: true, service: { status: 'active', deletedMs: null, spec: { model: 'v2' } } });
    expect((await h.store.listServices({ tenantId: 'lab' })).map((s) => s.serviceId)).toEqual(['chat']);
  });

  it('stores demand per region and slot, replacing by slot, all or none', async () => {
    await h.store.createTenant(tenant('lab'), T0_MS);
    await h.store.createService('lab', serviceSpec('chat'), T0_MS);
    const ref = { tenantId: 'lab', serviceId: 'chat' };
    expect(await h.store.putServiceDemand({ ref, slotMinutes: 60, series: [{ region: 'beijing', startMs: T0_MS, requestsPerS: [1, 2, 3] }] }, T0_MS)).toEqual({ ok: true, values: 3 });
    expect(await h.store.putServiceDemand({ ref, slotMinutes: 60, series: [{ region: 'beijing', startMs: T0_MS + 2 * HOUR, requestsPerS: [30, 40] }, { region: 'wuhan', startMs: T0_MS, requestsPerS: [7] }] }, at(1))).toEqual({ ok: true, values: 3 });
    // A bad value refuses the whole post: nothing of it is stored.
    expect(await h.store.putServiceDemand({ ref, slotMinutes: 60, series: [{ region: 'beijing', startMs: T0_MS, requestsPerS: [99] }, { region: 'wuhan', startMs: T0_MS, requestsPerS: [-1] }] }, at(2))).toMatchObject({ ok: false, code: 'invalid' });
    expect(await h.store.putServiceDemand({ ref, slotMinutes: 60, series: [{ region: 'beijing', startMs: T0_MS + 60_000, requestsPerS: [1] }] }, at(2))).toMatchObject({ ok: false, code: 'invalid' });
    expect(await h.store.putServiceDemand({ ref: { tenantId: 'lab', serviceId: 'other' }, slotMinutes: 60, series: [{ region: 'beijing', startMs: T0_MS, requestsPerS: [1] }] }, at(2))).toMatchObject({ ok: false, code: 'not-found' });
    expect(await h.store.serviceDemand(ref, T0_MS, T0_MS + 10 * HOUR)).toEqual([
      { region: 'beijing', slotMs: T0_MS, requestsPerS: 1 },
      { region: 'beijing', slotMs: T0_MS + HOUR, requestsPerS: 2 },
      { region: 'beijing', slotMs: T0_MS + 2 * HOUR, requestsPerS: 30 },
      { region: 'beijing', slotMs: T0_MS + 3 * HOUR, requestsPerS: 40 },
      { region: 'wuhan', slotMs: T0_MS, requestsPerS: 7 },
    ]);
    expect((await h.store.serviceDemand(ref, T0_MS + HOUR, T0_MS + 3 * HOUR)).length).toBe(2);
  });

  it("keeps a cycle's placements: later slots are replaced by the next cycle's", async () => {
    await h.store.createTenant(tenant('lab'), T0_MS);
    await h.store.createService('lab', serviceSpec('chat'), T0_MS);
    const ref = { tenantId: 'lab', serviceId: 'chat' };
    await h.store.putServicePlacements([{ ref, slots: [0, 1, 2, 3].map((t) => slot(T0_MS + t * HOUR, { hami: 1 })) }], T0_MS);
    expect(await h.store.putServicePlacements([{ ref, slots: [1, 2].map((t) => slot(T0_MS + t * HOUR, { beijing: 2 })) }], at(60))).toEqual({ ok: true, slots: 2 });
    const stored = await h.store.servicePlacements(ref, T0_MS, T0_MS + 10 * HOUR);
    expect(stored.map((s) => [s.slotMs - T0_MS, s.replicas])).toEqual([
      [0, { hami: 1 }],
      [HOUR, { beijing: 2 }],
      [2 * HOUR, { beijing: 2 }],
    ]);
    expect(stored[1]).toEqual(slot(T0_MS + HOUR, { beijing: 2 }));
  });

  it('records replica runs once, their start and stop once, and meters them idempotently into monthly sums', async () => {
    await h.store.createTenant(tenant('lab'), T0_MS);
    await h.store.createService('lab', serviceSpec('chat'), T0_MS);
    const run = { ref: 'dep/lab/svc~chat/hami~1', tenantId: 'lab', serviceId: 'chat', site: 'hami', pool: 'hami-ai', units: 2, requestedMs: T0_MS };
    expect(await h.store.addReplica(run)).toMatchObject({ ok: true, replayed: false, replica: { startedMs: null, stoppedMs: null } });
    expect(await h.store.addReplica(run)).toMatchObject({ ok: true, replayed: true });
    expect(await h.store.addReplica({ ...run, ref: 'x', serviceId: 'none' })).toMatchObject({ ok: false, code: 'not-found' });
    expect(await h.store.replicaStarted(run.ref, at(1))).toMatchObject({ ok: true, replica: { startedMs: at(1) } });
    expect(await h.store.replicaStarted(run.ref, at(5))).toMatchObject({ ok: true, replica: { startedMs: at(1) } });
    expect((await h.store.replicaRuns({ live: true })).map((r) => r.ref)).toEqual([run.ref]);
    const row = (k: number) => ({ key: `${run.ref}@${k}`, startMs: T0_MS + k * HOUR, endMs: T0_MS + (k + 1) * HOUR, energyKWh: 2, greenKWh: 1.5, costYuan: 0.5, carbonKg: 0.25 });
    expect(await h.store.meterReplica(run.ref, [row(0), row(1)], T0_MS + 2 * HOUR, at(120))).toEqual({ ok: true, inserted: 2 });
    expect(await h.store.meterReplica(run.ref, [row(1), row(2)], T0_MS + 3 * HOUR, at(180))).toEqual({ ok: true, inserted: 1 });
    expect(await h.store.meterReplica(run.ref, [{ ...row(3), greenKWh: 5 }], T0_MS + 4 * HOUR, at(240))).toMatchObject({ ok: false, code: 'invalid' });
    expect((await h.store.replicaRuns({ unmetered: true })).map((r) => r.ref)).toEqual([run.ref]);
    expect(await h.store.replicaStopped(run.ref, at(200))).toMatchObject({ ok: true, replica: { stoppedMs: at(200), meteredToMs: T0_MS + 3 * HOUR } });
    // Stopped after its last metering: still to meter, up to its stop; then done.
    expect((await h.store.replicaRuns({ unmetered: true })).length).toBe(1);
    expect(await h.store.meterReplica(run.ref, [], at(200), at(201))).toEqual({ ok: true, inserted: 0 });
    expect(await h.store.replicaRuns({ unmetered: true })).toEqual([]);
    expect(await h.store.replicaRuns({ live: true })).toEqual([]);
    const usage = await h.store.serviceUsage('2026-06', 'lab');
    expect(usage).toEqual({ ok: true, usage: [{ serviceId: 'chat', site: 'hami', pool: 'hami-ai', rows: 3, replicaHours: 3, unitHours: 6, energyKWh: 6, greenKWh: 4.5, costYuan: 1.5, carbonKg: 0.75 }] });
    expect(await h.store.serviceUsage('2026-07', 'lab')).toEqual({ ok: true, usage: [] });
  });

  it("fences the loop's writes: placements and replicas change nothing once another instance holds the lease", async () => {
    await h.store.createTenant(tenant('lab'), T0_MS);
    await h.store.createService('lab', serviceSpec('chat'), T0_MS);
    const a = await h.store.acquireLease('dispatch', 'a', 5000, T0_MS);
    if (!a.ok) throw new Error('lease');
    const fenced = h.store.fenced({ name: 'dispatch', holder: 'a', token: a.lease.token });
    await h.store.acquireLease('dispatch', 'b', 5000, T0_MS + 10_000);
    const ref = { tenantId: 'lab', serviceId: 'chat' };
    await expect(fenced.putServicePlacements([{ ref, slots: [slot(T0_MS, { hami: 1 })] }], T0_MS)).rejects.toBeInstanceOf(LeaseLost);
    await expect(fenced.addReplica({ ref: 'r', tenantId: 'lab', serviceId: 'chat', site: 'hami', pool: 'p', units: 1, requestedMs: T0_MS })).rejects.toBeInstanceOf(LeaseLost);
    expect(await h.store.servicePlacements(ref, 0, Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(await h.store.replicaRuns()).toEqual([]);
    await expect(fenced.putServiceBurst(ref, burst(T0_MS), T0_MS)).rejects.toBeInstanceOf(LeaseLost);
    expect(await h.store.serviceBurst(ref)).toBeNull();
  });

  it('keeps the last load reported per region, all or none, and the fresh ones by instant', async () => {
    await h.store.createTenant(tenant('lab'), T0_MS);
    await h.store.createService('lab', serviceSpec('chat'), T0_MS);
    const ref = { tenantId: 'lab', serviceId: 'chat' };
    expect(await h.store.putServiceLoad(ref, [{ region: 'beijing', requestsPerS: 120 }, { region: 'wuhan', requestsPerS: 7.5 }], at(0))).toEqual({ ok: true, regions: 2 });
    expect(await h.store.putServiceLoad(ref, [{ region: 'beijing', requestsPerS: 150 }], at(60))).toEqual({ ok: true, regions: 1 });
    // A bad value refuses the whole report, naming the field.
    const bad = await h.store.putServiceLoad(ref, [{ region: 'wuhan', requestsPerS: 1 }, { region: 'beijing', requestsPerS: -3 }], at(90));
    expect(bad).toMatchObject({ ok: false, code: 'invalid' });
    expect(!bad.ok && bad.reason).toContain('load[1].requestsPerS');
    expect(await h.store.putServiceLoad({ tenantId: 'lab', serviceId: 'other' }, [{ region: 'beijing', requestsPerS: 1 }], at(90))).toMatchObject({ ok: false, code: 'not-found' });
    expect(await h.store.serviceLoad(ref, 0)).toEqual([
      { region: 'beijing', requestsPerS: 150, reportedMs: at(60) },
      { region: 'wuhan', requestsPerS: 7.5, reportedMs: at(0) },
    ]);
    expect(await h.store.serviceLoad(ref, at(30))).toEqual([{ region: 'beijing', requestsPerS: 150, reportedMs: at(60) }]);
    // A deleted service takes no report; its id taken again starts with none.
    await h.store.deleteService(ref, at(100));
    expect(await h.store.putServiceLoad(ref, [{ region: 'beijing', requestsPerS: 1 }], at(101))).toMatchObject({ ok: false, code: 'not-found' });
    await h.store.createService('lab', serviceSpec('chat'), at(102));
    expect(await h.store.serviceLoad(ref, 0)).toEqual([]);
  });

  it("keeps the loop's last burst state of a service", async () => {
    await h.store.createTenant(tenant('lab'), T0_MS);
    await h.store.createService('lab', serviceSpec('chat'), T0_MS);
    const ref = { tenantId: 'lab', serviceId: 'chat' };
    expect(await h.store.serviceBurst(ref)).toBeNull();
    expect(await h.store.putServiceBurst(ref, burst(at(1)), at(1))).toMatchObject({ ok: true });
    expect(await h.store.putServiceBurst(ref, { ...burst(at(2)), active: false, endedMs: at(2) }, at(2))).toMatchObject({ ok: true });
    expect(await h.store.serviceBurst(ref)).toEqual({ ...burst(at(2)), active: false, endedMs: at(2) });
    expect(await h.store.putServiceBurst({ tenantId: 'lab', serviceId: 'none' }, burst(at(3)), at(3))).toMatchObject({ ok: false, code: 'not-found' });
  });
}

function burst(atMs: number): ServiceBurst {
  return {
    atMs,
    slotMs: T0_MS,
    active: true,
    startedMs: T0_MS,
    endedMs: null,
    regions: { beijing: { observedRps: 300, forecastRps: 100 } },
    extraReplicas: { beijing: 3 },
    routes: [{ region: 'beijing', site: 'beijing', requestsPerS: 300, weight: 1 }],
    unservedRps: 0,
    unservedReason: null,
    preempted: [{ tenantId: 'lab', jobId: 'train', site: 'beijing', pool: 'beijing-ai', units: 4, atMs, reasons: [{ service: 'chat', site: 'beijing', region: 'beijing', observedRps: 300, forecastRps: 100 }] }],
  };
}
