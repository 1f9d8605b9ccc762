/**
 * The state of one planning cycle: per site, the renewable energy and the load already planned in
 * each slot, weighted prices of green and grid energy, and per pool the free units in each slot.
 * Built from an immutable snapshot by the planner; the bound reads the same prices.
 */
import type { Job, Network, Pool, PoolClass, Site, SiteSignals, TimeGrid } from '../model/types.ts';
import { slotMs } from '../model/types.ts';
import { busyUnitFacilityKW, idleUnitFacilityKW } from '../model/power.ts';
import { nodesOn, reserveNodes, type PowerPolicy } from '../energy/idle.ts';
import { runTimeMs } from '../model/capability.ts';
import { addSegmentsGB, computeRoutes, reservedTransferDurationS, transferSegments, type LinkReserveGB, type Route, type RouteTable, type TransferSegment } from '../network/routes.ts';
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
  /**
   * How idle nodes are powered (default: always on). Under `sleep` the plan minimises the jobs' energy and the idle
   * energy together: a job pays for the idle units it makes busy and for each node it keeps awake (PoolIdle).
   */
  power?: PowerPolicy;
  /**
   * Link capacity backups hold, GB per directed hop and slot of `grid` (core/backup/planner.ts `backupReservation`):
   * job input moves on what it leaves (`reservedTransferDurationS`). Absent: jobs see every link whole.
   */
  linkReserveGB?: LinkReserveGB;
  /**
   * GB per directed hop and slot of `grid` that job input already under way moves (transfers committed by earlier
   * cycles; the simulator and the service loop pass them): taken like the reservation. Absent: none.
   */
  committedLinkGB?: LinkReserveGB;
}

export interface PoolState {
  pool: Pool;
  /** Facility kWh one unit uses in one full slot. */
  kWhPerUnitSlot: number;
  free: Int32Array;
  /** Under the sleep policy: what the pool draws while idle, so that plans count it (null: always on, idle not planned). */
  idle: PoolIdle | null;
}

/**
 * A pool's idle draw as the planner counts it under the sleep policy (src/core/energy/idle.ts says the same per slot):
 * the nodes on (`nodesOn` of the units held) draw the idle power of each unit not busy, the others their sleep power.
 * So a job's units in a slot replace idle draw by busy draw, and a job that needs one more node on pays for that
 * node's idle units above its sleep power. Wake-up energy is left to the accounting (it depends on the slot before).
 */
export interface PoolIdle {
  power: PowerPolicy;
  /** Facility kWh of one idle unit in a full slot. */
  unitIdleKWh: number;
  /** Facility kWh one node draws in a full slot when on and idle, above its draw asleep (0 for pools that never sleep). */
  nodeOnKWh: number;
}

export interface SiteState {
  index: number;
  site: Site;
  signals: SiteSignals;
  /** Renewable energy available per slot, kWh. */
  greenKWh: Float64Array;
  /** Facility energy already planned per slot, kWh: committed work, under the sleep policy the idle draw, and the jobs placed so far. */
  loadKWh: Float64Array;
  /** The committed work's part of it (never changed): plan values count what comes on top (`valueAboveCommitted`). */
  committedKWh: Float64Array;
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
  /** When the job could start here (release or now, plus moving its input) and when its window ends (deadline, or the horizon's end), ms. */
  readyMs: number;
  endMs: number;
  /** The slots the window touches: the one holding `readyMs` to the one holding the window's last instant. */
  firstSlot: number;
  lastSlot: number;
  /** The job's run time here (its duration ÷ the pool's speed, `runTimeMs`), ms, and the same in slots (a fraction when not whole). */
  workMs: number;
  workSlots: number;
  route: Route;
  transferS: number;
  /** Weighted objective of moving the input here. */
  transferScore: number;
  /**
   * The pieces its input moves in (`transferSegments`), worked out when the job is first committed here on the link
   * state `transferS` was timed on (`linkVersion`); null until then, or when nothing moves.
   */
  transferSegments: TransferSegment[] | null;
  linkVersion: number;
}

export interface JobContext {
  job: Job;
  index: number;
  /** Index of the job's origin among the sites (-1 when unknown). */
  originIndex: number;
  /** Slot in which the input transfer would start (release or now). */
  transferStartSlot: number;
  options: SiteOption[];
  rejected: Rejection[];
  /** The cycle's link state its transfers were timed on (`Cycle.linkVersion`), and whether other jobs' transfers were in it. */
  linkVersion: number;
  contended: boolean;
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
  /**
   * GB taken per directed hop and slot: the reservation, transfers under way, and the input of the jobs committed so
   * far (`takeTransfer`); null while nothing is taken (every link whole). Later jobs move their input on what it leaves.
   */
  private linkTaken: Map<string, Float64Array> | null;
  /** Bumped whenever `linkTaken` changes: a job context timed on an older state is rebuilt (`current`). */
  private linkVersion = 0;
  /** Job transfers of this cycle now in `linkTaken`. */
  private jobTransfers = 0;

  constructor(
    readonly snapshot: Snapshot,
    readonly profile: Profile,
    registry: Registry,
  ) {
    const { grid, network, signals } = snapshot;
    this.slotMs = slotMs(grid);
    this.filters = profile.filters.map((name) => registry.filter(name));
    this.scores = Object.entries(profile.scores)
      .filter(([, weight]) => weight !== 0)
      .map(([name, weight]) => ({ plugin: registry.score(name), weight }));
    const base = basis(snapshot, registry, this.scores);
    this.routes = base.routes;
    this.routeRows = base.routeRows;
    this.siteIndex = base.siteIndex;
    this.view = { site: network.sites[0], signals: signals[network.sites[0]?.id], pool: undefined, route: undefined, transferS: 0, readyMs: 0, endMs: 0, grid };
    this.sites = base.sites.map((b, index) => {
      const pools = new Map<PoolClass, PoolState>();
      for (const [poolClass, p] of b.pools) pools.set(poolClass, { ...p, free: p.free.slice() });
      return { ...b, index, loadKWh: b.loadKWh.slice(), pools };
    });
    this.linkTaken = base.linkTaken && new Map([...base.linkTaken].map(([key, row]) => [key, row.slice()]));
  }

  /**
   * The job's context on the current link state: `ctx` itself, or rebuilt when its input moves and the links changed
   * since it was made (a job committed or taken back). The planner calls it for a job it cannot place, so that its
   * reasons are those of the links now.
   */
  current(ctx: JobContext): JobContext {
    if (ctx.linkVersion === this.linkVersion || !(ctx.job.inputGb > 0) || this.profile.sites === 'origin') return ctx;
    return this.jobContext(ctx.job, ctx.index);
  }

  /**
   * Whether the input of `job` still takes `option.transferS` to get there on the links now (true when nothing moves or
   * nothing changed since it was timed); when it does, the option is stamped with the current state. The planner
   * chooses on a context that may be older and checks its choice with this: false makes it rebuild the context and
   * choose again. Jobs committed since only take capacity, so in the greedy pass every other option is as good as or
   * worse than it was and a choice whose own transfer is unchanged is still the best.
   */
  stillTimed(job: Job, option: SiteOption): boolean {
    if (option.linkVersion === this.linkVersion || !(job.inputGb > 0) || option.route.links.length === 0) return true;
    const { grid, nowMs } = this.snapshot;
    const readyMs = Math.ceil(Math.max(job.releaseMs, nowMs, grid.startMs));
    if (reservedTransferDurationS(option.route, job.inputGb, readyMs, grid, this.linkTaken ?? undefined) !== option.transferS) return false;
    option.linkVersion = this.linkVersion;
    option.transferSegments = null;
    return true;
  }

  /**
   * Adds (+1) or removes (−1) the GB a job's input moves to `option` on each hop and slot, so that later jobs see them
   * taken. Called by the planner's `apply` as it commits or takes back a placement; the pieces are worked out at the
   * first commit, on the link state the option was timed on (a different one is a bug).
   */
  takeTransfer(job: Job, option: SiteOption, sign: 1 | -1): void {
    if (!(job.inputGb > 0) || option.route.links.length === 0) return;
    if (option.transferSegments === null) {
      if (option.linkVersion !== this.linkVersion) throw new Error(`job ${job.id}: its transfer was timed on link state ${option.linkVersion}, committed on ${this.linkVersion}`);
      const { grid, nowMs } = this.snapshot;
      option.transferSegments = transferSegments(option.route, job.inputGb, Math.ceil(Math.max(job.releaseMs, nowMs, grid.startMs)), grid, this.linkTaken ?? undefined);
    }
    this.linkTaken ??= new Map();
    addSegmentsGB(this.linkTaken, option.route.path, option.transferSegments, this.snapshot.grid, sign);
    this.jobTransfers += sign;
    this.linkVersion++;
  }

  /** GB taken per directed hop and slot now (reservation, transfers under way, the jobs committed so far); tests and checks read it. */
  linkTakenGB(): LinkReserveGB {
    return this.linkTaken ?? new Map();
  }

  /** Weighted sum of the profile's scores. */
  weigh(value: (plugin: ScorePlugin) => number): number {
    let sum = 0;
    for (const { plugin, weight } of this.scores) sum += weight * value(plugin);
    return sum;
  }

  /** Runs the filters for a job at every site and fixes each allowed site's window (to the second: slots only price energy). */
  jobContext(job: Job, index: number): JobContext {
    const { grid, nowMs } = this.snapshot;
    // Whole milliseconds inside the window: runs start and end on them.
    const readyMs = Math.ceil(Math.max(job.releaseMs, nowMs, grid.startMs));
    const transferStartSlot = Math.floor((readyMs - grid.startMs) / this.slotMs);
    const gridEndMs = grid.startMs + grid.slots * this.slotMs;
    const endMs = Math.floor(Math.min(job.deadlineMs, gridEndMs));
    const lastSlot = Math.min(grid.slots - 1, Math.floor((endMs - 1 - grid.startMs) / this.slotMs));
    const originRoutes = this.routeRows.get(job.origin);
    const origin = this.snapshot.signals[job.origin];
    const transferSlot = Math.min(grid.slots - 1, Math.max(0, transferStartSlot));
    const options: SiteOption[] = [];
    const rejected: Rejection[] = [];
    const view = this.view;
    view.endMs = endMs;
    for (const state of this.sites) {
      const { site } = state;
      if (this.profile.sites === 'origin' && site.id !== job.origin) {
        rejected.push({ site: site.id, code: 'not the origin', reason: 'not the origin (the policy runs jobs at their origin)' });
        continue;
      }
      const route = originRoutes?.[state.index];
      const gb = route && route.links.length > 0 ? job.inputGb : 0;
      const transferS = route ? reservedTransferDurationS(route, gb, readyMs, grid, this.linkTaken ?? undefined) : 0;
      const siteReadyMs = readyMs + Math.ceil(transferS * 1000);
      view.site = site;
      view.signals = state.signals;
      view.pool = state.pools.get(job.poolClass)?.pool;
      view.route = route;
      view.transferS = transferS;
      view.readyMs = siteReadyMs;
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
      const firstSlot = Math.max(0, Math.floor((siteReadyMs - grid.startMs) / this.slotMs));
      const workMs = runTimeMs(job, view.pool!);
      options.push({ siteIndex: state.index, readyMs: siteReadyMs, endMs, firstSlot, lastSlot, workMs, workSlots: workMs / this.slotMs, route: route!, transferS, transferScore, transferSegments: null, linkVersion: this.linkVersion });
    }
    return { job, index, originIndex: this.siteIndex.get(job.origin) ?? -1, transferStartSlot, options, rejected, linkVersion: this.linkVersion, contended: this.jobTransfers > 0 };
  }
}

/** What every cycle on one snapshot under one set of weights starts from: routes, prices, and the committed work's load and units. */
interface Basis {
  routes: RouteTable;
  routeRows: Map<string, (Route | undefined)[]>;
  siteIndex: Map<string, number>;
  sites: Omit<SiteState, 'index'>[];
  /** The reservation and the transfers under way, GB per directed hop and slot (null: none). */
  linkTaken: Map<string, Float64Array> | null;
}

/**
 * The planner builds several cycles on one snapshot (the greedy pass, the baseline guard, a guided re-plan,
 * the bound): their common start is worked out once per snapshot, registry and weights, and copied.
 */
const bases = new WeakMap<Snapshot, WeakMap<Registry, Map<string, Basis>>>();

function basis(snapshot: Snapshot, registry: Registry, scores: readonly { plugin: ScorePlugin; weight: number }[]): Basis {
  let byRegistry = bases.get(snapshot);
  if (!byRegistry) bases.set(snapshot, (byRegistry = new WeakMap()));
  let byWeights = byRegistry.get(registry);
  if (!byWeights) byRegistry.set(registry, (byWeights = new Map()));
  const key = scores.map((s) => `${s.plugin.name}=${s.weight}`).join(',');
  let known = byWeights.get(key);
  if (!known) byWeights.set(key, (known = makeBasis(snapshot, scores)));
  return known;
}

function makeBasis(snapshot: Snapshot, scores: readonly { plugin: ScorePlugin; weight: number }[]): Basis {
  const { grid, network, signals } = snapshot;
  const slotHours = grid.slotMinutes / 60;
  const routes = computeRoutes(network);
  const routeRows = new Map([...routes].map(([origin, to]) => [origin, network.sites.map((s) => to.get(s.id))]));
  const siteIndex = new Map(network.sites.map((s, i) => [s.id, i]));
  const sites = network.sites.map((site) => {
    const sig = signals[site.id];
    const gridRate = new Float64Array(grid.slots);
    const greenKWh = new Float64Array(grid.slots);
    let greenRate = 0;
    for (const { plugin, weight } of scores) {
      greenRate += weight * plugin.greenPerKWh(site, sig);
      for (let t = 0; t < grid.slots; t++) gridRate[t] += weight * plugin.gridPerKWh(site, sig, t);
    }
    for (let t = 0; t < grid.slots; t++) {
      const kw = sig.renewableKW[t];
      greenKWh[t] = kw > 0 ? kw * slotHours : 0;
    }
    const pools = new Map<PoolClass, PoolState>();
    for (const pool of site.pools) {
      const kWhPerUnitSlot = busyUnitFacilityKW(pool, site.pue) * slotHours;
      pools.set(pool.class, { pool, kWhPerUnitSlot, free: new Int32Array(grid.slots).fill(pool.units), idle: poolIdle(pool, site.pue, slotHours, snapshot.power) });
    }
    return { site, signals: sig, greenKWh, loadKWh: new Float64Array(grid.slots), committedKWh: new Float64Array(0), greenRate, gridRate, minGridRate: new RangeMin(gridRate), pools };
  });
  // Committed work's energy, and under the sleep policy the idle draw around it (its busy share from its energy).
  const busyUnitSlots = new Map<PoolState, Float64Array>();
  for (const use of snapshot.committed ?? []) {
    const site = sites[siteIndex.get(use.siteId)!];
    const pool = [...site.pools.values()].find((p) => p.pool.id === use.poolId)!;
    let busy = busyUnitSlots.get(pool);
    if (!busy) busyUnitSlots.set(pool, (busy = new Float64Array(grid.slots)));
    use.slots.forEach((t, i) => {
      site.loadKWh[t] += use.energyKWh[i];
      pool.free[t] -= use.units;
      busy[t] += use.energyKWh[i] / pool.kWhPerUnitSlot;
    });
  }
  for (const site of sites) {
    site.committedKWh = site.loadKWh.slice();
    for (const pool of site.pools.values()) {
      const idle = pool.idle;
      if (!idle) continue;
      const nodes = Math.floor(pool.pool.units / pool.pool.unitsPerNode);
      const busy = busyUnitSlots.get(pool);
      for (let t = 0; t < grid.slots; t++) {
        const on = nodesOn(pool.pool, pool.pool.units - pool.free[t], idle.power);
        const asleepKWh = (nodes - on) * (pool.pool.unitsPerNode * idle.unitIdleKWh - idle.nodeOnKWh);
        site.loadKWh[t] += on * pool.pool.unitsPerNode * idle.unitIdleKWh - (busy?.[t] ?? 0) * idle.unitIdleKWh + asleepKWh;
      }
    }
  }
  return { routes, routeRows, siteIndex, sites, linkTaken: takenAtStart(snapshot) };
}

/** The snapshot's reservation and committed transfers summed per directed hop and slot, or null when both are empty. */
function takenAtStart(snapshot: Snapshot): Map<string, Float64Array> | null {
  const slots = snapshot.grid.slots;
  const taken = new Map<string, Float64Array>();
  for (const part of [snapshot.linkReserveGB, snapshot.committedLinkGB]) {
    for (const [key, row] of part ?? []) {
      let sum = taken.get(key);
      if (!sum) taken.set(key, (sum = new Float64Array(slots)));
      for (let t = 0; t < slots; t++) sum[t] += row[t] ?? 0;
    }
  }
  return taken.size > 0 ? taken : null;
}

/** A pool's idle draw under the sleep policy (null otherwise): what `addedKWh` and the bound's `relaxIdle` price. */
function poolIdle(pool: Pool, pue: number, slotHours: number, power: PowerPolicy | undefined): PoolIdle | null {
  if (power?.policy !== 'sleep') return null;
  const unitIdleKWh = idleUnitFacilityKW(pool, pue) * slotHours;
  const sleepKWh = pool.powerStates ? (pool.powerStates.sleepWPerNode * pue * slotHours) / 1000 : 0;
  return { power, unitIdleKWh, nodeOnKWh: pool.powerStates ? pool.unitsPerNode * unitIdleKWh - sleepKWh : 0 };
}

/**
 * Facility energy a job of `units` adds to its site by running `share` of slot `t` in this pool, given the units the
 * pool's other work holds there now (call it before taking the job's units, or after giving them back): its busy
 * energy, and under the sleep policy less the idle draw of the units it makes busy, plus each node it keeps awake.
 * The planner's search, its bookkeeping and the plan's explanations all price a job by this.
 */
export function addedKWh(pool: PoolState, units: number, t: number, share: number): number {
  const busyKWh = units * pool.kWhPerUnitSlot * share;
  const idle = pool.idle;
  if (idle === null) return busyKWh;
  const held = pool.pool.units - pool.free[t];
  const woken = idle.nodeOnKWh === 0 ? 0 : nodesOn(pool.pool, held + units, idle.power) - nodesOn(pool.pool, held, idle.power);
  return busyKWh - units * share * idle.unitIdleKWh + woken * idle.nodeOnKWh;
}

/**
 * The bound's view of a cycle under the sleep policy (a no-op otherwise): the nodes on, a step in the units held, are
 * relaxed to the chord from (0 held, reserve on) to (all held, all on), which lies under the step (nodes on is
 * concave in the units held, within its cap). So a unit held costs a fixed share of a node's idle draw, linear like
 * the rest of the relaxation: each pool's energy per unit slot becomes its busy energy less the idle draw it replaces
 * plus that share, and the committed work's nodes in each site's base load move to the chord too. A job's units
 * held are counted by its busy share (at most what it holds). Every term is at most the planner's, so the bound
 * stays a bound of the plan's jobs and idle energy together.
 */
export function relaxIdle(cycle: Cycle): void {
  const slots = cycle.snapshot.grid.slots;
  for (const site of cycle.sites) {
    for (const pool of site.pools.values()) {
      const idle = pool.idle;
      if (!idle) continue;
      const { units, unitsPerNode } = pool.pool;
      const nodes = Math.floor(units / unitsPerNode);
      const reserve = Math.min(nodes, reserveNodes(pool.pool, idle.power));
      const perHeldKWh = units > 0 ? ((nodes - reserve) / units) * idle.nodeOnKWh : 0;
      for (let t = 0; t < slots; t++) {
        const held = units - pool.free[t];
        // The base's nodes on (the committed work's step) replaced by the chord at the units it holds.
        site.loadKWh[t] += (reserve - nodesOn(pool.pool, held, idle.power)) * idle.nodeOnKWh + held * perHeldKWh;
      }
      pool.kWhPerUnitSlot += perHeldKWh - idle.unitIdleKWh;
      pool.idle = null;
    }
  }
}

/**
 * Weighted objective of a site's load above its committed work over all slots, renewable first: the idle draw and
 * the jobs placed (the planner's objective without transfers), or in the bound's relaxed cycle its base.
 */
export function valueAboveCommitted(site: SiteState): number {
  let total = 0;
  for (let t = 0; t < site.loadKWh.length; t++) total += loadValue(site, t, site.loadKWh[t]) - loadValue(site, t, site.committedKWh[t]);
  return total;
}

/** Weighted objective of a load of `kWh` at a site in slot `t`, renewable first. */
function loadValue(site: SiteState, t: number, kWh: number): number {
  const green = Math.min(kWh, site.greenKWh[t]);
  return green * site.greenRate + (kWh - green) * site.gridRate[t];
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
