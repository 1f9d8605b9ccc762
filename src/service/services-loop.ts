/**
 * Inference services in the dispatch loop (issue 12, docs/services.md "The service"). The loop (loop.ts) calls it:
 *   - `place`, first in every dispatch cycle: the core services planner (core/services/plan.ts, with its LP bound)
 *     places every active service of every tenant over the look-ahead, on the forecasts, around the batch work already
 *     running; the placement of each slot (replicas per site, routing weights, attainment) is stored, and the units and
 *     energy it takes are returned for the batch planner to keep (as `kumul plan --services-plan` does);
 *   - `tick`, at every tick: replica runs are started and stopped through the executor so that each service runs the
 *     replicas its placement gives for the slot now (a replica is a run held until stopped; a deleted service's are
 *     stopped), runs that ended on their own are noted (the next tick starts replacements), and the replica runs are
 *     metered slot by slot with the actual signals.
 * Replica runs are named `<deployment>/<tenant>/svc~<service>/<site>~<n>` (never a job's name: `~` is in no id).
 */
import type { CommittedUse } from '../core/dispatch/cycle.ts';
import type { ScorePlugin } from '../core/dispatch/framework.ts';
import type { LpSolver } from '../core/lp/model.ts';
import { busyUnitFacilityKW, powerAtLoadW } from '../core/model/power.ts';
import type { Pool, Scenario, SiteSignals } from '../core/model/types.ts';
import { replicaRequestsPerS, type DemandSeries, type ServiceSpec } from '../core/services/model.ts';
import { servicesPlan } from '../core/services/plan.ts';
import type { Executor, RunStatus } from '../exec/port.ts';
import type { ReplicaRun, ServiceMeteringInput, ServicePlacementSlot, ServiceRef, StoredService, Store } from '../store/port.ts';
import type { Metrics } from './metrics.ts';

/** Joules in a kWh: the metrics count energy in joules. */
const JOULES_PER_KWH = 3_600_000;

export interface ServicesLoopOptions {
  store: Store;
  executor: Executor;
  metrics: Metrics;
  deploymentId: string;
  slotMinutes: number;
  /** The scenario over a window (forecasts plan, actuals meter), as the loop reads it. */
  scenarioWindow(startMs: number, slots: number): Scenario;
  /** Batch runs' facility energy at a site in an absolute slot (ms / slot length), kWh: metering shares renewables with it. */
  batchLoadKWh(siteId: string, absoluteSlot: number): number;
  /** Reports executor errors (counted and logged by the loop); the replica is tried again at the next tick. */
  executorError(call: string, ref: string, err: unknown): void;
  log?: (line: string) => void;
}

/** What one cycle's services placement gives the batch planner and the metrics. */
export interface ServicesCycle {
  /** The services' units and energy per site, pool and slot, on the cycle's grid. */
  committed: CommittedUse[];
  /** The placement's gap to its bound, %; null when there was nothing to place. */
  gapPct: number | null;
  services: number;
}

/** The name of a replica run: `<deployment>/<tenant>/svc~<service>/<site>~<n>`. */
export function replicaRef(deploymentId: string, tenantId: string, serviceId: string, siteId: string, n: number): string {
  return `${deploymentId}/${tenantId}/svc~${serviceId}/${siteId}~${n}`;
}

const key = (ref: ServiceRef) => `${ref.tenantId}/${ref.serviceId}`;

export class ServicesLoop {
  private readonly count;
  /** Series shown at the last gauge update, to drop those that went. */
  private shown = { replicas: new Set<string>(), attainment: new Set<string>() };
  /** Units replica runs held at the end of the last tick, by `site/pool`. */
  private busy = new Map<string, number>();

  constructor(private readonly o: ServicesLoopOptions) {
    const m = o.metrics;
    this.count = {
      replicas: m.gauge('kumul_service_replicas', 'Replica runs of inference services running now, by tenant, service and site'),
      planned: m.gauge('kumul_service_replicas_planned', "Replicas the last services placement keeps in the slot now, by tenant, service and site"),
      attainment: m.gauge('kumul_service_attainment_ratio', "Share of a user region's forecast requests the placement of the slot now serves within the latency objective, 0 to 1, by tenant, service and region"),
      starts: m.counter('kumul_service_replica_starts_total', 'Replica runs started, by site'),
      stops: m.counter('kumul_service_replica_stops_total', 'Replica runs stopped or ended, by site'),
      energy: m.counter('kumul_service_energy_joules_total', 'Facility energy of replica runs metered (warm-up included), by site, joules'),
      carbon: m.counter('kumul_service_carbon_grams_total', 'Emissions of replica runs metered, by site, grams CO2'),
      gap: m.gauge('kumul_services_gap_percent', "Gap of the last services placement to its proven lower bound, percent"),
      failures: m.counter('kumul_services_placement_failures_total', 'Services placements that failed (the solver); the replicas running kept their units and placement'),
    };
  }

  /**
   * Places every active service over `scenario`'s grid (the cycle's window, pools out of service at 0 units) on
   * `signals` (forecasts), around `batch` (running work), and stores each service's slots. Needs a solver.
   */
  async place(nowMs: number, scenario: Scenario, signals: Record<string, SiteSignals>, batch: readonly CommittedUse[], solver: LpSolver, scores: readonly { plugin: ScorePlugin; weight: number }[], objectiveName: string): Promise<ServicesCycle> {
    const { store } = this.o;
    const services = await store.listServices({ statuses: ['active'] });
    if (services.length === 0) return { committed: [], gapPct: null, services: 0 };
    const { grid } = scenario;
    const slotMs = grid.slotMinutes * 60_000;
    const endMs = grid.startMs + grid.slots * slotMs;
    const regions = scenario.userRegions ?? [];
    const regionIds = new Set(regions.map((r) => r.id));
    // Tenants may use the same service ids: the planner sees `<tenant>/<service>`.
    const specs: ServiceSpec[] = services.map((s) => ({ ...s.spec, id: key(s) }));
    const demand: DemandSeries[] = [];
    const initialReplicas: Record<string, Record<string, number>> = {};
    for (const s of services) {
      const byRegion = new Map<string, number[]>();
      for (const point of await store.serviceDemand(s, grid.startMs, endMs)) {
        if (!regionIds.has(point.region)) continue; // a region the scenario no longer has: nobody to route
        let values = byRegion.get(point.region);
        if (!values) byRegion.set(point.region, (values = new Array<number>(grid.slots).fill(0)));
        values[(point.slotMs - grid.startMs) / slotMs] = point.requestsPerS;
      }
      for (const [region, requestsPerS] of byRegion) demand.push({ service: key(s), region, requestsPerS });
      const running: Record<string, number> = {};
      for (const r of await store.replicaRuns({ ...s, live: true })) if (scenario.network.sites.some((site) => site.id === r.site)) running[r.site] = (running[r.site] ?? 0) + 1;
      initialReplicas[key(s)] = running;
    }
    const plan = servicesPlan(
      { network: scenario.network, grid, signals, userRegions: regions, services: specs, demand, committed: batch, initialReplicas },
      { solver, scores, objectiveName, scenarioId: scenario.id },
    );
    const items = services.map((s, k) => ({
      ref: { tenantId: s.tenantId, serviceId: s.serviceId },
      slots: plan.plan.map((slot, t): ServicePlacementSlot => {
        const one = slot.services[k];
        return { slotMs: grid.startMs + t * slotMs, replicas: one.replicas, coldStarts: one.coldStarts, routes: one.routes, regions: one.regions, plannedMs: nowMs };
      }),
    }));
    const stored = await store.putServicePlacements(items, nowMs);
    if (!stored.ok) throw new Error(`storing the services placement: ${stored.reason}`);
    for (const w of plan.warnings) this.o.log?.(`services placement: ${w}`);
    this.count.gap(plan.bound.gapPct);
    return { committed: plan.committed, gapPct: plan.bound.gapPct, services: services.length };
  }

  /**
   * What the replicas running now hold over `scenario`'s grid (their units at full power in every slot): what batch
   * keeps off when a placement failed, so that the replicas keep their units until the next one succeeds.
   */
  async heldUse(scenario: Scenario, failure: unknown): Promise<CommittedUse[]> {
    this.count.failures(1);
    this.o.log?.(`services placement failed: ${failure instanceof Error ? failure.message : String(failure)}; the replicas running keep their units and their placement until the next cycle`);
    const { grid } = scenario;
    const hours = grid.slotMinutes / 60;
    const slots = Array.from({ length: grid.slots }, (_, t) => t);
    return (await this.o.store.replicaRuns({ live: true })).flatMap((r) => {
      const site = scenario.network.sites.find((x) => x.id === r.site);
      const pool = site?.pools.find((p) => p.id === r.pool);
      return site && pool ? [{ siteId: r.site, poolId: r.pool, units: r.units, slots, energyKWh: slots.map(() => r.units * busyUnitFacilityKW(pool, site.pue) * hours) }] : [];
    });
  }

  /** Replicas to the placement of the slot now, ended runs noted, metering up to now; then the gauges. */
  async tick(nowMs: number): Promise<void> {
    const { store } = this.o;
    const slotMs = this.o.slotMinutes * 60_000;
    const slotStart = Math.floor(nowMs / slotMs) * slotMs;
    const network = this.o.scenarioWindow(slotStart, 1).network;
    const services = await store.listServices();
    // Without services (and nothing shown from before) a tick costs one query.
    if (services.length === 0 && this.shown.replicas.size === 0 && this.shown.attainment.size === 0) return;
    let live = await store.replicaRuns({ live: true });
    // Runs the executor ended on their own (a node failure, a time limit) are over; those it never saw (recorded, then
    // a crash before the submit) are submitted below if the placement keeps them, else just marked stopped.
    const unseen = new Set<string>();
    for (const r of live) if ((await this.follow(r, nowMs)) === null) unseen.add(r.ref);
    live = await store.replicaRuns({ live: true });
    const placements = new Map<string, ServicePlacementSlot>();
    for (const s of services) {
      const mine = live.filter((r) => r.tenantId === s.tenantId && r.serviceId === s.serviceId);
      if (s.status === 'deleted') {
        for (const r of mine) await this.stop(r, nowMs, `service ${key(s)} deleted`);
        continue;
      }
      const [now] = await store.servicePlacements(s, slotStart, slotStart + slotMs);
      // Before any cycle placed the slot now, replicas stay as they are.
      if (!now) continue;
      placements.set(key(s), now);
      const sites = new Set([...Object.keys(now.replicas), ...mine.map((r) => r.site)]);
      for (const siteId of [...sites].sort()) {
        const want = now.replicas[siteId] ?? 0;
        const here = mine.filter((r) => r.site === siteId);
        // The newest (and those not started yet) go first.
        here.sort((a, b) => (a.startedMs === null ? 1 : 0) - (b.startedMs === null ? 1 : 0) || a.requestedMs - b.requestedMs || (a.ref < b.ref ? -1 : 1));
        for (const r of here.slice(want).reverse()) await this.stop(r, nowMs, `placement of ${new Date(slotStart).toISOString()} keeps ${want} at ${siteId}`);
        for (const r of here.slice(0, want)) if (unseen.has(r.ref)) await this.submit(r, s.spec, nowMs, network.sites.find((x) => x.id === siteId)?.pools.find((p) => p.id === r.pool)?.unitsPerNode);
        if (here.length >= want) continue;
        const site = network.sites.find((x) => x.id === siteId);
        const pool = site?.pools.find((p) => p.class === s.spec.poolClass);
        if (!site || !pool) continue;
        let n = (await store.replicaRuns(s)).filter((r) => r.site === siteId).length;
        for (let i = here.length; i < want; i++) await this.start(s, siteId, pool, replicaRef(this.o.deploymentId, s.tenantId, s.serviceId, siteId, ++n), nowMs);
      }
    }
    await this.meter(nowMs, services, placements);
    live = await store.replicaRuns({ live: true });
    this.gauges(services, placements, live);
    this.busy = new Map();
    for (const r of live) if (r.startedMs !== null) this.busy.set(`${r.site}/${r.pool}`, (this.busy.get(`${r.site}/${r.pool}`) ?? 0) + r.units);
  }

  /** Units replica runs held at the end of the last tick, by `site/pool` (the loop's idle-power and green-share gauges count them busy). */
  busyUnits(): ReadonlyMap<string, number> {
    return this.busy;
  }

  /** The run's status noted (started, ended); null when the executor never saw it, undefined when it could not be asked. */
  private async follow(r: ReplicaRun, nowMs: number): Promise<RunStatus | null | undefined> {
    const status = await this.guard('status', r.ref, () => this.o.executor.status(r.ref, nowMs));
    if (status) await this.noteStatus(r, status);
    return status;
  }

  private async noteStatus(r: ReplicaRun, status: RunStatus): Promise<void> {
    if (status.startedMs !== null && r.startedMs === null) {
      const started = await this.o.store.replicaStarted(r.ref, status.startedMs);
      if (started.ok) r.startedMs = started.replica.startedMs;
    }
    if (status.state !== 'pending' && status.state !== 'running') {
      this.o.log?.(`replica ${r.ref} ended ${status.state}${status.reason ? `: ${status.reason}` : ''}; the next tick starts another if its placement keeps it`);
      await this.o.store.replicaStopped(r.ref, status.endedMs ?? status.startedMs ?? r.requestedMs);
      this.count.stops(1, { site: r.site });
    }
  }

  private async start(s: StoredService, siteId: string, pool: Pool, ref: string, nowMs: number): Promise<void> {
    const added = await this.o.store.addReplica({ ref, tenantId: s.tenantId, serviceId: s.serviceId, site: siteId, pool: pool.id, units: s.spec.unitsPerReplica, requestedMs: nowMs });
    if (!added.ok) throw new Error(`recording replica ${ref}: ${added.reason}`);
    await this.submit(added.replica, s.spec, nowMs, pool.unitsPerNode);
    this.count.starts(1, { site: siteId });
  }

  private async submit(r: ReplicaRun, spec: ServiceSpec, nowMs: number, unitsPerNode?: number): Promise<void> {
    const request = { ref: r.ref, tenantId: r.tenantId, jobId: r.serviceId, siteId: r.site, poolId: r.pool, units: r.units, unitsPerNode, durationS: spec.coldStart.warmUpS, holdUntilStopped: true };
    const status = await this.guard('submit', r.ref, () => this.o.executor.submit(request, nowMs));
    if (status) await this.noteStatus(r, status);
  }

  /** Stops a replica run (metered up to now first) and records it stopped; an executor error leaves it for the next tick. */
  private async stop(r: ReplicaRun, nowMs: number, why: string): Promise<void> {
    const stopped = await this.guard('cancel', r.ref, async () => (await this.o.executor.cancel(r.ref, nowMs), true));
    if (!stopped) return;
    await this.o.store.replicaStopped(r.ref, nowMs);
    this.count.stops(1, { site: r.site });
    this.o.log?.(`replica ${r.ref} stopped: ${why}`);
  }

  private async guard<T>(call: string, ref: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (err) {
      this.o.executorError(call, ref, err);
      return undefined;
    }
  }

  /**
   * Meters every replica run slot by slot up to now (running ones up to the start of the slot now; stopped ones to
   * their stop), with the actual signals: facility energy at the load the placement gave its site in that slot (the
   * power curve × PUE; full load where no placement is stored), its cold start's energy in its first slot, renewables
   * shared in proportion to energy with the batch runs and the replicas metered at once, the rest from the grid.
   */
  private async meter(nowMs: number, all: readonly StoredService[], current: Map<string, ServicePlacementSlot>): Promise<void> {
    const { store } = this.o;
    const slotMs = this.o.slotMinutes * 60_000;
    const nowSlot = Math.floor(nowMs / slotMs) * slotMs;
    const services = new Map(all.map((s) => [key(s), s]));
    type Segment = { run: ReplicaRun; spec: ServiceSpec; slotStart: number; fromMs: number; toMs: number; energyKWh: number };
    const segments: Segment[] = [];
    const siteLoad = new Map<string, number>();
    const placements = new Map<string, ServicePlacementSlot | null>();
    const placementOf = async (ref: ServiceRef, slotStart: number) => {
      const k = `${key(ref)}@${slotStart}`;
      if (!placements.has(k)) placements.set(k, current.get(key(ref))?.slotMs === slotStart ? current.get(key(ref))! : ((await store.servicePlacements(ref, slotStart, slotStart + slotMs))[0] ?? null));
      return placements.get(k)!;
    };
    for (const run of await store.replicaRuns({ unmetered: true })) {
      if (run.startedMs === null) continue;
      const until = run.stoppedMs ?? nowSlot;
      const from = run.meteredToMs ?? run.startedMs;
      if (until <= from) continue;
      const spec = services.get(key(run))!.spec;
      for (let slotStart = Math.floor(from / slotMs) * slotMs; slotStart < until; slotStart += slotMs) {
        const fromMs = Math.max(from, slotStart);
        const toMs = Math.min(until, slotStart + slotMs);
        if (toMs <= fromMs) continue;
        const scenario = this.o.scenarioWindow(slotStart, 1);
        const site = scenario.network.sites.find((x) => x.id === run.site);
        const pool = site?.pools.find((p) => p.id === run.pool);
        if (!site || !pool) continue;
        const placed = await placementOf(run, slotStart);
        const replicas = placed?.replicas[run.site] ?? 0;
        const servedRps = placed?.routes.filter((x) => x.site === run.site).reduce((sum, x) => sum + x.requestsPerS, 0) ?? 0;
        const load = placed && replicas > 0 ? Math.min(1, servedRps / (replicas * replicaRequestsPerS(spec.throughput))) : 1;
        const warmUpKWh = fromMs === run.startedMs ? spec.coldStart.energyKWh * site.pue : 0;
        const energyKWh = (run.units * powerAtLoadW(pool.powerCurve, load) * site.pue * (toMs - fromMs)) / 3_600_000 / 1000 + warmUpKWh;
        segments.push({ run, spec, slotStart, fromMs, toMs, energyKWh });
        const k = `${run.site}@${slotStart}`;
        siteLoad.set(k, (siteLoad.get(k) ?? 0) + energyKWh);
      }
    }
    const rows = new Map<string, { run: ReplicaRun; rows: ServiceMeteringInput[]; toMs: number }>();
    for (const seg of segments) {
      const scenario = this.o.scenarioWindow(seg.slotStart, 1);
      const site = scenario.network.sites.find((x) => x.id === seg.run.site)!;
      const actual = scenario.signals[site.id].actual;
      const load = (siteLoad.get(`${site.id}@${seg.slotStart}`) ?? 0) + this.o.batchLoadKWh(site.id, seg.slotStart / slotMs);
      const renewableKWh = (Math.max(0, actual.renewableKW[0]) * slotMs) / 3_600_000;
      const green = seg.energyKWh * Math.min(1, load > 0 ? renewableKWh / load : 0);
      const row: ServiceMeteringInput = {
        key: `${seg.run.ref}@${seg.slotStart}`,
        startMs: seg.fromMs,
        endMs: seg.toMs,
        energyKWh: seg.energyKWh,
        greenKWh: green,
        costYuan: green * site.renewable.priceYuanPerKWh + (seg.energyKWh - green) * actual.priceYuanPerKWh[0],
        carbonKg: (green * site.renewable.carbonGPerKWh + (seg.energyKWh - green) * actual.carbonGPerKWh[0]) / 1000,
      };
      let entry = rows.get(seg.run.ref);
      if (!entry) rows.set(seg.run.ref, (entry = { run: seg.run, rows: [], toMs: seg.toMs }));
      entry.rows.push(row);
      entry.toMs = Math.max(entry.toMs, seg.toMs);
    }
    for (const { run, rows: metered, toMs } of rows.values()) {
      const recorded = await store.meterReplica(run.ref, metered, toMs, nowMs);
      if (!recorded.ok) throw new Error(`metering replica ${run.ref}: ${recorded.reason}`);
      if (recorded.inserted === 0) continue;
      this.count.energy(metered.reduce((sum, r) => sum + r.energyKWh, 0) * JOULES_PER_KWH, { site: run.site });
      this.count.carbon(metered.reduce((sum, r) => sum + r.carbonKg, 0) * 1000, { site: run.site });
    }
  }

  private gauges(services: StoredService[], placements: Map<string, ServicePlacementSlot>, live: readonly ReplicaRun[]): void {
    const running = new Map<string, number>();
    for (const r of live) if (r.startedMs !== null) running.set(`${key(r)}\u0000${r.site}`, (running.get(`${key(r)}\u0000${r.site}`) ?? 0) + 1);
    const replicas = new Set<string>();
    const attainment = new Set<string>();
    for (const s of services) {
      const placed = s.status === 'active' ? placements.get(key(s)) : undefined;
      const sites = new Set([...Object.keys(placed?.replicas ?? {}), ...[...running.keys()].filter((k) => k.startsWith(`${key(s)}\u0000`)).map((k) => k.split('\u0000')[1])]);
      for (const site of sites) {
        const labels = { tenant: s.tenantId, service: s.serviceId, site };
        this.count.replicas(running.get(`${key(s)}\u0000${site}`) ?? 0, labels);
        this.count.planned(placed?.replicas[site] ?? 0, labels);
        replicas.add(JSON.stringify(labels));
      }
      for (const [region, r] of Object.entries(placed?.regions ?? {})) {
        const labels = { tenant: s.tenantId, service: s.serviceId, region };
        this.count.attainment(r.demandRps > 0 ? Math.min(r.servedRps, r.demandRps) / r.demandRps : 1, labels);
        attainment.add(JSON.stringify(labels));
      }
    }
    for (const gone of this.shown.replicas) if (!replicas.has(gone)) (this.count.replicas(null, JSON.parse(gone)), this.count.planned(null, JSON.parse(gone)));
    for (const gone of this.shown.attainment) if (!attainment.has(gone)) this.count.attainment(null, JSON.parse(gone));
    this.shown = { replicas, attainment };
  }
}
