/**
 * The live dispatch loop of `kumul serve`. Each tick:
 *   1. reconcile: runs the executor finished, failed or lost move their jobs on (metering each run);
 *      runs of jobs cancelled in the store are stopped;
 *   2. start due work: the next run of every planned, transferring or paused job whose time has
 *      come (after its input has moved), within the tenant's quota;
 *   3. every `replanMinutes` (or when woken: a job submitted or cancelled, an outage; or when a job no cycle has seen
 *      yet is in the store, as one submitted through another instance; or when a job waiting for a place must start
 *      before the next cycle), a dispatch cycle: the core dispatcher plans every job not yet
 *      started around the work already running, over the next `horizonHours` of forecasts or further, as far as
 *      the longest job needs (core/dispatch/horizon.ts), and the plans are written in one transaction.
 * All state is in the store (and the executor), so a kill -9 at any point followed by a restart loses
 * nothing: runs are named `<deployment>/<tenant>/<job>/<n>` (the store's deployment id; the n-th run of the job's
 * plan; `<n>r<k>` after the job was requeued k times), the executor returns a run it already started instead of
 * starting another, and the store records each start once. The deployment id keeps two deployments on one cluster
 * (a staging copy, a restored store) from taking each other's runs; runs a store started before it had an id
 * (`<tenant>/<job>/<n>`, before migration 0008) are followed under their names to their end.
 *
 * Outages: at every tick the executor says which pools take no new work (a drained or down Slurm partition).
 * A run still waiting to start there is cancelled and its job requeued; plans there are made again; the cycle
 * sees those pools with no units. The change of outages wakes the cycle, so the work is re-planned elsewhere
 * in the same tick. A run the engine lost to a node failure, or one that waited `pendingLimitMinutes` past its
 * planned start, is requeued the same way (at most `MAX_ATTEMPTS` times, then the job fails).
 */
import type { Scenario, Site, SiteSignals, TimeGrid } from '../core/model/types.ts';
import { busyUnitFacilityKW, siteLoadNow } from '../core/model/power.ts';
import { ALWAYS_ON } from '../core/energy/idle.ts';
import { computeRoutes, reserveOnGrid, type LinkReserveGB } from '../core/network/routes.ts';
import type { CommittedUse, Snapshot } from '../core/dispatch/cycle.ts';
import { fixedLinkUse, fixedTransferOf } from '../core/backup/model.ts';
import { dispatch, type PlannedJob } from '../core/dispatch/plan.ts';
import { lookAheadEndMs } from '../core/dispatch/horizon.ts';
import { forecastWindow, smoothingSlots } from '../core/dispatch/forecast-smoothing.ts';
import { builtinRegistry, policyProfile, type PolicyName } from '../core/dispatch/plugins/index.ts';
import type { Objective } from '../core/dispatch/objective.ts';
import type { LpSolver } from '../core/lp/model.ts';
import { RunRejected, type Executor, type Outage, type RunStatus } from '../exec/port.ts';
import { ACTIVE_STATUSES } from '../store/lifecycle.ts';
import { LeaseLost, type JobStatus, type StoredJob, type UnplacedItem } from '../store/port.ts';
import { allJobs } from '../store/all-jobs.ts';
import { isDeploymentId } from '../store/deployment.ts';
import type { ServiceContext } from './context.ts';
import { asapOriginBaseline } from './baseline.ts';
import { UnplacedMetrics, judgeUnplaced } from './unplaced.ts';
import { planSignalNotes } from './signal-overlay.ts';
import { atRisk } from './at-risk.ts';
import { DURATION_BUCKETS_S, JOULES_PER_KWH } from './metrics.ts';
import { IdleMeter, type PoolHold } from './idle-meter.ts';
import { ServicesLoop } from './services-loop.ts';
import { quotaLeft } from './quota.ts';
import type { BurstReason } from '../store/port.ts';

export interface LoopOptions {
  ctx: ServiceContext;
  executor: Executor;
  /** The store's deployment id (Store.deployment, read by the runtime at start): the first part of every run's name. */
  deploymentId: string;
  /** The scenario resolved over `slots` slots from `startMs` (forecasts plan, actuals meter). */
  scenarioWindow(startMs: number, slots: number): Scenario;
  slotMinutes: number;
  /** The policy and objective of the next cycle, read at each cycle (the operator may change them: PUT /v1/policies). */
  dispatch(): { policy: PolicyName; objective: Objective };
  replanMinutes: number;
  horizonHours: number;
  /**
   * Forecast smoothing (core/dispatch/forecast-smoothing.ts): cycles plan on the carbon and renewable forecasts
   * averaged over this many minutes on either side of each slot (`kumul serve --forecast-smoothing-minutes`); 0 or
   * absent: as they are. For forecasts whose error is independent from slot to slot; docs/temporal-shifting.md.
   */
  forecastSmoothingMinutes?: number;
  /** Simulated minutes a run may wait to start past its planned start before it is requeued (default: 4 cycles). */
  pendingLimitMinutes?: number;
  /** Pools the service keeps from new work besides the executor's outages (probes flagged them: --capability measured). */
  withheld?(): Outage[];
  /** Where executor errors are reported (the runtime's log); they skip the job for this tick, the others go on. */
  log?: (line: string) => void;
  /** Bounds each cycle's plan (its LP relaxation) when given; the runtime passes HiGHS. */
  solver?: LpSolver;
  /**
   * Link capacity backups hold (the backup loop's latest `backupReservation`, on its grid): each cycle moves job input
   * on what it leaves (docs/backup.md, "Backups and batch share the links"). Absent or null: links whole.
   */
  linkReserve?(): { grid: TimeGrid; reserveGB: LinkReserveGB } | null;
}

/** The largest LP a cycle's bound builds (beyond it slots merge into blocks: bound.ts); about 0.5 s with HiGHS here. */
const CYCLE_BOUND_MAX_VARIABLES = 50_000;

export interface TickReport {
  nowMs: number;
  started: number;
  finished: number;
  planned: number;
  replanned: boolean;
}

const ACTIVE: JobStatus[] = ['running'];
const WAITING_TO_RUN: JobStatus[] = ['planned', 'transferring', 'paused'];
const NOT_STARTED: JobStatus[] = ['submitted', 'planned'];
/** Runs of one job the loop starts at most (the first and up to this many minus one requeues) before failing it. */
export const MAX_ATTEMPTS = 4;
/** How far back the first look after a start goes for ended jobs whose runs must be stopped. */
const STOP_LOOKBACK_MS = 7 * 86_400_000;

export class DispatchLoop {
  private lastPlanMs = -Infinity;
  /** Facility energy of started runs per site and absolute slot (ms / slot length), kWh: metering shares renewables by it. */
  private readonly ledger = new Map<string, Map<number, number>>();
  private readonly ledgered = new Set<string>();
  private woken = true;
  /** The instant of the last look for runs of ended jobs to stop (null before the first). */
  private stopScanMs: number | null = null;
  /** Runs of ended jobs whose stop failed (the executor could not be reached): tried again every tick. */
  private readonly stopsLeft = new Set<string>();
  /** The last error logged per run, so that a cluster down for an hour is not logged once a tick per run. */
  private readonly failing = new Map<string, string>();
  /** Pools out of service at the last tick, by `site/pool`. */
  private out = new Map<string, Outage>();
  private readonly registry = builtinRegistry();
  private readonly count;
  private readonly unplacedMetrics: UnplacedMetrics;
  /** The sites of the last `kumul_site_green_share_ratio` update. */
  private sitesShown = new Set<string>();
  private readonly idle: IdleMeter;
  /** Inference services: placed first in every cycle, their replicas started and stopped and metered at every tick. */
  private readonly services: ServicesLoop;
  private servicesWithoutSolverLogged = false;

  constructor(private readonly options: LoopOptions) {
    if (!isDeploymentId(options.deploymentId)) throw new Error(`deploymentId: '${options.deploymentId}' is not a deployment id (8 lowercase base32 characters)`);
    const m = options.ctx.metrics;
    this.count = {
      jobs: m.gauge('kumul_jobs', 'Jobs not in a final state, by state (final states: kumul_jobs_finished_total)'),
      atRisk: m.gauge('kumul_jobs_at_risk', 'Jobs waiting to run that may miss their deadline: no place and a latest start within one replanning interval, or a late plan that would end within it of the deadline'),
      placements: m.counter('kumul_placements_total', 'Jobs placed by dispatch cycles'),
      started: m.counter('kumul_runs_started_total', 'Runs started on executors, by site'),
      finished: m.counter('kumul_jobs_finished_total', 'Jobs that reached a final state, by state'),
      energy: m.counter('kumul_energy_joules_total', 'Facility energy of finished runs (and the move of their input), by site, joules (3.6e6 J = 1 kWh)'),
      green: m.counter('kumul_green_energy_joules_total', 'Renewable energy of finished runs, by site, joules'),
      carbon: m.counter('kumul_carbon_grams_total', 'Emissions of finished runs, by site, grams CO2'),
      greenShare: m.gauge('kumul_site_green_share_ratio', 'Share of the power drawn by the work running at a site that its renewables cover now (actual signal), 0 to 1; absent while nothing runs there'),
      tickSeconds: m.histogram('kumul_loop_tick_duration_seconds', "Wall-clock duration of the dispatch loop's ticks (reconcile, start due work, a cycle when due)", DURATION_BUCKETS_S),
      lastTick: m.gauge('kumul_loop_last_tick_timestamp_seconds', 'Unix time at which the dispatch loop last finished a tick'),
      cycleSeconds: m.histogram('kumul_cycle_duration_seconds', 'Wall-clock duration of dispatch cycles', DURATION_BUCKETS_S),
      gap: m.gauge('kumul_plan_gap_percent', "Gap of the last dispatch cycle's plan to its proven lower bound, percent"),
      cycles: m.counter('kumul_cycles_total', 'Dispatch cycles run'),
      outages: m.gauge('kumul_pools_out_of_service', 'Pools the executors report taking no new work'),
      requeued: m.counter('kumul_runs_requeued_total', 'Jobs returned to the queue after an outage, node failure or long wait, by site'),
      executorErrors: m.counter('kumul_executor_errors_total', 'Executor calls that failed (the job is skipped for the tick), by call'),
    };
    // Every site's metered counters exist from the start at 0, so that Prometheus sees a site's first run as an increase.
    for (const site of options.ctx.network().sites) for (const counter of [this.count.energy, this.count.green, this.count.carbon]) counter(0, { site: site.id });
    this.unplacedMetrics = new UnplacedMetrics(m);
    this.idle = new IdleMeter(m, options.executor, options.ctx.power ?? ALWAYS_ON, options.log ?? (() => {}));
    this.services = new ServicesLoop({
      store: options.ctx.store,
      executor: options.executor,
      metrics: m,
      deploymentId: options.deploymentId,
      slotMinutes: options.slotMinutes,
      scenarioWindow: options.scenarioWindow,
      batchLoadKWh: (siteId, slot) => this.ledger.get(siteId)?.get(slot) ?? 0,
      executorError: (call, ref, err) => this.executorError(call, ref, err),
      batchRunning: async () =>
        (await this.jobsIn(ACTIVE)).flatMap((s) => (s.plan ? [{ tenantId: s.job.tenant, jobId: s.job.id, site: s.plan.site, pool: s.plan.pool, poolClass: s.job.poolClass, units: s.job.units, interruptible: s.job.interruptible }] : [])),
      preempt: (runs, nowMs) => this.pauseForBurst(runs, nowMs),
      wake: () => this.wake(),
      log: options.log,
    });
  }

  /** Asks for a dispatch cycle at the next tick (new or cancelled jobs). */
  wake(): void {
    this.woken = true;
  }

  async tick(): Promise<TickReport> {
    const began = performance.now();
    const nowMs = this.options.ctx.clock.nowMs();
    await this.readOutages(nowMs);
    const finished = await this.reconcile(nowMs);
    let started = await this.startDue(nowMs);
    let planned = 0;
    const replanned = this.woken || nowMs - this.lastPlanMs >= this.options.replanMinutes * 60_000 || (await this.mustPlanNow());
    if (replanned) {
      this.woken = false;
      this.lastPlanMs = nowMs;
      planned = await this.replan(nowMs);
      started += await this.startDue(nowMs);
    }
    await this.services.tick(nowMs);
    await this.updateGauges(nowMs);
    this.count.tickSeconds((performance.now() - began) / 1000);
    this.count.lastTick(Date.now() / 1000);
    const report = { nowMs, started, finished, planned, replanned };
    this.options.ctx.live?.publish({ name: 'tick', data: report });
    return report;
  }

  /**
   * Whether a cycle must run now although nothing woke this loop: a job no cycle has seen yet (version 1: submitted
   * through another instance, whose `wake` does not reach this process), or one waiting for a place that must start
   * before the next regular cycle (its latest start comes first).
   */
  private async mustPlanNow(): Promise<boolean> {
    const nextCycleMs = this.lastPlanMs + this.options.replanMinutes * 60_000;
    return (await this.jobsIn(['submitted'])).some((s) => s.version === 1 || s.job.deadlineMs - s.job.durationS * 1000 < nextCycleMs);
  }

  /** The executor's outages now; a change wakes the cycle (work moves off a pool that went out, or back to one that returned). */
  private async readOutages(nowMs: number): Promise<void> {
    const outages = [...(this.options.withheld?.() ?? []), ...(await this.options.executor.outages(nowMs))];
    const now = new Map(outages.map((o) => [`${o.siteId}/${o.poolId}`, o]));
    const changed = now.size !== this.out.size || [...now.keys()].some((k) => !this.out.has(k));
    this.out = now;
    this.count.outages(now.size);
    if (changed) this.woken = true;
  }

  /** The pools out of service at the last tick (the dashboard shows them). */
  outages(): Outage[] {
    return [...this.out.values()];
  }

  private outage(siteId: string, poolId: string): Outage | undefined {
    return this.out.get(`${siteId}/${poolId}`);
  }

  /**
   * Why a started job must go back to the queue, or null: its run waits at a pool out of service, the
   * engine lost it to a node failure, or it waited too long past its planned start.
   */
  private requeueReason(stored: StoredJob, state: string, reason: string | undefined, nowMs: number): string | null {
    const plan = stored.plan!;
    const ref = stored.executorRef!;
    if (state === 'node-failure') return `run ${ref} lost to a node failure${reason ? ` (${reason})` : ''}`;
    if (state !== 'pending') return null;
    const out = this.outage(plan.site, plan.pool);
    if (out) return `run ${ref} waits at ${plan.site}/${plan.pool}, out of service: ${out.reason}`;
    const limitMs = (this.options.pendingLimitMinutes ?? 4 * this.options.replanMinutes) * 60_000;
    const plannedStart = Date.parse(plan.runs[runIndex(ref)]?.start ?? plan.runs[0].start);
    if (nowMs - plannedStart > limitMs) return `run ${ref} still waits to start ${Math.round((nowMs - plannedStart) / 60_000)} min after its planned start${reason ? ` (${reason})` : ''}`;
    return null;
  }

  /** Stops the job's run and returns the job to the queue (or fails it after MAX_ATTEMPTS runs). */
  private async requeue(stored: StoredJob, why: string, nowMs: number): Promise<void> {
    const { store } = this.options.ctx;
    const jobRef = { tenantId: stored.job.tenant, jobId: stored.job.id };
    if (stored.status === 'running' && !(await this.stop(stored.executorRef!, nowMs))) return;
    if (attemptOf(stored.executorRef!) + 1 >= MAX_ATTEMPTS) {
      await store.fail(jobRef, `${why}; gave up after ${MAX_ATTEMPTS} runs`, { nowMs, expectedVersion: stored.version });
      this.count.finished(1, { state: 'failed' });
      return;
    }
    const moved = await store.requeueRun(jobRef, why, { nowMs, expectedVersion: stored.version });
    if (moved.ok) {
      this.count.requeued(1, { site: stored.plan?.site ?? 'unknown' });
      this.woken = true;
    }
  }

  /** Moves running jobs on from their runs' states; stops runs of jobs that ended in the store. */
  private async reconcile(nowMs: number): Promise<number> {
    const { store } = this.options.ctx;
    let finished = 0;
    for (const stored of await this.jobsIn(ACTIVE)) {
      const ref = stored.executorRef!;
      const status = await this.guard('status', ref, () => this.options.executor.status(ref, nowMs));
      if (status === undefined) continue;
      const jobRef = { tenantId: stored.job.tenant, jobId: stored.job.id };
      if (status === null) {
        await store.fail(jobRef, `executor ${this.options.executor.name} does not know run ${ref}`, { nowMs });
        this.count.finished(1, { state: 'failed' });
        finished++;
        continue;
      }
      const requeue = this.requeueReason(stored, status.state, status.reason, nowMs);
      if (requeue) {
        await this.requeue(stored, requeue, nowMs);
        continue;
      }
      if (status.startedMs !== null) this.noteRun(stored, ref, status.startedMs, runSeconds(stored, runIndex(ref)));
      if (status.state === 'running' || status.state === 'pending') continue;
      if (status.state !== 'completed') {
        await store.fail(jobRef, `run ${ref} ended ${status.state}${status.reason ? `: ${status.reason}` : ''}`, { nowMs });
        this.count.finished(1, { state: 'failed' });
        finished++;
        continue;
      }
      await this.meter(stored, ref, status.startedMs!, status.endedMs!, nowMs);
      const index = runIndex(ref);
      const last = stored.plan === null || index >= stored.plan.runs.length - 1;
      if (last) {
        await store.succeed(jobRef, { nowMs, expectedVersion: stored.version });
        this.count.finished(1, { state: 'succeeded' });
        finished++;
      } else {
        await store.pauseRun(jobRef, { nowMs, expectedVersion: stored.version });
      }
    }
    // A paused job cannot resume at a pool out of service: it starts again elsewhere.
    for (const stored of await this.jobsIn(['paused'])) {
      const out = stored.plan && this.outage(stored.plan.site, stored.plan.pool);
      if (out) await this.requeue(stored, `paused at ${stored.plan!.site}/${stored.plan!.pool}, out of service: ${out.reason}`, nowMs);
    }
    // Runs of jobs that ended in the store (cancelled by their tenant, failed, missed) are stopped: those that ended
    // since the last look (the first look after a start goes back a week, to cover the time the service was down).
    const since = this.stopScanMs ?? nowMs - STOP_LOOKBACK_MS;
    this.stopScanMs = nowMs;
    // Never a run of another deployment (a store copied and given a new id keeps the original's refs on old jobs).
    for (const stored of await this.jobsIn(['cancelled', 'failed', 'missed'], since)) if (stored.executorRef && this.ownRun(stored.executorRef)) this.stopsLeft.add(stored.executorRef);
    for (const ref of [...this.stopsLeft]) {
      if (await this.stop(ref, nowMs)) this.stopsLeft.delete(ref);
    }
    return finished;
  }

  /** Starts the next run of each job whose time has come. */
  private async startDue(nowMs: number): Promise<number> {
    const { store } = this.options.ctx;
    const busy = await this.busyUnitsByTenant();
    let started = 0;
    for (const stored of await this.jobsIn(WAITING_TO_RUN)) {
      const { job, plan } = stored;
      if (!plan) continue;
      const jobRef = { tenantId: job.tenant, jobId: job.id };
      const index = stored.status === 'paused' ? runIndex(stored.executorRef!) + 1 : 0;
      const run = plan.runs[index];
      if (!run || Date.parse(run.start) > nowMs || this.outage(plan.site, plan.pool)) continue;
      if (plan.transfer && stored.status === 'planned') {
        const moved = await store.startTransfer(jobRef, { nowMs, expectedVersion: stored.version, detail: { route: plan.transfer.route, gb: plan.transfer.gb } });
        if (!moved.ok) continue;
        stored.version = moved.job.version;
        stored.status = 'transferring';
      }
      if (plan.transfer && stored.status === 'transferring' && Date.parse(plan.transfer.end) > nowMs) continue;
      const tenant = await store.getTenant(job.tenant);
      const key = `${job.tenant}/${job.poolClass}`;
      if (job.units > quotaLeft(tenant, job.poolClass, busy.get(key) ?? 0)) continue;
      // A job back from a requeue (planned, with the last run's ref kept) starts its next attempt.
      const attempt = stored.executorRef === null ? 0 : attemptOf(stored.executorRef) + (stored.status === 'paused' ? 0 : 1);
      const ref = runRef(this.options.deploymentId, job.tenant, job.id, index, attempt);
      const durationS = (Date.parse(run.end) - Date.parse(run.start)) / 1000;
      let status: RunStatus;
      try {
        const command = stored.command === null ? {} : { command: stored.command };
        const unitsPerNode = this.options.ctx.network().sites.find((s) => s.id === plan.site)?.pools.find((p) => p.id === plan.pool)?.unitsPerNode;
        status = await this.options.executor.submit({ ref, tenantId: job.tenant, jobId: job.id, siteId: plan.site, poolId: plan.pool, units: job.units, unitsPerNode, durationS, ...command }, nowMs);
      } catch (err) {
        if (!(err instanceof RunRejected)) {
          this.executorError('submit', ref, err);
          continue;
        }
        await store.fail(jobRef, `${this.options.executor.name} refused run ${ref}: ${err.message}`, { nowMs, expectedVersion: stored.version });
        this.count.finished(1, { state: 'failed' });
        continue;
      }
      const result =
        stored.status === 'paused'
          ? await store.resumeRun(jobRef, ref, { nowMs, detail: { startedMs: status.startedMs } })
          : await store.startRun(jobRef, ref, { nowMs, detail: { startedMs: status.startedMs } });
      if (result.ok && status.startedMs !== null) this.noteRun(stored, ref, status.startedMs, durationS);
      if (result.ok && !result.replayed) {
        started++;
        this.count.started(1, { site: plan.site });
        busy.set(key, (busy.get(key) ?? 0) + job.units);
      }
    }
    return started;
  }

  /** A dispatch cycle over every job not yet started. */
  private async replan(nowMs: number): Promise<number> {
    const began = performance.now();
    const { store } = this.options.ctx;
    // Jobs planned to start before the next cycle keep their plan (else each cycle could push them
    // back past their slot); they count as committed, like running work.
    const nextCycleMs = nowMs + this.options.replanMinutes * 60_000;
    const waiting = await this.jobsIn(NOT_STARTED);
    const replanMs = this.options.replanMinutes * 60_000;
    const startsSoon = (s: StoredJob) => {
      if (s.status !== 'planned' || s.plan === null || this.outage(s.plan.site, s.plan.pool)) return false;
      const startMs = Date.parse(s.plan.runs[0].start);
      // A start that could not happen for a whole cycle (a quota) is stale: plan it again.
      return startMs < nextCycleMs && startMs >= nowMs - replanMs;
    };
    const pending = waiting.filter((s) => !startsSoon(s));
    const decided = await this.jobsIn(['running', 'paused', 'transferring']);
    const committedJobs = [...decided, ...waiting.filter(startsSoon)];
    // Jobs paused mid-run for a service's burst: the work they have left is planned again, at their site.
    const resumable = decided.filter((s) => s.status === 'paused' && workLeftS(s) > 0);
    this.count.cycles(1);
    const slotMs = this.options.slotMinutes * 60_000;
    const startMs = Math.floor(nowMs / slotMs) * slotMs;
    // Services first (DESIGN.md, "One network, three kinds of work"), around the batch work already decided.
    const servicesUse = await this.placeServices(nowMs, startMs, committedJobs);
    if (pending.length === 0 && resumable.length === 0) return 0;
    // The look-ahead reaches far enough to plan every job whole, however long (core/dispatch/horizon.ts).
    const leftOf = (s: StoredJob) => ({ ...s.job, durationS: workLeftS(s), releaseMs: Math.max(s.job.releaseMs, nowMs), origin: s.plan!.site, allowedSites: [s.plan!.site], inputGb: 0 });
    const endMs = lookAheadEndMs(
      [...pending.map((s) => s.job), ...resumable.map(leftOf)],
      nowMs,
      nowMs + this.options.horizonHours * 3_600_000,
      this.options.ctx.network(),
    );
    const slots = Math.max(1, Math.ceil((endMs - startMs) / slotMs));
    const scenario = withoutOutages(this.options.scenarioWindow(startMs, slots), this.out);
    // Smoothing averages over slots on either side: the forecasts are read with that much more around the window.
    const smoothing = smoothingSlots(this.options.forecastSmoothingMinutes ?? 0, this.options.slotMinutes);
    const around = smoothing === 0 ? scenario : this.options.scenarioWindow(startMs - smoothing * slotMs, slots + 2 * smoothing);
    const forecasts: Record<string, SiteSignals> = Object.fromEntries(Object.entries(around.signals).map(([id, pair]) => [id, pair.forecast]));
    const signals = forecastWindow(forecasts, smoothing, slots, smoothing);
    const snapshot: Snapshot = {
      network: scenario.network,
      grid: scenario.grid,
      signals,
      // Job ids are unique per tenant only: the cycle sees `<tenant>/<id>`.
      jobs: [...pending.map((s) => ({ ...s.job, id: cycleId(s) })), ...resumable.map((s) => ({ ...leftOf(s), id: cycleId(s) }))],
      nowMs,
      // Batch fills what the services leave in every slot (as `kumul plan --services-plan`: the same grid start).
      committed: [...committedJobs.flatMap((s) => committedUse(scenario, s, nowMs)), ...onGrid(servicesUse, scenario.grid.slots), ...this.services.burstUse(scenario)],
      power: this.idle.power,
    };
    const reserve = this.options.linkReserve?.();
    if (reserve) snapshot.linkReserveGB = reserveOnGrid(reserve.reserveGB, reserve.grid, scenario.grid);
    // Input still moving for work already decided takes its links, as planned (its pieces, else evenly).
    const moving = committedJobs.flatMap((s) => (s.plan?.transfer && Date.parse(s.plan.transfer.end) > nowMs ? [fixedTransferOf(s.plan.transfer)] : []));
    if (moving.length > 0) snapshot.committedLinkGB = fixedLinkUse(moving, scenario.grid);
    const { policy, objective } = this.options.dispatch();
    // The cycle's bound: its LP relaxation only (the site-choice MIP could take seconds of every cycle).
    const bounding = this.options.solver ? { solver: this.options.solver, maxSiteChoices: 0, maxLpVariables: CYCLE_BOUND_MAX_VARIABLES } : {};
    const plan = dispatch(snapshot, { registry: this.registry, profile: policyProfile(policy, objective), objectiveName: objective.name, improveRounds: 2, ...bounding });
    if (plan.bound) this.count.gap(plan.bound.gapPct);
    const cycle = { at: new Date(nowMs).toISOString(), jobsPlaced: plan.jobs.length, bound: plan.bound };
    const byId = new Map(pending.map((s) => [cycleId(s), s]));
    const resuming = new Map(resumable.map((s) => [cycleId(s), s]));
    for (const planned of plan.jobs.filter((x) => resuming.has(x.id))) {
      const stored = resuming.get(planned.id)!;
      // The runs done so far, then those of the work left (run numbers go on, so the next run resumes it).
      const merged = { ...planned, id: stored.job.id, runs: [...stored.plan!.runs, ...planned.runs], cycle };
      await store.replanPaused({ tenantId: stored.job.tenant, jobId: stored.job.id }, merged, { nowMs, expectedVersion: stored.version });
    }
    for (const u of plan.unplaced.filter((x) => resuming.has(x.id))) {
      const stored = resuming.get(u.id)!;
      const { verdict, unplaced } = judgeUnplaced(leftOf(stored), u, nowMs);
      if (verdict === 'missed' && (await store.markMissed({ tenantId: stored.job.tenant, jobId: stored.job.id }, { nowMs, expectedVersion: stored.version, unplaced })).ok) this.count.finished(1, { state: 'missed' });
    }
    const items = plan.jobs.filter((x) => !resuming.has(x.id)).map((planned: PlannedJob) => {
      const stored = byId.get(planned.id)!;
      // Forecasts the window filled from history (no forecast stored) are named in the plan's explain.
      const signalNotes = planSignalNotes(scenario, planned.site, planned.runs);
      const explain = signalNotes.length > 0 ? { ...planned.explain, signalNotes } : planned.explain;
      return { ref: { tenantId: stored.job.tenant, jobId: stored.job.id }, plan: { ...planned, id: stored.job.id, explain, cycle }, expectedVersion: stored.version };
    });
    const results = await store.planJobs(items, nowMs);
    const placed = results.filter((r) => r.ok).length;
    this.count.placements(placed);
    // Never silent (issue 10): a job that can no longer meet its deadline is missed now, with why; the others keep
    // why they have no place (recordUnplaced: an event only when the reason codes change, no version bump otherwise).
    const stillWaiting: UnplacedItem[] = [];
    for (const u of plan.unplaced.filter((x) => !resuming.has(x.id))) {
      const stored = byId.get(u.id)!;
      const ref = { tenantId: stored.job.tenant, jobId: stored.job.id };
      const { verdict, unplaced } = judgeUnplaced(stored.job, u, nowMs);
      if (verdict === 'missed') {
        const missed = await store.markMissed(ref, { nowMs, expectedVersion: stored.version, unplaced });
        if (missed.ok) {
          this.count.finished(1, { state: 'missed' });
          this.unplacedMetrics.missed(unplaced.codes);
        }
      } else if (stored.status === 'planned') await store.unplanJob(ref, unplaced.reasons[0], { nowMs, expectedVersion: stored.version, unplaced });
      else stillWaiting.push({ ref, ...unplaced, expectedVersion: stored.version });
    }
    if (stillWaiting.length > 0) await store.recordUnplaced(stillWaiting, nowMs);
    this.count.cycleSeconds((performance.now() - began) / 1000);
    return placed;
  }

  /**
   * Places the active services over the look-ahead (`horizonHours` from the slot now) around the batch work already
   * decided, on the forecasts, with the cycle's objective; returns their units and energy per slot for batch to keep.
   * Without a solver (tests of batch alone) services are not placed, which is logged once. When the placement fails
   * (the solver), batch planning goes on around the replicas running, and the failure is logged and counted.
   */
  private async placeServices(nowMs: number, startMs: number, decided: StoredJob[]): Promise<CommittedUse[]> {
    const solver = this.options.solver;
    if (!solver) {
      if (!this.servicesWithoutSolverLogged && (await this.options.ctx.store.listServices({ statuses: ['active'] })).length > 0) {
        this.options.log?.('services are not placed: the dispatch loop has no LP solver (kumul serve gives it HiGHS)');
        this.servicesWithoutSolverLogged = true;
      }
      return [];
    }
    const slots = Math.max(1, Math.round((this.options.horizonHours * 60) / this.options.slotMinutes));
    const scenario = withoutOutages(this.options.scenarioWindow(startMs, slots), this.out);
    const forecasts: Record<string, SiteSignals> = Object.fromEntries(Object.entries(scenario.signals).map(([id, pair]) => [id, pair.forecast]));
    const { objective } = this.options.dispatch();
    const scores = Object.entries(objective.weights).map(([name, weight]) => ({ plugin: this.registry.score(name), weight: weight as number }));
    try {
      const uses = decided.map((s) => committedUse(scenario, s, nowMs));
      return (await this.services.place(nowMs, scenario, forecasts, [...uses.flat(), ...this.services.burstUse(scenario)], solver, scores, objective.name, tenantBatch(scenario.grid.slots, decided, uses))).committed;
    } catch (err) {
      // A failed placement (the solver) must not stop batch planning: the replicas running keep their units.
      if (err instanceof LeaseLost) throw err;
      return this.services.heldUse(scenario, err);
    }
  }

  /**
   * Records what a finished run used, priced with the *actual* signals: its facility energy in each
   * slot it ran; renewables shared in proportion to energy with the other runs at the site in that
   * slot (from the loop's ledger of started runs); the rest from the grid at the slot's price and
   * carbon; for a job's first run, the move of its input; the compute it delivered; and its asap-origin baseline.
   */
  private async meter(stored: StoredJob, ref: string, startMs: number, endMs: number, nowMs: number): Promise<void> {
    const plan = stored.plan;
    if (!plan) return;
    const slotMs = this.options.slotMinutes * 60_000;
    const firstSlot = Math.floor(startMs / slotMs);
    const slots = Math.max(1, Math.ceil(endMs / slotMs) - firstSlot);
    const scenario = this.options.scenarioWindow(firstSlot * slotMs, slots);
    const site = scenario.network.sites.find((x) => x.id === plan.site);
    const pool = site?.pools.find((p) => p.id === plan.pool);
    if (!site || !pool) throw new Error(`metering ${ref}: site ${plan.site} or pool ${plan.pool} is no longer in the network`);
    const actual = scenario.signals[site.id].actual;
    const kW = stored.job.units * busyUnitFacilityKW(pool, site.pue);
    const siteLoad = this.ledger.get(site.id);
    const figures = { energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0 };
    for (let i = 0; i < slots; i++) {
      const from = Math.max(startMs, (firstSlot + i) * slotMs);
      const to = Math.min(endMs, (firstSlot + i + 1) * slotMs);
      if (to <= from) continue;
      const energy = (kW * (to - from)) / 3_600_000;
      const load = Math.max(energy, siteLoad?.get(firstSlot + i) ?? 0);
      const green = energy * Math.min(1, (Math.max(0, actual.renewableKW[i]) * slotMs) / 3_600_000 / load);
      figures.energyKWh += energy;
      figures.greenKWh += green;
      figures.costYuan += green * site.renewable.priceYuanPerKWh + (energy - green) * actual.priceYuanPerKWh[i];
      figures.carbonKg += (green * site.renewable.carbonGPerKWh + (energy - green) * actual.carbonGPerKWh[i]) / 1000;
    }
    if (plan.transfer && runIndex(ref) === 0) {
      const route = computeRoutes(scenario.network).get(plan.transfer.route[0])?.get(plan.site);
      if (route) {
        const origin = this.options.scenarioWindow(Math.floor(Date.parse(plan.transfer.start) / slotMs) * slotMs, 1).signals[route.path[0]].actual;
        const kWh = plan.transfer.gb * route.energyKWhPerGB;
        figures.energyKWh += kWh;
        figures.costYuan += plan.transfer.gb * route.costYuanPerGB;
        figures.carbonKg += (kWh * origin.carbonGPerKWh[0]) / 1000;
      }
    }
    const hours = (endMs - startMs) / 3_600_000;
    const nodes = stored.job.units / pool.unitsPerNode;
    const pflop = (precision: 'fp64' | 'fp32' | 'bf16') => (pool.peakTflopsPerNode[precision] * nodes * hours) / 1000;
    // The job's work metered before this run, which its baseline does first (asap-origin runs the job back to back).
    const earlierWorkMs = (await this.options.ctx.store.jobMetering({ tenantId: stored.job.tenant, jobId: stored.job.id }))
      .filter((r) => r.startMs < startMs)
      .reduce((ms, r) => ms + r.endMs - r.startMs, 0);
    const row = {
      tenantId: stored.job.tenant,
      jobId: stored.job.id,
      // One row per run: `run-<n>`, `run-<n>r<k>` for the runs of a requeued job's k-th plan.
      key: `run-${ref.slice(ref.lastIndexOf('/') + 1)}`,
      site: plan.site,
      pool: plan.pool,
      startMs,
      endMs,
      units: stored.job.units,
      ...figures,
      pflopHours: { fp64: pflop('fp64'), fp32: pflop('fp32'), bf16: pflop('bf16') },
      // What asap-origin would have used for the same work: the dashboard's savings compare the two.
      baseline: asapOriginBaseline({ job: stored.job, submittedMs: stored.submittedMs, earlierWorkMs, durationMs: endMs - startMs }, this.options.slotMinutes, this.options.scenarioWindow),
    };
    const recorded = await this.options.ctx.store.recordMetering(row, nowMs);
    if (!recorded.ok) throw new Error(`metering ${ref}: ${recorded.reason}`);
    if (recorded.inserted) {
      this.count.energy(row.energyKWh * JOULES_PER_KWH, { site: plan.site });
      this.count.green(row.greenKWh * JOULES_PER_KWH, { site: plan.site });
      this.count.carbon(row.carbonKg * 1000, { site: plan.site });
    }
  }

  /**
   * Adds a started run's facility energy to the ledger of site load per slot (once per run), which
   * metering shares renewables by. After a restart, runs still going are added as they are seen;
   * slots older than a week are forgotten.
   */
  private noteRun(stored: StoredJob, ref: string, startedMs: number, durationS: number): void {
    if (this.ledgered.has(ref) || !stored.plan) return;
    const site = this.options.ctx.network().sites.find((x) => x.id === stored.plan!.site);
    const pool = site?.pools.find((p) => p.id === stored.plan!.pool);
    if (!site || !pool) return;
    this.ledgered.add(ref);
    const slotMs = this.options.slotMinutes * 60_000;
    const kW = stored.job.units * busyUnitFacilityKW(pool, site.pue);
    const endMs = startedMs + durationS * 1000;
    let load = this.ledger.get(site.id);
    if (!load) this.ledger.set(site.id, (load = new Map()));
    for (let t = Math.floor(startedMs / slotMs); t * slotMs < endMs; t++) {
      const overlap = Math.min(endMs, (t + 1) * slotMs) - Math.max(startedMs, t * slotMs);
      if (overlap > 0) load.set(t, (load.get(t) ?? 0) + (kW * overlap) / 3_600_000);
    }
    const oldest = Math.floor((startedMs - 7 * 86_400_000) / slotMs);
    for (const map of this.ledger.values()) for (const t of map.keys()) if (t < oldest) map.delete(t);
  }

  /** Units each tenant holds per pool class (`tenant/class`): its running batch runs and its live service replicas (the quota covers both). */
  private async busyUnitsByTenant(): Promise<Map<string, number>> {
    const busy = new Map<string, number>();
    for (const s of await this.jobsIn(ACTIVE)) {
      const key = `${s.job.tenant}/${s.job.poolClass}`;
      busy.set(key, (busy.get(key) ?? 0) + s.job.units);
    }
    for (const [key, units] of await this.services.replicaUnitsByTenant(this.options.ctx.clock.nowMs())) busy.set(key, (busy.get(key) ?? 0) + units);
    return busy;
  }

  /**
   * Pauses running interruptible batch runs for a service's burst (ServicesLoop's burst rule chose them): the run is
   * cancelled in the executor and metered up to now, and the job paused with a plan cut at now and the reasons in
   * its event; the work it has left is planned again by the next cycle (at its site). Returns the `<tenant>/<job>` paused.
   */
  private async pauseForBurst(runs: readonly { tenantId: string; jobId: string; reasons: BurstReason[] }[], nowMs: number): Promise<Set<string>> {
    const { store } = this.options.ctx;
    const paused = new Set<string>();
    const running = new Map((await this.jobsIn(ACTIVE)).map((s) => [cycleId(s), s]));
    for (const run of runs) {
      const stored = running.get(`${run.tenantId}/${run.jobId}`);
      if (!stored?.plan || !stored.job.interruptible || !stored.executorRef) continue; // never a non-interruptible run
      const ref = stored.executorRef;
      const status = await this.guard('status', ref, () => this.options.executor.status(ref, nowMs));
      if (!status || status.state !== 'running' || status.startedMs === null) continue;
      if (!(await this.stop(ref, nowMs))) continue;
      const index = runIndex(ref);
      const runs = stored.plan.runs.slice(0, index + 1);
      runs[index] = { ...runs[index], end: new Date(Math.max(nowMs, Date.parse(runs[index].start))).toISOString() };
      const why = run.reasons.map((r) => `${r.region} ${r.observedRps.toFixed(1)} req/s observed against ${r.forecastRps.toFixed(1)} forecast`).join('; ');
      const reason = `pre-empted by service ${run.reasons[0]?.service ?? '?'} at ${run.reasons[0]?.site ?? stored.plan.site}: a burst of load over its planned capacity (${why})`;
      const result = await store.pauseRun({ tenantId: run.tenantId, jobId: run.jobId }, { nowMs, expectedVersion: stored.version, plan: { ...stored.plan, runs }, detail: { reason, preemptedBy: run.reasons } });
      if (!result.ok) continue;
      this.noteRun(stored, ref, status.startedMs, (nowMs - status.startedMs) / 1000);
      await this.meter(stored, ref, status.startedMs, nowMs, nowMs);
      this.options.log?.(`job ${run.tenantId}/${run.jobId}: run ${ref} paused at ${stored.plan.site}/${stored.plan.pool}, ${reason}`);
      paused.add(`${run.tenantId}/${run.jobId}`);
    }
    return paused;
  }

  /** The gauges read from the jobs not in a final state, at the end of each tick. */
  private async updateGauges(nowMs: number): Promise<void> {
    const active = await this.jobsIn([...ACTIVE_STATUSES]);
    for (const state of ACTIVE_STATUSES) this.count.jobs(active.filter((s) => s.status === state).length, { state });
    this.unplacedMetrics.waiting(active.filter((s) => NOT_STARTED.includes(s.status)));
    this.count.atRisk(active.filter((s) => atRisk(s, nowMs, this.options.replanMinutes * 60_000)).length);
    const busy = new Map<string, number>();
    for (const s of active) if (s.status === 'running' && s.plan) busy.set(`${s.plan.site}/${s.plan.pool}`, (busy.get(`${s.plan.site}/${s.plan.pool}`) ?? 0) + s.job.units);
    for (const [pool, units] of this.services.busyUnits()) busy.set(pool, (busy.get(pool) ?? 0) + units);
    const slotMs = this.options.slotMinutes * 60_000;
    const scenario = this.options.scenarioWindow(Math.floor(nowMs / slotMs) * slotMs, 1);
    // A site gone from the network loses its series too.
    for (const siteId of this.sitesShown) if (!scenario.network.sites.some((site) => site.id === siteId)) this.count.greenShare(null, { site: siteId });
    this.sitesShown = new Set(scenario.network.sites.map((site) => site.id));
    for (const site of scenario.network.sites) {
      const { greenShare } = siteLoadNow(site, (poolId) => busy.get(`${site.id}/${poolId}`) ?? 0, scenario.signals[site.id].actual.renewableKW[0]);
      this.count.greenShare(greenShare, { site: site.id });
    }
    // Service replicas hold their units too: their nodes stay awake and are not idle.
    const holds = poolHolds(active, scenario.network.sites, nowMs);
    for (const [pool, units] of this.services.busyUnits()) {
      const hold = holds.get(pool) ?? { busy: 0, soon: 0 };
      hold.busy += units;
      holds.set(pool, hold);
    }
    await this.idle.update(nowMs, scenario.network.sites, holds);
  }

  /** Stops a run; false when the executor could not be asked (counted and logged: the caller tries again later). */
  private async stop(ref: string, nowMs: number): Promise<boolean> {
    return (await this.guard('cancel', ref, async () => (await this.options.executor.cancel(ref, nowMs), true))) ?? false;
  }

  /** Runs an executor call for one run; a failure is counted and logged and gives undefined (the caller skips the job). */
  private async guard<T>(call: string, ref: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await run();
      this.failing.delete(ref);
      return result;
    } catch (err) {
      this.executorError(call, ref, err);
      return undefined;
    }
  }

  /** Counts a failed call; logs it unless the same call of the same run failed the same way at the last try. */
  private executorError(call: string, ref: string, err: unknown): void {
    this.count.executorErrors(1, { call });
    const line = `executor ${this.options.executor.name}: ${call} ${ref}: ${err instanceof Error ? err.message : String(err)}`;
    if (this.failing.get(ref) !== line) this.options.log?.(line);
    this.failing.set(ref, line);
  }

  /** Whether this deployment started the run: its ref carries this deployment's id, or no id (started before 0008). */
  private ownRun(ref: string): boolean {
    const deployment = refDeployment(ref);
    return deployment === null || deployment === this.options.deploymentId;
  }

  /** Every job (all tenants) in these states (changed since `updatedSinceMs`, when given). */
  private jobsIn(statuses: JobStatus[], updatedSinceMs?: number): Promise<StoredJob[]> {
    return allJobs(this.options.ctx.store, { statuses, ...(updatedSinceMs === undefined ? {} : { updatedSinceMs }) });
  }

}

/**
 * Work a paused job has left that its plan does not run, seconds of the job's duration: none for a job paused between
 * the runs of its plan; the rest of the run cut short when a service's burst paused it mid-run (pauseForBurst).
 */
function workLeftS(stored: StoredJob): number {
  const plan = stored.plan;
  if (!plan || stored.status !== 'paused' || !stored.executorRef || runIndex(stored.executorRef) + 1 < plan.runs.length) return 0;
  const plannedS = plan.runs.reduce((sum, r) => sum + (Date.parse(r.end) - Date.parse(r.start)) / 1000, 0) * (plan.speed ?? 1);
  const left = stored.job.durationS - plannedS;
  return left > 1 ? Math.ceil(left) : 0;
}

/**
 * What each tenant's decided batch work holds per pool class and slot of the grid, from each job's committed use
 * (`uses[i]` is `decided[i]`'s): the services placement keeps each tenant within its quota.
 */
function tenantBatch(slots: number, decided: readonly StoredJob[], uses: readonly CommittedUse[][]): { tenantId: string; poolClass: string; units: number[] }[] {
  const out = new Map<string, { tenantId: string; poolClass: string; units: number[] }>();
  decided.forEach((s, i) => {
    for (const use of uses[i]) {
      const key = `${s.job.tenant}/${s.job.poolClass}`;
      if (!out.has(key)) out.set(key, { tenantId: s.job.tenant, poolClass: s.job.poolClass, units: new Array<number>(slots).fill(0) });
      for (const t of use.slots) out.get(key)!.units[t] += use.units;
    }
  });
  return [...out.values()];
}

/** Length of run `index` of a job's plan, seconds (0 when there is none). */
function runSeconds(stored: StoredJob, index: number): number {
  const run = stored.plan?.runs[index];
  return run ? (Date.parse(run.end) - Date.parse(run.start)) / 1000 : 0;
}

/**
 * The name of run `index` of a job's plan, on the job's `attempt`-th plan (0 until it is first requeued), in the
 * deployment `deploymentId`: `<deployment>/<tenant>/<job>/<n>[r<k>]`. The loop names runs with it, the executors
 * name the engine's jobs after it (Slurm job names), so a lookup by name finds only this deployment's runs.
 */
export function runRef(deploymentId: string, tenantId: string, jobId: string, index: number, attempt: number): string {
  return `${deploymentId}/${tenantId}/${jobId}/${index}${attempt > 0 ? `r${attempt}` : ''}`;
}

/**
 * The deployment id a run was started under, or null for a ref made before stores had one (`<tenant>/<job>/<n>`:
 * tenant and job ids hold no `/`, so the parts tell the two apart).
 */
export function refDeployment(ref: string): string | null {
  const parts = ref.split('/');
  return parts.length === 4 ? parts[0] : null;
}

/** The run number in a ref `[<deployment>/]<tenant>/<job>/<n>[r<k>]` (runRef's, or one made before deployment ids). */
export function runIndex(ref: string): number {
  return Number.parseInt(ref.slice(ref.lastIndexOf('/') + 1), 10);
}

/** How many times the job had been requeued when this run started (the `r<k>` of the ref's last part). */
export function attemptOf(ref: string): number {
  const match = /\/\d+r(\d+)$/.exec(ref);
  return match ? Number(match[1]) : 0;
}

/** Committed use of a grid starting at the same instant, cut to its first `slots` slots. */
function onGrid(uses: readonly CommittedUse[], slots: number): CommittedUse[] {
  return uses.flatMap((use) => {
    const keep = use.slots.flatMap((t, i) => (t < slots ? [i] : []));
    return keep.length === 0 ? [] : [{ ...use, slots: keep.map((i) => use.slots[i]), energyKWh: keep.map((i) => use.energyKWh[i]) }];
  });
}

/** The scenario with no units in the pools out of service (work already there still counts against them). */
function withoutOutages(scenario: Scenario, out: Map<string, Outage>): Scenario {
  if (out.size === 0) return scenario;
  const sites = scenario.network.sites.map((site) => ({ ...site, pools: site.pools.map((pool) => (out.has(`${site.id}/${pool.id}`) ? { ...pool, units: 0 } : pool)) }));
  return { ...scenario, network: { ...scenario.network, sites } };
}

function cycleId(stored: StoredJob): string {
  return `${stored.job.tenant}/${stored.job.id}`;
}

/** What a started job still holds from now on: its planned runs' slots in the cycle's grid. */
function committedUse(scenario: Scenario, stored: StoredJob, nowMs: number): CommittedUse[] {
  const plan = stored.plan;
  if (!plan) return [];
  const site = scenario.network.sites.find((s) => s.id === plan.site);
  const pool = site?.pools.find((p) => p.id === plan.pool);
  if (!site || !pool) return [];
  const { grid } = scenario;
  const slotMs = grid.slotMinutes * 60_000;
  const kW = busyUnitFacilityKW(pool, site.pue) * stored.job.units;
  const energy = new Map<number, number>();
  for (const run of plan.runs) {
    const from = Math.max(Date.parse(run.start), nowMs);
    const to = Date.parse(run.end);
    for (let t = Math.max(0, Math.floor((from - grid.startMs) / slotMs)); t < grid.slots && grid.startMs + t * slotMs < to; t++) {
      const overlap = Math.min(to, grid.startMs + (t + 1) * slotMs) - Math.max(from, grid.startMs + t * slotMs);
      if (overlap > 0) energy.set(t, (energy.get(t) ?? 0) + (kW * overlap) / 3_600_000);
    }
  }
  const slots = [...energy.keys()].sort((a, b) => a - b);
  return slots.length === 0 ? [] : [{ siteId: plan.site, poolId: plan.pool, units: stored.job.units, slots, energyKWh: slots.map((t) => energy.get(t)!) }];
}

/**
 * The units the service's work holds per pool (`site/pool`): running now, and planned to start (or resume) within the
 * pool's wake-up time, so that their nodes are awake when they start.
 */
function poolHolds(active: readonly StoredJob[], sites: readonly Site[], nowMs: number): Map<string, PoolHold> {
  const wakeMs = new Map<string, number>(sites.flatMap((site) => site.pools.map((pool) => [`${site.id}/${pool.id}`, (pool.powerStates?.wakeS ?? 0) * 1000] as const)));
  const holds = new Map<string, PoolHold>();
  for (const s of active) {
    if (!s.plan) continue;
    const key = `${s.plan.site}/${s.plan.pool}`;
    const hold = holds.get(key) ?? { busy: 0, soon: 0 };
    holds.set(key, hold);
    if (s.status === 'running') hold.busy += s.job.units;
    else if (WAITING_TO_RUN.includes(s.status) && s.plan.runs.some((run) => Date.parse(run.start) <= nowMs + (wakeMs.get(key) ?? 0) && Date.parse(run.end) > nowMs)) hold.soon += s.job.units;
  }
  return holds;
}
