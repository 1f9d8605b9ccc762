/**
 * Placement of inference services with a proven lower bound (issue 12, docs/services.md "The model and its bound").
 * Called by `servicesPlan` (plan.ts) for `kumul services plan` and the benchmark.
 *
 * Per slot: integer replicas per service and site, requests/s routed from each user region to sites within its
 * latency objective, demand left unserved at a large penalty; capacity (replicas × units ≤ the pool's units left by
 * committed batch work), warm-up (a replica started in a slot serves only after `warmUpS`, and each start costs its
 * cold-start energy), minimum replicas; energy priced renewables first like batch (score plugins' rates).
 *
 * The LP relaxation (replicas continuous, power on the curve's convex envelope), strengthened by rounding cuts
 * (`roundingCuts`) and charged for the one replica each service runs at partial load (`partialReplicaPremium`),
 * solved by HiGHS is a proven lower bound. Up to `maxColumns` the whole horizon is one LP; beyond, the horizon is cut
 * in windows whose LPs are solved with the starts at each window's first slot relaxed (still a bound: it drops
 * constraints). The plan rounds the same LP's replicas up (capacity only grows, so its routing stays feasible) slot by
 * slot from the plan's own previous replicas, adds replicas where the actual warm-up leaves too little capacity,
 * re-solves a slot where rounding overfills a pool, then improves each slot locally on the power curve itself
 * (improve.ts: drops replicas whose load fits elsewhere, fills fuller replicas). `exact` solves the whole horizon as
 * one MIP instead.
 */
import type { LpModel, LpSolver } from '../lp/model.ts';
import { LpBuilder } from '../lp/model.ts';
import type { CommittedUse } from '../dispatch/cycle.ts';
import type { ScorePlugin } from '../dispatch/framework.ts';
import type { Network, Pool, SiteSignals, TimeGrid, UserRegion } from '../model/types.ts';
import { improveSlot } from './improve.ts';
import { chordGap, powerEnvelope, replicaRequestsPerS, roundTripsMs, withinObjective, type DemandSeries, type PowerLine, type ServiceSpec } from './model.ts';

/** Everything one services placement reads; never modified. */
export interface ServicesProblem {
  network: Network;
  grid: TimeGrid;
  /** The series plans use: forecasts. */
  signals: Record<string, SiteSignals>;
  userRegions: readonly UserRegion[];
  services: readonly ServiceSpec[];
  demand: readonly DemandSeries[];
  /** Work already decided (a batch plan) whose units and energy come first. */
  committed?: readonly CommittedUse[];
  /** Replicas running before slot 0, by service and site id (default none: every replica of slot 0 is a cold start). */
  initialReplicas?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /**
   * Caps on the units of groups of services over all sites, per slot: a tenant's quota (maxConcurrentUnits of a pool
   * class) less what its batch work holds (kumul serve's loop gives them). `id` names it in reasons.
   */
  quotas?: readonly { id: string; services: readonly string[]; unitsLeft: readonly number[] }[];
}

export interface PlaceOptions {
  solver: LpSolver;
  /** The weighted objective: score plugins and their weights (the same as batch). */
  scores: readonly { plugin: ScorePlugin; weight: number }[];
  /** Largest LP solved at once, in columns (default 1,000: measured fastest, one LP per slot or a few); beyond it the horizon is solved in windows. */
  maxColumns?: number;
  /** Solve the whole horizon as one MIP (small instances: tests and checks). */
  exact?: boolean;
  /** Time limit of each MIP, seconds (default 10). */
  mipTimeLimitS?: number;
  /**
   * `objective` (default): route where the objective is least. `nearest`: the baseline that keeps replicas at the
   * sites nearest their users: each region's requests go to its lowest round trip first (spilling to the next only
   * when a pool is full), the objective deciding only among equal round trips.
   */
  routing?: 'objective' | 'nearest';
}

/** One service as the LP sees it. */
export interface ServiceColumns {
  spec: ServiceSpec;
  /** Requests/s of one replica. */
  capacityRps: number;
  /** Share of a slot a started replica spends warming up (0..1). */
  warmShare: number;
  /** Site indices the service may run at. */
  sites: number[];
  /** Per region index: the sites (indices) within its latency objective. */
  feasible: number[][];
  /** Per region index: requests/s per slot (zeros when none). */
  demandRps: Float64Array[];
  /**
   * Regions with the same feasible sites, merged: the LP routes a group's demand, and each region of it gets its
   * share of the group's routing (exact: they may use the same sites). Keeps the LP small.
   */
  groups: { regions: number[]; sites: number[]; demandRps: Float64Array; costPerRps: number[] }[];
  /** Per site index: minimum replicas there; the pool that runs it (undefined: cannot run there). */
  minAtSite: number[];
  pool: (Pool | undefined)[];
  /**
   * The bound's charge for the replica a service must run at partial load (`partialReplicaPremium`): per slot the
   * least objective the power curve adds over the LP's chord, and the most it falls per req/s left unserved.
   */
  partialObjective: Float64Array;
  partialPerRps: Float64Array;
  /** Rounding cuts: each union of groups' sites, with the groups whose sites all lie in it (`addRoundingCuts`). */
  cuts: { sites: number[]; groups: number[] }[];
}

/** The problem indexed for the LP: sites, rates, what committed work leaves. */
export interface Prepared {
  problem: ServicesProblem;
  slots: number;
  slotHours: number;
  services: ServiceColumns[];
  regions: readonly UserRegion[];
  roundTripsMs: Map<string, Map<string, number>>;
  /** Per site: objective per kWh of renewable energy, and of grid energy per slot. */
  greenRate: number[];
  gridRate: Float64Array[];
  /** Per site: renewable energy left by committed work per slot, kWh. */
  greenKWh: Float64Array[];
  /** Per site: committed work's energy per slot, kWh. */
  committedKWh: Float64Array[];
  /** Free units per pool id per slot. */
  freeUnits: Map<string, Int32Array>;
  /** Per site: convex envelope of each pool's curve, by pool id. */
  envelopes: Map<string, PowerLine[]>;
  /** Objective units per req/s left unserved for one slot. */
  penaltyPerRps: number;
  /** Replicas before slot 0, per service index and site index. */
  initial: Float64Array[];
  /** Quota groups: the service indices and the units left per slot; `quotaOf[k]`: service k's group (−1: none). */
  quotas: { id: string; services: number[]; free: Int32Array }[];
  quotaOf: number[];
  warnings: string[];
}

/** The placement: integer replicas and routing per slot, and the bound. */
export interface Placement {
  /** replicas[k][j][t]. */
  replicas: Int32Array[][];
  /** servedRps[k][r][j][t], requests/s from region r to site j. */
  servedRps: Float64Array[][][];
  /** unservedRps[k][r][t]. */
  unservedRps: Float64Array[][];
  bound: { value: number; method: string };
}

const EPS = 1e-6;

/** Indexes a problem for placement and accounting: feasible pairs, rates, capacity left by committed work, the penalty. */
export function prepare(problem: ServicesProblem, scores: PlaceOptions['scores'], routing: PlaceOptions['routing'] = 'objective'): Prepared {
  const { grid, network, signals } = problem;
  const slots = grid.slots;
  const slotHours = grid.slotMinutes / 60;
  const siteIndex = new Map(network.sites.map((s, j) => [s.id, j]));
  const regionIndex = new Map(problem.userRegions.map((r, i) => [r.id, i]));
  const rtt = roundTripsMs(network, problem.userRegions);
  const warnings: string[] = [];
  const greenRate = network.sites.map((site) => scores.reduce((sum, { plugin, weight }) => sum + weight * plugin.greenPerKWh(site, signals[site.id]), 0));
  const gridRate = network.sites.map((site) => {
    const rates = new Float64Array(slots);
    for (const { plugin, weight } of scores) for (let t = 0; t < slots; t++) rates[t] += weight * plugin.gridPerKWh(site, signals[site.id], t);
    return rates;
  });
  const committedKWh = network.sites.map(() => new Float64Array(slots));
  const freeUnits = new Map<string, Int32Array>();
  const envelopes = new Map<string, PowerLine[]>();
  for (const site of network.sites)
    for (const pool of site.pools) {
      freeUnits.set(pool.id, new Int32Array(slots).fill(pool.units));
      envelopes.set(pool.id, powerEnvelope(pool.powerCurve));
    }
  for (const use of problem.committed ?? []) {
    const j = siteIndex.get(use.siteId);
    const free = freeUnits.get(use.poolId);
    if (j === undefined || !free) continue;
    use.slots.forEach((t, i) => {
      if (t < 0 || t >= slots) return;
      free[t] -= use.units;
      committedKWh[j][t] += use.energyKWh[i];
    });
  }
  const greenKWh = network.sites.map((site, j) => {
    const out = new Float64Array(slots);
    for (let t = 0; t < slots; t++) out[t] = Math.max(0, Math.max(0, signals[site.id].renewableKW[t]) * slotHours - committedKWh[j][t]);
    return out;
  });
  const services = problem.services.map((spec): ServiceColumns => {
    const pool = network.sites.map((site) => site.pools.find((p) => p.class === spec.poolClass));
    const sites = network.sites.flatMap((site, j) => (pool[j] && pool[j].units >= spec.unitsPerReplica && (spec.sites === null || spec.sites.includes(site.id)) ? [j] : []));
    const feasible = problem.userRegions.map((region) => sites.filter((j) => withinObjective(rtt.get(region.id)?.get(network.sites[j].id), spec.latency)));
    const minAtSite = network.sites.map((site) => spec.minReplicas.perSite[site.id] ?? 0);
    return {
      spec,
      capacityRps: replicaRequestsPerS(spec.throughput),
      warmShare: Math.min(1, spec.coldStart.warmUpS / (grid.slotMinutes * 60)),
      sites,
      feasible,
      demandRps: problem.userRegions.map(() => new Float64Array(slots)),
      groups: [],
      minAtSite,
      pool,
      partialObjective: new Float64Array(slots),
      partialPerRps: new Float64Array(slots),
      cuts: [],
    };
  });
  const serviceIndex = new Map(problem.services.map((s, k) => [s.id, k]));
  for (const series of problem.demand) {
    const k = serviceIndex.get(series.service);
    const r = regionIndex.get(series.region);
    if (k === undefined || r === undefined) continue;
    const into = services[k].demandRps[r];
    for (let t = 0; t < slots; t++) into[t] += Math.max(0, series.requestsPerS[t] ?? 0);
  }
  // Round trips priced above any energy (a tenth of the penalty at the longest) for the nearest-site baseline.
  const longestMs = Math.max(1, ...[...rtt.values()].flatMap((bySite) => [...bySite.values()]));
  for (const c of services) {
    const byKey = new Map<string, ServiceColumns['groups'][number]>();
    c.feasible.forEach((sitesOf, r) => {
      const key = routing === 'nearest' ? `region ${r}` : sitesOf.join(',');
      let g = byKey.get(key);
      if (!g) {
        const costPerRps = sitesOf.map((j) => (routing === 'nearest' ? (rtt.get(problem.userRegions[r].id)!.get(network.sites[j].id)! / longestMs) * 100 * dearestReplicaSlot(services, network, slotHours, maxRate(greenRate, gridRate)) : 0));
        byKey.set(key, (g = { regions: [], sites: sitesOf, demandRps: new Float64Array(slots), costPerRps }));
      }
      g.regions.push(r);
      for (let t = 0; t < slots; t++) g.demandRps[t] += c.demandRps[r][t];
    });
    c.groups = [...byKey.values()];
    if (routing !== 'nearest') {
      c.cuts = siteUnions(c.groups);
      partialReplicaPremium(c, network, slotHours, greenRate, gridRate, greenKWh);
    }
  }
  services.forEach((c) =>
    c.demandRps.forEach((d, r) => {
      if (c.feasible[r].length === 0 && d.some((v) => v > 0))
        warnings.push(`service '${c.spec.id}': no site is within ${c.spec.latency.objectiveMs} ms of region '${problem.userRegions[r].id}' (service time ${c.spec.latency.serviceTimeMs} ms); its demand is unserved`);
    }),
  );
  const initial = services.map((c) => {
    const byId = problem.initialReplicas?.[c.spec.id] ?? {};
    return Float64Array.from(network.sites, (site) => byId[site.id] ?? 0);
  });
  // A req/s left unserved for a slot costs 1,000 times a whole replica-slot with a cold start at the dearest rate:
  // demand goes unserved only where latency or capacity leaves no way to serve it.
  const dearest = dearestReplicaSlot(services, network, slotHours, maxRate(greenRate, gridRate));
  const penaltyPerRps = 1000 * Math.max(dearest, 1e-6);
  const quotaOf = services.map(() => -1);
  const quotas = (problem.quotas ?? []).map((q, i) => {
    const members = q.services.flatMap((id) => (serviceIndex.has(id) ? [serviceIndex.get(id)!] : []));
    for (const k of members) quotaOf[k] = i;
    return { id: q.id, services: members, free: Int32Array.from({ length: slots }, (_, t) => Math.max(0, Math.floor(Math.min(2 ** 30, q.unitsLeft[t] ?? Infinity)))) };
  });
  return { problem, slots, slotHours, services, regions: problem.userRegions, roundTripsMs: rtt, greenRate, gridRate, greenKWh, committedKWh, freeUnits, envelopes, penaltyPerRps, initial, quotas, quotaOf, warnings };
}

/**
 * Fills `partialObjective` and `partialPerRps` of a service, terms the bound may add (prepare calls it). With a concave
 * curve P and its chord L(u) = P(0) + (P(1) − P(0))·u, the LP prices a replica at load u at L(u), the plan at P(u).
 * Over all replicas of a service in a slot, Σ loads = served ÷ capacity = y, and the least of Σ (P − L)(load) — a sum
 * of concave functions, zero at loads 0 and 1 — is at a vertex, where one replica carries frac(y): so every integer
 * placement costs at least (P − L)(frac y) × units × PUE × hours × the least marginal rate more than the LP says.
 * As unserved demand U changes y, the term falls by at most steepest × U ÷ capacity: the LP charges U that much less.
 * Curves that are not concave, or rates ≤ 0, add nothing.
 */
function partialReplicaPremium(c: ServiceColumns, network: Network, slotHours: number, greenRate: readonly number[], gridRate: readonly Float64Array[], greenKWh: readonly Float64Array[]): void {
  const gaps = c.sites.map((j) => chordGap(c.pool[j]!.powerCurve));
  if (gaps.length === 0 || gaps.some((g) => g === null)) return;
  const steepestW = Math.max(...gaps.map((g) => g!.steepestW));
  const kWhPerW = (c.spec.unitsPerReplica * slotHours) / 1000;
  for (let t = 0; t < c.partialObjective.length; t++) {
    // The least marginal rate: renewable only where some is left in the slot.
    const rate = Math.min(...c.sites.map((j) => network.sites[j].pue * (greenKWh[j][t] > 0 ? Math.min(greenRate[j], gridRate[j][t]) : gridRate[j][t])));
    if (!(rate > 0)) continue;
    let demandRps = 0;
    for (const g of c.groups) demandRps += g.demandRps[t];
    const y = demandRps / c.capacityRps;
    const gapW = Math.min(...gaps.map((g) => g!.atW(y - Math.floor(y))));
    c.partialObjective[t] = rate * kWhPerW * gapW;
    c.partialPerRps[t] = (rate * kWhPerW * steepestW) / c.capacityRps;
  }
}

/** Every union of the groups' site sets, each with the groups whose sites lie inside it: the rounding cuts' sets. */
function siteUnions(groups: ServiceColumns['groups']): ServiceColumns['cuts'] {
  const unions = new Map<string, Set<number>>();
  for (const g of groups) {
    if (g.sites.length === 0) continue;
    for (const u of [...unions.values(), new Set<number>()]) {
      const union = new Set([...u, ...g.sites]);
      const key = [...union].sort((x, y) => x - y).join(',');
      // At most 64 sets (each cut is valid alone; a network with many overlapping site sets keeps the first ones).
      if (!unions.has(key) && unions.size < 64) unions.set(key, union);
    }
  }
  return [...unions.values()].map((union) => ({ sites: [...union].sort((x, y) => x - y), groups: groups.flatMap((g, i) => (g.sites.length > 0 && g.sites.every((j) => union.has(j)) ? [i] : [])) }));
}

/** The objective of the dearest replica-slot with a cold start at the dearest rate: scales the penalty. */
function dearestReplicaSlot(services: readonly ServiceColumns[], network: Network, slotHours: number, rate: number): number {
  let dearest = 0;
  for (const c of services)
    for (const j of c.sites) {
      const pool = c.pool[j]!;
      const fullW = pool.powerCurve[pool.powerCurve.length - 1].powerW;
      const kWh = (c.spec.unitsPerReplica * fullW * slotHours) / 1000 + c.spec.coldStart.energyKWh;
      dearest = Math.max(dearest, kWh * network.sites[j].pue * rate);
    }
  return Math.max(dearest, 1e-6);
}

function maxRate(greenRate: readonly number[], gridRate: readonly Float64Array[]): number {
  return Math.max(1e-9, ...greenRate, ...gridRate.map((r) => r.reduce((m, v) => Math.max(m, v), 0)));
}

/** Columns of one window's LP, to read a solution back. */
interface WindowColumns {
  t0: number;
  t1: number;
  /** n[k][j][t - t0]: the replicas column (-1 where the service cannot run). */
  n: Int32Array[][];
  /** Routing of region group g of service k to site j in slot t, and its unserved demand. */
  x: { k: number; g: number; j: number; t: number; col: number }[];
  u: { k: number; g: number; t: number; col: number }[];
}

/** How a window's LP treats replicas: continuous or integer, starts linked to given previous replicas (or relaxed), or fixed. */
interface WindowMode {
  /** Replicas in the slot before t0 per service and site; null: starts at t0 are relaxed (the bound's later windows). */
  prev: Float64Array[] | null;
  integer: boolean;
  /** Replicas fixed per service and site for the single slot t0 (−1: free); used to repair a slot. */
  fixed?: Int32Array[];
}

/** The services LP over slots t0..t1 (docs/services.md lists its rows and columns). */
function buildWindow(p: Prepared, t0: number, t1: number, mode: WindowMode): { lp: LpModel; cols: WindowColumns } {
  const { network } = p.problem;
  const lp = new LpBuilder();
  const width = t1 - t0 + 1;
  const cols: WindowColumns = { t0, t1, n: p.services.map(() => network.sites.map(() => new Int32Array(width).fill(-1))), x: [], u: [] };
  const energyRows = network.sites.map(() => new Int32Array(width).fill(-1));
  const poolRows = new Map<string, Int32Array>();
  const energyRow = (j: number, t: number) => {
    if (energyRows[j][t - t0] < 0) energyRows[j][t - t0] = lp.addRow(0, 0);
    return energyRows[j][t - t0];
  };
  const poolRow = (poolId: string, t: number) => {
    let rows = poolRows.get(poolId);
    if (!rows) poolRows.set(poolId, (rows = new Int32Array(width).fill(-1)));
    if (rows[t - t0] < 0) rows[t - t0] = lp.addRow(-Infinity, Math.max(0, p.freeUnits.get(poolId)![t]));
    return rows[t - t0];
  };
  const h = p.slotHours;
  const quotaRows = p.quotas.map(() => new Int32Array(width).fill(-1));
  const quotaRow = (q: number, t: number) => {
    if (quotaRows[q][t - t0] < 0) quotaRows[q][t - t0] = lp.addRow(-Infinity, p.quotas[q].free[t]);
    return quotaRows[q][t - t0];
  };
  /** Units of each quota group's minimums already granted per slot (services in order): minimums never overfill a quota. */
  const quotaMins = p.quotas.map(() => new Float64Array(width));
  p.services.forEach((c, k) => {
    const a = c.spec.unitsPerReplica;
    const q = p.quotaOf[k];
    const pendingStart = new Int32Array(network.sites.length).fill(-1);
    for (let t = t0; t <= t1; t++) {
      const quotaReplicas = q < 0 ? Infinity : Math.floor(Math.max(0, p.quotas[q].free[t] - quotaMins[q][t - t0]) / a);
      // At least the minimum over all sites, or as many as the pools (and the tenant's quota) hold (placement warns when they hold fewer).
      const most = Math.min(quotaReplicas, c.sites.reduce((sum, j) => sum + Math.floor(Math.max(0, p.freeUnits.get(c.pool[j]!.id)![t]) / a), 0));
      const minTotal = Math.min(c.spec.minReplicas.total, most);
      let minLeft = most;
      const totalRow = minTotal > 0 && !mode.fixed?.[k].every((v, j) => v >= 0 || !c.sites.includes(j)) ? lp.addRow(minTotal, Infinity) : -1;
      const cuts = mode.fixed ? [] : roundingCuts(lp, c, t);
      lp.offset += c.partialObjective[t];
      // Per site: the capacity row (served − cap·n + cap·w·starts ≤ 0) and the energy lines.
      const capRow = new Int32Array(network.sites.length).fill(-1);
      const lineRows: number[][] = network.sites.map(() => []);
      const dynKWh = new Float64Array(network.sites.length);
      for (const j of c.sites) {
        const site = network.sites[j];
        const pool = c.pool[j]!;
        const hi = Math.min(q < 0 ? Infinity : Math.floor(p.quotas[q].free[t] / a), Math.floor(Math.max(0, p.freeUnits.get(pool.id)![t]) / a));
        const fixed = mode.fixed && mode.fixed[k][j] >= 0 ? Math.min(mode.fixed[k][j], hi) : undefined;
        const lo = fixed ?? Math.min(c.minAtSite[j], hi, minLeft);
        minLeft -= lo;
        const up = fixed ?? hi;
        const lines = p.envelopes.get(pool.id)!;
        const kWhPerW = (a * site.pue * h) / 1000;
        capRow[j] = lp.addRow(-Infinity, 0);
        const eRow = energyRow(j, t);
        const rows = [capRow[j], poolRow(pool.id, t)];
        const coefs = [-c.capacityRps, a];
        if (q >= 0) {
          rows.push(quotaRow(q, t));
          coefs.push(a);
        }
        if (totalRow >= 0) {
          rows.push(totalRow);
          coefs.push(1);
        }
        for (const cut of cuts)
          if (cut.sites.includes(j)) {
            rows.push(cut.row);
            coefs.push(1);
          }
        if (lines.length === 1) {
          rows.push(eRow);
          coefs.push(lines[0].interceptW * kWhPerW);
          dynKWh[j] = (lines[0].slopeW * kWhPerW) / c.capacityRps;
        } else {
          // energy ≥ each line: e − intercept·n − slope·served ≥ 0.
          for (const line of lines) {
            const row = lp.addRow(0, Infinity);
            lineRows[j].push(row);
            rows.push(row);
            coefs.push(-line.interceptW * kWhPerW);
          }
          lp.addCol(0, 0, Infinity, [...lineRows[j], eRow], [...lines.map(() => 1), -1]);
        }
        // Starts: s_t ≥ n_t − n_{t−1}. The row of slot t was opened by n_{t−1}'s column (+1); at t0 it holds the
        // previous replicas as its bound, or is left out (relaxed).
        const startRow = t > t0 ? pendingStart[j] : mode.prev ? lp.addRow(-mode.prev[k][j], Infinity) : -1;
        const nextRow = t < t1 ? lp.addRow(0, Infinity) : -1;
        if (startRow >= 0) {
          rows.push(startRow);
          coefs.push(-1);
        }
        if (nextRow >= 0) {
          rows.push(nextRow);
          coefs.push(1);
        }
        pendingStart[j] = nextRow;
        cols.n[k][j][t - t0] = lp.addCol(0, lo, up, rows, coefs, mode.integer && fixed === undefined);
        const sRows = [eRow, capRow[j]];
        const sCoefs = [c.spec.coldStart.energyKWh * site.pue, c.capacityRps * c.warmShare];
        if (startRow >= 0) {
          sRows.push(startRow);
          sCoefs.push(1);
        }
        lp.addCol(0, 0, startRow >= 0 ? Infinity : 0, sRows, sCoefs);
      }
      if (q >= 0) quotaMins[q][t - t0] += Math.max(minTotal, most - minLeft) * a;
      c.groups.forEach((group, g) => {
        const d = group.demandRps[t];
        if (d <= 0) return;
        const row = lp.addRow(d, d);
        group.sites.forEach((j, i) => {
          const rows = [row, capRow[j]];
          const coefs = [1, 1];
          if (lineRows[j].length === 0) {
            rows.push(energyRow(j, t));
            coefs.push(dynKWh[j]);
          } else {
            const lines = p.envelopes.get(c.pool[j]!.id)!;
            const kWhPerW = (a * network.sites[j].pue * h) / 1000;
            lineRows[j].forEach((lr, i) => {
              rows.push(lr);
              coefs.push((-lines[i].slopeW * kWhPerW) / c.capacityRps);
            });
          }
          cols.x.push({ k, g, j, t, col: lp.addCol(group.costPerRps[i], 0, Infinity, rows, coefs) });
        });
        const uRows = [row];
        const uCoefs = [1];
        for (const cut of cuts)
          if (cut.groups.includes(g)) {
            uRows.push(cut.row);
            uCoefs.push(cut.perUnservedRps);
          }
        cols.u.push({ k, g, t, col: lp.addCol(p.penaltyPerRps - c.partialPerRps[t], 0, d, uRows, uCoefs) });
      });
    }
  });
  // Energy of each site and slot: renewable (up to what committed work leaves) and grid.
  energyRows.forEach((rows, j) =>
    rows.forEach((row, i) => {
      if (row < 0) return;
      lp.addCol(p.greenRate[j], 0, p.greenKWh[j][t0 + i], [row], [-1]);
      lp.addCol(p.gridRate[j][t0 + i], 0, Infinity, [row], [-1]);
    }),
  );
  return { lp: lp.build(), cols };
}

/**
 * Adds the rounding cuts of service c in slot t to the LP (buildWindow calls it) and returns their rows. The demand D
 * of the groups whose sites all lie in a set J is served by the replicas in J or left unserved (U):
 * Σ_J n + U ÷ cap ≥ y = D ÷ cap with integer n, whose mixed-integer rounding with f = y − ⌊y⌋ > 0 is
 * Σ_J n + U ÷ (cap·f) ≥ ⌈y⌉ (if Σ_J n ≤ ⌈y⌉ − 1 − m, capacity needs U ÷ cap ≥ f + m ≥ f·(1 + m)). Valid for every
 * integer placement, warm-up included (it only lowers capacity), so the bound stays a bound.
 */
function roundingCuts(lp: LpBuilder, c: ServiceColumns, t: number): { row: number; sites: number[]; groups: number[]; perUnservedRps: number }[] {
  const out: ReturnType<typeof roundingCuts> = [];
  for (const cut of c.cuts) {
    let demandRps = 0;
    for (const g of cut.groups) demandRps += c.groups[g].demandRps[t];
    const y = demandRps / c.capacityRps;
    const f = y - Math.floor(y);
    // Near-integer demand: capacity already says as much (and 1 ÷ f would be ill-conditioned).
    if (demandRps <= 0 || f < 1e-4) continue;
    out.push({ row: lp.addRow(Math.ceil(y), Infinity), sites: cut.sites, groups: cut.groups, perUnservedRps: 1 / (c.capacityRps * f) });
  }
  return out;
}

/** Reads a window's solution: replicas (continuous or integer) and routing. */
function readWindow(p: Prepared, cols: WindowColumns, values: Float64Array, into: Solution): void {
  cols.n.forEach((bySite, k) =>
    bySite.forEach((byT, j) =>
      byT.forEach((col, i) => {
        into.n[k][j][cols.t0 + i] = col >= 0 ? Math.max(0, values[col]) : 0;
      }),
    ),
  );
  for (let t = cols.t0; t <= cols.t1; t++)
    p.services.forEach((c, k) =>
      c.demandRps.forEach((_, r) => {
        into.x[k][r].forEach((byT) => (byT[t] = 0));
        into.u[k][r][t] = 0;
      }),
    );
  // A group's routing shared among its regions by their demand; solver noise below a micro-request per second is zero.
  const share = (k: number, g: number, r: number, t: number) => p.services[k].demandRps[r][t] / p.services[k].groups[g].demandRps[t];
  for (const { k, g, j, t, col } of cols.x) if (values[col] > EPS) for (const r of p.services[k].groups[g].regions) into.x[k][r][j][t] = values[col] * share(k, g, r, t);
  for (const { k, g, t, col } of cols.u) if (values[col] > EPS) for (const r of p.services[k].groups[g].regions) into.u[k][r][t] = values[col] * share(k, g, r, t);
}

interface Solution {
  n: Float64Array[][];
  x: Float64Array[][][];
  u: Float64Array[][];
}

function emptySolution(p: Prepared): Solution {
  const sites = p.problem.network.sites.length;
  const z = () => new Float64Array(p.slots);
  return {
    n: p.services.map(() => Array.from({ length: sites }, z)),
    x: p.services.map(() => p.regions.map(() => Array.from({ length: sites }, z))),
    u: p.services.map(() => p.regions.map(z)),
  };
}

/** Solves an LP of the window; throws only on a solver failure (a bug or an exhausted solver), never on bad input. */
function solveWindow(p: Prepared, t0: number, t1: number, mode: WindowMode, options: PlaceOptions): { objective: number; dualBound: number; cols: WindowColumns; values: Float64Array; status: string } {
  const { lp, cols } = buildWindow(p, t0, t1, mode);
  const result = options.solver(lp, mode.integer ? { timeLimitS: options.mipTimeLimitS ?? 10 } : undefined);
  if ((result.status !== 'optimal' && result.status !== 'limit') || !result.colValue) throw new Error(`services LP of slots ${t0}..${t1} did not solve: ${result.message}`);
  return { objective: result.objective, dualBound: result.dualBound, cols, values: result.colValue, status: result.status };
}

/** Columns per slot of the LP, to size windows. */
function columnsPerSlot(p: Prepared): number {
  let n = 0;
  for (const c of p.services) {
    n += 2 * c.sites.length + c.groups.length;
    for (const g of c.groups) n += g.sites.length;
  }
  return Math.max(1, n + 2 * p.problem.network.sites.length);
}

/** Places the services: replicas, routing and unserved demand per slot, with a proven lower bound. */
export function place(p: Prepared, options: PlaceOptions): Placement {
  const sol = emptySolution(p);
  const slots = p.slots;
  const replicas = p.services.map(() => p.problem.network.sites.map(() => new Int32Array(slots)));
  const shape = `${p.services.length} services × ${p.problem.network.sites.length} sites × ${p.regions.length} user regions × ${slots} slots`;
  if (options.exact) {
    const r = solveWindow(p, 0, slots - 1, { prev: p.initial, integer: true }, options);
    readWindow(p, r.cols, r.values, sol);
    roundAndRepair(p, sol, replicas, 0, slots - 1, options);
    return { replicas, servedRps: sol.x, unservedRps: sol.u, bound: { value: r.dualBound, method: `MIP of integer replicas solved by HiGHS (${r.status === 'optimal' ? 'optimal' : 'proven bound at its time limit'}): ${shape}` } };
  }
  // Per window one LP, the bound's (starts at its first slot relaxed, except slot 0's from the initial replicas); the
  // plan rounds it up from its own previous replicas and repairs the warm-up it relaxed (one LP, not two: measured
  // 0.25 % dearer on the benchmark, a quarter fewer LPs).
  const window = Math.max(1, Math.min(slots, Math.floor((options.maxColumns ?? 1_000) / columnsPerSlot(p))));
  let value = 0;
  let windows = 0;
  for (let t0 = 0; t0 < slots; t0 += window) {
    const t1 = Math.min(slots - 1, t0 + window - 1);
    const planned = solveWindow(p, t0, t1, { prev: t0 === 0 ? p.initial : null, integer: false }, options);
    value += planned.dualBound;
    windows++;
    readWindow(p, planned.cols, planned.values, sol);
    roundAndRepair(p, sol, replicas, t0, t1, options);
  }
  if (options.routing === 'nearest') return { replicas, servedRps: sol.x, unservedRps: sol.u, bound: { value: NaN, method: 'nearest-site baseline: round trips priced first, so its LP is no bound on the objective' } };
  const how = windows === 1 ? 'the whole horizon as one LP' : `${windows} windows of ${window} slot(s), starts at each window's first slot relaxed`;
  return { replicas, servedRps: sol.x, unservedRps: sol.u, bound: { value, method: `LP relaxation of integer replicas solved by HiGHS (${how}), with rounding cuts and the partial-load replica charged on the power curve: ${shape}; the plan rounds its replicas up and improves them locally` } };
}

/**
 * Turns the solution's replicas into integers slot by slot (t0..t1), in time order. Round up (capacity only grows,
 * so the routing stays feasible); where that overfills a pool, fix the replicas of the services there (floors, then
 * +1 by largest fraction while they fit) and re-solve the slot from the plan's previous replicas; where the actual
 * warm-up leaves a service too little capacity, add replicas there, or re-solve the slot when the pools cannot hold
 * them. After a few rounds, route the slot with its replicas fixed (demand left over is reported unserved, never
 * dropped). Each slot is then improved locally (improve.ts), except for the nearest-site baseline.
 */
function roundAndRepair(p: Prepared, sol: Solution, replicas: Int32Array[][], t0: number, t1: number, options: PlaceOptions): void {
  const { network } = p.problem;
  for (let t = t0; t <= t1; t++) {
    const prev = p.services.map((_, k) => Float64Array.from(network.sites, (_s, j) => (t === 0 ? p.initial[k][j] : replicas[k][j][t - 1])));
    const fixed = p.services.map(() => new Int32Array(network.sites.length).fill(-1));
    let rounded = roundUp(p, sol, fixed, t);
    let done = false;
    for (let round = 0; round < 4 && !done; round++) {
      const full = overfullPools(p, rounded, t);
      if (full.size > 0) fixAtPools(p, sol, fixed, full, t);
      else if (routable(p, sol, rounded, prev, t)) done = true;
      else if (topUpForWarmUp(p, sol, rounded, prev, t) && overfullPools(p, rounded, t).size === 0) done = true;
      if (!done) {
        const r = solveWindow(p, t, t, { prev, integer: false, fixed }, options);
        readWindow(p, r.cols, r.values, sol);
        rounded = roundUp(p, sol, fixed, t);
      }
    }
    if (!done && (overfullPools(p, rounded, t).size > 0 || !routable(p, sol, rounded, prev, t))) {
      const full = overfullPools(p, rounded, t);
      if (full.size > 0) fixAtPools(p, sol, fixed, full, t);
      rounded = roundUp(p, sol, fixed, t);
      const r = solveWindow(p, t, t, { prev, integer: false, fixed: rounded }, options);
      readWindow(p, r.cols, r.values, sol);
    }
    p.services.forEach((_, k) => network.sites.forEach((_s, j) => (replicas[k][j][t] = rounded[k][j])));
    if (options.routing !== 'nearest') improveSlot(p, replicas, sol.x, t);
  }
}

/**
 * Where the actual warm-up (starts from the plan's own previous replicas, not the LP's) leaves a replica group short of
 * its routing, adds replicas there until it serves it (roundAndRepair tries this before re-solving the slot); false
 * when a warm-up as long as the slot makes more replicas useless. The caller checks the pools.
 */
function topUpForWarmUp(p: Prepared, sol: Solution, rounded: Int32Array[], prev: Float64Array[], t: number): boolean {
  return p.services.every((c, k) =>
    c.sites.every((j) => {
      let served = 0;
      for (let r = 0; r < p.regions.length; r++) served += sol.x[k][r][j][t];
      while (served > servingCapacityRps(c, rounded[k][j], prev[k][j]) * (1 + 1e-9) + EPS) {
        if (servingCapacityRps(c, rounded[k][j] + 1, prev[k][j]) <= servingCapacityRps(c, rounded[k][j], prev[k][j])) return false;
        rounded[k][j]++;
      }
      return true;
    }),
  );
}

/** The slot's replicas rounded up (fixed ones as fixed). */
function roundUp(p: Prepared, sol: Solution, fixed: Int32Array[], t: number): Int32Array[] {
  return p.services.map((_, k) => Int32Array.from(fixed[k], (f, j) => (f >= 0 ? f : Math.ceil(sol.n[k][j][t] - EPS))));
}

/** Pools (`pool:<id>`) and quota groups (`quota:<index>`) whose units the rounded replicas exceed in slot t. */
function overfullPools(p: Prepared, rounded: Int32Array[], t: number): Set<string> {
  const used = new Map<string, number>();
  p.services.forEach((c, k) =>
    c.sites.forEach((j) => {
      for (const id of unitGroupsOf(p, k, j)) used.set(id, (used.get(id) ?? 0) + rounded[k][j] * c.spec.unitsPerReplica);
    }),
  );
  return new Set([...used].filter(([id, units]) => units > unitsFree(p, id, t)).map(([id]) => id));
}

/** The unit groups replicas of service k at site j count in: its pool, and its tenant's quota when it has one. */
export function unitGroupsOf(p: Prepared, k: number, j: number): string[] {
  const q = p.quotaOf[k];
  return q < 0 ? [`pool:${p.services[k].pool[j]!.id}`] : [`pool:${p.services[k].pool[j]!.id}`, `quota:${q}`];
}

export function unitsFree(p: Prepared, group: string, t: number): number {
  return group.startsWith('quota:') ? p.quotas[Number(group.slice(6))].free[t] : Math.max(0, p.freeUnits.get(group.slice(5))![t]);
}

/** Fixes the replicas of every service on the given pools: floors, then one more for the largest fractions while the pool holds them. */
function fixAtPools(p: Prepared, sol: Solution, fixed: Int32Array[], pools: Set<string>, t: number): void {
  for (const poolId of pools) {
    const on: [number, number, number][] = [];
    let units = 0;
    p.services.forEach((c, k) =>
      c.sites.forEach((j) => {
        if (!unitGroupsOf(p, k, j).includes(poolId)) return;
        const n = fixed[k][j] >= 0 ? fixed[k][j] : sol.n[k][j][t];
        fixed[k][j] = Math.floor(n + EPS);
        units += fixed[k][j] * c.spec.unitsPerReplica;
        on.push([k, j, n - fixed[k][j]]);
      }),
    );
    on.sort((a, b) => b[2] - a[2]);
    const free = unitsFree(p, poolId, t);
    for (const [k, j, fraction] of on) {
      const a = p.services[k].spec.unitsPerReplica;
      if (fraction > EPS && units + a <= free) {
        fixed[k][j]++;
        units += a;
      }
    }
  }
}

/** Whether every service's routing in slot t fits the capacity its integer replicas leave after warm-up. */
function routable(p: Prepared, sol: Solution, rounded: Int32Array[], prev: Float64Array[], t: number): boolean {
  return p.services.every((c, k) =>
    c.sites.every((j) => {
      let served = 0;
      for (let r = 0; r < p.regions.length; r++) served += sol.x[k][r][j][t];
      return served <= servingCapacityRps(c, rounded[k][j], prev[k][j]) * (1 + 1e-9) + EPS;
    }),
  );
}

/** Requests/s that `n` replicas serve in a slot after `prev` ran in the slot before: started ones serve after warm-up. */
export function servingCapacityRps(c: ServiceColumns, n: number, prev: number): number {
  return c.capacityRps * (n - c.warmShare * Math.max(0, n - prev));
}
