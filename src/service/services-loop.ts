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
import { replicaRequestsPerS, roundTripsMs, withinObjective, type DemandSeries, type ServiceSpec } from '../core/services/model.ts';
import { servicesPlan } from '../core/services/plan.ts';
import { coverBursts, type BurstPlan, type HeldRun } from '../core/services/preempt.ts';
import type { Executor, RunStatus } from '../exec/port.ts';
import type { BurstReason, ReplicaRun, ServiceBurst, ServiceMeteringInput, ServicePlacementSlot, ServiceRef, StoredService, Store, Tenant } from '../store/port.ts';
import { JOULES_PER_KWH, type Metrics } from './metrics.ts';
import { quotaLeft } from './quota.ts';

/** Load reports older than this (service clock) are not acted on. */
export const LOAD_FRESH_MS = 5 * 60_000;
/** Extra replicas stop only once the load falls this far under what one fewer would serve (hysteresis). */
export const BURST_HYSTERESIS = 0.2;

/** A batch run holding units now, as the burst rule sees it (loop.ts gives them). */
export interface BatchRunning {
  tenantId: string;
  jobId: string;
  site: string;
  pool: string;
  poolClass: string;
  units: number;
  interruptible: boolean;
}

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
  /** Batch runs holding units now (the burst rule pre-empts interruptible ones). */
  batchRunning(): Promise<BatchRunning[]>;
  /** Pauses batch runs for a burst (loop.ts: the executor's cancel, then store.pauseRun with the reasons); returns the `<tenant>/<job>` paused. */
  preempt(runs: readonly { tenantId: string; jobId: string; reasons: BurstReason[] }[], nowMs: number): Promise<Set<string>>;
  /** Asks for a cycle at the next tick: a burst passed, so the work it paused is planned again on the units it frees. */
  wake?(): void;
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
  /** Units of replicas run beyond the placement for bursts, by `site/pool` (batch keeps off them while they run). */
  private burstUnits = new Map<string, number>();

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
      preemptions: m.counter('kumul_service_preemptions_total', 'Batch runs paused so that a service could add replicas for a burst of observed load over its planned capacity, by tenant, service and site'),
      burstReplicas: m.gauge('kumul_service_burst_replicas', 'Replicas run beyond the placement for a burst, by tenant, service and site'),
    };
  }

  /**
   * Places every active service over `scenario`'s grid (the cycle's window, pools out of service at 0 units) on
   * `signals` (forecasts), around `batch` (running work), and stores each service's slots. Needs a solver.
   */
  async place(
    nowMs: number,
    scenario: Scenario,
    signals: Record<string, SiteSignals>,
    batch: readonly CommittedUse[],
    solver: LpSolver,
    scores: readonly { plugin: ScorePlugin; weight: number }[],
    objectiveName: string,
    tenantBatch: readonly { tenantId: string; poolClass: string; units: readonly number[] }[] = [],
  ): Promise<ServicesCycle> {
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
    // Each tenant's quota per pool class caps its replicas together with its batch work in every slot (src/service/quota.ts).
    const quotas: { id: string; services: string[]; unitsLeft: number[] }[] = [];
    const groups = new Map<string, StoredService[]>();
    for (const s of services) groups.set(`${s.tenantId}/${s.spec.poolClass}`, [...(groups.get(`${s.tenantId}/${s.spec.poolClass}`) ?? []), s]);
    for (const members of groups.values()) {
      const { tenantId, spec } = members[0];
      const tenant = await store.getTenant(tenantId);
      if ((tenant?.maxConcurrentUnits[spec.poolClass] ?? null) === null) continue;
      const busy = tenantBatch.find((b) => b.tenantId === tenantId && b.poolClass === spec.poolClass)?.units;
      quotas.push({ id: `tenant ${tenantId}'s maxConcurrentUnits.${spec.poolClass}`, services: members.map(key), unitsLeft: Array.from({ length: grid.slots }, (_, t) => quotaLeft(tenant, spec.poolClass, busy?.[t] ?? 0)) });
    }
    const plan = servicesPlan(
      { network: scenario.network, grid, signals, userRegions: regions, services: specs, demand, committed: batch, initialReplicas, quotas },
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

  /** Replicas to the placement of the slot now (plus a burst's extras), ended runs noted, metering up to now; then the gauges. */
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
      if (s.status !== 'active') continue;
      const [now] = await store.servicePlacements(s, slotStart, slotStart + slotMs);
      if (now) placements.set(key(s), now);
    }
    const extras = await this.bursts(nowMs, slotStart, services, placements, live);
    for (const s of services) {
      const mine = live.filter((r) => r.tenantId === s.tenantId && r.serviceId === s.serviceId);
      if (s.status === 'deleted') {
        for (const r of mine) await this.stop(r, nowMs, `service ${key(s)} deleted`);
        continue;
      }
      const now = placements.get(key(s));
      // Before any cycle placed the slot now, replicas stay as they are.
      if (!now) continue;
      const extra = extras.get(key(s)) ?? {};
      const sites = new Set([...Object.keys(now.replicas), ...Object.keys(extra), ...mine.map((r) => r.site)]);
      for (const siteId of [...sites].sort()) {
        const want = (now.replicas[siteId] ?? 0) + (extra[siteId] ?? 0);
        const here = mine.filter((r) => r.site === siteId);
        // The newest (and those not started yet) go first.
        here.sort((a, b) => (a.startedMs === null ? 1 : 0) - (b.startedMs === null ? 1 : 0) || a.requestedMs - b.requestedMs || (a.ref < b.ref ? -1 : 1));
        for (const r of here.slice(want).reverse()) await this.stop(r, nowMs, `placement of ${new Date(slotStart).toISOString()} keeps ${now.replicas[siteId] ?? 0} at ${siteId}${extra[siteId] ? ` and the burst ${extra[siteId]} more` : ''}`);
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

  /**
   * The burst rule at every tick (docs/services.md, "Bursts in the service"): each active service's fresh load reports
   * (LOAD_FRESH_MS) are routed with the placement's weights (a region it routes nowhere: to its nearest site within
   * the objective) and compared per site with what the placed replicas serve; the shortfall gets extra replicas by
   * coverBursts (core/services/preempt.ts: free units at that site, then at the other sites within the objective of
   * the regions it serves, then units of interruptible batch runs, which loop.ts pauses with the reasons), within the
   * tenant's quota. Extras stop once the load falls BURST_HYSTERESIS under what one fewer would serve, or reports stop.
   * Returns the extra replicas per service and site; stores each service's burst state.
   */
  private async bursts(nowMs: number, slotStart: number, services: readonly StoredService[], placements: Map<string, ServicePlacementSlot>, live: readonly ReplicaRun[]): Promise<Map<string, Record<string, number>>> {
    const { store } = this.o;
    const out = new Map<string, Record<string, number>>();
    const scenario = this.o.scenarioWindow(slotStart, 1);
    const sites = scenario.network.sites;
    type Judged = { s: StoredService; placed: ServicePlacementSlot; load: Record<string, number>; sent: Map<string, Map<string, number>>; old: ServiceBurst | null; cap: number };
    const judged: Judged[] = [];
    let rtt: Map<string, Map<string, number>> | null = null;
    for (const s of services) {
      const placed = placements.get(key(s));
      if (s.status !== 'active' || !placed) continue;
      const old = await store.serviceBurst(s);
      const reports = await store.serviceLoad(s, nowMs - LOAD_FRESH_MS);
      if (reports.length === 0) {
        if (old?.active) await this.endBurst(s, old, nowMs, 'no fresh load report');
        continue;
      }
      const load = Object.fromEntries(reports.map((r) => [r.region, r.requestsPerS]));
      // Where the load balancer sends each region's load: the placement's weights, or (routed nowhere) the nearest site within the objective.
      const sent = new Map<string, Map<string, number>>();
      const send = (region: string, site: string, rps: number) => {
        if (!sent.has(region)) sent.set(region, new Map());
        sent.get(region)!.set(site, (sent.get(region)!.get(site) ?? 0) + rps);
      };
      for (const [region, rps] of Object.entries(load)) {
        const routes = placed.routes.filter((x) => x.region === region && x.weight > 0);
        if (routes.length > 0) for (const x of routes) send(region, x.site, rps * x.weight);
        else if (rps > 0) {
          rtt ??= roundTripsMs(scenario.network, scenario.userRegions ?? []);
          const nearest = this.runnableSites(s.spec, sites)
            .filter((site) => withinObjective(rtt!.get(region)?.get(site), s.spec.latency))
            .sort((a, b) => rtt!.get(region)!.get(a)! - rtt!.get(region)!.get(b)! || (a < b ? -1 : 1))[0];
          if (nearest) send(region, nearest, rps);
        }
      }
      judged.push({ s, placed, load, sent, old, cap: replicaRequestsPerS(s.spec.throughput) });
    }
    if (judged.length === 0) {
      this.burstUnits = new Map();
      return out;
    }
    // Free units per pool: the pool's, less running batch and every live replica, plus the extras being judged again.
    const batch = await this.o.batchRunning();
    const free: Record<string, number> = {};
    for (const site of sites) for (const pool of site.pools) free[`${site.id}/${pool.id}`] = pool.units;
    for (const b of batch) free[`${b.site}/${b.pool}`] = (free[`${b.site}/${b.pool}`] ?? 0) - b.units;
    for (const r of live) free[`${r.site}/${r.pool}`] = (free[`${r.site}/${r.pool}`] ?? 0) - r.units;
    const poolOf = (spec: ServiceSpec, siteId: string) => sites.find((x) => x.id === siteId)?.pools.find((p) => p.class === spec.poolClass);
    for (const j of judged)
      for (const [siteId, n] of Object.entries(j.old?.active ? j.old.extraReplicas : {})) {
        const pool = poolOf(j.s.spec, siteId);
        if (pool) free[`${siteId}/${pool.id}`] += n * j.s.spec.unitsPerReplica;
      }
    const runs: HeldRun[] = batch.map((b) => ({ id: `${b.tenantId}/${b.jobId}`, pool: `${b.site}/${b.pool}`, units: b.units, interruptible: b.interruptible }));
    /** coverBursts on the load × `scale`: extra replicas per service and site, and what it pre-empts. */
    const cover = (scale: number) => {
      const plans: (BurstPlan & { j: Judged })[] = [];
      for (const j of judged) {
        const atSite = new Map<string, number>();
        for (const bySite of j.sent.values()) for (const [site, rps] of bySite) atSite.set(site, (atSite.get(site) ?? 0) + rps * scale);
        for (const [siteId, rps] of atSite) {
          const deficitRps = rps - (j.placed.replicas[siteId] ?? 0) * j.cap;
          const pool = poolOf(j.s.spec, siteId);
          if (deficitRps <= 1e-9 || !pool) continue;
          const regions = [...j.sent].filter(([, bySite]) => (bySite.get(siteId) ?? 0) > 0).map(([region]) => region);
          rtt ??= roundTripsMs(scenario.network, scenario.userRegions ?? []);
          const worst = (site: string) => Math.max(...regions.map((r) => rtt!.get(r)?.get(site) ?? Infinity));
          const elsewhere = this.runnableSites(j.s.spec, sites)
            .filter((site) => site !== siteId && regions.every((r) => withinObjective(rtt!.get(r)?.get(site), j.s.spec.latency)))
            .sort((a, b) => worst(a) - worst(b) || (a < b ? -1 : 1))
            .map((site) => ({ site, pool: `${site}/${poolOf(j.s.spec, site)!.id}` }));
          plans.push({
            j,
            elsewhere,
            need: {
              service: key(j.s),
              site: siteId,
              pool: `${siteId}/${pool.id}`,
              unitsPerReplica: j.s.spec.unitsPerReplica,
              replicas: Math.ceil(deficitRps / j.cap - 1e-9),
              deficitRps,
              rpsPerReplica: j.cap,
              regions: regions.map((region) => ({ region, forecastRps: j.placed.regions[region]?.demandRps ?? 0, actualRps: j.load[region] })),
            },
          });
        }
      }
      return { plans, result: coverBursts(plans, free, runs) };
    };
    const up = cover(1);
    const keep = cover(1 / (1 - BURST_HYSTERESIS));
    const extrasOf = (result: ReturnType<typeof coverBursts>, service: string) => {
      const bySite: Record<string, number> = {};
      for (const g of result.replicas) if (g.service === service) bySite[g.site] = (bySite[g.site] ?? 0) + g.replicas;
      return bySite;
    };
    const tenants = new Map<string, Tenant | null>();
    /** `tenant/poolClass` of each service, by `tenant/service`. */
    const classOf = new Map(services.map((x) => [key(x), `${x.tenantId}/${x.spec.poolClass}`]));
    this.burstUnits = new Map();
    const preemptNow: { tenantId: string; jobId: string; reasons: BurstReason[]; by: Judged; site: string; pool: string; units: number }[] = [];
    for (const j of judged) {
      const k = key(j.s);
      const had = j.old?.active ? j.old.extraReplicas : {};
      const upBy = extrasOf(up.result, k);
      const keepBy = extrasOf(keep.result, k);
      const extra: Record<string, number> = {};
      let grows = false;
      for (const siteId of new Set([...Object.keys(had), ...Object.keys(upBy)])) {
        const n = had[siteId] ?? 0;
        // Up to what the load needs; down only past the hysteresis.
        const next = n < (upBy[siteId] ?? 0) ? upBy[siteId] : Math.min(n, keepBy[siteId] ?? 0);
        if (next > n) grows = true;
        if (next > 0) extra[siteId] = next;
      }
      // The tenant's quota caps its replicas and batch together (src/service/quota.ts).
      if (!tenants.has(j.s.tenantId)) tenants.set(j.s.tenantId, await store.getTenant(j.s.tenantId));
      // In use: its batch runs and live replicas in the pool class, less the extras judged again here.
      const classKey = `${j.s.tenantId}/${j.s.spec.poolClass}`;
      const batchUnits = batch.filter((b) => `${b.tenantId}/${b.poolClass}` === classKey).reduce((u, b) => u + b.units, 0);
      const replicaUnits = live.filter((r) => classOf.get(`${r.tenantId}/${r.serviceId}`) === classKey).reduce((u, r) => u + r.units, 0);
      const hadUnits = Object.values(had).reduce((u, n) => u + n, 0) * j.s.spec.unitsPerReplica;
      const left = quotaLeft(tenants.get(j.s.tenantId) ?? null, j.s.spec.poolClass, batchUnits + replicaUnits - hadUnits);
      let quotaCut = false;
      let units = Object.values(extra).reduce((u, n) => u + n, 0) * j.s.spec.unitsPerReplica;
      for (const siteId of Object.keys(extra).sort().reverse()) {
        while (units > left && extra[siteId] > 0) {
          extra[siteId]--;
          units -= j.s.spec.unitsPerReplica;
          quotaCut = true;
        }
        if (extra[siteId] === 0) delete extra[siteId];
      }
      out.set(k, extra);
      for (const [siteId, n] of Object.entries(extra)) {
        const pool = poolOf(j.s.spec, siteId)!;
        this.burstUnits.set(`${siteId}/${pool.id}`, (this.burstUnits.get(`${siteId}/${pool.id}`) ?? 0) + n * j.s.spec.unitsPerReplica);
      }
      const extraTotal = Object.values(extra).reduce((a, b) => a + b, 0);
      const shortRps = up.plans.reduce((sum, p, i) => sum + (p.j === j ? up.result.shortRps[i] : 0), 0);
      // Nothing to record: no burst now or before, none cut by the quota or short of units.
      if (extraTotal === 0 && !j.old?.active && !quotaCut && shortRps <= 1e-9 && up.plans.every((p) => p.j !== j)) continue;
      if (grows && !quotaCut)
        for (const run of up.result.preempted) {
          const reasons = run.reasons.filter((r) => r.service === k);
          if (reasons.length === 0 || preemptNow.some((p) => `${p.tenantId}/${p.jobId}` === run.run)) continue;
          const b = batch.find((x) => `${x.tenantId}/${x.jobId}` === run.run)!;
          preemptNow.push({ tenantId: b.tenantId, jobId: b.jobId, by: j, site: b.site, pool: b.pool, units: b.units, reasons: reasons.map((r) => ({ service: j.s.serviceId, site: r.site, region: r.region, observedRps: j.load[r.region] ?? 0, forecastRps: j.placed.regions[r.region]?.demandRps ?? 0 })) });
        }
      const burst: ServiceBurst = {
        atMs: nowMs,
        slotMs: slotStart,
        active: extraTotal > 0,
        startedMs: j.old?.active ? j.old.startedMs : nowMs,
        endedMs: extraTotal > 0 ? null : nowMs,
        regions: Object.fromEntries(Object.entries(j.load).map(([region, rps]) => [region, { observedRps: rps, forecastRps: j.placed.regions[region]?.demandRps ?? 0 }])),
        extraReplicas: extra,
        routes: burstRoutes(j.sent, j.placed, extra, j.cap),
        unservedRps: shortRps,
        unservedReason: quotaCut ? 'quota' : shortRps > 1e-9 ? 'units' : null,
        preempted: j.old?.active ? j.old.preempted : [],
      };
      if (burst.active && !j.old?.active) this.o.log?.(`service ${k}: burst of ${fmtLoad(burst)}: ${extraTotal} replica(s) beyond the placement (${fmtSites(extra)})`);
      if (!burst.active) {
        this.o.log?.(`service ${k}: burst over (${fmtLoad(burst)}): its extra replicas stop`);
        this.o.wake?.();
      }
      (j as Judged & { burst?: ServiceBurst }).burst = burst;
    }
    if (preemptNow.length > 0) {
      const paused = await this.o.preempt(preemptNow, nowMs);
      for (const p of preemptNow) {
        if (!paused.has(`${p.tenantId}/${p.jobId}`)) continue;
        const burst = (p.by as Judged & { burst?: ServiceBurst }).burst!;
        burst.preempted.push({ tenantId: p.tenantId, jobId: p.jobId, site: p.site, pool: p.pool, units: p.units, atMs: nowMs, reasons: p.reasons });
        this.count.preemptions(1, { tenant: p.by.s.tenantId, service: p.by.s.serviceId, site: p.site });
      }
    }
    for (const j of judged) {
      const burst = (j as Judged & { burst?: ServiceBurst }).burst;
      if (!burst) continue;
      const stored = await store.putServiceBurst(j.s, burst, nowMs);
      if (!stored.ok) throw new Error(`storing the burst of ${key(j.s)}: ${stored.reason}`);
    }
    return out;
  }

  /** Records a burst over (its extras stop at this tick: the placement alone decides the replicas). */
  private async endBurst(s: StoredService, old: ServiceBurst, nowMs: number, why: string): Promise<void> {
    this.o.log?.(`service ${key(s)}: burst over (${why}): its extra replicas stop`);
    this.o.wake?.();
    const stored = await this.o.store.putServiceBurst(s, { ...old, atMs: nowMs, active: false, endedMs: nowMs, extraReplicas: {} }, nowMs);
    if (!stored.ok) throw new Error(`storing the burst of ${key(s)}: ${stored.reason}`);
  }

  /** Sites a service may run a replica at: a pool of its class with room for one, among its allowed sites. */
  private runnableSites(spec: ServiceSpec, sites: Scenario['network']['sites']): string[] {
    return sites.filter((site) => (spec.sites === null || spec.sites.includes(site.id)) && site.pools.some((p) => p.class === spec.poolClass && p.units >= spec.unitsPerReplica)).map((site) => site.id);
  }

  /**
   * What the replicas run beyond the placement for bursts hold over `scenario`'s grid (their units at full power in
   * every slot): the cycle keeps batch off them while the burst lasts (loop.ts); the next cycle after it re-plans.
   */
  burstUse(scenario: Scenario): CommittedUse[] {
    const hours = scenario.grid.slotMinutes / 60;
    const slots = Array.from({ length: scenario.grid.slots }, (_, t) => t);
    return [...this.burstUnits].flatMap(([key, units]) => {
      const [siteId, poolId] = key.split('/');
      const site = scenario.network.sites.find((x) => x.id === siteId);
      const pool = site?.pools.find((p) => p.id === poolId);
      return site && pool && units > 0 ? [{ siteId, poolId, units, slots, energyKWh: slots.map(() => units * busyUnitFacilityKW(pool, site.pue) * hours) }] : [];
    });
  }

  /**
   * Units each tenant's replicas hold per pool class (`tenant/class`) at each site: those live, or those the placement
   * of the slot now keeps when more (services come first: they start at this tick). loop.ts counts them in the
   * tenant's quota with its batch runs before it starts due work.
   */
  async replicaUnitsByTenant(nowMs: number): Promise<Map<string, number>> {
    const slotMs = this.o.slotMinutes * 60_000;
    const slotStart = Math.floor(nowMs / slotMs) * slotMs;
    const live = await this.o.store.replicaRuns({ live: true });
    const out = new Map<string, number>();
    for (const s of await this.o.store.listServices()) {
      const mine = live.filter((r) => r.tenantId === s.tenantId && r.serviceId === s.serviceId);
      const [now] = s.status === 'active' ? await this.o.store.servicePlacements(s, slotStart, slotStart + slotMs) : [];
      const sites = new Set([...mine.map((r) => r.site), ...Object.keys(now?.replicas ?? {})]);
      let units = 0;
      for (const site of sites) units += Math.max(mine.filter((r) => r.site === site).length, now?.replicas[site] ?? 0) * s.spec.unitsPerReplica;
      if (units > 0) out.set(`${s.tenantId}/${s.spec.poolClass}`, (out.get(`${s.tenantId}/${s.spec.poolClass}`) ?? 0) + units);
    }
    return out;
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

/** The routing of a burst: the load sent per region and site, the excess of a site moved to the sites its extras spilled to. */
function burstRoutes(sent: Map<string, Map<string, number>>, placed: ServicePlacementSlot, extra: Record<string, number>, cap: number): ServiceBurst['routes'] {
  const rps = new Map<string, Map<string, number>>([...sent].map(([r, bySite]) => [r, new Map(bySite)]));
  const atSite = (site: string) => [...rps.values()].reduce((sum, bySite) => sum + (bySite.get(site) ?? 0), 0);
  // Sites whose load exceeds their placed and extra replicas send the excess to sites with spare extra capacity.
  const spare = new Map(Object.entries(extra).map(([site, n]) => [site, Math.max(0, ((placed.replicas[site] ?? 0) + n) * cap - atSite(site))]));
  for (const site of [...new Set([...rps.values()].flatMap((m) => [...m.keys()]))].sort()) {
    let excess = atSite(site) - ((placed.replicas[site] ?? 0) + (extra[site] ?? 0)) * cap;
    for (const [to, room] of spare) {
      if (excess <= 1e-9 || to === site || room <= 1e-9) continue;
      const moved = Math.min(excess, room);
      const total = atSite(site);
      for (const bySite of rps.values()) {
        const part = ((bySite.get(site) ?? 0) / total) * moved;
        if (part <= 0) continue;
        bySite.set(site, bySite.get(site)! - part);
        bySite.set(to, (bySite.get(to) ?? 0) + part);
      }
      spare.set(to, room - moved);
      excess -= moved;
    }
  }
  const routes: ServiceBurst['routes'] = [];
  for (const [region, bySite] of [...rps].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const total = [...bySite.values()].reduce((a, b) => a + b, 0);
    for (const [site, v] of [...bySite].sort((a, b) => (a[0] < b[0] ? -1 : 1))) if (v > 1e-9) routes.push({ region, site, requestsPerS: v, weight: total > 0 ? v / total : 0 });
  }
  return routes;
}

function fmtLoad(b: ServiceBurst): string {
  return Object.entries(b.regions).map(([region, r]) => `${region} ${r.observedRps.toFixed(1)} req/s observed against ${r.forecastRps.toFixed(1)} forecast`).join(', ');
}

function fmtSites(bySite: Record<string, number>): string {
  return Object.entries(bySite).map(([site, n]) => `${n} at ${site}`).join(', ');
}
