/**
 * Inference services in the simulator, with batch (issue 12 item 5, docs/simulator.md "Services and batch together").
 * Called by `kumul simulate --services --demand`, the benchmark and the tests; pure (the solver is passed in).
 *
 * Services are placed first in every regular cycle, as `kumul serve` does: over the cycle's look-ahead (clipped to the
 * period), on the forecasts (the demand file and the scenario's forecast signals), from the replicas running (new ones
 * warm up), around the batch work already committed, by the core planner (core/services/plan.ts `servicesPlan`;
 * `routing: 'nearest'` for the baseline that keeps replicas at the sites nearest their users); batch then fills the
 * units left in that same cycle (the engine's `FirstClaim`). In each slot the actual demand arrives (forecast × error ×
 * a minute profile, src/services/actual-demand.ts) and is routed with the weights of the placement in force; where
 * the slot's load at the service's percentile minute exceeds the planned capacity, extra replicas start for that slot
 * on units nobody holds or, through core/services/preempt.ts, on units of interruptible batch runs, which pause until
 * the next cycle. Afterwards the services are accounted with actuals: requests served within the objective minute by minute
 * (a site serves at most its capacity each minute; what is above is late), energy at the load served.
 */
import type { CommittedUse } from '../core/dispatch/cycle.ts';
import type { ScorePlugin } from '../core/dispatch/framework.ts';
import type { LpSolver } from '../core/lp/model.ts';
import { powerAtLoadW } from '../core/model/power.ts';
import type { Scenario, SiteSignals } from '../core/model/types.ts';
import type { DemandSeries, ServiceSpec } from '../core/services/model.ts';
import { prepare, servingCapacityRps, type Placement, type Prepared } from '../core/services/placement.ts';
import { servicesPlan } from '../core/services/plan.ts';
import { coverBursts, type BurstNeed, type BurstPlan, type PreemptReason } from '../core/services/preempt.ts';
import type { SlotUse } from '../core/energy/accounting.ts';
import { simulate, type ClaimRun, type FirstClaim, type SimOutcome, type SimulationInput } from './engine.ts';

/** What arrives, against the forecast: per service id and slot of the period. */
export interface ActualDemand {
  /** Actual slot mean ÷ forecast slot mean. */
  factor: Record<string, Float64Array>;
  /** Load in each minute of the slot ÷ the slot's mean (mean 1). */
  minuteProfile: Record<string, Float64Array[]>;
  /**
   * The burst trace's whole minute profile (mean 1): the burstiness known from history. Plans provision for its
   * minute at the service's percentile (the forecast × that quantile); the slots' own windows are what arrives.
   */
  history: Float64Array;
  /** How it was made, for the report. */
  source: string;
}

export interface ServicesSimInput {
  /** The simulator's scenario (its grid starts at the simulated period's start). */
  scenario: Scenario;
  /** Slots of the simulated period (services run in these). */
  periodSlots: number;
  services: readonly ServiceSpec[];
  /** The forecast, on the period's slots. */
  forecast: readonly DemandSeries[];
  actual: ActualDemand;
  routing: 'objective' | 'nearest';
  solver: LpSolver;
  scores: readonly { plugin: ScorePlugin; weight: number }[];
  objectiveName: string;
}

/** One pre-emption: a batch job paused in a slot so that a service could add replicas. */
export interface Preemption {
  slot: number;
  jobId: string;
  /** `site/pool`. */
  pool: string;
  units: number;
  reasons: PreemptReason[];
}

/** What the services did, before pricing: energy per service and site, requests per region. */
export interface ServicesOutcome {
  routing: 'objective' | 'nearest';
  /**
   * Facility energy per service, site and slot; priced with batch by the report. `regionShares` (per user region,
   * summing to 1) split it among the regions it served, by their requests routed there.
   */
  uses: (SlotUse & { service: string; regionShares: number[] })[];
  regions: { region: string; requests: number; withinObjective: number }[];
  perService: { service: string; requests: number; withinObjective: number; replicaHours: number; extraReplicaHours: number; coldStarts: number }[];
  /** Service, site and slot triples whose burst the units could not wholly cover (free and interruptible ones ran out). */
  burstsShort: number;
  /** Replicas started for bursts, where they ran (tests check pool capacity with them). */
  burstReplicas: { service: string; site: string; slot: number; replicas: number; units: number }[];
  preemptions: Preemption[];
  /** Units the replicas (placed and burst) held per `site/pool` and slot of the period: busy, not idle (summarize.ts). */
  heldUnits: ReadonlyMap<string, Int32Array>;
  /** The cycles' placements' bound on the forecasts, summed (NaN for the baseline, whose LP prices round trips). */
  bound: { value: number; planValue: number; gapPct: number; method: string };
}

/** The services as a first claim on the pools, and the accounting after the run. */
export interface ServicesSim {
  claim: FirstClaim;
  outcome(): ServicesOutcome;
}

const EPS = 1e-9;

/**
 * The services as the engine's first claim: placed at every regular cycle over its look-ahead (core servicesPlan, as
 * `kumul serve` does), then bursts per slot; and their accounting after the run.
 */
export function servicesSim(input: ServicesSimInput): ServicesSim {
  const { scenario } = input;
  const grid = { startMs: scenario.grid.startMs, slotMinutes: scenario.grid.slotMinutes, slots: input.periodSlots };
  const slotMs = grid.slotMinutes * 60_000;
  const window = (series: ArrayLike<number>, cur: number, n: number) => Array.from({ length: n }, (_, i) => series[cur + i] ?? 0);
  // Plans provision for the percentile minute known from history: each service's forecast × that quantile.
  const headroom = new Map(input.services.map((spec) => [spec.id, quantile(input.actual.history, spec.latency.percentile)]));
  const provisioned = input.forecast.map((d) => ({ ...d, requestsPerS: d.requestsPerS.map((v) => v * (headroom.get(d.service) ?? 1)) }));
  const periodSignals = (cur: number, n: number): Record<string, SiteSignals> =>
    Object.fromEntries(
      Object.entries(scenario.signals).map(([id, pair]) => [
        id,
        { priceYuanPerKWh: window(pair.forecast.priceYuanPerKWh, cur, n), carbonGPerKWh: window(pair.forecast.carbonGPerKWh, cur, n), renewableKW: window(pair.forecast.renewableKW, cur, n) },
      ]),
    );
  // The period indexed once (sites, regions, demand) for bursts and accounting; placements are made per cycle.
  const p = prepare({ network: scenario.network, grid, signals: periodSignals(0, grid.slots), userRegions: scenario.userRegions ?? [], services: input.services, demand: provisioned }, input.scores, input.routing);
  const h = p.services.map((c) => headroom.get(c.spec.id) ?? 1);
  const sites = scenario.network.sites;
  const siteIndex = new Map(sites.map((s, j) => [s.id, j]));
  const regionIndex = new Map(p.regions.map((r, i) => [r.id, i]));
  /** The placement in force in each slot of the period: that of the last cycle that placed it. */
  const placement: Placement = {
    replicas: p.services.map(() => sites.map(() => new Int32Array(grid.slots))),
    servedRps: p.services.map(() => p.regions.map(() => sites.map(() => new Float64Array(grid.slots)))),
    unservedRps: p.services.map(() => p.regions.map(() => new Float64Array(grid.slots))),
    bound: { value: 0, method: '' },
  };
  const bound = { value: 0, planValue: 0, placements: 0, method: '' };
  /** extra[k][j][t]: replicas added for a burst. */
  const extra = p.services.map(() => sites.map(() => new Int32Array(grid.slots)));
  const preemptions: Preemption[] = [];
  let burstsShort = 0;
  const burstReplicas: ServicesOutcome['burstReplicas'] = [];
  /** Replicas started at site `at` for the burst of site `from` (its own pool was full). */
  const spill: { k: number; from: number; at: number; t: number; replicas: number }[] = [];
  const poolKey = (k: number, j: number) => `${sites[j].id}/${p.services[k].pool[j]!.id}`;
  const poolUnits = new Map<string, number>(sites.flatMap((s) => s.pools.map((q): [string, number] => [`${s.id}/${q.id}`, q.units])));

  /** Places the services over slots cur.. of the period, from the replicas running, around the batch work committed. */
  const placeAt = (cur: number, slots: number, batch: readonly CommittedUse[]): CommittedUse[] => {
    const n = Math.min(slots, grid.slots - cur);
    if (n <= 0) return [];
    const initialReplicas = Object.fromEntries(
      p.services.map((c, k) => [c.spec.id, Object.fromEntries(c.sites.flatMap((j) => (cur > 0 && placement.replicas[k][j][cur - 1] > 0 ? [[sites[j].id, placement.replicas[k][j][cur - 1]]] : [])))]),
    );
    const plan = servicesPlan(
      {
        network: scenario.network,
        grid: { startMs: grid.startMs + cur * slotMs, slotMinutes: grid.slotMinutes, slots: n },
        signals: periodSignals(cur, n),
        userRegions: p.regions,
        services: input.services,
        demand: provisioned.map((d) => ({ ...d, requestsPerS: window(d.requestsPerS, cur, n) })),
        committed: batch,
        initialReplicas,
      },
      { solver: input.solver, scores: input.scores, routing: input.routing, objectiveName: input.objectiveName, scenarioId: scenario.id },
    );
    plan.plan.forEach((slot, dt) => {
      const t = cur + dt;
      slot.services.forEach((one, k) => {
        for (const j of p.services[k].sites) placement.replicas[k][j][t] = one.replicas[sites[j].id] ?? 0;
        p.regions.forEach((r, i) => {
          placement.servedRps[k][i].forEach((byT) => (byT[t] = 0));
          placement.unservedRps[k][i][t] = one.regions[r.id]?.unservedRps ?? 0;
        });
        for (const route of one.routes) placement.servedRps[k][regionIndex.get(route.region)!][siteIndex.get(route.site)!][t] = route.requestsPerS;
      });
    });
    bound.value += plan.bound.value;
    bound.planValue += plan.bound.planValue;
    bound.placements++;
    bound.method = plan.bound.method;
    return plan.committed;
  };

  const claim: FirstClaim = {
    place: placeAt,
    atSlot(t: number, runs: readonly ClaimRun[], batchUnits: ReadonlyMap<string, number>) {
      if (t >= grid.slots) return { preempt: [], added: [] };
      const needs: BurstNeed[] = [];
      p.services.forEach((c, k) => {
        // Actual ÷ provisioned demand: the slot's error over the headroom the plan provisioned.
        const factor = input.actual.factor[c.spec.id]?.[t] ?? 1;
        const f = factor / h[k];
        const q = quantile(input.actual.minuteProfile[c.spec.id]?.[t], c.spec.latency.percentile);
        const perExtra = c.capacityRps * (1 - c.warmShare);
        for (const j of c.sites) {
          const loadRps = siteLoadRps(p, placement, h, k, j, t, factor);
          const capacity = plannedCapacity(p, placement, k, j, t);
          const deficitRps = loadRps * q - capacity;
          if (deficitRps <= EPS || perExtra <= EPS) continue;
          const regions = p.regions.flatMap((r, i) => (placement.servedRps[k][i][j][t] > EPS ? [{ region: r.id, forecastRps: c.demandRps[i][t] / h[k], actualRps: c.demandRps[i][t] * f }] : []));
          needs.push({ service: c.spec.id, site: sites[j].id, pool: poolKey(k, j), unitsPerReplica: c.spec.unitsPerReplica, replicas: Math.ceil(deficitRps / perExtra - EPS), deficitRps, rpsPerReplica: perExtra, regions });
        }
      });
      if (needs.length === 0) return { preempt: [], added: [] };
      const free: Record<string, number> = {};
      const planned = plannedUnitsAt(p, placement, t);
      for (const [pool, units] of poolUnits) free[pool] = units - (batchUnits.get(pool) ?? 0) - (planned.get(pool) ?? 0);
      const added: CommittedUse[] = [];
      const preempt: string[] = [];
      // Where a burst may go: the site the load balancer sends it to, then the other sites within the latency
      // objective of every region that site serves, nearest first (the balancer sends the excess there). Free units
      // at all of them first; only then pre-emption, in the same order: the least batch work is paused (coverBursts).
      const plans: BurstPlan[] = needs.map((need) => {
        const k = p.services.findIndex((c) => c.spec.id === need.service);
        const c = p.services[k];
        const home = sites.findIndex((x) => x.id === need.site);
        const served = p.regions.flatMap((_, i) => (placement.servedRps[k][i][home][t] > EPS ? [i] : []));
        const worstMs = (j: number) => Math.max(...served.map((i) => p.roundTripsMs.get(p.regions[i].id)!.get(sites[j].id)!));
        const others = c.sites.filter((j) => j !== home && served.every((i) => c.feasible[i].includes(j))).sort((a, b) => worstMs(a) - worstMs(b) || a - b);
        return { need, elsewhere: others.map((j) => ({ site: sites[j].id, pool: poolKey(k, j) })) };
      });
      const cover = coverBursts(plans, free, runs.map((r) => ({ id: r.jobId, pool: r.pool, units: r.units, interruptible: r.interruptible })));
      for (const run of cover.preempted) {
        preemptions.push({ slot: t, jobId: run.run, pool: run.pool, units: run.units, reasons: run.reasons });
        preempt.push(run.run);
      }
      for (const g of cover.replicas) {
        const k = p.services.findIndex((c) => c.spec.id === g.service);
        const c = p.services[k];
        const j = sites.findIndex((x) => x.id === g.site);
        const home = sites.findIndex((x) => x.id === g.home);
        burstReplicas.push({ service: c.spec.id, site: g.site, slot: t, replicas: g.replicas, units: g.replicas * c.spec.unitsPerReplica });
        if (j === home) extra[k][j][t] += g.replicas;
        else spill.push({ k, from: home, at: j, t, replicas: g.replicas });
        const pool = c.pool[j]!;
        // Planned energy of the extra replicas: at full load (the burst), with their cold start.
        const kWh = ((g.replicas * c.spec.unitsPerReplica * powerAtLoadW(pool.powerCurve, 1) * p.slotHours) / 1000 + g.replicas * c.spec.coldStart.energyKWh) * sites[j].pue;
        added.push({ siteId: g.site, poolId: pool.id, units: g.replicas * c.spec.unitsPerReplica, slots: [t], energyKWh: [kWh] });
      }
      burstsShort += cover.shortRps.filter((x) => x > EPS).length;
      return { preempt, added };
    },
  };

  return {
    claim,
    outcome: () => {
      // Units the replicas held per pool and slot: placed and burst ones.
      const heldUnits = new Map<string, Int32Array>();
      for (let t = 0; t < grid.slots; t++)
        for (const [pool, units] of plannedUnitsAt(p, placement, t)) {
          if (!heldUnits.has(pool)) heldUnits.set(pool, new Int32Array(grid.slots));
          heldUnits.get(pool)![t] += units;
        }
      for (const b of burstReplicas) {
        const pool = poolKey(p.services.findIndex((c) => c.spec.id === b.service), siteIndex.get(b.site)!);
        if (!heldUnits.has(pool)) heldUnits.set(pool, new Int32Array(grid.slots));
        heldUnits.get(pool)![b.slot] += b.units;
      }
      const gapPct = bound.planValue === 0 ? 0 : ((bound.planValue - bound.value) / Math.abs(bound.planValue)) * 100;
      const method = `${bound.placements} placements, one per cycle over its look-ahead; value and planValue summed over them (each slot once per placement that covered it); each: ${bound.method}`;
      return { ...account(p, placement, extra, spill, h, input), preemptions, burstsShort, burstReplicas, heldUnits, bound: { value: bound.value, planValue: bound.planValue, gapPct, method } };
    },
  };
}

/**
 * Requests/s of region i's actual demand the load balancer sends to site j in slot t: all of the region's demand
 * (`factor` × the forecast), split by the plan's routing weights — also the part the plan could not provision for,
 * which then meets the capacity there; a region the plan routes nowhere sends nothing (all of it is late).
 */
function regionLoadRps(p: Prepared, placement: Placement, h: readonly number[], k: number, i: number, j: number, t: number, factor: number): number {
  const x = placement.servedRps[k][i][j][t];
  if (x <= EPS) return 0;
  let routed = 0;
  for (const jj of p.services[k].feasible[i]) routed += placement.servedRps[k][i][jj][t];
  return ((p.services[k].demandRps[i][t] / h[k]) * factor * x) / routed;
}

/** Requests/s of actual demand sent to site j (regionLoadRps summed over regions). */
function siteLoadRps(p: Prepared, placement: Placement, h: readonly number[], k: number, j: number, t: number, factor: number): number {
  let sum = 0;
  for (let i = 0; i < p.regions.length; i++) sum += regionLoadRps(p, placement, h, k, i, j, t, factor);
  return sum;
}

/** Requests/s the planned replicas of service k at site j serve in slot t, after the warm-up of those started. */
function plannedCapacity(p: Prepared, placement: Placement, k: number, j: number, t: number): number {
  const n = placement.replicas[k][j][t];
  const prev = t === 0 ? p.initial[k][j] : placement.replicas[k][j][t - 1];
  return servingCapacityRps(p.services[k], n, prev);
}

/** Units the planned replicas hold per `site/pool` in slot t (bursts and the idle accounting). */
function plannedUnitsAt(p: Prepared, placement: Placement, t: number): Map<string, number> {
  const out = new Map<string, number>();
  const sites = p.problem.network.sites;
  p.services.forEach((c, k) =>
    c.sites.forEach((j) => {
      const key = `${sites[j].id}/${c.pool[j]!.id}`;
      out.set(key, (out.get(key) ?? 0) + placement.replicas[k][j][t] * c.spec.unitsPerReplica);
    }),
  );
  return out;
}

/** The minute load at a percentile (nearest rank) of a slot's profile, ÷ the slot's mean; 1 without a profile. */
export function quantile(profile: Float64Array | undefined, percentile: number): number {
  if (!profile || profile.length === 0) return 1;
  const sorted = Float64Array.from(profile).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((percentile / 100) * sorted.length) - 1))];
}

/**
 * Requests/s served within the objective by a site of `capacityRps` whose slot mean load is `loadRps` with the given
 * minute profile: each minute serves up to its capacity; the rest of that minute's requests are late.
 */
export function withinObjectiveRps(loadRps: number, capacityRps: number, profile: Float64Array | undefined): number {
  if (!profile || profile.length === 0) return Math.min(loadRps, capacityRps);
  let sum = 0;
  for (const m of profile) sum += Math.min(loadRps * m, capacityRps);
  return sum / profile.length;
}

/** The services accounted with actual demand: requests within the objective per region, energy per service and site. */
function account(p: Prepared, placement: Placement, extra: Int32Array[][], spill: readonly { k: number; from: number; at: number; t: number; replicas: number }[], h: readonly number[], input: ServicesSimInput): Omit<ServicesOutcome, 'preemptions' | 'burstsShort' | 'burstReplicas' | 'heldUnits' | 'bound'> {
  const sites = p.problem.network.sites;
  const slotS = p.problem.grid.slotMinutes * 60;
  const regions = p.regions.map((r) => ({ region: r.id, requests: 0, withinObjective: 0 }));
  const uses: ServicesOutcome['uses'] = [];
  const spillFrom = new Map<string, { at: number; replicas: number }[]>();
  for (const x of spill) {
    const key = `${x.k}/${x.from}/${x.t}`;
    spillFrom.set(key, [...(spillFrom.get(key) ?? []), x]);
  }
  const perService = p.services.map((c, k) => {
    const totals = { service: c.spec.id, requests: 0, withinObjective: 0, replicaHours: 0, extraReplicaHours: 0, coldStarts: 0 };
    const factor = input.actual.factor[c.spec.id];
    const profiles = input.actual.minuteProfile[c.spec.id];
    const perExtra = c.capacityRps * (1 - c.warmShare);
    /** Facility energy per site and slot, and the part of it each region is charged. */
    const kWh = sites.map(() => new Float64Array(p.slots));
    const regionKWh = new Map<string, Float64Array>();
    /** Energy e at site j in slot t, charged to the regions by their requests sent to site `home` (j, or the site whose burst it served). */
    const charge = (j: number, t: number, e: number, home: number) => {
      kWh[j][t] += e;
      const key = `${j}/${t}`;
      let by = regionKWh.get(key);
      if (!by) regionKWh.set(key, (by = new Float64Array(p.regions.length)));
      const factor = input.actual.factor[c.spec.id]?.[t] ?? 1;
      const sent = p.regions.map((_, i) => regionLoadRps(p, placement, h, k, i, home, t, factor));
      const total = sent.reduce((a, b) => a + b, 0);
      if (total > EPS) sent.forEach((x, i) => (by[i] += (e * x) / total));
    };
    /** IT energy of `replicas` replicas at site j serving `servedRps`, plus their cold starts, × PUE. */
    const energy = (j: number, replicas: number, servedRps: number, starts: number) => {
      const load = Math.min(1, servedRps / (replicas * c.capacityRps));
      const itKWh = (replicas * c.spec.unitsPerReplica * powerAtLoadW(c.pool[j]!.powerCurve, load) * p.slotHours) / 1000;
      return (itKWh + starts * c.spec.coldStart.energyKWh) * sites[j].pue;
    };
    for (const j of c.sites) {
      for (let t = 0; t < p.slots; t++) {
        const n = placement.replicas[k][j][t];
        const e = extra[k][j][t];
        if (n + e === 0) continue;
        const prev = t === 0 ? p.initial[k][j] : placement.replicas[k][j][t - 1];
        const starts = Math.max(0, n - prev) + e;
        const loadRps = siteLoadRps(p, placement, h, k, j, t, factor?.[t] ?? 1);
        const capacityRps = plannedCapacity(p, placement, k, j, t) + e * perExtra;
        const local = withinObjectiveRps(loadRps, capacityRps, profiles?.[t]);
        // Replicas started elsewhere for this site's burst serve what its own cannot, each minute.
        const lent = spillFrom.get(`${k}/${j}/${t}`) ?? [];
        const lentReplicas = lent.reduce((sum, x) => sum + x.replicas, 0);
        const within = lentReplicas > 0 ? withinObjectiveRps(loadRps, capacityRps + lentReplicas * perExtra, profiles?.[t]) : local;
        for (const x of lent) {
          charge(x.at, t, energy(x.at, x.replicas, ((within - local) * x.replicas) / lentReplicas, x.replicas), j);
          totals.replicaHours += x.replicas * p.slotHours;
          totals.extraReplicaHours += x.replicas * p.slotHours;
          totals.coldStarts += x.replicas;
        }
        // Each region served here gets its share of the requests within the objective.
        p.regions.forEach((_, i) => {
          const sent = regionLoadRps(p, placement, h, k, i, j, t, factor?.[t] ?? 1);
          if (sent > EPS && loadRps > EPS) regions[i].withinObjective += ((within * sent) / loadRps) * slotS;
        });
        totals.withinObjective += within * slotS;
        totals.replicaHours += (n + e) * p.slotHours;
        totals.extraReplicaHours += e * p.slotHours;
        totals.coldStarts += starts;
        charge(j, t, energy(j, n + e, local, starts), j);
      }
    }
    kWh.forEach((byT, j) =>
      byT.forEach((e, t) => {
        if (e <= 0) return;
        // Replicas nobody was routed to (minimum replicas) are charged to every region alike.
        const by = regionKWh.get(`${j}/${t}`)!;
        const sum = by.reduce((a, b) => a + b, 0);
        const regionShares = sum > EPS ? Array.from(by, (x) => x / sum) : p.regions.map(() => 1 / p.regions.length);
        uses.push({ service: c.spec.id, siteId: sites[j].id, slots: [t], energyKWh: [e], transfer: null, regionShares });
      }),
    );
    // Requests: every region's actual demand, served or not (the plan's unserved share is never within the objective).
    p.regions.forEach((_, i) => {
      for (let t = 0; t < p.slots; t++) {
        const requests = (c.demandRps[i][t] / h[k]) * (factor?.[t] ?? 1) * slotS;
        regions[i].requests += requests;
        totals.requests += requests;
      }
    });
    return totals;
  });
  return { routing: input.routing, uses, regions, perService };
}

/** One simulation of batch with the services as first claim: the engine's outcome and the services' (CLI, bench, tests). */
export function simulateWithServices(sim: Omit<SimulationInput, 'firstClaim'>, services: Omit<ServicesSimInput, 'scenario'>): { outcome: SimOutcome; services: ServicesOutcome } {
  const run = servicesSim({ ...services, scenario: sim.scenario });
  const outcome = simulate({ ...sim, firstClaim: run.claim });
  return { outcome, services: run.outcome() };
}
