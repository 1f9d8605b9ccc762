/**
 * Bursts of observed load in the dispatch loop (docs/services.md, "Bursts in the service"), end to end on hami with
 * HiGHS, the simulated executor and the API: a load report over what the placed replicas serve starts extra replicas
 * on free units, then pauses an interruptible batch run with the reasons (never a non-interruptible one); when the
 * load falls back the extras stop and the paused job resumes and completes its work; no report changes nothing.
 * And a tenant's quota caps its replicas with its batch work, the shortfall reported with reason 'quota'.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/store/port.ts';
import { SimulatedExecutor } from '../../src/exec/simulated.ts';
import { HOUR, SLOTS, T0, demand, service, servicesWorld, type ServicesWorld } from './services-fixtures.ts';

const MIN = 60_000;
const flat = (v: number) => new Array<number>(SLOTS).fill(v);

describe('bursts of observed load in the dispatch loop', () => {
  let w: ServicesWorld;

  beforeEach(async () => {
    w = await servicesWorld(new SimulatedExecutor());
  });

  afterEach(async () => {
    await w.close();
  });

  const job = (id: string, units: number, durationS: number, slackS: number, interruptible: boolean): JobSpec => ({
    id, class: 'training', poolClass: 'ai', units, durationS, releaseMs: T0, deadlineMs: T0 + (durationS + slackS) * 1000, origin: 'urumqi', inputGb: 0, interruptible, allowedSites: ['urumqi'],
  });
  const status = async (id: string) => (await w.store.getJob({ tenantId: 'lab', jobId: id }))!.status;
  const liveAt = async () => (await w.store.replicaRuns({ live: true })).filter((r) => r.site === 'urumqi').length;
  /** Replicas the placement keeps at urumqi in the slot now (6 for 50 req/s: slot 0 pays the warm-up). */
  const placedAt = async (ms: number) => (await w.store.servicePlacements({ tenantId: 'lab', serviceId: 'chat' }, ms, ms + 1))[0]?.replicas.urumqi ?? 0;

  it('starts extra replicas, pauses only interruptible batch with why, and gives it back when the burst passes', async () => {
    // chat at urumqi only: 50 req/s forecast from beijing = 5 replicas; batch: 16 interruptible + 8 not, of 32 units.
    expect((await w.call(w.keys.lab, 'POST', '/v1/services', service('chat', { sites: ['urumqi'] }))).status).toBe(201);
    expect((await w.call(w.keys.lab, 'POST', '/v1/services/chat/demand', demand('chat', { beijing: flat(50) }))).status).toBe(200);
    expect((await w.store.submitJobs('lab', [job('ckpt', 16, 4 * 3600, 1800, true), job('rigid', 8, 2 * 3600, 600, false)], T0)).ok).toBe(true);
    await w.loop.tick();
    expect(await status('ckpt')).toBe('running');
    expect(await status('rigid')).toBe('running');
    const P = await placedAt(T0);
    expect(P).toBeGreaterThanOrEqual(5);
    expect(await liveAt()).toBe(P);

    // No report: nothing happens.
    w.clock.set(T0 + 10 * MIN);
    await w.loop.tick();
    expect(await liveAt()).toBe(P);
    expect((await w.call(w.keys.lab, 'GET', '/v1/services/chat')).body.burst).toBeNull();

    // Bad reports are refused naming the field.
    const bad = await w.call(w.keys.lab, 'POST', '/v1/services/chat/load', { load: [{ region: 'lhasa', requestsPerS: 5 }] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('load[0].region');
    const negative = await w.call(w.keys.lab, 'POST', '/v1/services/chat/load', { load: [{ region: 'beijing', requestsPerS: -1 }] });
    expect(negative.status).toBe(400);
    expect(JSON.stringify(negative.body)).toContain('requestsPerS');

    // A burst: 150 req/s observed against 50 forecast needs 15 − P more replicas; 32 − 24 − P units are free, the rest
    // comes from the interruptible job (16 units), never from the non-interruptible one.
    w.clock.set(T0 + 15 * MIN);
    expect((await w.call(w.keys.lab, 'POST', '/v1/services/chat/load', { load: [{ region: 'beijing', requestsPerS: 150 }] })).status).toBe(200);
    await w.loop.tick();
    expect(await status('ckpt')).toBe('paused');
    expect(await status('rigid')).toBe('running');
    expect(await liveAt()).toBe(15);
    const extra = 15 - P;
    const events = (await w.call(w.keys.lab, 'GET', '/v1/jobs/ckpt/events')).body.events;
    const pause = events.find((e: { name: string }) => e.name === 'pauseRun');
    expect(pause.detail.reason).toMatch(/pre-empted by service chat at urumqi.*beijing 150\.0 req\/s observed against 50\.0 forecast/);
    expect(pause.detail.preemptedBy).toEqual([{ service: 'chat', site: 'urumqi', region: 'beijing', observedRps: 150, forecastRps: 50 }]);
    const view = (await w.call(w.keys.lab, 'GET', '/v1/services/chat')).body;
    expect(view.burst).toMatchObject({ active: true, extraReplicas: { urumqi: extra }, regions: { beijing: { observedRps: 150, forecastRps: 50 } }, unservedRps: 0, preempted: [{ job: 'ckpt', site: 'urumqi', units: 16 }] });
    expect(w.metrics.render()).toMatch(/kumul_service_preemptions_total\{service="chat",site="urumqi",tenant="lab"\} 1/);
    expect(w.logged.some((l) => /job lab\/ckpt: run .* paused at urumqi/.test(l))).toBe(true);
    // The same load at the next tick changes nothing (the extras serve it; nothing more is paused).
    w.clock.set(T0 + 20 * MIN);
    await w.loop.tick();
    expect(await liveAt()).toBe(15);
    expect(w.metrics.render()).toMatch(/kumul_service_preemptions_total\{service="chat",site="urumqi",tenant="lab"\} 1/);
    // Within the hysteresis: at 110 req/s 11 replicas would do, but the extras stop only down to what 110 ÷ 0.8 needs.
    w.clock.set(T0 + 25 * MIN);
    await w.call(w.keys.lab, 'POST', '/v1/services/chat/load', { load: [{ region: 'beijing', requestsPerS: 110 }] });
    await w.loop.tick();
    expect(await liveAt()).toBe(Math.min(15, Math.ceil(110 / 0.8 / 10)));

    // The burst passes: the extras stop, the paused job is planned again for the work it has left and resumes.
    w.clock.set(T0 + 30 * MIN);
    await w.call(w.keys.lab, 'POST', '/v1/services/chat/load', { load: [{ region: 'beijing', requestsPerS: 30 }] });
    await w.loop.tick();
    expect(await liveAt()).toBe(P);
    expect((await w.call(w.keys.lab, 'GET', '/v1/services/chat')).body.burst).toMatchObject({ active: false, extraReplicas: {} });
    for (let m = 35; m <= 8 * 60 && (await status('ckpt')) !== 'succeeded'; m += 5) {
      w.clock.set(T0 + m * MIN);
      await w.loop.tick();
    }
    expect(await status('ckpt')).toBe('succeeded');
    expect(await status('rigid')).toBe('succeeded');
    // Its work adds up to its duration over the two runs, and it never ran past its deadline.
    const metered = await w.store.jobMetering({ tenantId: 'lab', jobId: 'ckpt' });
    expect(metered.length).toBeGreaterThanOrEqual(2);
    expect(metered.reduce((s, r) => s + r.endMs - r.startMs, 0) / 1000).toBeCloseTo(4 * 3600, -2);
    expect(Math.max(...metered.map((r) => r.endMs))).toBeLessThanOrEqual(T0 + 4 * HOUR + 30 * MIN);
    const rigidEvents = (await w.call(w.keys.lab, 'GET', '/v1/jobs/rigid/events')).body.events;
    expect(rigidEvents.map((e: { name: string }) => e.name)).not.toContain('pauseRun');
  });

  it('a stale report changes nothing; extras stop when reports stop', async () => {
    await w.call(w.keys.lab, 'POST', '/v1/services', service('chat', { sites: ['urumqi'] }));
    await w.call(w.keys.lab, 'POST', '/v1/services/chat/demand', demand('chat', { beijing: flat(50) }));
    await w.call(w.keys.lab, 'POST', '/v1/services/chat/load', { load: [{ region: 'beijing', requestsPerS: 90 }] });
    w.clock.set(T0 + 10 * MIN); // the report is 10 minutes old: not acted on
    await w.loop.tick();
    const P = await placedAt(T0);
    expect(await liveAt()).toBe(P);
    await w.call(w.keys.lab, 'POST', '/v1/services/chat/load', { load: [{ region: 'beijing', requestsPerS: 10 * P + 30 }] });
    await w.loop.tick();
    expect(await liveAt()).toBe(P + 3);
    w.clock.set(T0 + 20 * MIN);
    await w.loop.tick();
    expect(await liveAt()).toBe(P);
    expect(w.logged.some((l) => l.includes('burst over (no fresh load report)'))).toBe(true);
  });

  it("caps a tenant's replicas with its batch work by its quota, the shortfall reported with reason 'quota'", async () => {
    expect((await w.store.updateTenant('lab', { maxConcurrentUnits: { ai: 8, general: null, hpc: null } }, T0)).ok).toBe(true);
    expect((await w.store.submitJobs('lab', [job('rigid', 3, 2 * 3600, 600, false)], T0)).ok).toBe(true);
    await w.loop.tick();
    expect(await status('rigid')).toBe('running');
    await w.call(w.keys.lab, 'POST', '/v1/services', service('chat'));
    await w.call(w.keys.lab, 'POST', '/v1/services/chat/demand', demand('chat', { beijing: flat(100) }));
    w.clock.set(T0 + 2 * MIN);
    await w.loop.tick();
    const [slot0] = await w.store.servicePlacements({ tenantId: 'lab', serviceId: 'chat' }, T0, T0 + HOUR);
    expect(Object.values(slot0.replicas).reduce((a, b) => a + b, 0)).toBe(5); // 8 − 3 of the running batch job
    expect(slot0.regions.beijing).toMatchObject({ unservedReason: 'quota' });
    expect(slot0.regions.beijing.unservedRps).toBeGreaterThan(45);
    // A job submitted now waits: the replicas take the rest of the quota (services first).
    expect((await w.store.submitJobs('lab', [job('later', 1, 3600, 7200, true)], T0 + 2 * MIN)).ok).toBe(true);
    w.clock.set(T0 + 3 * MIN);
    await w.loop.tick();
    expect(await status('later')).not.toBe('running');
    const now = (await w.call(w.keys.lab, 'GET', '/v1/services/chat')).body.current;
    expect(now.regions.beijing.unservedReason).toBe('quota');
    // A burst cannot take more than the quota either.
    w.clock.set(T0 + 5 * MIN);
    await w.call(w.keys.lab, 'POST', '/v1/services/chat/load', { load: [{ region: 'beijing', requestsPerS: 200 }] });
    await w.loop.tick();
    expect((await w.store.replicaRuns({ live: true })).length).toBe(5);
    expect((await w.call(w.keys.lab, 'GET', '/v1/services/chat')).body.burst).toMatchObject({ active: false, unservedReason: 'quota' });
  });
});
