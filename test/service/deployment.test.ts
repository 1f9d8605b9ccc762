/**
 * Runs belong to one deployment (issue 11, item 3): run names carry the store's deployment id, two deployments with
 * the same tenant and job ids on one engine each run every job themselves, runs a store started before it had an id
 * are followed after the upgrade, and `kumul serve --new-deployment-id` replaces the id only when asked (refused while
 * jobs run, unless they are requeued). The same on the real local Slurm: test/service/deployment-slurm.test.ts.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/kysely-store.ts';
import { connect } from '../../src/store/dialects.ts';
import { migrateTo } from '../../src/store/migrations/index.ts';
import type { JobSpec, Store } from '../../src/store/port.ts';
import { FixedClock } from '../../src/service/clock.ts';
import { Metrics } from '../../src/service/metrics.ts';
import { DispatchLoop, attemptOf, refDeployment, runIndex, runRef } from '../../src/service/loop.ts';
import { startRuntime, type RuntimeOptions } from '../../src/service/runtime.ts';
import { DEPLOYMENT_ID_LENGTH, isDeploymentId, newDeploymentId } from '../../src/store/deployment.ts';
import { SimulatedExecutor } from '../../src/exec/simulated.ts';
import type { Executor, RunRequest } from '../../src/exec/port.ts';
import { loadScenario } from '../../src/scenario/index.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';
import type { PlannedJob } from '../../src/core/dispatch/plan.ts';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;
const network = loadScenario('hami', { start: '2026-06-01T00:00Z', slots: 1 }).network;

function spec(id: string, over: Partial<JobSpec> = {}): JobSpec {
  return { id, class: 'training', poolClass: 'ai', units: 8, durationS: 3600, releaseMs: T0, deadlineMs: T0 + 12 * HOUR, origin: 'hami', inputGb: 0, interruptible: false, allowedSites: ['hami'], ...over };
}

/** A plan at hami's AI pool with runs of [from hour, hours] after T0. */
function plan(id: string, runs: [number, number][]): PlannedJob {
  return {
    id,
    site: 'hami',
    pool: 'hami-ai',
    runs: runs.map(([from, hours]) => ({ start: new Date(T0 + from * HOUR).toISOString(), end: new Date(T0 + (from + hours) * HOUR).toISOString(), units: 8 })),
    transfer: null,
    energyKWh: 1,
    greenKWh: 0,
    costYuan: 1,
    carbonKg: 1,
    transferKWh: 0,
    explain: { policy: 'cost', candidates: [], earliestHere: null, rejected: [] },
  };
}

const opened: Store[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function newStore(dir = mkdtempSync(join(tmpdir(), 'kumul-deployment-'))): Promise<{ store: Store; url: string }> {
  const url = `sqlite:${join(dir, 'kumul.db')}`;
  const store = await openStore(url);
  opened.push(store);
  return { store, url };
}

/** A loop of one deployment over `store`, on `executor` (an engine other deployments may share). */
function loopOf(store: Store, deploymentId: string, executor: Executor, clock: FixedClock): DispatchLoop {
  const loop: DispatchLoop = new DispatchLoop({
    ctx: { store, clock, metrics: new Metrics(), network: () => network, wake: () => loop.wake() },
    executor,
    deploymentId,
    scenarioWindow: (startMs, slots) => loadScenario('hami', { start: new Date(startMs).toISOString(), slots }),
    slotMinutes: 60,
    dispatch: () => ({ policy: 'optimize', objective: objectiveFrom('cost') }),
    replanMinutes: 60,
    horizonHours: 24,
  });
  return loop;
}

async function runUntil(loop: DispatchLoop, clock: FixedClock, untilMs: number): Promise<void> {
  while (clock.nowMs() < untilMs) {
    await loop.tick();
    clock.advance(15 * 60_000);
  }
  await loop.tick();
}

/** The executor refs a job's events record, in order (startRun and resumeRun). */
async function refsOf(store: Store, jobId: string): Promise<string[]> {
  return (await store.jobEvents({ tenantId: 'lab', jobId })).filter((e) => e.name === 'startRun' || e.name === 'resumeRun').map((e) => String(e.detail.executorRef));
}

describe('run names', () => {
  it('are <deployment>/<tenant>/<job>/<n>[r<k>]; the run number, attempt and deployment parse back, also from refs made before ids', () => {
    expect(runRef('q7mhx2ka', 'lab', 'j.1', 0, 0)).toBe('q7mhx2ka/lab/j.1/0');
    expect(runRef('q7mhx2ka', 'lab', 'j.1', 12, 3)).toBe('q7mhx2ka/lab/j.1/12r3');
    for (const [ref, index, attempt, deployment] of [
      ['q7mhx2ka/lab/j.1/12r3', 12, 3, 'q7mhx2ka'],
      ['q7mhx2ka/lab/r2/0', 0, 0, 'q7mhx2ka'],
      ['lab/j.1/2r1', 2, 1, null],
      ['lab/r7/4', 4, 0, null],
    ] as const) {
      expect(runIndex(ref), ref).toBe(index);
      expect(attemptOf(ref), ref).toBe(attempt);
      expect(refDeployment(ref), ref).toBe(deployment);
    }
  });

  it('deployment ids are 8 lowercase base32 characters of 40 random bits', () => {
    expect(DEPLOYMENT_ID_LENGTH).toBe(8);
    expect(newDeploymentId(() => Buffer.alloc(5, 0))).toBe('aaaaaaaa');
    expect(newDeploymentId(() => Buffer.alloc(5, 0xff))).toBe('77777777');
    expect(newDeploymentId(() => Buffer.from([0x08, 0x42, 0x10, 0x84, 0x21]))).toBe('bbbbbbbb');
    expect(isDeploymentId('q7mhx2ka')).toBe(true);
    for (const bad of ['q7mhx2k', 'q7mhx2kaa', 'Q7MHX2KA', 'q7mhx1ka', 'lab']) expect(isDeploymentId(bad), bad).toBe(false);
  });

  it('the longest name fits Slurm’s 1024 characters: tenant and job ids of 128, a large run number, requeued', () => {
    expect(runRef('q7mhx2ka', 't'.repeat(128), 'j'.repeat(128), 99_999, 3).length).toBeLessThan(300);
  });

  it('a loop refuses an id that is not a deployment id, naming the field', async () => {
    const { store } = await newStore();
    expect(() => loopOf(store, 'lab/x', new SimulatedExecutor(), new FixedClock(T0))).toThrow(/^deploymentId: 'lab\/x' is not a deployment id/);
  });
});

describe('two deployments on one engine', () => {
  it('with the same tenant and job ids, one after the other: each runs every job itself, none adopts the other’s runs', async () => {
    const engine = new SimulatedExecutor();
    const submitted: { ref: string; fresh: boolean }[] = [];
    // One engine for both, as one Slurm cluster: every submit is recorded, with whether it made a new run.
    const shared: Executor = {
      name: 'simulated',
      submit: async (r: RunRequest, now) => {
        const known = (await engine.status(r.ref, now)) !== null;
        submitted.push({ ref: r.ref, fresh: !known });
        return engine.submit(r, now);
      },
      status: (ref, now) => engine.status(ref, now),
      cancel: (ref, now) => engine.cancel(ref, now),
      outages: () => engine.outages(),
      runProbe: (request) => engine.runProbe(request),
    };
    const deployments: { store: Store; id: string }[] = [];
    for (let i = 0; i < 2; i++) {
      const { store } = await newStore();
      const id = (await store.deployment(T0)).id;
      expect((await store.createTenant({ id: 'lab', name: 'lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0)).ok).toBe(true);
      expect((await store.submitJobs('lab', [spec('a'), spec('b', { units: 4 }), spec('c', { interruptible: true, durationS: 2 * 3600 })].map((j) => ({ ...j, deadlineMs: T0 + 48 * HOUR })), T0)).ok).toBe(true);
      deployments.push({ store, id });
    }
    expect(deployments[0].id).not.toBe(deployments[1].id);
    const clock = new FixedClock(T0);
    for (const d of deployments) {
      await runUntil(loopOf(d.store, d.id, shared, clock), clock, clock.nowMs() + 12 * HOUR);
      for (const job of ['a', 'b', 'c']) {
        expect((await d.store.getJob({ tenantId: 'lab', jobId: job }))!.status, `${d.id} ${job}`).toBe('succeeded');
        const refs = await refsOf(d.store, job);
        expect(refs.length, `${d.id} ${job}`).toBeGreaterThanOrEqual(1);
        for (const ref of refs) expect(refDeployment(ref)).toBe(d.id);
      }
    }
    // Every run of both was a new run in the engine, each submitted once.
    expect(submitted.every((s) => s.fresh)).toBe(true);
    const refs = submitted.map((s) => s.ref);
    expect(new Set(refs).size).toBe(refs.length);
    for (const d of deployments) expect(refs.filter((r) => r.startsWith(`${d.id}/lab/`)).length).toBeGreaterThanOrEqual(3);
  });
});

describe('a store upgraded from before deployment ids', () => {
  it('follows the runs it started under their old names to their end; the next run of a paused job takes the id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumul-upgrade-'));
    const { store, url } = await newStore(dir);
    const engine = new SimulatedExecutor();
    // What an earlier Kumul left: a job running as `lab/old/0`, one paused after `lab/two/0`, one cancelled whose
    // run `lab/gone/0` still runs (to be stopped), all named without an id.
    await store.createTenant({ id: 'lab', name: 'lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
    await store.submitJobs('lab', [spec('old'), spec('two', { interruptible: true, durationS: 2 * 3600 }), spec('gone')], T0);
    const legacy = async (job: string, runs: [number, number][]) => {
      const jobRef = { tenantId: 'lab', jobId: job };
      expect((await store.planJob(jobRef, plan(job, runs), { nowMs: T0 })).ok).toBe(true);
      await engine.submit({ ref: `lab/${job}/0`, tenantId: 'lab', jobId: job, siteId: 'hami', poolId: 'hami-ai', units: 8, durationS: runs[0][1] * 3600 }, T0);
      expect((await store.startRun(jobRef, `lab/${job}/0`, { nowMs: T0 })).ok).toBe(true);
    };
    await legacy('old', [[0, 1]]);
    await legacy('two', [[0, 1], [2, 1]]);
    await legacy('gone', [[0, 3]]);
    expect((await store.pauseRun({ tenantId: 'lab', jobId: 'two' }, { nowMs: T0 + HOUR })).ok).toBe(true);
    expect((await store.cancel({ tenantId: 'lab', jobId: 'gone' }, { nowMs: T0 + HOUR })).ok).toBe(true);
    await store.close();
    opened.splice(opened.indexOf(store), 1);
    // Back to the schema before 0008, then the upgrade: openStore applies 0008, the first start makes the id.
    const { db, backend } = connect(url);
    await migrateTo(db, backend, '0007-signal-points');
    await db.destroy();
    const upgraded = await openStore(url);
    opened.push(upgraded);
    const id = (await upgraded.deployment(T0 + HOUR)).id;
    const clock = new FixedClock(T0 + HOUR);
    await runUntil(loopOf(upgraded, id, engine, clock), clock, T0 + 5 * HOUR);
    expect((await upgraded.getJob({ tenantId: 'lab', jobId: 'old' }))).toMatchObject({ status: 'succeeded', executorRef: 'lab/old/0' });
    expect((await upgraded.jobMetering({ tenantId: 'lab', jobId: 'old' })).map((r) => r.key)).toEqual(['run-0']);
    expect((await upgraded.getJob({ tenantId: 'lab', jobId: 'two' }))!.status).toBe('succeeded');
    expect(await refsOf(upgraded, 'two')).toEqual(['lab/two/0', `${id}/lab/two/1`]);
    expect((await engine.status(`${id}/lab/two/1`, clock.nowMs()))!.state).toBe('completed');
    expect((await engine.status('lab/gone/0', clock.nowMs()))!.state).toBe('cancelled');
  });
});

describe('stopping runs of ended jobs', () => {
  it('stops this deployment’s runs, never another’s (a copied store keeps the original’s refs on old jobs)', async () => {
    const { store } = await newStore();
    const id = (await store.deployment(T0)).id;
    const engine = new SimulatedExecutor();
    await store.createTenant({ id: 'lab', name: 'lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
    await store.submitJobs('lab', [spec('mine'), spec('theirs')], T0);
    const refs = { mine: `${id}/lab/mine/0`, theirs: 'othrdepa/lab/theirs/0' };
    for (const [job, ref] of Object.entries(refs)) {
      const jobRef = { tenantId: 'lab', jobId: job };
      await engine.submit({ ref, tenantId: 'lab', jobId: job, siteId: 'hami', poolId: 'hami-ai', units: 8, durationS: 3 * 3600 }, T0);
      expect((await store.planJob(jobRef, plan(job, [[0, 3]]), { nowMs: T0 })).ok).toBe(true);
      expect((await store.startRun(jobRef, ref, { nowMs: T0 })).ok).toBe(true);
      expect((await store.cancel(jobRef, { nowMs: T0 })).ok).toBe(true);
    }
    const clock = new FixedClock(T0 + 60_000);
    await loopOf(store, id, engine, clock).tick();
    expect((await engine.status(refs.mine, clock.nowMs()))!.state).toBe('cancelled');
    expect((await engine.status(refs.theirs, clock.nowMs()))!.state).toBe('running');
  });
});

describe('kumul serve and the deployment id', () => {
  function options(dir: string, log: string[], over: Partial<RuntimeOptions> = {}): RuntimeOptions {
    return {
      dbUrl: `sqlite:${join(dir, 'kumul.db')}`,
      scenario: 'hami',
      timeScale: 60,
      startMs: T0,
      demo: false,
      objective: 'cost',
      policy: 'optimize',
      replanMinutes: 15,
      horizonHours: 24,
      // No tick during the test: only the start is under test.
      tickMs: 3_600_000,
      executors: null,
      log: (line) => log.push(line),
      ...over,
    };
  }

  /** Starts the runtime, returns its deployment id, stops it. */
  async function start(dir: string, log: string[], over: Partial<RuntimeOptions> = {}): Promise<string> {
    const runtime = await startRuntime(options(dir, log, over));
    await runtime.stop();
    return runtime.deployment.id;
  }

  it('makes the id on the first start and keeps it; --new-deployment-id replaces it, logged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumul-serve-deployment-'));
    const log: string[] = [];
    // A refused first start stores nothing: its operator key would be lost.
    await expect(startRuntime(options(dir, log, { requeueRunning: true }))).rejects.toThrow('--requeue-running: only with --new-deployment-id');
    expect(existsSync(join(dir, 'kumul.db'))).toBe(false);
    const first = await start(dir, log);
    expect(await start(dir, log)).toBe(first);
    const renewed = await start(dir, log, { newDeploymentId: true });
    expect(renewed).not.toBe(first);
    expect(log).toEqual([`deployment id ${first} replaced by ${renewed} (--new-deployment-id); runs are now named ${renewed}/<tenant>/<job>/<n>`]);
    expect(await start(dir, log)).toBe(renewed);
  });

  it('refuses a new id while jobs run, changing nothing; with --requeue-running their jobs go back to the queue, their runs left alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumul-serve-deployment-'));
    const log: string[] = [];
    const first = await start(dir, log);
    const store = await openStore(`sqlite:${join(dir, 'kumul.db')}`);
    await store.createTenant({ id: 'lab', name: 'lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
    await store.submitJobs('lab', [spec('busy')], T0);
    await store.planJob({ tenantId: 'lab', jobId: 'busy' }, plan('busy', [[0, 1]]), { nowMs: T0 });
    await store.startRun({ tenantId: 'lab', jobId: 'busy' }, `${first}/lab/busy/0`, { nowMs: T0 });
    await store.close();

    await expect(start(dir, log, { requeueRunning: true })).rejects.toThrow('--requeue-running: only with --new-deployment-id');
    await expect(start(dir, log, { newDeploymentId: true })).rejects.toThrow(
      `--new-deployment-id: 1 job is running under deployment ${first} (first: lab/busy, run ${first}/lab/busy/0); a new deployment id would leave their runs unowned. If this store is a copy`,
    );
    expect(await start(dir, log)).toBe(first);
    const renewed = await start(dir, log, { newDeploymentId: true, requeueRunning: true });
    expect(renewed).not.toBe(first);
    const reopened = await openStore(`sqlite:${join(dir, 'kumul.db')}`);
    opened.push(reopened);
    expect(await reopened.getJob({ tenantId: 'lab', jobId: 'busy' })).toMatchObject({ status: 'submitted', executorRef: `${first}/lab/busy/0` });
    const requeued = (await reopened.jobEvents({ tenantId: 'lab', jobId: 'busy' })).at(-1)!;
    expect(requeued.name).toBe('requeueRun');
    expect(requeued.detail.reason).toBe(`its run ${first}/lab/busy/0 was left to deployment ${first}: the store was given a new deployment id (--new-deployment-id --requeue-running)`);
    expect(log.at(-1)).toMatch(new RegExp(`^deployment id ${first} replaced by ${renewed}`));
  });
});
