/**
 * The state of one planning cycle: per site, the renewable energy and the load already planned in
 * each slot, weighted prices of green and grid energy, and per pool the free units in each slot.
 * Built from an immutable snapshot by the planner; the bound reads the same prices.
 */
import type { Job, Network, Pool, PoolClass, Site, SiteSignals, TimeGrid } from '../model/types.ts';
import { slotMs } from '../model/types.ts';
import { busyUnitFacilityKW } from '../model/power.ts';
import { computeRoutes, transferDurationS, type Route, type RouteTable } from '../network/routes.ts';
import type { FilterPlugin, Profile, Registry, ScorePlugin, SiteView } from './framework.ts';

/** Work already decided (running or committed) that the cycle must plan around. */
export interface CommittedUse {
  siteId: string;
  poolId: string;
  units: number;
  slots: number[];
  /** Facility energy in each slot, kWh. */
  energyKWh: number[];
}

/** Everything one planning cycle reads; never modified. */
export interface Snapshot {
  network: Network;
  grid: TimeGrid;
  /** The series plans use: forecasts. */
  signals: Record<string, SiteSignals>;
  /** Jobs to place. */
  jobs: readonly Job[];
  /** Work cannot start before this instant. */
  nowMs: number;
  committed?: readonly CommittedUse[];
}

export interface PoolState {
  pool: Pool;
  /** Facility kWh one unit uses in one full slot. */
  kWhPerUnitSlot: number;
  free: Int32Array;
}

export interface SiteState {
  index: number;
  site: Site;
  signals: SiteSignals;
  /** Renewable energy available per slot, kWh. */
  greenKWh: Float64Array;
  /** Facility energy already planned per slot, kWh. */
  loadKWh: Float64Array;
  /** Weighted objective per kWh of renewable energy. */
  greenRate: number;
  /** Weighted objective per kWh of grid energy, per slot. */
  gridRate: Float64Array;
  /** Lowest grid rate over any range of slots: prices a lower bound on a job here. */
  minGridRate: RangeMin;
  pools: Map<PoolClass, PoolState>;
}

/** A site where a job may run (it passed every filter), with its window. */
export interface SiteOption {
  siteIndex: number;
  firstSlot: number;
  lastSlot: number;
  route: Route;
  transferS: number;
  /** Weighted objective of moving the input here. */
  transferScore: number;
}

export interface JobContext {
  job: Job;
  index: number;
  slotsNeeded: number;
  /** Share of one slot the job's work leaves over (0 < f ≤ 1): it uses n−1 slots fully and one for this share. */
  partialFraction: number;
  /** Index of the job's origin among the sites (-1 when unknown). */
  originIndex: number;
  /** The slot holding the deadline, usable only for the partial share at its start; -1 when none. */
  tailSlot: number;
  /** Slot in which the input transfer would start (release or now). */
  transferStartSlot: number;
  options: SiteOption[];
  rejected: Rejection[];
}

/** A site that cannot run a job: the filter's short code and its detailed reason. */
export interface Rejection {
  site: string;
  code: string;
  reason: string;
}

export class Cycle {
  readonly sites: SiteState[];
  readonly siteIndex: Map<string, number>;
  readonly routes: RouteTable;
  /** Routes from each origin, by destination site index. */
  private readonly routeRows: Map<string, (Route | undefined)[]>;
  readonly slotMs: number;
  readonly scores: { plugin: ScorePlugin; weight: number }[];
  private readonly filters: FilterPlugin[];
  /** One view reused for every filter call of a cycle (filters must not keep it). */
  private readonly view: SiteView;

  constructor(
    readonly snapshot: Snapshot,
    readonly profile: Profile,
    registry: Registry,
  ) {
    const { grid, network, signals } = snapshot;
    this.slotMs = slotMs(grid);
    const slotHours = grid.slotMinutes / 60;
    this.routes = computeRoutes(network);
    this.routeRows = new Map([...this.routes].map(([origin, to]) => [origin, network.sites.map((s) => to.get(s.id))]));
    this.filters = profile.filters.map((name) => registry.filter(name));
    this.scores = Object.entries(profile.scores)
      .filter(([, weight]) => weight !== 0)
      .map(([name, weight]) => ({ plugin: registry.score(name), weight }));
    this.siteIndex = new Map(network.sites.map((s, i) => [s.id, i]));
    this.view = { site: network.sites[0], signals: signals[network.sites[0]?.id], pool: undefined, route: undefined, transferS: 0, firstSlot: 0, lastSlot: 0, slotsNeeded: 0, readyMs: 0, grid };
    this.sites = network.sites.map((site, index) => {
      const sig = signals[site.id];
      const gridRate = new Float64Array(grid.slots);
      for (let t = 0; t < grid.slots; t++) gridRate[t] = this.weigh((p) => p.gridPerKWh(site, sig, t));
      const pools = new Map<PoolClass, PoolState>();
      for (const pool of site.pools) {
        pools.set(pool.class, { pool, kWhPerUnitSlot: busyUnitFacilityKW(pool, site.pue) * slotHours, free: new Int32Array(grid.slots).fill(pool.units) });
      }
      return {
        index,
        site,
        signals: sig,
        greenKWh: Float64Array.from(sig.renewableKW, (kw) => Math.max(0, kw) * slotHours),
        loadKWh: new Float64Array(grid.slots),
        greenRate: this.weigh((p) => p.greenPerKWh(site, sig)),
        gridRate,
        minGridRate: new RangeMin(gridRate),
        pools,
      };
    });
    for (const use of snapshot.committed ?? []) {
      const site = this.sites[this.siteIndex.get(use.siteId)!];
      const pool = [...site.pools.values()].find((p) => p.pool.id === use.poolId)!;
      use.slots.forEach((t, i) => {
        site.loadKWh[t] += use.energyKWh[i];
        pool.free[t] -= use.units;
      });
    }
  }

  /** Weighted sum of the profile's scores. */
  weigh(value: (plugin: ScorePlugin) => number): number {
    let sum = 0;
    for (const { plugin, weight } of this.scores) sum += weight * value(plugin);
    return sum;
  }

  /** Runs the filters for a job at every site and fixes each allowed site's window. */
  jobContext(job: Job, index: number): JobContext {
    const { grid, nowMs } = this.snapshot;
    const durationSlots = (job.durationS * 1000) / this.slotMs;
    const slotsNeeded = Math.max(1, Math.ceil(durationSlots - 1e-9));
    const partialFraction = durationSlots - (slotsNeeded - 1);
    const readyMs = Math.max(job.releaseMs, nowMs);
    const transferStartSlot = Math.floor((readyMs - grid.startMs) / this.slotMs);
    // Slots that end by the deadline can run fully; the slot holding the deadline can still take the
    // job's partial share at its start when that share ends in time (the tail slot).
    const slotsBeforeDeadline = Math.floor((job.deadlineMs - grid.startMs) / this.slotMs + 1e-9);
    const tailFits = partialFraction < 1 && grid.startMs + (slotsBeforeDeadline + partialFraction) * this.slotMs <= job.deadlineMs + 1e-6;
    const tailSlot = tailFits && slotsBeforeDeadline < grid.slots ? slotsBeforeDeadline : -1;
    const lastSlot = tailSlot >= 0 ? tailSlot : Math.min(grid.slots - 1, slotsBeforeDeadline - 1);
    const originRoutes = this.routeRows.get(job.origin);
    const origin = this.snapshot.signals[job.origin];
    const transferSlot = Math.min(grid.slots - 1, Math.max(0, transferStartSlot));
    const options: SiteOption[] = [];
    const rejected: Rejection[] = [];
    const view = this.view;
    view.slotsNeeded = slotsNeeded;
    view.lastSlot = lastSlot;
    for (const state of this.sites) {
      const { site } = state;
      if (this.profile.sites === 'origin' && site.id !== job.origin) {
        rejected.push({ site: site.id, code: 'not the origin', reason: 'not the origin (the policy runs jobs at their origin)' });
        continue;
      }
      const route = originRoutes?.[state.index];
      const gb = route && route.links.length > 0 ? job.inputGb : 0;
      const transferS = route ? transferDurationS(route, gb) : 0;
      const firstSlot = Math.max(0, Math.ceil((readyMs + transferS * 1000 - grid.startMs) / this.slotMs - 1e-9));
      view.site = site;
      view.signals = state.signals;
      view.pool = state.pools.get(job.poolClass)?.pool;
      view.route = route;
      view.transferS = transferS;
      view.firstSlot = firstSlot;
      view.readyMs = readyMs + transferS * 1000;
      let rejection: Rejection | null = null;
      for (const f of this.filters) {
        const status = f.filter(job, view);
        if (!status.ok) {
          rejection = { site: site.id, code: status.code, reason: status.reason };
          break;
        }
      }
      if (rejection !== null) {
        rejected.push(rejection);
        continue;
      }
      let transferScore = 0;
      if (gb > 0) for (const { plugin, weight } of this.scores) transferScore += weight * plugin.transfer(gb, route!, origin, transferSlot);
      options.push({ siteIndex: state.index, firstSlot, lastSlot, route: route!, transferS, transferScore });
    }
    return { job, index, originIndex: this.siteIndex.get(job.origin) ?? -1, slotsNeeded, partialFraction, tailSlot, transferStartSlot, options, rejected };
  }
}

/** Objective of adding `kWh` of facility energy at a site in slot `t`, renewable first. */
export function marginalScore(site: SiteState, t: number, kWh: number): number {
  const available = site.greenKWh[t] - site.loadKWh[t];
  if (available <= 0) return kWh * site.gridRate[t];
  if (available >= kWh) return kWh * site.greenRate;
  return available * site.greenRate + (kWh - available) * site.gridRate[t];
}

/** Minimum of a fixed array over any range in O(1) (a sparse table), built once per cycle and site. */
export class RangeMin {
  private readonly levels: Float64Array[];

  constructor(values: Float64Array) {
    this.levels = [values];
    for (let width = 2; width <= values.length; width *= 2) {
      const prev = this.levels[this.levels.length - 1];
      const half = width / 2;
      const level = new Float64Array(values.length - width + 1);
      for (let i = 0; i < level.length; i++) level[i] = Math.min(prev[i], prev[i + half]);
      this.levels.push(level);
    }
  }

  /** Minimum over slots from..to (inclusive); Infinity for an empty range. */
  min(from: number, to: number): number {
    if (to < from) return Infinity;
    const k = 31 - Math.clz32(to - from + 1);
    const level = this.levels[k];
    return Math.min(level[from], level[to - (1 << k) + 1]);
  }
}
