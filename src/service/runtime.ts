/**
 * A running Kumul service without its HTTP front: the store, the clock, the scenario document (kept in the
 * store; every cycle runs on its latest version) and its windows, the simulated executor, the dispatch loop
 * ticking on a timer, and the demo workload. `kumul serve` starts it and puts the API in front; the restart tests start it as a child process.
 */
import { openStore } from '../store/kysely-store.ts';
import { LeaseLost, type Deployment, type Fence, type Store } from '../store/port.ts';
import { allJobs } from '../store/all-jobs.ts';
import { SimulatedExecutor } from '../exec/simulated.ts';
import { MeasuredCapability, type Capability } from '../probe/capability.ts';
import type { PowerPolicy } from '../core/energy/idle.ts';
import { buildExecutor, checkAgainstNetwork, type ExecutorsConfig } from '../exec/config.ts';
import type { SiteRoutedExecutor } from '../exec/site-routed.ts';
import { objectiveFrom, policyFrom } from '../planning/plan-jobs.ts';
import { scaledClock } from './clock.ts';
import { Metrics } from './metrics.ts';
import { loadHighsSolver } from '../solver/highs.ts';
import { DispatchLoop } from './loop.ts';
import { DemoWorkload } from './demo.ts';
import type { ServiceContext } from './context.ts';
import { ScenarioState } from './scenario-state.ts';
import { InProcessLiveEvents, type LiveEvents } from './live-events.ts';
import { PostgresLiveEvents } from './live-events-pg.ts';
import { isStoreUnreachable, parseStoreUrl } from '../store/dialects.ts';
import { Leadership } from './leadership.ts';
import { BackupLoop } from './backup-loop.ts';
import { checkEndpointSites, type Endpoints } from '../backup/load.ts';

export interface RuntimeOptions {
  dbUrl: string;
  scenario: string;
  /** Simulated seconds per real second. */
  timeScale: number;
  /** Simulated instant the service starts at (on a first start; later starts continue from the store's clock). */
  startMs: number;
  demo: boolean;
  objective: string;
  policy: string;
  replanMinutes: number;
  horizonHours: number;
  /** Cycles plan on forecasts averaged over ± this many minutes (`--forecast-smoothing-minutes`; LoopOptions). */
  forecastSmoothingMinutes?: number;
  /** Real milliseconds between loop ticks. */
  tickMs: number;
  /** Which pools run on Slurm clusters (the executors file, read and checked by the caller); null: all simulated. */
  executors: (ExecutorsConfig & { baseDir: string; file: string }) | null;
  log: (line: string) => void;
  /** Peak compute metering and the views use: the network's stated (`advertised`, default) or the latest probes' (`measured`, docs/probes.md). */
  capability?: Capability;
  /** How idle nodes are powered (`--power`, `--reserve`; default always on). */
  power?: PowerPolicy;
  /**
   * Replace the store's deployment id before the loop starts (`--new-deployment-id`: a copied or restored store that
   * runs beside the original on the same clusters); logged. Refused while jobs are running, unless `requeueRunning`.
   */
  newDeploymentId?: boolean;
  /**
   * With `newDeploymentId`: first return the running jobs to the queue, leaving their runs (named with the old id)
   * untouched to the deployment that started them; they run again under the new id (`--requeue-running`).
   */
  requeueRunning?: boolean;
  /** Sites' storage endpoints (`--backup-endpoints`, loaded and checked by the caller): the loop runs backups with rclone on them. */
  backup?: { endpoints: Endpoints; verifyMinutes: number } | null;
}

export interface Runtime {
  ctx: ServiceContext;
  executor: SiteRoutedExecutor;
  /** The operator key, when this start created it (first start only). */
  operatorKey: string | null;
  /** The store's deployment id, which names every run this service starts (docs/service.md, "Deployment id"). */
  deployment: Deployment;
  stop(): Promise<void>;
}

export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  // Before anything is stored (a first start's operator key is shown once).
  if (o.requeueRunning && !o.newDeploymentId) throw new DeploymentIdRefused('--requeue-running: only with --new-deployment-id');
  const store = await openStore(o.dbUrl);
  // A restarted service, or a new instance, goes on from the simulated instant the leader saved, never back.
  const startMs = Math.max(o.startMs, (await store.serviceInstant()) ?? -Infinity);
  const clock = scaledClock(startMs, o.timeScale);
  const operatorKey = await bootstrapOperator(store, clock.nowMs());
  // The stored scenario document wins over --scenario, --policy and --objective after a first start.
  const dispatch = { policy: policyFrom(o.policy), objective: objectiveFrom(o.objective).name };
  const scenario = await ScenarioState.open(store, { scenario: o.scenario, dispatch, horizonHours: o.horizonHours }, clock.nowMs());
  let loop: DispatchLoop | null = null;
  let backup: BackupLoop | null = null;
  const metrics = new Metrics();
  const capability = o.capability === 'measured' ? new MeasuredCapability(store) : null;
  await capability?.refresh();
  const live = await openLiveEvents(o.dbUrl, metrics, o.log);
  const ctx: ServiceContext = { store, clock, metrics, network: () => (capability ? capability.network(scenario.network()) : scenario.network()), scenario, live, wake: () => (loop?.wake(), backup?.wake()), ...(o.power ? { power: o.power } : {}) };
  if (o.executors) checkAgainstNetwork(o.executors, scenario.network(), o.executors.file);
  if (o.backup) checkEndpointSites(o.backup.endpoints, scenario.network().sites.map((s) => s.id));
  // After the checks: a new id is the last thing decided before the loop may start runs under it.
  const deployment = await deploymentOf(store, o, clock.nowMs()).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const simulated = new SimulatedExecutor(store);
  // Slurm keeps real time: a job without a command waits its work's length divided by the time scale.
  const executor = buildExecutor(o.executors, simulated, { workSecondsPerSecond: 1 / o.timeScale, serviceMs: clock.atRealMs });
  ctx.executor = executor;
  const solver = await loadHighsSolver();
  const leadership = new Leadership(store, o.tickMs, o.log, metrics);
  // What the KumulTickTooSlow alert compares tick durations with (deploy/prometheus/kumul-rules.yml).
  metrics.gauge('kumul_loop_tick_interval_seconds', "Real seconds between the dispatch loop's ticks (--tick-ms)")(o.tickMs / 1000);
  ctx.leadership = () => leadership.view();
  /** A fresh loop on the fenced store for each term as leader (its memory starts as after a restart). */
  const newLoop = (fence: Fence): DispatchLoop =>
    new DispatchLoop({
      ctx: { ...ctx, store: store.fenced(fence) },
      executor,
      deploymentId: deployment.id,
      scenarioWindow: (windowStartMs, slots) => (capability ? capability.scenario(scenario.window(windowStartMs, slots)) : scenario.window(windowStartMs, slots)),
      slotMinutes: scenario.slotMinutes,
      dispatch: () => scenario.dispatch(),
      replanMinutes: o.replanMinutes,
      horizonHours: o.horizonHours,
      forecastSmoothingMinutes: o.forecastSmoothingMinutes ?? 0,
      ...(capability ? { withheld: () => capability.withheld() } : {}),
      log: o.log,
      solver,
      linkReserve: () => backup?.linkReserve() ?? null,
    });
  ctx.outages = () => loop?.outages() ?? [];
  if (o.backup) {
    backup = new BackupLoop({
      endpoints: o.backup.endpoints,
      clock,
      metrics,
      scenarioWindow: (windowStartMs, slots) => scenario.window(windowStartMs, slots),
      slotMinutes: scenario.slotMinutes,
      horizonHours: o.horizonHours,
      replanMinutes: o.replanMinutes,
      verifyMinutes: o.backup.verifyMinutes,
      timeScale: o.timeScale,
      solver,
      log: o.log,
    });
    ctx.backup = backup;
  }
  /** The leader's store of its term (fenced by its lease), which the backup loop writes through. */
  let fenced: Store | null = null;
  const demo = o.demo ? await DemoWorkload.load() : null;
  await demo?.ensureTenants(store, clock.nowMs());
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  /** One tick: take or renew the dispatch lease; the leader submits the demo's work, refreshes and ticks its loop. */
  const tick = async () => {
    const fence = await leadership.renew();
    if (fence === null) {
      loop = null;
      const saved = await store.serviceInstant();
      if (saved !== null) clock.catchUp(saved);
      return;
    }
    if (loop === null || leadership.changed) {
      loop = newLoop(fence);
      fenced = store.fenced(fence);
      // The demo goes on from where the last leader may have left it (jobs it already submitted are kept).
      demo?.seek(clock.nowMs() - 3_600_000);
    }
    try {
      if (demo) await demo.submitDue(store, clock.nowMs());
      await scenario.refresh();
      await capability?.refresh();
      const report = await loop.tick();
      if (backup && fenced) await backup.tick(fenced, ctx.network(), scenario.dispatch().objective, report.replanned);
      await store.saveServiceInstant(clock.nowMs());
    } catch (err) {
      if (!(err instanceof LeaseLost)) throw err;
      leadership.lost(err);
      loop = null;
    }
  };
  // A failing tick is logged once while it fails the same way (a store down for a minute is one line, not 600).
  let failing: string | null = null;
  const timer = setInterval(() => {
    if (stopped) return;
    running = running
      .then(tick)
      .then(() => {
        if (failing !== null) o.log('dispatch loop: ticks succeed again');
        failing = null;
      })
      .catch((err) => {
        const line = `dispatch loop: ${isStoreUnreachable(err) ? 'the store cannot be reached: ' : ''}${String(err)}`;
        if (line !== failing) o.log(line);
        failing = line;
      });
  }, o.tickMs);
  return {
    ctx,
    executor,
    operatorKey,
    deployment,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
      await leadership.release();
      await live.close();
      await store.close();
    },
  };
}

/**
 * The live events of the store's backend: on PostgreSQL, LISTEN/NOTIFY, so that every instance on the database streams
 * the dispatch loop's ticks (src/service/live-events-pg.ts); on SQLite (one instance), in process.
 */
async function openLiveEvents(dbUrl: string, metrics: Metrics, log: (line: string) => void): Promise<LiveEvents> {
  const target = parseStoreUrl(dbUrl);
  if (target.backend === 'sqlite') return new InProcessLiveEvents();
  return PostgresLiveEvents.open({ connectionString: target.connectionString, metrics, log });
}

/** A deployment-id option the service cannot carry out (jobs running, --requeue-running alone): `kumul serve` exits with the reason. */
export class DeploymentIdRefused extends Error {}

/**
 * The store's deployment id (made on a first start), or a new one when the operator asks (`--new-deployment-id`),
 * logged with the one it replaces. With `requeueRunning`, running jobs go back to the queue first, their runs left
 * to the deployment that started them (never stopped or followed from here).
 */
async function deploymentOf(store: Store, o: RuntimeOptions, nowMs: number): Promise<Deployment> {
  if (!o.newDeploymentId) return store.deployment(nowMs);
  const old = await store.deployment(nowMs);
  if (o.requeueRunning) {
    for (const stored of await allJobs(store, { statuses: ['running'] })) {
      const why = `its run ${stored.executorRef} was left to deployment ${old.id}: the store was given a new deployment id (--new-deployment-id --requeue-running)`;
      const moved = await store.requeueRun({ tenantId: stored.job.tenant, jobId: stored.job.id }, why, { nowMs, expectedVersion: stored.version });
      if (!moved.ok) throw new DeploymentIdRefused(`--requeue-running: job ${stored.job.tenant}/${stored.job.id}: ${moved.reason}`);
      o.log(`job ${stored.job.tenant}/${stored.job.id} requeued; ${why}`);
    }
  }
  const renewed = await store.renewDeployment(nowMs);
  if (!renewed.ok) {
    throw new DeploymentIdRefused(`--new-deployment-id: ${renewed.reason}. If this store is a copy whose runs belong to the original, add --requeue-running; if it is the same deployment, keep its id`);
  }
  o.log(`deployment id ${renewed.previousId} replaced by ${renewed.deployment.id} (--new-deployment-id); runs are now named ${renewed.deployment.id}/<tenant>/<job>/<n>`);
  return renewed.deployment;
}

/** On a first start, an operator tenant and its key (printed once); later starts create nothing. */
async function bootstrapOperator(store: Store, nowMs: number): Promise<string | null> {
  if (await store.getTenant('operator')) return null;
  const created = await store.createTenant({ id: 'operator', name: 'Network operator', role: 'operator', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, nowMs);
  if (!created.ok) throw new Error(created.reason);
  const key = await store.createApiKey('operator', 'created on first start', nowMs);
  if (!key.ok) throw new Error(key.reason);
  return key.plaintext;
}

