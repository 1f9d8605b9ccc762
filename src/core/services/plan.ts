/**
 * A services plan (docs/services.md "The plan"): placement (placement.ts) accounted slot by slot with the energy
 * model of batch (docs/energy-model.md: power curve × PUE, renewables first and shared in proportion to energy,
 * after committed work), with the bound and its gap, and the services' use of the pools as `CommittedUse` entries
 * that batch planning reserves (`kumul plan --services-plan`). Called by `kumul services plan` and the benchmark.
 */
import type { CommittedUse } from '../dispatch/cycle.ts';
import { powerAtLoadW } from '../model/power.ts';
import { slotStartMs } from '../model/types.ts';
import { place, prepare, type PlaceOptions, type Placement, type Prepared, type ServicesProblem } from './placement.ts';
import { replicaRequestsPerS, type ServiceSpec } from './model.ts';

export interface ServicesPlanOptions extends PlaceOptions {
  /** As the user wrote it: `cost`, `carbon`, `green` or a mix. */
  objectiveName: string;
  /** Scenario id, for the document. */
  scenarioId: string;
}

/** Energy, green energy, cost and carbon of something over the plan. */
export interface Figures {
  energyKWh: number;
  greenKWh: number;
  costYuan: number;
  carbonKg: number;
}

export interface RegionSlot {
  demandRps: number;
  servedRps: number;
  unservedRps: number;
  /** Worst round trip + service time over the sites serving it, ms, at the service's percentile; null when nothing is served. */
  latencyMs: number | null;
  /**
   * Why demand is unserved (only when some is): `latency` (no site within the objective), `quota` (the tenant's
   * maxConcurrentUnits holds no more replicas with its batch work), `capacity` (the pools within the objective are full).
   */
  unservedReason?: 'latency' | 'quota' | 'capacity';
}

export interface ServiceSlot {
  service: string;
  /** Replicas per site id (sites with none left out). */
  replicas: Record<string, number>;
  /** Replicas started this slot per site id (cold starts). */
  coldStarts: Record<string, number>;
  /** Requests/s from a region to a site, and its weight: the share of the region's served demand sent there. */
  routes: { region: string; site: string; requestsPerS: number; weight: number }[];
  regions: Record<string, RegionSlot>;
}

export interface SiteSlot extends Figures {
  site: string;
  /** Units the services hold, per pool id. */
  units: Record<string, number>;
}

export interface SlotPlan extends Figures {
  slot: number;
  start: string;
  services: ServiceSlot[];
  sites: SiteSlot[];
}

export interface ServiceTotals extends Figures {
  service: string;
  replicaHours: number;
  coldStarts: number;
  /** Requests over the plan: demanded, served within the objective, unserved. */
  requests: number;
  servedRequests: number;
  unservedRequests: number;
  /** Share of requests served within the latency objective, %. */
  attainmentPct: number;
}

export interface ServicesPlan {
  format: 'kumul-services-plan';
  version: 1;
  scenario: string;
  start: string;
  slotMinutes: number;
  slots: number;
  signals: 'forecast';
  objective: string;
  services: (ServiceSpec & { replicaRequestsPerS: number })[];
  /** Round trip from each user region to each site, ms. */
  roundTripsMs: Record<string, Record<string, number>>;
  /** Replicas running before slot 0, by service and site. */
  initialReplicas: Record<string, Record<string, number>>;
  /** Objective units charged per request left unserved (docs/services.md, "Unserved demand"). */
  unservedPenaltyPerRequest: number;
  plan: SlotPlan[];
  perService: ServiceTotals[];
  perRegion: Record<string, { requests: number; servedRequests: number; unservedRequests: number; attainmentPct: number; worstLatencyMs: number | null }>;
  totals: Figures & { replicaHours: number; coldStarts: number; warmUpKWh: number; requests: number; servedRequests: number; unservedRequests: number; attainmentPct: number; objectiveValue: number; penaltyValue: number };
  bound: { objective: string; value: number; planValue: number; gapPct: number; method: string };
  /** Batch work the placement planned around (its units per pool and slot and its energy), as given. */
  batch: CommittedUse[];
  /** The services' own use of the pools, for batch planning to reserve (`kumul plan --services-plan`). */
  committed: CommittedUse[];
  warnings: string[];
}

/** Plans services on a problem: placement with its bound, accounted. */
export function servicesPlan(problem: ServicesProblem, options: ServicesPlanOptions): ServicesPlan {
  const prepared = prepare(problem, options.scores, options.routing);
  const placement = place(prepared, options);
  return accountPlacement(prepared, placement, options);
}

/** Accounts a placement: per slot, site and service its energy and figures; totals; the bound's gap; committed use. */
export function accountPlacement(p: Prepared, placement: Placement, options: Pick<ServicesPlanOptions, 'objectiveName' | 'scenarioId'>): ServicesPlan {
  const { network, grid, signals } = p.problem;
  const sites = network.sites;
  const slotS = grid.slotMinutes * 60;
  /** Requests left unserved for a quota, per quota group. */
  const quotaUnserved = new Map<number, number>();
  const R = p.regions.length;
  const zero = (): Figures => ({ energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0 });
  const perService = p.services.map((c) => ({ service: c.spec.id, ...zero(), replicaHours: 0, coldStarts: 0, requests: 0, servedRequests: 0, unservedRequests: 0, attainmentPct: 100 }));
  const regionTotals = p.regions.map(() => ({ requests: 0, servedRequests: 0, unservedRequests: 0, worstLatencyMs: null as number | null }));
  const totals = { ...zero(), replicaHours: 0, coldStarts: 0, warmUpKWh: 0, requests: 0, servedRequests: 0, unservedRequests: 0, attainmentPct: 100, objectiveValue: 0, penaltyValue: 0 };
  const units = new Map<string, Int32Array>();
  const poolKWh = new Map<string, Float64Array>();
  const plan: SlotPlan[] = [];
  for (let t = 0; t < grid.slots; t++) {
    // Facility energy of each service at each site.
    const kWh = p.services.map(() => new Float64Array(sites.length));
    const services: ServiceSlot[] = p.services.map((c, k) => {
      const replicas: Record<string, number> = {};
      const coldStarts: Record<string, number> = {};
      for (const j of c.sites) {
        const n = placement.replicas[k][j][t];
        const prev = t === 0 ? p.initial[k][j] : placement.replicas[k][j][t - 1];
        const starts = Math.max(0, n - prev);
        if (n === 0) continue;
        let servedRps = 0;
        for (let r = 0; r < R; r++) servedRps += placement.servedRps[k][r][j][t];
        const pool = c.pool[j]!;
        const load = Math.min(1, servedRps / (n * c.capacityRps));
        const itKWh = (n * c.spec.unitsPerReplica * powerAtLoadW(pool.powerCurve, load) * p.slotHours) / 1000;
        const warmKWh = starts * c.spec.coldStart.energyKWh * sites[j].pue;
        kWh[k][j] = itKWh * sites[j].pue + warmKWh;
        replicas[sites[j].id] = n;
        if (starts > 0) coldStarts[sites[j].id] = starts;
        perService[k].replicaHours += n * p.slotHours;
        perService[k].coldStarts += starts;
        totals.warmUpKWh += warmKWh;
        const key = `${sites[j].id}\u0000${pool.id}`;
        if (!units.has(key)) {
          units.set(key, new Int32Array(grid.slots));
          poolKWh.set(key, new Float64Array(grid.slots));
        }
        units.get(key)![t] += n * c.spec.unitsPerReplica;
        poolKWh.get(key)![t] += kWh[k][j];
      }
      const routes: ServiceSlot['routes'] = [];
      const regions: Record<string, RegionSlot> = {};
      // The tenant's quota is full when it holds no further replica of this service.
      const q = p.quotaOf[k];
      const quotaFull = q >= 0 && p.quotas[q].services.reduce((u, kk) => u + p.services[kk].sites.reduce((v, j) => v + placement.replicas[kk][j][t] * p.services[kk].spec.unitsPerReplica, 0), 0) + c.spec.unitsPerReplica > p.quotas[q].free[t];
      p.regions.forEach((region, r) => {
        const demandRps = c.demandRps[r][t];
        const unservedRps = placement.unservedRps[k][r][t];
        const unservedReason = unservedRps <= 1e-9 ? undefined : c.feasible[r].length === 0 ? 'latency' : quotaFull ? 'quota' : 'capacity';
        if (unservedReason === 'quota') quotaUnserved.set(q, (quotaUnserved.get(q) ?? 0) + unservedRps * slotS);
        let servedRps = 0;
        let latencyMs: number | null = null;
        for (const j of c.feasible[r]) {
          const rps = placement.servedRps[k][r][j][t];
          if (rps <= 1e-9) continue;
          servedRps += rps;
          latencyMs = Math.max(latencyMs ?? 0, p.roundTripsMs.get(region.id)!.get(sites[j].id)! + c.spec.latency.serviceTimeMs);
        }
        for (const j of c.feasible[r]) {
          const rps = placement.servedRps[k][r][j][t];
          if (rps > 1e-9) routes.push({ region: region.id, site: sites[j].id, requestsPerS: rps, weight: rps / servedRps });
        }
        if (demandRps > 0 || servedRps > 0) regions[region.id] = { demandRps, servedRps, unservedRps, latencyMs, ...(unservedReason ? { unservedReason } : {}) };
        const requests = demandRps * slotS;
        perService[k].requests += requests;
        perService[k].servedRequests += servedRps * slotS;
        perService[k].unservedRequests += unservedRps * slotS;
        regionTotals[r].requests += requests;
        regionTotals[r].servedRequests += servedRps * slotS;
        regionTotals[r].unservedRequests += unservedRps * slotS;
        if (latencyMs !== null) regionTotals[r].worstLatencyMs = Math.max(regionTotals[r].worstLatencyMs ?? 0, latencyMs);
        totals.penaltyValue += unservedRps * p.penaltyPerRps;
      });
      return { service: c.spec.id, replicas, coldStarts, routes, regions };
    });
    // Renewables first, after committed work, shared in proportion to energy; then grid at the slot's rates.
    const slotFigures = zero();
    const siteSlots: SiteSlot[] = [];
    sites.forEach((site, j) => {
      let energyKWh = 0;
      for (let k = 0; k < p.services.length; k++) energyKWh += kWh[k][j];
      if (energyKWh <= 0) return;
      const greenKWh = Math.min(energyKWh, p.greenKWh[j][t]);
      const sig = signals[site.id];
      const share = greenKWh / energyKWh;
      const figures = (e: number): Figures => ({
        energyKWh: e,
        greenKWh: e * share,
        costYuan: e * share * site.renewable.priceYuanPerKWh + e * (1 - share) * sig.priceYuanPerKWh[t],
        carbonKg: (e * share * site.renewable.carbonGPerKWh + e * (1 - share) * sig.carbonGPerKWh[t]) / 1000,
      });
      const f = figures(energyKWh);
      totals.objectiveValue += greenKWh * p.greenRate[j] + (energyKWh - greenKWh) * p.gridRate[j][t];
      for (let k = 0; k < p.services.length; k++) if (kWh[k][j] > 0) add(perService[k], figures(kWh[k][j]));
      add(slotFigures, f);
      const siteUnits: Record<string, number> = {};
      for (const pool of site.pools) {
        const u = units.get(`${site.id}\u0000${pool.id}`)?.[t] ?? 0;
        if (u > 0) siteUnits[pool.id] = u;
      }
      siteSlots.push({ site: site.id, units: siteUnits, ...f });
    });
    add(totals, slotFigures);
    plan.push({ slot: t, start: new Date(slotStartMs(grid, t)).toISOString(), services, sites: siteSlots, ...slotFigures });
  }
  for (const s of perService) {
    s.attainmentPct = s.requests > 0 ? (s.servedRequests / s.requests) * 100 : 100;
    totals.requests += s.requests;
    totals.servedRequests += s.servedRequests;
    totals.unservedRequests += s.unservedRequests;
    totals.replicaHours += s.replicaHours;
    totals.coldStarts += s.coldStarts;
  }
  totals.attainmentPct = totals.requests > 0 ? (totals.servedRequests / totals.requests) * 100 : 100;
  const planValue = totals.objectiveValue + totals.penaltyValue;
  const committed: CommittedUse[] = [];
  for (const [key, byT] of units) {
    const [siteId, poolId] = key.split('\u0000');
    const energy = poolKWh.get(key)!;
    let run: CommittedUse | null = null;
    for (let t = 0; t < grid.slots; t++) {
      if (byT[t] === 0) {
        run = null;
        continue;
      }
      if (run === null || run.units !== byT[t]) committed.push((run = { siteId, poolId, units: byT[t], slots: [], energyKWh: [] }));
      run.slots.push(t);
      run.energyKWh.push(energy[t]);
    }
  }
  const warnings = [...p.warnings];
  for (const [q, requests] of quotaUnserved) warnings.push(`${Math.round(requests)} requests are unserved because ${p.quotas[q].id} holds no more replicas with its batch work (unservedReason 'quota')`);
  if (totals.unservedRequests > 0)
    warnings.push(`${Math.round(totals.unservedRequests)} requests (${(100 - totals.attainmentPct).toFixed(3)} %) are unserved: no capacity or no site within their latency objective; see plan[].services[].regions[].unservedRps`);
  return {
    format: 'kumul-services-plan',
    version: 1,
    scenario: options.scenarioId,
    start: new Date(grid.startMs).toISOString(),
    slotMinutes: grid.slotMinutes,
    slots: grid.slots,
    signals: 'forecast',
    objective: options.objectiveName,
    services: p.services.map((c) => ({ ...c.spec, replicaRequestsPerS: replicaRequestsPerS(c.spec.throughput) })),
    roundTripsMs: Object.fromEntries([...p.roundTripsMs].map(([r, bySite]) => [r, Object.fromEntries(bySite)])),
    initialReplicas: Object.fromEntries(p.services.map((c, k) => [c.spec.id, Object.fromEntries(sites.flatMap((s, j) => (p.initial[k][j] > 0 ? [[s.id, p.initial[k][j]]] : [])))])),
    unservedPenaltyPerRequest: p.penaltyPerRps / slotS,
    plan,
    perService,
    perRegion: Object.fromEntries(
      p.regions.map((r, i) => {
        const x = regionTotals[i];
        return [r.id, { ...x, attainmentPct: x.requests > 0 ? (x.servedRequests / x.requests) * 100 : 100 }];
      }),
    ),
    totals,
    bound: {
      objective: options.objectiveName,
      value: placement.bound.value,
      planValue,
      gapPct: planValue === 0 ? 0 : ((planValue - placement.bound.value) / Math.abs(planValue)) * 100,
      method: placement.bound.method,
    },
    batch: [...(p.problem.committed ?? [])],
    committed,
    warnings,
  };
}

function add(into: Figures, f: Figures): void {
  into.energyKWh += f.energyKWh;
  into.greenKWh += f.greenKWh;
  into.costYuan += f.costYuan;
  into.carbonKg += f.carbonKg;
}
