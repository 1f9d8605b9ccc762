/**
 * A lower bound by Lagrangian relaxation, for plans too large for the exact LP (bound.ts calls it). The two
 * constraints that couple jobs are moved into the objective with prices:
 * - capacity: per pool and slot, the units of the jobs that touch the slot at most the free units (price λ ≥ 0
 *   per unit-slot);
 * - energy: per site and slot, the jobs' energy is what the site's objective is paid on, renewable first
 *   (price μ per kWh).
 * What is left splits into one exact problem per job (its cheapest place at the prices: a non-interruptible job's
 * one run, its units in every slot the run touches; an interruptible job's slots, as a fractional knapsack with each
 * slot's capacity price spread over the share it can hold) and one per site and slot (how much energy to buy,
 * at a breakpoint of the renewable-first cost). For any prices the sum is a lower bound on every plan of these jobs
 * (weak duality); the prices are improved by projected subgradient steps with Polyak's step length towards the
 * plan's value, and the best bound seen is kept, so it holds at every iteration.
 */
import { RangeMin, type Cycle, type PoolState } from './cycle.ts';
import { nextStart } from './search.ts';
import type { Guide, Placement } from './planner.ts';

export interface LagrangianOptions {
  /** The plan's value: the target of the step length and of the stopping gap. */
  upperBound: number;
  /** Stop once the bound is within this gap of `upperBound`, percent (default 1). */
  stopGapPct?: number;
  /** At most this many iterations (default 100). */
  maxIterations?: number;
  /** The caller's clock (ms) and the time allowed; without them only the iterations limit stops it. */
  clockMs?: () => number;
  timeLimitMs?: number;
}

export interface LagrangianResult {
  value: number;
  iterations: number;
  /** Each job's place at the best prices (site, and its work per slot there): a guide for re-planning. */
  guide: Guide;
}

/** One pool as the relaxation prices it: its units' energy and its capacity price per slot. */
interface PoolPrices {
  site: number;
  state: PoolState;
  /** The capacity price per kWh of a unit's full slot (λ = kWhPerUnitSlot × ν), ≥ 0. */
  nu: Float64Array;
  /** Per unit and full slot: energy at μ plus capacity at λ, and its prefix sums. */
  cost: Float64Array;
  costSum: Float64Array;
  /** Slots by `cost`, cheapest first (the interruptible jobs' greedy order). */
  order: Int32Array;
  /** The lowest `cost` over any range of slots: a lower bound on a job's cost here. */
  lowest: RangeMin;
  /** Units the jobs' places hold per slot (the capacity subgradient). */
  used: Float64Array;
  /** Per units count: prefix sums of the slots that cannot hold that many units. */
  blocked: Map<number, Int32Array>;
}

interface Option {
  pool: number;
  /** The job's run time at this pool, ms and slots. */
  workMs: number;
  workSlots: number;
  readyMs: number;
  endMs: number;
  firstSlot: number;
  lastSlot: number;
  transfer: number;
}

interface JobData {
  units: number;
  interruptible: boolean;
  options: Option[];
}

/** A job's place at the current prices: option index, and its slots with their shares. */
interface Choice {
  option: number;
  slots: number[];
  shares: number[];
  cost: number;
}

const EPS = 1e-9;

/** The gap to the plan's value at which the subgradient steps stop, percent (`stopGapPct`'s default). */
export const LAGRANGIAN_STOP_GAP_PCT = 1;

/** Slots and shares of one place, reused from job to job (the subproblems allocate nothing). */
class Slots {
  readonly slots: Int32Array;
  readonly shares: Float64Array;
  n = 0;
  constructor(size: number) {
    this.slots = new Int32Array(size);
    this.shares = new Float64Array(size);
  }
  /** Work still to place and the rate-weighted total so far, while an interruptible job's slots are taken. */
  left = 0;
  total = 0;
  push(t: number, share: number): void {
    this.slots[this.n] = t;
    this.shares[this.n++] = share;
  }
  /** Takes as much of slot `t` as it holds (`avail`) and the work needs, at `rate` per share. */
  take(t: number, avail: number, rate: number): void {
    const share = Math.min(avail, this.left);
    this.push(t, share);
    this.total += share * rate;
    this.left -= share;
  }
}

/** Lower bound on the weighted objective of placing `placements` (`base`: a fresh view of the snapshot without them). */
export function lagrangianBound(base: Cycle, placements: readonly Placement[], options: LagrangianOptions): LagrangianResult {
  const T = base.snapshot.grid.slots;
  const slotMs = base.slotMs;
  const g = base.snapshot.grid.startMs;
  const sites = base.sites;
  const pools: PoolPrices[] = [];
  const poolIndex = new Map<PoolState, number>();
  for (const site of sites) {
    for (const state of site.pools.values()) {
      poolIndex.set(state, pools.length);
      // `lowest` is built from the prices at the start of each iteration.
      const cost = new Float64Array(T);
      pools.push({ site: site.index, state, nu: new Float64Array(T), cost, costSum: new Float64Array(T + 1), order: new Int32Array(T), lowest: new RangeMin(cost), used: new Float64Array(T), blocked: new Map() });
    }
  }
  const jobs: JobData[] = placements.map((p) => {
    const { job } = p.ctx;
    const opts = p.ctx.options.map((o): Option => {
      const state = sites[o.siteIndex].pools.get(job.poolClass)!;
      const q = pools[poolIndex.get(state)!];
      if (!q.blocked.has(job.units)) {
        const sum = new Int32Array(T + 1);
        for (let t = 0; t < T; t++) sum[t + 1] = sum[t] + (state.free[t] < job.units ? 1 : 0);
        q.blocked.set(job.units, sum);
      }
      return { pool: poolIndex.get(state)!, workMs: o.workMs, workSlots: o.workSlots, readyMs: o.readyMs, endMs: o.endMs, firstSlot: o.firstSlot, lastSlot: o.lastSlot, transfer: o.transferScore };
    });
    return { units: job.units, interruptible: job.interruptible, options: opts };
  });

  // Per site and slot: the renewable energy left for new work, the most new work could draw, and μ.
  const mu = sites.map(() => new Float64Array(T));
  const greenLeft = sites.map(() => new Float64Array(T));
  const maxKWh = sites.map(() => new Float64Array(T));
  const usedKWh = sites.map(() => new Float64Array(T));
  /** The subgradient of μ: energy the jobs use less energy bought, per site and slot (rewritten every iteration). */
  const gMu = sites.map(() => new Float64Array(T));
  sites.forEach((site, s) => {
    for (let t = 0; t < T; t++) {
      let most = 0;
      for (const pool of site.pools.values()) most += Math.max(0, pool.free[t]) * pool.kWhPerUnitSlot;
      maxKWh[s][t] = most;
      greenLeft[s][t] = Math.min(Math.max(0, site.greenKWh[t] - site.loadKWh[t]), most);
      // Start from the price of the first kWh: renewable where some is left, else the grid's.
      mu[s][t] = greenLeft[s][t] > 0 ? Math.min(site.greenRate, site.gridRate[t]) : site.gridRate[t];
    }
  });

  const stopGap = (options.stopGapPct ?? LAGRANGIAN_STOP_GAP_PCT) / 100;
  const maxIterations = options.maxIterations ?? 100;
  const startMs = options.clockMs?.();
  const ub = options.upperBound;
  let best = -Infinity;
  let bestChoices: Choice[] = [];
  let theta = 1;
  let sinceBest = 0;
  let iterations = 0;
  const choices: Choice[] = new Array(jobs.length);
  // A job's place at the option being tried, and at the best option so far.
  let trial = new Slots(T);
  let kept = new Slots(T);

  while (iterations < maxIterations) {
    iterations++;
    // Prices per pool and slot.
    for (const q of pools) {
      const k = q.state.kWhPerUnitSlot;
      const m = mu[q.site];
      for (let t = 0; t < T; t++) {
        q.cost[t] = k * (m[t] + q.nu[t]);
        q.costSum[t + 1] = q.costSum[t] + q.cost[t];
        q.order[t] = t;
      }
      const cost = q.cost;
      q.order.sort((x, y) => cost[x] - cost[y]);
      q.lowest = new RangeMin(q.cost);
      q.used.fill(0);
    }
    for (const u of usedKWh) u.fill(0);

    // Each job at its cheapest place.
    let value = 0;
    jobs.forEach((job, j) => {
      let bestCost = Infinity;
      let bestOption = -1;
      // Options by a lower bound on their cost (the work at the window's cheapest slot), so that once the best
      // found is below the next bound the rest need no search; the result is the same.
      const n = job.options.length;
      for (let i = 0; i < n; i++) {
        const o = job.options[i];
        const q = pools[o.pool];
        LOWER[i] = o.transfer + job.units * o.workSlots * q.lowest.min(o.firstSlot, o.lastSlot);
        let at = i;
        while (at > 0 && LOWER[ORDER[at - 1]] > LOWER[i]) {
          ORDER[at] = ORDER[at - 1];
          at--;
        }
        ORDER[at] = i;
      }
      for (let r = 0; r < n; r++) {
        const i = ORDER[r];
        if (LOWER[i] >= bestCost) break;
        const o = job.options[i];
        const q = pools[o.pool];
        const c = job.interruptible ? cheapestSlots(q, job, o, mu[q.site], g, slotMs, trial) : cheapestRun(q, job, o, mu[q.site], g, slotMs, trial);
        if (c < bestCost) {
          bestCost = c;
          bestOption = i;
          [trial, kept] = [kept, trial];
        }
      }
      // A placed job always has a place when it is alone (its own place in the plan).
      if (bestOption < 0) throw new Error(`lagrangianBound: job ${j} has no place at any of its sites`);
      const c: Choice = { option: bestOption, slots: Array.from(kept.slots.subarray(0, kept.n)), shares: Array.from(kept.shares.subarray(0, kept.n)), cost: bestCost };
      choices[j] = c;
      value += c.cost;
      const o = job.options[c.option];
      const q = pools[o.pool];
      const fullKWh = job.units * q.state.kWhPerUnitSlot;
      const used = usedKWh[q.site];
      for (let i = 0; i < c.slots.length; i++) {
        const t = c.slots[i];
        used[t] += fullKWh * c.shares[i];
        q.used[t] += job.interruptible ? (job.units * c.shares[i]) / availability(o, t, g, slotMs) : job.units;
      }
    });

    // The energy bought per site and slot, at a breakpoint of its renewable-first cost.
    let norm = 0;
    sites.forEach((site, s) => {
      const m = mu[s];
      for (let t = 0; t < T; t++) {
        const a = greenLeft[s][t];
        const e = maxKWh[s][t];
        const atGreen = (site.greenRate - m[t]) * a;
        const atMost = atGreen + (site.gridRate[t] - m[t]) * (e - a);
        const h = Math.min(0, atGreen, atMost);
        // Where several amounts cost the same, the one nearest the jobs' use: the subgradient of least norm there.
        const tol = 1e-12 * (Math.abs(m[t]) + site.gridRate[t] + site.greenRate) * (e + 1);
        const atZero = 0 <= h + tol;
        const atA = atGreen <= h + tol;
        const atE = atMost <= h + tol;
        const used = usedKWh[s][t];
        let bought: number;
        if (atA && (atZero || atE)) bought = Math.min(Math.max(used, atZero ? 0 : a), atE ? e : a);
        else if (atZero && atE) bought = used <= e / 2 ? 0 : e;
        else bought = atZero ? 0 : atA ? a : e;
        value += h;
        const d = usedKWh[s][t] - bought;
        gMu[s][t] = d;
        norm += d * d;
      }
    });
    // Capacity: the prices times the free units.
    for (const q of pools) {
      const k = q.state.kWhPerUnitSlot;
      for (let t = 0; t < T; t++) {
        const free = Math.max(0, q.state.free[t]);
        value -= k * q.nu[t] * free;
        const d = k * (q.used[t] - free);
        // The projection keeps ν ≥ 0: a slot priced 0 with room to spare takes no part in the step.
        if (q.nu[t] > 0 || d > 0) norm += d * d;
      }
    }

    if (iterations === 1 || value > best) {
      if (iterations === 1 || value > best + 1e-4 * Math.abs(best)) sinceBest = 0;
      best = value;
      bestChoices = choices.slice();
    } else if (++sinceBest >= 10) {
      theta /= 2;
      sinceBest = 0;
    }
    if (ub - best <= stopGap * Math.abs(ub) || norm <= 1e-18 || theta < 1e-4) break;
    if (startMs !== undefined && options.timeLimitMs !== undefined && options.clockMs!() - startMs >= options.timeLimitMs) break;

    // Step towards the plan's value.
    const step = (theta * Math.max(ub - value, 1e-9 * Math.abs(ub))) / norm;
    sites.forEach((_, s) => {
      const m = mu[s];
      const d = gMu[s];
      for (let t = 0; t < T; t++) m[t] += step * d[t];
    });
    for (const q of pools) {
      const k = q.state.kWhPerUnitSlot;
      for (let t = 0; t < T; t++) {
        const free = Math.max(0, q.state.free[t]);
        const nu = q.nu[t] + step * k * (q.used[t] - free);
        q.nu[t] = nu > 0 ? nu : 0;
      }
    }
  }
  return { value: best, iterations, guide: guideOf(placements, jobs, bestChoices, pools, T) };
}

/** The share of slot `t` an option's window leaves. */
function availability(o: Option, t: number, g: number, slotMs: number): number {
  return Math.max(0, Math.min(o.endMs, g + (t + 1) * slotMs) - Math.max(o.readyMs, g + t * slotMs)) / slotMs;
}

/**
 * A non-interruptible job's cheapest run at one pool: its units in every slot the run touches (capacity price in
 * full), energy for the share it runs. Between two neighbouring candidate starts (the window's ends, slot
 * boundaries, starts that end on one) the touched slots do not shrink and the energy is linear, so the minimum
 * over all starts is at a candidate (as in search.ts).
 */
function cheapestRun(q: PoolPrices, job: JobData, o: Option, mu: Float64Array, g: number, slotMs: number, out: Slots): number {
  const { units } = job;
  const { workMs } = o;
  const first = o.readyMs;
  const last = o.endMs - workMs;
  if (last < first) return Infinity;
  const k = q.state.kWhPerUnitSlot;
  const blocked = q.blocked.get(units)!;
  const { nu, cost, costSum } = q;
  let bestStart = -1;
  let bestCost = Infinity;
  for (let s = first; ; s = nextStart(s, workMs, g, slotMs, last)) {
    const h = Math.floor((s - g) / slotMs);
    const e = Math.floor((s + workMs - 1 - g) / slotMs);
    if (blocked[e + 1] - blocked[h] === 0) {
      // The run's first and last slots for the part it runs there (energy for that share, capacity whole), the rest in full.
      let c: number;
      if (h === e) c = k * (mu[h] * (workMs / slotMs) + nu[h]);
      else {
        const headMs = g + (h + 1) * slotMs - s;
        const tailMs = s + workMs - (g + e * slotMs);
        const head = headMs === slotMs ? cost[h] : k * (mu[h] * (headMs / slotMs) + nu[h]);
        const tail = tailMs === slotMs ? cost[e] : k * (mu[e] * (tailMs / slotMs) + nu[e]);
        c = head + costSum[e] - costSum[h + 1] + tail;
      }
      if (c < bestCost) {
        bestCost = c;
        bestStart = s;
      }
    }
    if (s >= last) break;
  }
  if (bestStart < 0) return Infinity;
  out.n = 0;
  const endMs = bestStart + workMs;
  for (let t = Math.floor((bestStart - g) / slotMs); g + t * slotMs < endMs; t++) out.push(t, (Math.min(endMs, g + (t + 1) * slotMs) - Math.max(bestStart, g + t * slotMs)) / slotMs);
  return o.transfer + units * bestCost;
}

/**
 * An interruptible job's cheapest slots at one pool, relaxed to a fractional knapsack: a slot used for a share σ
 * of the share `a` its window leaves costs σ × (energy at μ + capacity at λ ÷ a), never more than its true cost
 * (capacity held whole). Interior slots (a = 1) come from the pool's order by cost; the window's two end slots are
 * merged in by their own rate.
 */
function cheapestSlots(q: PoolPrices, job: JobData, o: Option, mu: Float64Array, g: number, slotMs: number, out: Slots): number {
  const { units } = job;
  const need = o.workSlots;
  const k = q.state.kWhPerUnitSlot;
  const blocked = q.blocked.get(units)!;
  const a = o.firstSlot;
  const b = o.lastSlot;
  // The window's end slots (one when it has one slot), cheapest rate first.
  let ends = 0;
  for (let t = a; t <= b; t += Math.max(1, b - a)) {
    const avail = blocked[t + 1] !== blocked[t] ? 0 : availability(o, t, g, slotMs);
    if (avail <= EPS) continue;
    END_SLOT[ends] = t;
    END_AVAIL[ends] = avail;
    END_RATE[ends++] = k * (mu[t] + q.nu[t] / avail);
  }
  if (ends === 2 && END_RATE[1] < END_RATE[0]) {
    END_SLOT.reverse();
    END_AVAIL.reverse();
    END_RATE.reverse();
  }
  out.n = 0;
  out.left = need;
  out.total = 0;
  let e = 0;
  const { order, cost } = q;
  for (let i = 0; i < order.length && out.left > EPS; i++) {
    const t = order[i];
    if (t <= a || t >= b || blocked[t + 1] !== blocked[t]) continue;
    const rate = cost[t];
    for (; e < ends && END_RATE[e] <= rate && out.left > EPS; e++) out.take(END_SLOT[e], END_AVAIL[e], END_RATE[e]);
    if (out.left > EPS) out.take(t, 1, rate);
  }
  for (; e < ends && out.left > EPS; e++) out.take(END_SLOT[e], END_AVAIL[e], END_RATE[e]);
  return out.left > EPS ? Infinity : o.transfer + units * out.total;
}

/** A job's options, cheapest lower bound first, while the relaxation places it (one entry per site at most). */
const LOWER = new Float64Array(1024);
const ORDER = new Int32Array(1024);

/** The end slots of an interruptible job's window while cheapestSlots merges them in (two at most). */
const END_SLOT = new Int32Array(2);
const END_AVAIL = new Float64Array(2);
const END_RATE = new Float64Array(2);

/** Each job's site and its work per slot there, from its place at the best prices (made when the planner asks). */
function guideOf(placements: readonly Placement[], jobs: readonly JobData[], choices: readonly Choice[], pools: readonly PoolPrices[], slots: number): Guide {
  const byJob = new Map<number, number>(placements.map((p, j) => [p.ctx.index, j]));
  return {
    siteIndex: (index) => {
      const j = byJob.get(index);
      return j === undefined ? -1 : pools[jobs[j].options[choices[j].option].pool].site;
    },
    slotPreference: (index) => {
      const j = byJob.get(index);
      if (j === undefined) return null;
      const preference = new Float64Array(slots);
      choices[j].slots.forEach((t, i) => (preference[t] = choices[j].shares[i]));
      return preference;
    },
  };
}
