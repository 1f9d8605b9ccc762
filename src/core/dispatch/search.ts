/**
 * The fast path: for one job at one site, where in its window it runs given what is already planned.
 * Runs start and end at any millisecond; slots only price energy (a run pays for the part of a slot it
 * covers) and hold capacity (a job holds its units for every slot it touches).
 * Non-interruptible jobs take one run: the cheapest start among those where the cost can change
 * (the window's ends, a slot boundary, or an end on a slot boundary), by sliding sums, O(slots).
 * Interruptible jobs take their cheapest slots, each for as much of it as the window allows, and one
 * slot for the remainder. Called by the planner for every job and site, in greedy and improvement
 * passes, so it allocates nothing per call beyond the chosen candidate.
 */
import { addedKWh, marginalScore, type Cycle, type JobContext, type PoolState, type SiteOption, type SiteState } from './cycle.ts';

export interface Candidate {
  option: SiteOption;
  /** Slots the runs touch, ascending; the job holds its units for each whole slot. */
  slots: number[];
  /** Share of each of `slots` the job runs (0 < share ≤ 1): its energy there is that share of a full slot's. */
  shares: number[];
  /** When it runs: start and end instants (ms) of each run, `[s0, e0, s1, e1, …]`, ascending; touching runs merged. */
  runs: number[];
  /** Weighted objective of running here now (energy and transfer). */
  score: number;
}

/** Shares closer than this to a whole slot or to nothing count as such (a millisecond of an hour is 3e-7). */
const EPS = 1e-9;

/**
 * The candidate start after `s` for a run of `workMs` (grid from `g`, slots of `slotMs`): the nearer of the next slot
 * boundary and the next start whose run ends on one, at most `last`. Between two candidates a run's slots do not
 * change and its cost is linear, so the cheapest start is at one of them (the slot search and the Lagrangian bound).
 */
export function nextStart(s: number, workMs: number, g: number, slotMs: number, last: number): number {
  const boundary = g + (Math.floor((s - g) / slotMs) + 1) * slotMs;
  const endBoundary = g + (Math.floor((s + workMs - g) / slotMs) + 1) * slotMs;
  return Math.min(boundary, endBoundary - workMs, last);
}

export class SlotSearch {
  private readonly full: Float64Array;
  private readonly partial: Float64Array;
  private readonly fullSum: Float64Array;
  private readonly blockedSum: Int32Array;
  private readonly avail: Float64Array;
  private readonly rate: Float64Array;
  private readonly order: Int32Array;
  private readonly mark: Uint8Array;
  /** The bias, pool and units of the current `best` call, read by `cost`. */
  private bias: Float64Array | null = null;
  private pool: PoolState | null = null;
  private units = 0;
  private readonly slotMs: number;
  private readonly gridStartMs: number;
  /** Per-site scratch space for the caller's ranking of sites (one entry per site). */
  readonly scratch: { lowest: Float64Array; order: Int32Array };

  constructor(private readonly cycle: Cycle) {
    const n = cycle.snapshot.grid.slots;
    this.full = new Float64Array(n);
    this.partial = new Float64Array(n);
    this.fullSum = new Float64Array(n + 1);
    this.blockedSum = new Int32Array(n + 1);
    this.avail = new Float64Array(n);
    this.rate = new Float64Array(n);
    this.order = new Int32Array(n);
    this.mark = new Uint8Array(n);
    this.slotMs = cycle.slotMs;
    this.gridStartMs = cycle.snapshot.grid.startMs;
    const sites = cycle.sites.length;
    this.scratch = { lowest: new Float64Array(sites), order: new Int32Array(sites) };
  }

  /**
   * Best place at one site, or null when nothing in the window has free capacity (or, when `toBeat` is
   * given, nothing scores lower than it). `asap` picks the earliest start instead of the cheapest. `bias`
   * (per slot, per full slot of work) is subtracted from each slot's score: a guided pass uses it to prefer
   * the slots a previous solution chose; the candidate's score then includes it.
   */
  best(ctx: JobContext, option: SiteOption, asap: boolean, toBeat = Infinity, bias: Float64Array | null = null): Candidate | null {
    const site = this.cycle.sites[option.siteIndex];
    const pool = site.pools.get(ctx.job.poolClass)!;
    this.bias = bias;
    this.pool = pool;
    this.units = ctx.job.units;
    const found = ctx.job.interruptible ? this.bestSlots(site, option, ctx, pool.free, asap, toBeat) : this.bestStart(site, option, ctx, pool.free, asap, toBeat);
    this.bias = null;
    this.pool = null;
    return found;
  }

  /** Score of running `share` of slot `t` (with the bias, if any). */
  private cost(site: SiteState, t: number, share: number): number {
    const bias = this.bias;
    return marginalScore(site, t, addedKWh(this.pool!, this.units, t, share)) - (bias ? bias[t] * share : 0);
  }

  /**
   * One run of the job's length: the cheapest (or, for `asap`, the earliest) start in the window whose
   * slots all have room. Between two neighbouring candidate starts the run's slots do not change, so
   * only the window's ends, slot boundaries and starts that end on a boundary need scoring.
   */
  private bestStart(site: SiteState, option: SiteOption, ctx: JobContext, free: Int32Array, asap: boolean, toBeat: number): Candidate | null {
    const { slotMs, gridStartMs: g } = this;
    const { job } = ctx;
    const { workMs } = option;
    const first = option.readyMs;
    const last = option.endMs - workMs;
    if (last < first) return null;
    const a = option.firstSlot;
    const b = option.lastSlot;
    const full = this.full;
    const fullSum = this.fullSum;
    const blockedSum = this.blockedSum;
    // Prefix sums over the window's slots: score of each slot run fully, and slots without room.
    fullSum[a] = 0;
    blockedSum[a] = 0;
    for (let t = a; t <= b; t++) {
      full[t] = this.cost(site, t, 1);
      fullSum[t + 1] = fullSum[t] + full[t];
      blockedSum[t + 1] = blockedSum[t] + (free[t] < job.units ? 1 : 0);
    }
    // The share a run started on a boundary leaves in its last slot (or one ending on a boundary in its first).
    const wholeSlots = Math.floor(workMs / slotMs);
    const remainderMs = workMs - wholeSlots * slotMs;
    const partial = this.partial;
    if (remainderMs > 0) for (let t = a; t <= b; t++) partial[t] = this.cost(site, t, remainderMs / slotMs);

    let bestStart = -1;
    let bestScore = Infinity;
    // Candidate starts ascending: `first`, then each next slot boundary or start whose run ends on a boundary, up to `last`.
    for (let s = first; ; s = nextStart(s, workMs, g, slotMs, last)) {
      const h = Math.floor((s - g) / slotMs);
      const e = Math.floor((s + workMs - 1 - g) / slotMs);
      if (blockedSum[e + 1] - blockedSum[h] === 0) {
        let score: number;
        if (h === e) score = remainderMs === 0 ? full[h] : partial[h];
        else {
          const headMs = g + (h + 1) * slotMs - s;
          const tailMs = s + workMs - (g + e * slotMs);
          const head = headMs === slotMs ? full[h] : headMs === remainderMs ? partial[h] : this.cost(site, h, headMs / slotMs);
          const tail = tailMs === slotMs ? full[e] : tailMs === remainderMs ? partial[e] : this.cost(site, e, tailMs / slotMs);
          score = head + fullSum[e] - fullSum[h + 1] + tail;
        }
        if (asap || bestStart < 0 || score < bestScore - EPS * Math.abs(bestScore)) {
          bestScore = score;
          bestStart = s;
          if (asap) break;
        }
      }
      if (s >= last) break;
    }
    if (bestStart < 0 || bestScore + option.transferScore >= toBeat) return null;
    return this.oneRun(site, option, ctx, bestStart, bestScore + option.transferScore);
  }

  /** The candidate of one run from `startMs`. */
  private oneRun(site: SiteState, option: SiteOption, ctx: JobContext, startMs: number, score: number): Candidate {
    const { slotMs, gridStartMs: g } = this;
    const endMs = startMs + option.workMs;
    const slots: number[] = [];
    const shares: number[] = [];
    for (let t = Math.floor((startMs - g) / slotMs); g + t * slotMs < endMs; t++) {
      slots.push(t);
      shares.push((Math.min(endMs, g + (t + 1) * slotMs) - Math.max(startMs, g + t * slotMs)) / slotMs);
    }
    return { option, slots, shares, runs: [startMs, endMs], score };
  }

  /**
   * Interruptible: the cheapest slots, each used for as much of it as the window allows (its ends may
   * cut the first and last slot), and for the remainder either the dearest part of one of them left out
   * (inside) or the cheapest other slot that can hold it (outside), whichever is cheaper. `asap` takes
   * the window from its start. A slot is ranked by its score per share when used to its availability.
   */
  private bestSlots(site: SiteState, option: SiteOption, ctx: JobContext, free: Int32Array, asap: boolean, toBeat: number): Candidate | null {
    const { slotMs, gridStartMs: g } = this;
    const a = option.firstSlot;
    const b = option.lastSlot;
    const units = ctx.job.units;
    const need = option.workSlots;
    const avail = this.avail;
    for (let t = a; t <= b; t++) {
      const from = Math.max(option.readyMs, g + t * slotMs);
      const to = Math.min(option.endMs, g + (t + 1) * slotMs);
      avail[t] = free[t] < units ? 0 : Math.max(0, to - from) / slotMs;
    }
    if (asap) {
      const slots: number[] = [];
      const shares: number[] = [];
      let left = need;
      for (let t = a; t <= b && left > EPS; t++) {
        if (avail[t] <= 0) continue;
        const share = Math.min(avail[t], left);
        slots.push(t);
        shares.push(share);
        left -= share;
      }
      if (left > EPS) return null;
      return this.slotsCandidate(site, option, slots, shares);
    }
    // `order` keeps the `keep` cheapest slots by score per share, cheapest first: enough to cover the work
    // even when the window's two end slots are short, plus one.
    const rate = this.rate;
    const order = this.order;
    const keep = Math.min(b - a + 1, Math.ceil(need - EPS) + 3);
    let count = 0;
    for (let t = a; t <= b; t++) {
      if (avail[t] <= 0) continue;
      const r = avail[t] === 1 ? this.cost(site, t, 1) : this.cost(site, t, avail[t]) / avail[t];
      rate[t] = r;
      if (count === keep && r >= rate[order[count - 1]]) continue;
      let i = count < keep ? count++ : count - 1;
      while (i > 0 && rate[order[i - 1]] > r) {
        order[i] = order[i - 1];
        i--;
      }
      order[i] = t;
    }
    // The cheapest m slots whose availability covers the work.
    let m = 0;
    let covered = 0;
    while (m < count && covered < need - EPS) covered += avail[order[m++]];
    if (covered < need - EPS) return null;
    const excess = covered - need;
    let allScore = option.transferScore;
    for (let i = 0; i < m; i++) allScore += rate[order[i]] * avail[order[i]];
    // Inside: the m slots, one of them cut by the excess where that saves most.
    let inside = -1;
    let insideScore = Infinity;
    if (excess <= EPS) {
      insideScore = allScore;
    } else {
      let saving = -Infinity;
      for (let i = 0; i < m; i++) {
        const t = order[i];
        if (avail[t] <= excess + EPS) continue;
        const s = rate[t] * avail[t] - this.cost(site, t, avail[t] - excess);
        if (s > saving) {
          saving = s;
          inside = t;
        }
      }
      if (inside >= 0) insideScore = allScore - saving;
    }
    // Outside: the m−1 cheapest used fully, the rest in the cheapest other slot that can hold it.
    let outside = -1;
    let outsideScore = Infinity;
    if (excess > EPS) {
      const last = order[m - 1];
      const rest = need - (covered - avail[last]);
      const mark = this.mark;
      for (let i = 0; i < m - 1; i++) mark[order[i]] = 1;
      let best = Infinity;
      for (let t = a; t <= b; t++) {
        if (mark[t] === 1 || avail[t] < rest - EPS) continue;
        const c = this.cost(site, t, Math.min(rest, avail[t]));
        if (c < best) {
          best = c;
          outside = t;
        }
      }
      for (let i = 0; i < m - 1; i++) mark[order[i]] = 0;
      if (outside >= 0) outsideScore = allScore - rate[last] * avail[last] + best;
    }
    const score = Math.min(insideScore, outsideScore);
    if (!(score < Infinity) || score >= toBeat) return null;
    // The chosen slots in time order (their shares noted in `rate`, which is not read again), without sorting.
    const pick = this.mark;
    let first = b;
    let lastPicked = a;
    const note = (t: number, share: number) => {
      pick[t] = 1;
      rate[t] = share;
      if (t < first) first = t;
      if (t > lastPicked) lastPicked = t;
    };
    if (insideScore <= outsideScore) {
      for (let i = 0; i < m; i++) note(order[i], order[i] === inside ? avail[order[i]] - excess : avail[order[i]]);
    } else {
      const last = order[m - 1];
      const rest = Math.min(avail[outside], need - (covered - avail[last]));
      for (let i = 0; i < m - 1; i++) note(order[i], avail[order[i]]);
      note(outside, rest);
    }
    const slots: number[] = [];
    const shares: number[] = [];
    for (let t = first; t <= lastPicked; t++) {
      if (pick[t] !== 1) continue;
      pick[t] = 0;
      slots.push(t);
      shares.push(rate[t]);
    }
    return this.slotsCandidate(site, option, slots, shares);
  }

  /**
   * A candidate from chosen slots (ascending) and shares, scored with the current load. Shares are made
   * whole milliseconds that add up to the job's run time. Within its slot, a part runs up to the slot's
   * end when the next slot is chosen too (so the run goes on), else from the earliest instant the window allows.
   */
  private slotsCandidate(site: SiteState, option: SiteOption, slots: number[], shares: number[]): Candidate {
    const { slotMs, gridStartMs: g } = this;
    const lengths = shares.map((share) => Math.round(share * slotMs));
    let left = option.workMs - lengths.reduce((sum, x) => sum + x, 0);
    for (let i = lengths.length - 1; i >= 0 && left !== 0; i--) {
      const room = Math.min(option.endMs, g + (slots[i] + 1) * slotMs) - Math.max(option.readyMs, g + slots[i] * slotMs);
      const change = Math.max(-lengths[i] + 1, Math.min(left, room - lengths[i]));
      lengths[i] += change;
      left -= change;
    }
    const runs: number[] = [];
    let score = option.transferScore;
    slots.forEach((t, i) => {
      shares[i] = lengths[i] / slotMs;
      score += this.cost(site, t, shares[i]);
      const continues = slots[i + 1] === t + 1;
      const from = continues ? g + (t + 1) * slotMs - lengths[i] : Math.max(option.readyMs, g + t * slotMs);
      const to = from + lengths[i];
      if (runs.length > 0 && runs[runs.length - 1] === from) runs[runs.length - 1] = to;
      else runs.push(from, to);
    });
    return { option, slots, shares, runs, score };
  }
}
