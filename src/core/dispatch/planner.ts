/**
 * One planning cycle: place every pending job of a snapshot, then improve the plan by moving
 * jobs one at a time to their best place given all the others, until nothing improves.
 * Pure: it reads the snapshot and returns placements and reasons; persisting is the caller's step.
 *
 * Order: least slack first (the jobs with the fewest choices go first), then fewest allowed sites;
 * `asap` profiles go by release. Ties break by release, then id, so a plan is reproducible.
 */
import type { Job } from '../model/types.ts';
import { addedKWh, Cycle, marginalScore, valueAboveCommitted, type JobContext, type SiteOption, type Snapshot } from './cycle.ts';
import type { Profile, Registry } from './framework.ts';
import { SlotSearch, type Candidate } from './search.ts';

export interface Placement {
  ctx: JobContext;
  candidate: Candidate;
}

export interface Unplaced {
  job: Job;
  /** The distinct kinds of reason (filter codes, or 'no free capacity in its window'), in the order of `reasons`. */
  codes: string[];
  /** A summary counting the sites by kind, then each site's reason. */
  reasons: string[];
}

/**
 * Where another solution put each job (by its index in the snapshot): the greedy pass then places
 * the job at that site, preferring the slots with higher preference, before improving freely.
 * Built from the bound's LP/MIP solution, or from a baseline plan.
 */
export interface Guide {
  /** Site index for the job, or -1 for no guidance. */
  siteIndex(jobIndex: number): number;
  /** Preference per slot of the grid (≥ 0; only its order matters), or null. */
  slotPreference(jobIndex: number): Float64Array | null;
}

/** Guidance outweighs any price difference: preferences are scaled by this. */
const GUIDE_WEIGHT = 1e9;

export interface PlanOptions {
  registry: Registry;
  profile: Profile;
  guide?: Guide;
  /** Improvement rounds after the greedy pass (default 4; 0 for the fast path only). */
  improveRounds?: number;
  /** Called as jobs are placed, for progress bars. */
  onProgress?: (done: number, total: number) => void;
}

export interface CycleOutcome {
  cycle: Cycle;
  placements: Placement[];
  unplaced: Unplaced[];
  /** Improvement rounds run and the objective after each pass (greedy first). */
  passes: number[];
}

/**
 * Plans a cycle. For `optimize` with improvement, it also guards against an unlucky greedy order:
 * when the carbon-agnostic baseline (each job at its origin, earliest) places at least as many jobs
 * for less, the plan is rebuilt from the baseline and improved, and the better of the two is kept.
 */
export function planCycle(snapshot: Snapshot, options: PlanOptions): CycleOutcome {
  const first = planOnce(snapshot, options);
  if (options.profile.strategy !== 'optimize' || options.improveRounds === 0 || options.guide) return first;
  const baseline = planOnce(snapshot, { ...options, profile: { ...options.profile, strategy: 'asap', sites: 'origin' }, onProgress: undefined });
  if (!betterOutcome(baseline, first)) return first;
  const rebuilt = planOnce(snapshot, { ...options, guide: guideFrom(baseline.placements, snapshot.grid.slots), onProgress: undefined });
  return betterOutcome(rebuilt, first) ? rebuilt : first;
}

/** More jobs placed, or as many for a lower objective. */
export function betterOutcome(x: CycleOutcome, y: CycleOutcome): boolean {
  if (x.placements.length !== y.placements.length) return x.placements.length > y.placements.length;
  const a = x.passes[x.passes.length - 1];
  const b = y.passes[y.passes.length - 1];
  return a < b - 1e-9 * Math.max(1, Math.abs(b));
}

/** A guide that repeats a set of placements: the same site, the same slots preferred. */
export function guideFrom(placements: readonly Placement[], slots: number): Guide {
  const byJob = new Map(placements.map((p) => [p.ctx.index, p]));
  return {
    siteIndex: (j) => byJob.get(j)?.candidate.option.siteIndex ?? -1,
    slotPreference: (j) => {
      const p = byJob.get(j);
      if (!p) return null;
      const preference = new Float64Array(slots);
      for (const t of p.candidate.slots) preference[t] = 1;
      return preference;
    },
  };
}

function planOnce(snapshot: Snapshot, options: PlanOptions): CycleOutcome {
  const cycle = new Cycle(snapshot, options.profile, options.registry);
  const search = new SlotSearch(cycle);
  const asap = options.profile.strategy === 'asap';
  const contexts = snapshot.jobs.map((job, i) => cycle.jobContext(job, i));
  const ordered = [...contexts].sort(asap ? byRelease : bySlack(snapshot.nowMs, contexts));
  const placed: (Placement | null)[] = new Array(contexts.length).fill(null);
  const unplaced: Unplaced[] = [];

  let done = 0;
  for (const first of ordered) {
    // Its input moves on what the jobs placed before it left of the links: a choice whose transfer now takes longer is
    // made again on the links as they are.
    const pick = (c: JobContext) => (options.guide && guidedBest(cycle, search, c, options.guide)) || chooseBest(cycle, search, c, asap);
    let ctx = first;
    let best = pick(ctx);
    if (best && !cycle.stillTimed(ctx.job, best.option)) best = pick((ctx = cycle.current(ctx)));
    if (!best) ctx = cycle.current(ctx);
    if (best) {
      apply(cycle, ctx, best, +1);
      placed[ctx.index] = { ctx, candidate: best };
    } else {
      unplaced.push({ job: ctx.job, ...unplacedReasons(cycle, ctx) });
    }
    if (options.onProgress && ++done % 1000 === 0) options.onProgress(done, contexts.length);
  }
  const passes = [objectiveOf(cycle, placed)];
  const rounds = asap ? 0 : (options.improveRounds ?? 4);
  for (let round = 0; round < rounds; round++) {
    let improved = 0;
    for (const { index } of ordered) {
      const current = placed[index];
      if (!current) continue;
      apply(cycle, current.ctx, current.candidate, -1);
      const stay = rescore(cycle, current.ctx, current.candidate);
      // Its input, taken back, moves on what all the others leave now (a move whose transfer changed is chosen again).
      let ctx = current.ctx;
      let best = chooseBest(cycle, search, ctx, false);
      if (best && !cycle.stillTimed(ctx.job, best.option)) best = chooseBest(cycle, search, (ctx = cycle.current(ctx)), false);
      if (best && best.score < stay.score - 1e-9 * Math.max(1, Math.abs(stay.score))) {
        improved += stay.score - best.score;
        placed[ctx.index] = { ctx, candidate: best };
        apply(cycle, ctx, best, +1);
      } else {
        apply(cycle, current.ctx, current.candidate, +1);
      }
    }
    passes.push(objectiveOf(cycle, placed));
    if (improved <= 1e-7 * Math.max(1, Math.abs(passes[passes.length - 1]))) break;
  }
  options.onProgress?.(contexts.length, contexts.length);
  return { cycle, placements: placed.filter((p): p is Placement => p !== null), unplaced, passes };
}

/** The best candidate over a job's allowed sites: cheapest, or earliest for `asap`; ties to the earlier start, the origin, then site order. */
export function chooseBest(cycle: Cycle, search: SlotSearch, ctx: JobContext, asap: boolean): Candidate | null {
  const options = ctx.options;
  const n = options.length;
  // Sites in order of the lowest score they could possibly reach, so that a good candidate is found
  // early and the rest can often be skipped. The result does not depend on this order.
  const { lowest, order } = search.scratch;
  for (let i = 0; i < n; i++) {
    lowest[i] = lowestScore(cycle, ctx, options[i]);
    let j = i;
    while (!asap && j > 0 && lowest[order[j - 1]] > lowest[i]) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = i;
  }
  let best: Candidate | null = null;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    // A candidate must score lower than the best so far (within the tie tolerance) to win, so no
    // other is worth building.
    const toBeat = asap || best === null ? Infinity : best.score + 1e-9 * Math.max(1, Math.abs(best.score));
    if (lowest[i] >= toBeat) continue;
    const candidate = search.best(ctx, options[i], asap, toBeat);
    if (candidate && (best === null || better(cycle, ctx, candidate, best, asap))) best = candidate;
  }
  return best;
}

/** The guided site's best slots under the guide's preference, scored at their true price; null when the guide has nothing that fits. */
function guidedBest(cycle: Cycle, search: SlotSearch, ctx: JobContext, guide: Guide): Candidate | null {
  const siteIndex = guide.siteIndex(ctx.index);
  const option = ctx.options.find((o) => o.siteIndex === siteIndex);
  if (!option) return null;
  const preference = guide.slotPreference(ctx.index);
  const bias = preference && preference.map((p) => p * GUIDE_WEIGHT);
  const candidate = search.best(ctx, option, false, Infinity, bias);
  return candidate && rescore(cycle, ctx, candidate);
}

/** No placement at this site can score lower: its work at the cheapest rate in its window, plus the transfer. */
function lowestScore(cycle: Cycle, ctx: JobContext, option: SiteOption): number {
  const site = cycle.sites[option.siteIndex];
  const pool = site.pools.get(ctx.job.poolClass)!;
  // Under the sleep policy a job adds at least its busy energy less the idle draw it replaces (nodes woken cost more).
  const kWh = ctx.job.units * (pool.kWhPerUnitSlot - (pool.idle?.unitIdleKWh ?? 0)) * option.workSlots;
  return option.transferScore + kWh * Math.min(site.greenRate, site.minGridRate.min(option.firstSlot, option.lastSlot));
}

/**
 * The best candidates of up to `count` sites other than `exceptSite`, best first: what `explain` shows beside the
 * chosen place. Ranked by score, sites go cheapest lower bound first, and once `count` are kept a site whose lower
 * bound cannot reach the last of them is not searched: the result is that of ranking every site.
 */
export function topCandidates(cycle: Cycle, search: SlotSearch, ctx: JobContext, asap: boolean, count: number, exceptSite: number): Candidate[] {
  const kept: Candidate[] = [];
  if (count <= 0) return kept;
  const options = ctx.options.filter((o) => o.siteIndex !== exceptSite).map((o) => ({ o, lowest: asap ? 0 : lowestScore(cycle, ctx, o) }));
  if (!asap) options.sort((x, y) => x.lowest - y.lowest);
  for (const { o, lowest } of options) {
    const last = kept.length === count ? kept[count - 1] : null;
    // Ties within `better`'s tolerance still enter, so that its tie-breaks decide.
    const reach = last && !asap ? last.score + 2e-9 * Math.max(1, Math.abs(last.score)) : Infinity;
    if (lowest >= reach) break;
    const c = search.best(ctx, o, asap, reach);
    if (!c) continue;
    let i = kept.length;
    while (i > 0 && better(cycle, ctx, c, kept[i - 1], asap)) i--;
    kept.splice(i, 0, c);
    if (kept.length > count) kept.pop();
  }
  return kept;
}

function better(cycle: Cycle, ctx: JobContext, x: Candidate, y: Candidate, asap: boolean): boolean {
  if (!asap) {
    const tolerance = 1e-9 * Math.max(1, Math.abs(y.score));
    if (x.score < y.score - tolerance) return true;
    if (x.score > y.score + tolerance) return false;
  }
  if (x.runs[0] !== y.runs[0]) return x.runs[0] < y.runs[0];
  const origin = ctx.originIndex;
  if (x.option.siteIndex === origin) return y.option.siteIndex !== origin;
  if (y.option.siteIndex === origin) return false;
  return x.option.siteIndex < y.option.siteIndex;
}

/** Facility energy of a placement in each of its slots, kWh. */
export function slotEnergies(cycle: Cycle, ctx: JobContext, candidate: Candidate): number[] {
  const pool = cycle.sites[candidate.option.siteIndex].pools.get(ctx.job.poolClass)!;
  const full = ctx.job.units * pool.kWhPerUnitSlot;
  return candidate.shares.map((share) => full * share);
}

/**
 * Adds (+1) or removes (-1) a placement's load and units: the energy it adds to its site (`addedKWh`: its own, and
 * under the sleep policy the idle draw it changes), priced with the units the others hold; and the GB its input
 * moves on the links (`Cycle.takeTransfer`), which later jobs' transfers move around.
 */
export function apply(cycle: Cycle, ctx: JobContext, candidate: Candidate, sign: 1 | -1): void {
  cycle.takeTransfer(ctx.job, candidate.option, sign);
  const site = cycle.sites[candidate.option.siteIndex];
  const pool = site.pools.get(ctx.job.poolClass)!;
  const units = ctx.job.units;
  candidate.slots.forEach((t, i) => {
    if (sign < 0) pool.free[t] += units;
    site.loadKWh[t] += sign * addedKWh(pool, units, t, candidate.shares[i]);
    if (sign > 0) pool.free[t] -= units;
  });
}

/** The score of a placement given the current load (the job itself removed). */
export function rescore(cycle: Cycle, ctx: JobContext, candidate: Candidate): Candidate {
  const site = cycle.sites[candidate.option.siteIndex];
  const pool = site.pools.get(ctx.job.poolClass)!;
  let score = candidate.option.transferScore;
  candidate.slots.forEach((t, i) => (score += marginalScore(site, t, addedKWh(pool, ctx.job.units, t, candidate.shares[i]))));
  return { ...candidate, score };
}

/** Weighted objective of everything planned above the committed work: its energy, renewable first (idle draw included under the sleep policy), plus transfers. */
function objectiveOf(cycle: Cycle, placed: readonly (Placement | null)[]): number {
  let total = 0;
  for (const site of cycle.sites) total += valueAboveCommitted(site);
  for (const p of placed) if (p) total += p.candidate.option.transferScore;
  return total;
}

/** Why a job fits nowhere: the kinds of reason, and one line counting the sites by kind, then each site's reason. */
function unplacedReasons(cycle: Cycle, ctx: JobContext): { codes: string[]; reasons: string[] } {
  const full = ctx.options.map((o) => ({ site: cycle.sites[o.siteIndex].site.id, code: 'no free capacity in its window', reason: 'no free capacity in its window' }));
  const all = [...ctx.rejected, ...full];
  if (all.length === 0) return { codes: ['no sites'], reasons: ['0/0 sites can run it: the network has no sites'] };
  const counts = new Map<string, number>();
  for (const r of all) counts.set(r.code, (counts.get(r.code) ?? 0) + 1);
  const summary = `0/${cycle.sites.length} sites can run it: ${[...counts].map(([code, n]) => `${n} ${code}`).join(', ')}`;
  return { codes: [...counts.keys()], reasons: [summary, ...all.map((r) => `${r.site}: ${r.reason}`)] };
}

const byRelease = (x: JobContext, y: JobContext) => x.job.releaseMs - y.job.releaseMs || compareIds(x.job.id, y.job.id);

function bySlack(nowMs: number, contexts: readonly JobContext[]) {
  const slack = Float64Array.from(contexts, (c) => c.job.deadlineMs - Math.max(nowMs, c.job.releaseMs) - c.job.durationS * 1000);
  return (x: JobContext, y: JobContext) => slack[x.index] - slack[y.index] || x.options.length - y.options.length || byRelease(x, y);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
