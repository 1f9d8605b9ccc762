/**
 * The dispatch loop on a real store (SQLite) with the simulated executor, on a hand-moved clock:
 * jobs are planned, started when due, paused and resumed along their plans, finished and metered;
 * cancelled and impossible jobs end as they should; tenant quotas hold; work moves off pools out of service.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/kysely-store.ts';
import type { JobSpec, Store } from '../../src/store/port.ts';
import { FixedClock } from '../../src/service/clock.ts';
import { Metrics } from '../../src/service/metrics.ts';
import { DispatchLoop, type LoopOptions } from '../../src/service/loop.ts';
import { SimulatedExecutor } from '../../src/exec/simulated.ts';
import type { Executor, Outage } from '../../src/exec/port.ts';
import { loadScenario } from '../../src/scenario/index.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import type { ServiceContext } from '../../src/service/context.ts';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;
const network = loadScenario('hami', { start: '2026-06-01T00:00Z', slots: 1 }).network;

function spec(id: string, over: Partial<JobSpec> = {}): JobSpec {
  return { id, class: 'training', poolClass: 'ai', units: 8, durationS: 7200, releaseMs: T0, deadlineMs: T0 + 48 * HOUR, origin: 'beijing', inputGb: 10, interruptible: false, allowedSites: null, ...over };
}

describe('dispatch loop', () => {
  let store: Store;
  let clock: FixedClock;
  let loop: DispatchLoop;
  let loopOptions: LoopOptions;
  let metrics: Metrics;
  let executor: SimulatedExecutor;
  /** What the loop is told is out of service; null: what the simulated executor says. */
  let reportedOutages: Outage[] | null;
  /** Runs whose status and cancel calls fail, as if their cluster could not be reached. */
  let unreachable: Set<string>;
  let logged: string[];
  /** The store's deployment id: the first part of every run's name. */
  let deploymentId: string;

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumul-loop-'));
    store = await openStore(`sqlite:${join(dir, 'kumul.db')}`);
    deploymentId = (await store.deployment(T0)).id;
    clock = new FixedClock(T0);
    metrics = new Metrics();
    executor = new SimulatedExecutor();
    reportedOutages = null;
    unreachable = new Set();
    logged = [];
    const reach = (ref: string) => {
      if (unreachable.has(ref)) throw new Error('connect ECONNREFUSED 10.0.0.5:6820');
    };
    // The loop sees the simulated executor, except that a test may hide or invent outages for a tick.
    const seen: Executor = {
      name: 'simulated',
      submit: (r, now) => executor.submit(r, now),
      status: async (ref, now) => (reach(ref), executor.status(ref, now)),
      cancel: async (ref, now) => (reach(ref), executor.cancel(ref, now)),
      outages: async () => reportedOutages ?? executor.outages(),
      runProbe: (request) => executor.runProbe(request),
      setAwakeNodes: (request) => executor.setAwakeNodes(request),
    };
    const ctx: ServiceContext = { store, clock, metrics, network: () => network, wake: () => loop.wake() };
    loopOptions = {
      ctx,
      executor: seen,
      deploymentId,
      scenarioWindow: (startMs, slots) => loadScenario('hami', { start: new Date(startMs).toISOString(), slots }),
      slotMinutes: 60,
      dispatch: () => ({ policy: 'optimize', objective: objectiveFrom('cost') }),
      replanMinutes: 60,
      horizonHours: 48,
      log: (line) => logged.push(line),
    };
    loop = new DispatchLoop(loopOptions);
    for (const id of ['lab', 'city']) {
      const created = await store.createTenant({ id, name: id, role: 'tenant', maxConcurrentUnits: { ai: id === 'city' ? 8 : null, general: null, hpc: null } }, T0);
      expect(created.ok).toBe(true);
    }
  });

  afterEach(async () => {
    await store.close();
  });

  /** The value of one series in /metrics (`name{labels}` as rendered), or undefined when it is absent. */
  function sample(series: string): number | undefined {
    const line = metrics.render().split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  }

  /** Ticks every 15 simulated minutes until `untilMs`. */
  async function runUntil(untilMs: number): Promise<void> {
    while (clock.nowMs() < untilMs) {
      await loop.tick();
      clock.advance(15 * 60_000);
    }
    await loop.tick();
  }

  it('plans, starts, finishes and meters jobs; events follow the lifecycle', async () => {
    const submitted = await store.submitJobs('lab', [spec('a'), spec('b', { interruptible: true, durationS: 5 * 3600, units: 4 }), spec('c', { poolClass: 'general', units: 64, origin: 'zhengzhou', inputGb: 0 })], T0);
    expect(submitted.ok).toBe(true);
    await runUntil(T0 + 48 * HOUR);
    for (const id of ['a', 'b', 'c']) {
      const job = (await store.getJob({ tenantId: 'lab', jobId: id }))!;
      expect(job.status, id).toBe('succeeded');
      const events = await store.jobEvents({ tenantId: 'lab', jobId: id });
      const names = events.map((e) => e.name);
      expect(names[0]).toBe('submit');
      expect(names.at(-1)).toBe('succeed');
      expect(names.filter((n) => n === 'startRun').length).toBe(1);
      const metering = await store.jobMetering({ tenantId: 'lab', jobId: id });
      const unitHours = metering.reduce((h, m) => h + (m.units * (m.endMs - m.startMs)) / HOUR, 0);
      expect(unitHours).toBeCloseTo((job.job.units * job.job.durationS) / 3600, 6);
      expect(metering.every((m) => m.energyKWh > 0 && m.pflopHours.bf16 >= 0)).toBe(true);
    }
    expect(metrics.render()).toMatch(/kumul_runs_started_total\{site="\w+"\} \d/);
  });

  it('plans and runs jobs longer than the look-ahead: 72 hours and 30 days, whole', async () => {
    await store.submitJobs(
      'lab',
      [
        spec('three-days', { units: 8, durationS: 72 * 3600, deadlineMs: T0 + 96 * HOUR, origin: 'hami', inputGb: 0 }),
        spec('month', { poolClass: 'hpc', units: 4, durationS: 30 * 86_400, deadlineMs: T0 + 33 * 24 * HOUR, origin: 'hami', inputGb: 0, interruptible: true }),
      ],
      T0,
    );
    await loop.tick();
    for (const id of ['three-days', 'month']) {
      const job = (await store.getJob({ tenantId: 'lab', jobId: id }))!;
      expect(job.plan, id).not.toBeNull();
      const ran = job.plan!.runs.reduce((ms, r) => ms + Date.parse(r.end) - Date.parse(r.start), 0);
      expect(ran, id).toBe(job.job.durationS * 1000);
      expect(Date.parse(job.plan!.runs.at(-1)!.end)).toBeLessThanOrEqual(job.job.deadlineMs);
    }
    while (clock.nowMs() < T0 + 33 * 24 * HOUR) {
      await loop.tick();
      clock.advance(3 * HOUR);
    }
    await loop.tick();
    for (const id of ['three-days', 'month']) {
      const job = (await store.getJob({ tenantId: 'lab', jobId: id }))!;
      expect(job.status, id).toBe('succeeded');
      const metering = await store.jobMetering({ tenantId: 'lab', jobId: id });
      expect(metering.reduce((ms, m) => ms + m.endMs - m.startMs, 0), id).toBe(job.job.durationS * 1000);
    }
  });

  it('each plan carries the bound of the cycle that made it, long jobs too', async () => {
    loop = new DispatchLoop({ ...loopOptions, solver: await loadHighsSolver() });
    await store.submitJobs('lab', [spec('long', { durationS: 72 * 3600, deadlineMs: T0 + 96 * HOUR }), spec('short', { interruptible: true })], T0);
    await loop.tick();
    for (const id of ['long', 'short']) {
      const { plan } = (await store.getJob({ tenantId: 'lab', jobId: id }))!;
      expect(plan!.cycle, id).toMatchObject({ at: new Date(T0).toISOString(), jobsPlaced: 2, bound: { objective: 'cost' } });
      const bound = plan!.cycle!.bound!;
      expect(bound.value).toBeGreaterThan(0);
      expect(bound.value).toBeLessThanOrEqual(bound.planValue * (1 + 1e-9));
      expect(bound.gapPct).toBeGreaterThanOrEqual(-1e-9);
      expect(bound.method).toMatch(/^LP relaxation solved by HiGHS/);
    }
    expect(metrics.render()).toMatch(/kumul_plan_gap_percent -?\d/);
  });

  it('runs a 10-minute job inside a 30-minute window on hourly slots, started within a tick of its release', async () => {
    const inside = T0 + 2 * HOUR + (22 * 60 + 58) * 1000; // 02:22:58, due 02:52:58: inside one slot
    const straddles = T0 + 5 * HOUR + 45 * 60_000; // 05:45, due 06:15: across a slot boundary
    await store.submitJobs(
      'lab',
      [
        spec('inside', { units: 1, durationS: 600, releaseMs: inside, deadlineMs: inside + 30 * 60_000, origin: 'hami', inputGb: 0 }),
        spec('straddles', { units: 1, durationS: 600, releaseMs: straddles, deadlineMs: straddles + 30 * 60_000, origin: 'hami', inputGb: 0 }),
        spec('no-slack', { units: 1, durationS: 900, releaseMs: inside, deadlineMs: inside + 900_000, origin: 'hami', inputGb: 0 }),
      ],
      T0,
    );
    await loop.tick();
    for (const [id, release] of [['inside', inside], ['straddles', straddles], ['no-slack', inside]] as const) {
      const job = (await store.getJob({ tenantId: 'lab', jobId: id }))!;
      expect(job.status, id).toBe('planned');
      const [run] = job.plan!.runs;
      expect(Date.parse(run.start), id).toBeGreaterThanOrEqual(release);
      expect(Date.parse(run.end), id).toBeLessThanOrEqual(job.job.deadlineMs);
      if (id === 'no-slack') expect(Date.parse(run.start)).toBe(release);
    }
    // Ticks every 15 minutes from the release on: each run starts at the first tick at or after its planned start.
    clock.set(inside);
    await loop.tick();
    expect((await store.getJob({ tenantId: 'lab', jobId: 'no-slack' }))!.status).toBe('running');
    await runUntil(T0 + 8 * HOUR);
    for (const id of ['inside', 'straddles', 'no-slack']) expect((await store.getJob({ tenantId: 'lab', jobId: id }))!.status, id).toBe('succeeded');
  });

  it('moves job input on the link capacity the backup loop reserved (linkReserve): a wholly reserved route delays the transfer', async () => {
    // Every direction of every link wholly held by backups for the first 3 hours.
    const held = Float64Array.from({ length: 48 }, (_, t) => (t < 3 ? 1e9 : 0));
    const reserveGB = new Map(network.links.flatMap((l) => [[`${l.from}>${l.to}`, held] as const, [`${l.to}>${l.from}`, held] as const]));
    loop = new DispatchLoop({ ...loopOptions, linkReserve: () => ({ grid: { startMs: T0, slotMinutes: 60, slots: 48 }, reserveGB }) });
    await store.submitJobs('lab', [spec('moved', { allowedSites: ['hami'], inputGb: 100 })], T0);
    await loop.tick();
    const page = await store.listJobs({ tenantId: 'lab' }, { limit: 10, after: null });
    if (!page.ok) throw new Error('listJobs');
    const [stored] = page.jobs;
    expect(stored.plan!.site).toBe('hami');
    expect(Date.parse(stored.plan!.transfer!.end)).toBeGreaterThanOrEqual(T0 + 3 * HOUR);
    // The same job without the reservation: its 100 GB move at once.
    loop = new DispatchLoop(loopOptions);
    await store.submitJobs('lab', [spec('free', { allowedSites: ['hami'], inputGb: 100 })], T0);
    await loop.tick();
    const again = await store.listJobs({ tenantId: 'lab' }, { limit: 10, after: null });
    if (!again.ok) throw new Error('listJobs');
    const free = again.jobs.find((j) => j.job.id === 'free')!;
    expect(Date.parse(free.plan!.transfer!.end)).toBeLessThan(T0 + HOUR);
  });

  it('a job submitted through another instance (its wake does not reach this loop) gets a cycle at the next tick', async () => {
    await loop.tick(); // the hourly cycle of T0
    clock.advance(5 * 60_000);
    await store.submitJobs('lab', [spec('elsewhere', { origin: 'hami', inputGb: 0, releaseMs: T0 + HOUR })], clock.nowMs());
    const report = await loop.tick();
    expect(report.replanned).toBe(true);
    expect((await store.getJob({ tenantId: 'lab', jobId: 'elsewhere' }))!.status).toBe('planned');
    clock.advance(5 * 60_000);
    expect((await loop.tick()).replanned).toBe(false);
  });

  it('with forecast smoothing, a cycle plans on forecasts averaged around each slot: a one-hour dip of noise no longer draws a job', async () => {
    // Beijing's forecast: 500 gCO2/kWh, a real low of 400 from 06:00 to 10:00, and a one-hour dip to 320 at 02:00 (noise).
    const carbonAt = (ms: number) => ((ms - T0) / HOUR === 2 ? 320 : ms >= T0 + 6 * HOUR && ms < T0 + 10 * HOUR ? 400 : 500);
    const designed = (startMs: number, slots: number) => {
      const s = loadScenario('hami', { start: new Date(startMs).toISOString(), slots });
      const times = Array.from({ length: slots }, (_, i) => startMs + i * HOUR);
      const forecast = { ...s.signals.beijing.forecast, carbonGPerKWh: times.map(carbonAt), renewableKW: times.map(() => 0) };
      return { ...s, signals: { ...s.signals, beijing: { ...s.signals.beijing, forecast } } };
    };
    const plannedStart = async (forecastSmoothingMinutes: number, id: string) => {
      loop = new DispatchLoop({ ...loopOptions, scenarioWindow: designed, dispatch: () => ({ policy: 'optimize', objective: objectiveFrom('carbon') }), forecastSmoothingMinutes });
      await store.submitJobs('lab', [spec(id, { durationS: 3600, deadlineMs: T0 + 12 * HOUR, allowedSites: ['beijing'], inputGb: 0 })], clock.nowMs());
      await loop.tick();
      return Date.parse((await store.getJob({ tenantId: 'lab', jobId: id }))!.plan!.runs[0].start);
    };
    expect(await plannedStart(0, 'plain')).toBe(T0 + 2 * HOUR);
    expect(carbonAt(await plannedStart(60, 'smoothed'))).toBe(400);
  });

  it('a job that must start before the next cycle gets a cycle at once', async () => {
    await loop.tick(); // the hourly cycle of T0
    clock.advance(5 * 60_000);
    // Stored without waking the loop (as by another instance); it must start at 00:10 sharp, before the 01:00 cycle.
    await store.submitJobs('lab', [spec('urgent', { units: 1, durationS: 1800, releaseMs: T0 + 10 * 60_000, deadlineMs: T0 + 40 * 60_000, origin: 'hami', inputGb: 0 })], clock.nowMs());
    const report = await loop.tick();
    expect(report.replanned).toBe(true);
    expect((await store.getJob({ tenantId: 'lab', jobId: 'urgent' }))!.plan!.runs[0].start).toBe(new Date(T0 + 10 * 60_000).toISOString());
    clock.set(T0 + 10 * 60_000);
    await loop.tick();
    expect((await store.getJob({ tenantId: 'lab', jobId: 'urgent' }))!.status).toBe('running');
  });

  it('cancels a job before it starts, and misses one that cannot finish in time', async () => {
    await store.submitJobs('lab', [spec('later', { releaseMs: T0 + 10 * HOUR, deadlineMs: T0 + 40 * HOUR }), spec('hopeless', { durationS: 10 * 3600, deadlineMs: T0 + 5 * HOUR })], T0);
    await loop.tick();
    expect((await store.cancel({ tenantId: 'lab', jobId: 'later' }, { nowMs: clock.nowMs() })).ok).toBe(true);
    await runUntil(T0 + 20 * HOUR);
    expect((await store.getJob({ tenantId: 'lab', jobId: 'later' }))!.status).toBe('cancelled');
    const hopeless = (await store.getJob({ tenantId: 'lab', jobId: 'hopeless' }))!;
    expect(hopeless.status).toBe('missed');
    // Marked at the first cycle, not when the deadline passed, with why.
    expect(hopeless.updatedMs).toBe(T0);
    expect(hopeless.unplaced).toMatchObject({ atMs: T0, codes: ['deadline passed'] });
    expect(hopeless.unplaced!.reasons[0]).toBe('deadline passed: 36000 s from now ends after the deadline 2026-06-01T05:00:00.000Z');
  });

  it('keeps why a job has no place, counts it by reason, and records the same reason once', async () => {
    const ref = { tenantId: 'lab', jobId: 'huge' };
    await store.submitJobs('lab', [spec('huge', { units: 999 })], T0);
    await loop.tick();
    const first = (await store.getJob(ref))!;
    expect(first).toMatchObject({ status: 'submitted', plan: null, version: 2, unplaced: { atMs: T0, sinceMs: T0, codes: ['too few units'] } });
    expect(first.unplaced!.reasons[0]).toBe('0/6 sites can run it: 6 too few units');
    expect(first.unplaced!.reasons).toContain('hami: needs 999 units, ai pool has 64');
    expect(metrics.render()).toContain('kumul_jobs_unplaced{reason="too few units"} 1');

    // Later cycles give the same reason: stored as of the latest cycle, no new version, no new event.
    await runUntil(T0 + 3 * HOUR);
    const later = (await store.getJob(ref))!;
    expect(later).toMatchObject({ status: 'submitted', version: 2, unplaced: { atMs: T0 + 3 * HOUR, sinceMs: T0, codes: ['too few units'] } });
    expect((await store.jobEvents(ref)).map((e) => e.name)).toEqual(['submit', 'noteUnplaced']);
    expect((await store.jobEvents(ref))[1].detail).toMatchObject({ reason: '0/6 sites can run it: 6 too few units', codes: ['too few units'] });
    // The version the tenant saw still cancels it.
    expect((await store.cancel(ref, { nowMs: clock.nowMs(), expectedVersion: 2 })).ok).toBe(true);
    await loop.tick();
    expect(metrics.render()).toContain('kumul_jobs_unplaced{reason="too few units"} 0');
  });

  it('misses at once a job whose deadline no site can reach (its input’s transfer included); one waiting for capacity stays submitted', async () => {
    // hami's 64 accelerators are busy for 20 hours.
    await store.submitJobs('lab', [spec('block', { units: 64, origin: 'hami', inputGb: 0, allowedSites: ['hami'], durationS: 20 * 3600, deadlineMs: T0 + 30 * HOUR })], T0);
    await loop.tick();
    expect((await store.getJob({ tenantId: 'lab', jobId: 'block' }))!.status).toBe('running');

    clock.advance(15 * 60_000);
    const nowMs = clock.nowMs();
    await store.submitJobs(
      'lab',
      [
        // 50,000 GB from beijing to hami at 10 Gbit/s take 11.1 h: it could run in 1 h, but not at hami before its deadline.
        spec('far', { origin: 'beijing', allowedSites: ['hami'], inputGb: 50_000, durationS: 3600, deadlineMs: T0 + 6 * HOUR }),
        spec('waits', { units: 8, origin: 'hami', inputGb: 0, allowedSites: ['hami'], durationS: 3600, deadlineMs: T0 + 10 * HOUR }),
      ],
      nowMs,
    );
    loop.wake();
    await loop.tick();
    const far = (await store.getJob({ tenantId: 'lab', jobId: 'far' }))!;
    expect(far).toMatchObject({ status: 'missed', updatedMs: nowMs, unplaced: { atMs: nowMs } });
    expect([...far.unplaced!.codes].sort()).toEqual(['cannot finish by the deadline', 'not allowed']);
    expect(far.unplaced!.reasons).toContain('hami: cannot finish by the deadline after moving 50000 GB (11.1 h): needs 1 h 00 min, 0 s left');
    expect((await store.jobEvents({ tenantId: 'lab', jobId: 'far' })).at(-1)).toMatchObject({ name: 'markMissed', from: 'submitted', to: 'missed', detail: { codes: far.unplaced!.codes } });
    expect(metrics.render()).toContain('kumul_jobs_missed_total{reason="cannot finish by the deadline"} 1');
    expect(metrics.render()).toContain('kumul_jobs_finished_total{state="missed"} 1');

    const waits = (await store.getJob({ tenantId: 'lab', jobId: 'waits' }))!;
    expect(waits.status).toBe('submitted');
    expect([...waits.unplaced!.codes].sort()).toEqual(['no free capacity in its window', 'not allowed']);
    expect(waits.unplaced!.reasons[0]).toBe('0/6 sites can run it: 5 not allowed, 1 no free capacity in its window');
    expect(metrics.render()).toContain('kumul_jobs_unplaced{reason="no free capacity in its window"} 1');
    expect(metrics.render()).toContain('kumul_jobs_unplaced{reason="not allowed"} 1');
  });

  it('stops the run of a job cancelled while it runs, also after a restart of the loop', async () => {
    await store.submitJobs('lab', [spec('run1', { origin: 'hami', inputGb: 0, deadlineMs: T0 + 3 * HOUR }), spec('run2', { origin: 'hami', inputGb: 0, deadlineMs: T0 + 3 * HOUR })], T0);
    await loop.tick();
    for (const id of ['run1', 'run2']) expect((await store.getJob({ tenantId: 'lab', jobId: id }))!.status, id).toBe('running');
    clock.advance(60_000);
    expect((await store.cancel({ tenantId: 'lab', jobId: 'run1' }, { nowMs: clock.nowMs() })).ok).toBe(true);
    await loop.tick();
    expect((await executor.status(`${deploymentId}/lab/run1/0`, clock.nowMs()))!.state).toBe('cancelled');
    // Cancelled while no loop ran: a new loop (a restarted service) stops it at its first tick.
    clock.advance(60_000);
    expect((await store.cancel({ tenantId: 'lab', jobId: 'run2' }, { nowMs: clock.nowMs() })).ok).toBe(true);
    const restarted = new DispatchLoop({ ...loopOptions, ctx: { ...loopOptions.ctx, metrics: new Metrics() } });
    await restarted.tick();
    expect((await executor.status(`${deploymentId}/lab/run2/0`, clock.nowMs()))!.state).toBe('cancelled');
  });

  it('a run whose executor cannot be reached is skipped for the tick, logged once, and followed again once it answers', async () => {
    await store.submitJobs('lab', [spec('near', { origin: 'hami', inputGb: 0, deadlineMs: T0 + 3 * HOUR }), spec('far', { origin: 'hami', inputGb: 0, deadlineMs: T0 + 3 * HOUR })], T0);
    await loop.tick();
    unreachable.add(`${deploymentId}/lab/far/0`);
    await runUntil(T0 + 3 * HOUR);
    expect((await store.getJob({ tenantId: 'lab', jobId: 'near' }))!.status).toBe('succeeded');
    expect((await store.getJob({ tenantId: 'lab', jobId: 'far' }))!.status).toBe('running');
    expect(logged).toEqual([`executor simulated: status ${deploymentId}/lab/far/0: connect ECONNREFUSED 10.0.0.5:6820`]);
    expect(metrics.render()).toMatch(/kumul_executor_errors_total\{call="status"\} (1[0-9]|[2-9])/);
    unreachable.clear();
    await loop.tick();
    expect((await store.getJob({ tenantId: 'lab', jobId: 'far' }))!.status).toBe('succeeded');
  });

  it('keeps a tenant within its quota of concurrent units', async () => {
    await store.submitJobs('city', [spec('x1', { origin: 'hami', inputGb: 0 }), spec('x2', { origin: 'hami', inputGb: 0 }), spec('x3', { origin: 'hami', inputGb: 0 })], T0);
    let most = 0;
    while (clock.nowMs() < T0 + 30 * HOUR) {
      await loop.tick();
      const running = await store.listJobs({ tenantId: 'city', statuses: ['running'] });
      if (running.ok) most = Math.max(most, running.jobs.reduce((u, j) => u + j.job.units, 0));
      clock.advance(15 * 60_000);
    }
    expect(most).toBe(8);
    for (const id of ['x1', 'x2', 'x3']) expect((await store.getJob({ tenantId: 'city', jobId: id }))!.status).toBe('succeeded');
  });

  it('counts jobs by state, and a plan the quota holds back until it would end within a cycle of its deadline as at risk', async () => {
    // Both must start at once (30 minutes of slack); the quota lets one run at a time, so the other's plan is late.
    const tight = { origin: 'hami', inputGb: 0, deadlineMs: T0 + 2.5 * HOUR };
    await store.submitJobs('city', [spec('y1', tight), spec('y2', tight)], T0);
    await loop.tick();
    expect([sample('kumul_jobs{state="running"}'), sample('kumul_jobs{state="planned"}'), sample('kumul_jobs{state="submitted"}')]).toEqual([1, 1, 0]);
    expect(sample('kumul_jobs_at_risk')).toBe(0);
    clock.advance(15 * 60_000);
    await loop.tick();
    // Late by 15 minutes: it would end 15 minutes before its deadline, less than one replanning interval (60).
    expect(sample('kumul_jobs_at_risk')).toBe(1);
    expect(sample('kumul_loop_tick_duration_seconds_count')).toBe(2);
    expect(sample('kumul_loop_tick_duration_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(sample('kumul_cycle_duration_seconds_count')).toBe(1);
    expect(sample('kumul_loop_last_tick_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it('re-plans work planned at a pool that goes out of service in the same tick; work running there goes on', async () => {
    const sites = ['hami', 'zhengzhou', 'qingyang'];
    const jobs = Array.from({ length: 6 }, (_, i) => spec(`o${i}`, { origin: 'hami', inputGb: 0, releaseMs: T0 + (i < 2 ? 0 : 20 * HOUR), allowedSites: sites }));
    expect((await store.submitJobs('lab', jobs, T0)).ok).toBe(true);
    await loop.tick();
    const running = (await store.listJobs({ statuses: ['running'] }, { limit: 100 }));
    expect(running.ok && running.jobs.length).toBeGreaterThan(0);
    const busySite = running.ok ? running.jobs[0].plan!.site : '';
    const plannedThere = async () => {
      const page = await store.listJobs({ statuses: ['planned'] }, { limit: 100 });
      return page.ok ? page.jobs.filter((j) => j.plan!.site === busySite).length : -1;
    };
    executor.setOutage(busySite, `${busySite}-ai`, 'partition drained for maintenance');
    clock.advance(60_000);
    const report = await loop.tick();
    expect(report.replanned).toBe(true);
    expect(await plannedThere()).toBe(0);
    const waiting = await store.listJobs({ statuses: ['planned'] }, { limit: 100 });
    expect(waiting.ok && waiting.jobs.length).toBe(4);
    expect(metrics.render()).toContain('kumul_pools_out_of_service 1');
    await runUntil(T0 + 48 * HOUR);
    const wasRunning = new Set(running.ok ? running.jobs.map((j) => j.job.id) : []);
    for (const job of jobs) {
      const stored = (await store.getJob({ tenantId: 'lab', jobId: job.id }))!;
      expect(stored.status, job.id).toBe('succeeded');
      // Work that was running at the drained pool finished there; nothing else went there.
      if (!wasRunning.has(job.id)) expect(stored.plan!.site, job.id).not.toBe(busySite);
    }
  });

  it('a run waiting at a pool out of service is cancelled, its job requeued and started elsewhere in the same tick', async () => {
    expect((await store.submitJobs('lab', [spec('w', { origin: 'hami', inputGb: 0, allowedSites: ['hami', 'zhengzhou'] })], T0)).ok).toBe(true);
    // First tick: the loop believes zhengzhou is out and hami fine, but hami's pool is out: the run waits there.
    executor.setOutage('hami', 'hami-ai', 'every node drained');
    reportedOutages = [{ siteId: 'zhengzhou', poolId: 'zhengzhou-ai', reason: 'test' }];
    await loop.tick();
    const first = (await store.getJob({ tenantId: 'lab', jobId: 'w' }))!;
    expect(first).toMatchObject({ status: 'running', executorRef: `${deploymentId}/lab/w/0` });
    expect((await executor.status(`${deploymentId}/lab/w/0`, clock.nowMs()))!.state).toBe('pending');
    // Next tick the loop sees the truth.
    reportedOutages = null;
    clock.advance(60_000);
    await loop.tick();
    const moved = (await store.getJob({ tenantId: 'lab', jobId: 'w' }))!;
    expect(['planned', 'running']).toContain(moved.status);
    expect(moved.plan!.site).toBe('zhengzhou');
    expect((await executor.status(`${deploymentId}/lab/w/0`, clock.nowMs()))!.state).toBe('cancelled');
    const names = (await store.jobEvents({ tenantId: 'lab', jobId: 'w' })).map((e) => e.name);
    expect(names.slice(0, 5)).toEqual(['submit', 'planJob', 'startRun', 'requeueRun', 'planJob']);
    await runUntil(T0 + 48 * HOUR);
    // The second attempt has its own run name, so the executor starts it rather than returning the cancelled one.
    expect((await store.getJob({ tenantId: 'lab', jobId: 'w' }))!).toMatchObject({ status: 'succeeded', executorRef: `${deploymentId}/lab/w/0r1` });
    expect((await executor.status(`${deploymentId}/lab/w/0r1`, clock.nowMs()))!.state).toBe('completed');
    // Metered once, under the second attempt's run name (never confused with the first attempt's).
    expect((await store.jobMetering({ tenantId: 'lab', jobId: 'w' })).map((r) => r.key)).toEqual(['run-0r1']);
  });

  it('a run still waiting four cycles after its planned start is cancelled and its job requeued', async () => {
    expect((await store.submitJobs('lab', [spec('stuck', { origin: 'hami', inputGb: 0, allowedSites: ['hami', 'zhengzhou'] })], T0)).ok).toBe(true);
    // hami's pool takes no work, but the loop is not told so: the run waits there, as behind another user's jobs.
    executor.setOutage('hami', 'hami-ai', 'held by other work');
    reportedOutages = [{ siteId: 'zhengzhou', poolId: 'zhengzhou-ai', reason: 'test' }];
    await loop.tick();
    reportedOutages = [];
    const first = (await store.getJob({ tenantId: 'lab', jobId: 'stuck' }))!;
    expect(first).toMatchObject({ status: 'running', executorRef: `${deploymentId}/lab/stuck/0` });
    const plannedStart = Date.parse(first.plan!.runs[0].start);
    clock.set(plannedStart + 4 * HOUR); // exactly four cycles of 60 min: not yet
    await loop.tick();
    expect((await store.getJob({ tenantId: 'lab', jobId: 'stuck' }))!.status).toBe('running');
    clock.advance(60_000);
    await loop.tick();
    const events = await store.jobEvents({ tenantId: 'lab', jobId: 'stuck' });
    const requeued = events.find((e) => e.name === 'requeueRun')!;
    expect(requeued.detail.reason).toMatch(new RegExp(`^run ${deploymentId}/lab/stuck/0 still waits to start 241 min after its planned start`));
    expect((await executor.status(`${deploymentId}/lab/stuck/0`, clock.nowMs()))!.state).toBe('cancelled');
  });

  it('with --power sleep, keeps awake only the nodes work needs now or within their wake-up time plus the reserve, and meters sleep and wake-ups', async () => {
    metrics = new Metrics();
    loop = new DispatchLoop({ ...loopOptions, ctx: { ...loopOptions.ctx, metrics, power: { policy: 'sleep', reserveShare: 0.1 } } });
    // 16 units (two nodes of 8) that must run at hami from 06:00 to 08:00.
    const at = T0 + 6 * HOUR;
    expect((await store.submitJobs('lab', [spec('s', { releaseMs: at, deadlineMs: at + 2 * HOUR, units: 16, origin: 'hami', inputGb: 0, allowedSites: ['hami'] })], T0)).ok).toBe(true);
    const hami = network.sites.find((site) => site.id === 'hami')!;
    const ai = hami.pools.find((pool) => pool.id === 'hami-ai')!;
    const awake = () => sample('kumul_pool_nodes_awake{pool="hami-ai",site="hami"}');
    const wakes = () => sample('kumul_node_wakes_total{pool="hami-ai",site="hami"}') ?? 0;
    // Each pool asleep but for its reserve (a tenth of its nodes, rounded up), one pool's nodes awake on top: idle units
    // at their idle point, nodes asleep at their sleep power, × PUE.
    const idleW = (extraAwake: number, busyUnits: number) =>
      hami.pools.reduce((w, pool) => {
        const nodes = pool.units / pool.unitsPerNode;
        const on = Math.ceil(0.1 * nodes) + (pool === ai ? extraAwake : 0);
        const idleUnits = on * pool.unitsPerNode - (pool === ai ? busyUnits : 0);
        return w + (idleUnits * pool.powerCurve[0].powerW + (nodes - on) * pool.powerStates!.sleepWPerNode) * hami.pue;
      }, 0);
    await loop.tick();
    expect(awake()).toBe(1);
    expect(sample('kumul_site_idle_power_watts{site="hami"}')).toBeCloseTo(idleW(0, 0), 6);
    // Three minutes before the start (wake-up takes five): two more nodes wake, and their wake energy is metered.
    clock.set(at - 3 * 60_000);
    const before = sample('kumul_idle_energy_joules_total{site="hami"}')!;
    await loop.tick();
    expect(awake()).toBe(3);
    expect(wakes()).toBe(2);
    const wakeJ = 2 * ai.powerStates!.wakeKWhPerNode * hami.pue * 3.6e6;
    expect(sample('kumul_idle_energy_joules_total{site="hami"}')! - before).toBeCloseTo(idleW(0, 0) * ((at - 3 * 60_000 - T0) / 1000) + wakeJ, 3);
    expect(sample('kumul_site_idle_power_watts{site="hami"}')).toBeCloseTo(idleW(2, 0), 6);
    clock.set(at + HOUR);
    await loop.tick();
    expect((await store.getJob({ tenantId: 'lab', jobId: 's' }))!.status).toBe('running');
    expect(awake()).toBe(3);
    expect(sample('kumul_site_idle_power_watts{site="hami"}')).toBeCloseTo(idleW(2, 16), 6);
    // Done: back to the reserve, no more wake-ups.
    await runUntil(at + 4 * HOUR);
    expect((await store.getJob({ tenantId: 'lab', jobId: 's' }))!.status).toBe('succeeded');
    expect(awake()).toBe(1);
    expect(wakes()).toBe(2);
  });

  it('meters runs with the actual signals, sharing renewables between runs at a site', async () => {
    // Two identical jobs that must run at hami in the same hour, and a third at Beijing.
    const at = T0 + 12 * HOUR;
    const same = { releaseMs: at, deadlineMs: at + HOUR, durationS: 3600, units: 32, origin: 'hami', inputGb: 0, allowedSites: ['hami'] };
    await store.submitJobs('lab', [spec('p', same), spec('q', same)], T0);
    const scenario = loadScenario('hami', { start: new Date(at).toISOString(), slots: 1 });
    const site = scenario.network.sites.find((s) => s.id === 'hami')!;
    const pool = site.pools.find((p) => p.class === 'ai')!;
    const expectedKWh = (32 * pool.powerCurve[pool.powerCurve.length - 1].powerW * site.pue) / 1000;
    const renewableKWh = scenario.signals.hami.actual.renewableKW[0];
    await runUntil(at + 30 * 60_000);
    // Both run now: the share of their draw (64 units for an hour) that hami's renewables cover; nothing runs elsewhere.
    expect(sample('kumul_site_green_share_ratio{site="hami"}')).toBeCloseTo(Math.min(1, renewableKWh / (2 * expectedKWh)), 9);
    expect(sample('kumul_site_green_share_ratio{site="beijing"}')).toBeUndefined();
    // Idle power: hami's units other than the 64 busy ones draw their curves' idle points (every node on).
    const idleW = (busy: number) => site.pools.reduce((w, p) => w + (p.units - (p === pool ? busy : 0)) * p.powerCurve[0].powerW * site.pue, 0);
    expect(sample('kumul_site_idle_power_watts{site="hami"}')).toBeCloseTo(idleW(64), 6);
    const idleBefore = sample('kumul_idle_energy_joules_total{site="hami"}')!;
    await runUntil(at + 3 * HOUR);
    // Metered from tick to tick, at the power of the tick before: the hours after the runs at every unit's idle power.
    expect(sample('kumul_site_idle_power_watts{site="hami"}')).toBeCloseTo(idleW(0), 6);
    expect(sample('kumul_idle_energy_joules_total{site="hami"}')! - idleBefore).toBeGreaterThan(idleW(64) * 2 * 3600);
    expect(sample('kumul_site_green_share_ratio{site="hami"}')).toBeUndefined();
    const rows = [...(await store.jobMetering({ tenantId: 'lab', jobId: 'p' })), ...(await store.jobMetering({ tenantId: 'lab', jobId: 'q' }))];
    expect(rows).toHaveLength(2);
    // The metered figures per site, in base units: joules and grams.
    const sum = (key: 'energyKWh' | 'greenKWh' | 'carbonKg') => rows.reduce((x, r) => x + r[key], 0);
    expect(sample('kumul_energy_joules_total{site="hami"}')).toBeCloseTo(sum('energyKWh') * 3.6e6, 3);
    expect(sample('kumul_green_energy_joules_total{site="hami"}')).toBeCloseTo(sum('greenKWh') * 3.6e6, 3);
    expect(sample('kumul_carbon_grams_total{site="hami"}')).toBeCloseTo(sum('carbonKg') * 1000, 6);
    expect(sample('kumul_energy_joules_total{site="beijing"}')).toBe(0);
    for (const row of rows) {
      expect(row.startMs).toBe(at);
      expect(row.energyKWh).toBeCloseTo(expectedKWh, 6);
      // Each gets half of what the panels and turbines actually gave, or all it needs.
      expect(row.greenKWh).toBeCloseTo(Math.min(expectedKWh, renewableKWh / 2), 6);
      const gridKWh = row.energyKWh - row.greenKWh;
      expect(row.costYuan).toBeCloseTo(row.greenKWh * site.renewable.priceYuanPerKWh + gridKWh * scenario.signals.hami.actual.priceYuanPerKWh[0], 6);
    }
  });
});
