/**
 * The fast path: for one job at one site, the best slots given what is already planned.
 * Non-interruptible jobs take a contiguous window (sliding sums, O(slots)); interruptible jobs take
 * their cheapest feasible slots. Called by the planner for every job and site, in greedy and
 * improvement passes, so it allocates nothing per call beyond the chosen slots.
 */
import { marginalScore, type Cycle, type JobContext, type SiteOption } from './cycle.ts';

export interface Candidate {
  option: SiteOption;
  /** Slots chosen, ascending. */
  slots: number[];
  /** The one slot the job uses only part of (its work is not a whole number of slots), or -1. */
  partialSlot: number;
  /** Weighted objective of running here now (energy and transfer). */
  score: number;
}

export class SlotSearch {
  private readonly full: Float64Array;
  private readonly partial: Float64Array;
  private readonly order: Int32Array;
  private readonly mark: Uint8Array;
  /** Per-site scratch space for the caller's ranking of sites (one entry per site). */
  readonly scratch: { lowest: Float64Array; order: Int32Array };

  constructor(private readonly cycle: Cycle) {
    const n = cycle.snapshot.grid.slots;
    this.full = new Float64Array(n);
    this.partial = new Float64Array(n);
    this.order = new Int32Array(n);
    this.mark = new Uint8Array(n);
    const sites = cycle.sites.length;
    this.scratch = { lowest: new Float64Array(sites), order: new Int32Array(sites) };
  }

  /**
   * Best slots at one site, or null when no window has free capacity (or, when `toBeat` is given,
   * none scores lower than it). `asap` picks the earliest instead of the cheapest. `bias` (per slot)
   * is subtracted from each slot's score: a guided pass uses it to prefer the slots a previous
   * solution chose; the candidate's score then includes it.
   */
  best(ctx: JobContext, option: SiteOption, asap: boolean, toBeat = Infinity, bias: Float64Array | null = null): Candidate | null {
    const site = this.cycle.sites[option.siteIndex];
    const pool = site.pools.get(ctx.job.poolClass)!;
    const { units, interruptible } = ctx.job;
    const n = ctx.slotsNeeded;
    const a = option.firstSlot;
    const b = option.lastSlot;
    const fullKWh = units * pool.kWhPerUnitSlot;
    const partialKWh = fullKWh * ctx.partialFraction;
    const free = pool.free;
    const full = this.full;
    const partial = this.partial;
    const partialUsed = ctx.partialFraction < 1;
    for (let t = a; t <= b; t++) {
      full[t] = marginalScore(site, t, fullKWh);
      partial[t] = partialUsed ? marginalScore(site, t, partialKWh) : full[t];
    }
    if (bias) {
      for (let t = a; t <= b; t++) {
        full[t] -= bias[t];
        partial[t] -= bias[t];
      }
    }
    return interruptible ? this.bestSlots(option, n, units, free, asap, partialUsed, ctx.tailSlot, toBeat) : this.bestWindow(option, n, units, free, asap, partialUsed, ctx.tailSlot, toBeat);
  }

  /**
   * Cheapest contiguous window of n free slots. The partly used slot is the window's last (the job
   * starts at the slot boundary) or its first (the job starts late and ends at a boundary), whichever is cheaper.
   */
  private bestWindow(option: SiteOption, n: number, units: number, free: Int32Array, asap: boolean, partialUsed: boolean, tail: number, toBeat: number): Candidate | null {
    const { firstSlot: a, lastSlot: b } = option;
    const full = this.full;
    const partial = this.partial;
    let bestStart = -1;
    let bestScore = Infinity;
    let bestPartial = -1;
    let sum = 0; // Σ full over the window [t-n+1, t]
    let blocked = 0; // slots in the window without room
    for (let t = a; t <= b; t++) {
      sum += full[t];
      if (free[t] < units) blocked++;
      if (t - a >= n) {
        sum -= full[t - n];
        if (free[t - n] < units) blocked--;
      }
      if (t - a + 1 < n || blocked > 0) continue;
      const s = t - n + 1;
      let score = sum;
      let partialSlot = -1;
      if (partialUsed) {
        const atEnd = sum - full[t] + partial[t];
        const atStart = sum - full[s] + partial[s];
        const startLate = !asap && t !== tail && atStart < atEnd;
        partialSlot = startLate ? s : t;
        score = startLate ? atStart : atEnd;
      }
      if (asap || bestStart < 0 || score < bestScore - 1e-9 * Math.abs(bestScore)) {
        bestScore = score;
        bestStart = s;
        bestPartial = partialSlot;
        if (asap) break;
      }
    }
    if (bestStart < 0 || bestScore + option.transferScore >= toBeat) return null;
    const slots = new Array<number>(n);
    for (let i = 0; i < n; i++) slots[i] = bestStart + i;
    return { option, slots, partialSlot: bestPartial, score: bestScore + option.transferScore };
  }

  /**
   * Cheapest n free slots in the window (earliest n for `asap`), ties to the earlier slot. The partly
   * used slot may be any of them (an interruptible job can pause anywhere).
   */
  private bestSlots(option: SiteOption, n: number, units: number, free: Int32Array, asap: boolean, partialUsed: boolean, tail: number, toBeat: number): Candidate | null {
    const { firstSlot: a, lastSlot: b } = option;
    const full = this.full;
    const partial = this.partial;
    if (asap) {
      // The earliest n free slots; the last of them takes the partial share (the tail slot can only be last).
      const chosen: number[] = [];
      for (let t = a; t <= b && chosen.length < n; t++) if (free[t] >= units) chosen.push(t);
      if (chosen.length < n) return null;
      const partialSlot = partialUsed ? chosen[n - 1] : -1;
      return this.candidate(option, chosen, partialSlot);
    }
    // `order` keeps the n+1 cheapest free slots that can run fully (not the tail), cheapest first.
    const order = this.order;
    const keep = n + 1;
    let count = 0;
    for (let t = a; t <= b; t++) {
      if (free[t] < units || t === tail) continue;
      const cost = full[t];
      if (count === keep && cost >= full[order[count - 1]]) continue;
      let i = count < keep ? count++ : count - 1;
      while (i > 0 && full[order[i - 1]] > cost) {
        order[i] = order[i - 1];
        i--;
      }
      order[i] = t;
    }
    let fullSum = option.transferScore; // the n−1 cheapest, run fully
    for (let i = 0; i < Math.min(count, n - 1); i++) fullSum += full[order[i]];
    if (!partialUsed) {
      if (count < n || fullSum + full[order[n - 1]] >= toBeat) return null;
      return this.candidate(option, Array.from(order.subarray(0, n)), -1);
    }
    if (count < n - 1) return null;
    // Either the n cheapest with the one that saves most by running partly as the partial slot (inside),
    // or the n−1 cheapest run fully and the partial share goes to the cheapest other free slot (outside).
    let inside = -1;
    if (count >= n) {
      for (let i = 0; i < n; i++) {
        const t = order[i];
        if (inside < 0 || full[t] - partial[t] > full[inside] - partial[inside]) inside = t;
      }
    }
    const mark = this.mark;
    for (let i = 0; i < n - 1; i++) mark[order[i]] = 1;
    let outside = -1;
    for (let t = a; t <= b; t++) {
      if (free[t] < units || mark[t] === 1) continue;
      if (outside < 0 || partial[t] < partial[outside]) outside = t;
    }
    for (let i = 0; i < n - 1; i++) mark[order[i]] = 0;
    if (inside < 0 && outside < 0) return null;
    const insideScore = inside < 0 ? Infinity : full[order[n - 1]] - full[inside] + partial[inside];
    const outsideScore = outside < 0 ? Infinity : partial[outside];
    if (fullSum + Math.min(insideScore, outsideScore) >= toBeat) return null;
    const chosen = Array.from(order.subarray(0, n - 1));
    if (insideScore <= outsideScore) {
      chosen.push(order[n - 1]);
      return this.candidate(option, chosen, inside);
    }
    chosen.push(outside);
    return this.candidate(option, chosen, outside);
  }

  /** A candidate from chosen slots (any order) and its partial slot, scored with the current arrays. */
  private candidate(option: SiteOption, chosen: number[], partialSlot: number): Candidate {
    chosen.sort((x, y) => x - y);
    let score = option.transferScore;
    for (const t of chosen) score += t === partialSlot ? this.partial[t] : this.full[t];
    return { option, slots: chosen, partialSlot, score };
  }
}
