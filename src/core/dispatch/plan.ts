/**
 * `dispatch`: one full planning cycle as the CLI, simulator and service call it —
 * plan (planner.ts), account energy, cost and carbon with the snapshot's signals, explain each
 * decision, and bound the objective (bound.ts). Returns the plan document (docs/plan-format.md).
 */
import type { Job } from '../model/types.ts';
import { accountUses, sumFigures, type JobFigures, type SlotUse } from '../energy/accounting.ts';
import type { LpSolver } from '../lp/model.ts';
import { addedKWh, Cycle, relaxIdle, valueAboveCommitted, type Snapshot } from './cycle.ts';
import type { Profile, Registry } from './framework.ts';
import { apply, betterOutcome, planCycle, rescore, topCandidates, slotEnergies, type CycleOutcome, type Placement } from './planner.ts';
import { SlotSearch, type Candidate } from './search.ts';
import { lowerBound, type Bound, type BoundOptions } from './bound.ts';
import { poolSpeed } from '../model/capability.ts';
import { ALWAYS_ON, idleFigures, type IdleFigures, type PoolLoad, type PowerPolicy, type PowerPolicyName } from '../energy/idle.ts';

export interface Run {
  start: string;
  end: string;
  units: number;
}

export interface ExplainCandidate {
  site: string;
  start: string;
  end: string;
  /** Weighted objective of running the job here (lower is better). */
  score: number;
  /** Each score plugin's value of this candidate, in the plugin's unit (yuan, kgCO2, gridKWh). */
  parts: Record<string, number>;
}

export interface Explain {
  policy: string;
  /** Best candidate per site, best first (at most `explainTop`); the first is the one chosen. */
  candidates: ExplainCandidate[];
  /** The earliest start at the chosen site, to show what waiting bought. */
  earliestHere: ExplainCandidate | null;
  /** Sites that could not run the job, and why. */
  rejected: { site: string; reason: string }[];
  /**
   * Set by `kumul serve`'s dispatch loop (never by the core): where the forecasts the job was planned on came from a
   * fallback because no forecast was stored (site, signal, slots and kind; src/service/signal-overlay.ts).
   */
  signalNotes?: string[];
}

export interface PlannedJob extends JobFigures {
  id: string;
  site: string;
  pool: string;
  /** The pool's speed for the job's precision: the runs add up to its duration ÷ speed (absent in plans stored before it was stated: 1). */
  speed?: number;
  runs: Run[];
  /**
   * Its input's move. `segments` are the pieces it moves in, GB each at one rate within one slot (core/network/routes.ts
   * `transferSegments`: what backups and the jobs before it left of each link); the backup planner counts them as
   * they are (core/backup/model.ts `fixedLinkUse`). Absent in plans made before they were stated.
   */
  transfer: { route: string[]; gb: number; start: string; end: string; segments?: { start: string; end: string; gb: number }[] } | null;
  explain: Explain;
  /** Set by the service, which keeps each job's plan apart: the cycle that made it, its jobs and its bound. */
  cycle?: { at: string; jobsPlaced: number; bound: Bound | null };
}

export interface Plan {
  format: 'kumul-plan';
  version: 1;
  policy: string;
  objective: string;
  start: string;
  slotMinutes: number;
  slots: number;
  /** Which series priced the plan. */
  signals: 'forecast';
  jobs: PlannedJob[];
  unplaced: { id: string; codes: string[]; reasons: string[] }[];
  totals: {
    energyKWh: number;
    greenKWh: number;
    costYuan: number;
    carbonKg: number;
    jobsPlaced: number;
    jobsUnplaced: number;
    /** The operator's idle energy over the plan's grid, under its power policy (absent in plans made before it was stated). */
    idle?: IdleFigures & { policy: PowerPolicyName };
  };
  bound: Bound | null;
}

export interface DispatchOptions {
  registry: Registry;
  profile: Profile;
  objectiveName: string;
  /** Computes the bound when given. */
  solver?: LpSolver;
  /** Passed to the bound (bound.ts, BoundOptions). */
  maxLpVariables?: number;
  maxSiteChoices?: number;
  mipTimeLimitS?: number;
  lagrangian?: BoundOptions['lagrangian'];
  improveRounds?: number;
  /** Candidates kept per decision (default 3). */
  explainTop?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Below this gap to its bound (0.1 %) a plan is not re-planned from the bound's solution: nothing worth the time is left. */
const REPAIR_GAP = 0.001;

export function dispatch(snapshot: Snapshot, options: DispatchOptions): Plan {
  let outcome = planCycle(snapshot, options);
  let bound: { value: number; method: string } | null = null;
  if (options.solver) {
    // Under the sleep policy the bound's cycle relaxes the idle draw (relaxIdle): its base (reserve, sleeping nodes)
    // is a constant the relaxation of the jobs comes on top of.
    const relaxed = new Cycle(snapshot, options.profile, options.registry);
    relaxIdle(relaxed);
    const baseValue = relaxed.sites.reduce((sum, site) => sum + valueAboveCommitted(site), 0);
    const planValue = outcome.passes[outcome.passes.length - 1] ?? 0;
    const boundOptions = {
      solver: options.solver,
      maxVariables: options.maxLpVariables,
      maxSiteChoices: options.maxSiteChoices,
      mipTimeLimitS: options.mipTimeLimitS,
      planValue: planValue - baseValue,
      lagrangian: options.lagrangian,
    };
    // Each job's window as if no other job's input shared its links (the relaxed cycle's contexts): a plan's transfers
    // are never faster than that, so the bound stays one on any plan of these jobs.
    const boundPlacements = outcome.placements.map((p) => (p.ctx.contended ? { ...p, ctx: relaxed.jobContext(p.ctx.job, p.ctx.index) } : p));
    const result = lowerBound(relaxed, boundPlacements, boundOptions);
    result.value += baseValue;
    if (snapshot.power?.policy === 'sleep') result.method += '; under the sleep policy, nodes on relaxed to a linear share of the units held (wake-ups left out)';
    bound = result;
    // Where the gap is worth closing, re-plan guided by the relaxation's own per-job solution (the LP's, or each
    // job's place at the Lagrangian prices); keep it if it places the same jobs for less (the bound holds for
    // exactly those jobs).
    const gap = planValue === 0 ? 0 : (planValue - result.value) / Math.abs(planValue);
    if (result.guide && options.profile.strategy === 'optimize' && gap > REPAIR_GAP) {
      const guided = planCycle(snapshot, { ...options, guide: result.guide, onProgress: undefined });
      if (samePlacedJobs(guided, outcome) && betterOutcome(guided, outcome)) {
        outcome = guided;
        bound = { value: result.value, method: `${result.method}; the plan was rebuilt from its solution` };
      }
    }
  }
  const { cycle, placements } = outcome;
  const uses = placements.map((p) => toSlotUse(cycle, p));
  const committed: SlotUse[] = (snapshot.committed ?? []).map((c) => ({ siteId: c.siteId, slots: c.slots, energyKWh: c.energyKWh, transfer: null }));
  const figures = accountUses(snapshot.grid, snapshot.network.sites, snapshot.signals, uses, committed);
  const explains = explainAll(cycle, placements, options);
  const jobs = placements.map((p, i) => plannedJob(cycle, p, figures[i], explains[i]));
  const sum = sumFigures(figures);
  const power = snapshot.power ?? ALWAYS_ON;
  const idle = idleOfPlan(snapshot, cycle, placements, [...uses, ...committed], power);
  // Under the sleep policy the plan minimised the jobs' and the idle energy together, and its bound bounds both.
  const valued = power.policy === 'sleep' ? [...figures, { ...idle, transferKWh: 0 }] : figures;
  const planValue = valued.reduce((total, f) => total + cycle.weigh((plugin) => plugin.ofFigures(f)), 0);
  return {
    format: 'kumul-plan',
    version: 1,
    policy: options.profile.name,
    objective: options.objectiveName,
    start: iso(snapshot.grid.startMs),
    slotMinutes: snapshot.grid.slotMinutes,
    slots: snapshot.grid.slots,
    signals: 'forecast',
    jobs,
    unplaced: outcome.unplaced.map((u) => ({ id: u.job.id, codes: u.codes, reasons: u.reasons })),
    totals: { ...sum, jobsPlaced: jobs.length, jobsUnplaced: outcome.unplaced.length, idle: { policy: power.policy, ...idle } },
    bound: bound && {
      objective: options.objectiveName,
      value: bound.value,
      planValue,
      gapPct: planValue === 0 ? 0 : ((planValue - bound.value) / Math.abs(planValue)) * 100,
      method: bound.method,
    },
  };
}

/**
 * The plan's idle energy (src/core/energy/idle.ts): its placements and the committed work hold units in each slot
 * they touch and run for their shares of it; the rest of every pool idles, or sleeps under the `sleep` policy.
 */
function idleOfPlan(snapshot: Snapshot, cycle: Cycle, placements: readonly Placement[], work: readonly SlotUse[], power: PowerPolicy): IdleFigures {
  const { grid } = snapshot;
  const h = grid.slotMinutes / 60;
  const loads = new Map<string, PoolLoad>();
  const loadOf = (siteId: string, poolId: string) => {
    const key = `${siteId}/${poolId}`;
    let load = loads.get(key);
    if (!load) loads.set(key, (load = { siteId, poolId, heldUnits: new Float64Array(grid.slots), busyUnitHours: new Float64Array(grid.slots) }));
    return load;
  };
  for (const p of placements) {
    const pool = cycle.sites[p.candidate.option.siteIndex].pools.get(p.ctx.job.poolClass)!.pool;
    const load = loadOf(cycle.sites[p.candidate.option.siteIndex].site.id, pool.id);
    p.candidate.slots.forEach((t, i) => {
      load.heldUnits[t] += p.ctx.job.units;
      load.busyUnitHours[t] += p.ctx.job.units * p.candidate.shares[i] * h;
    });
  }
  for (const c of snapshot.committed ?? []) {
    const site = cycle.sites[cycle.siteIndex.get(c.siteId)!];
    const pool = [...site.pools.values()].find((q) => q.pool.id === c.poolId)!;
    const load = loadOf(c.siteId, c.poolId);
    c.slots.forEach((t, i) => {
      load.heldUnits[t] += c.units;
      load.busyUnitHours[t] += (c.energyKWh[i] / pool.kWhPerUnitSlot) * h;
    });
  }
  const jobsKWh = new Map(snapshot.network.sites.map((s) => [s.id, new Float64Array(grid.slots)]));
  for (const use of work) use.slots.forEach((t, i) => (jobsKWh.get(use.siteId)![t] += use.energyKWh[i]));
  return idleFigures(grid, snapshot.network.sites, snapshot.signals, [...loads.values()], jobsKWh, power).total;
}

function samePlacedJobs(a: CycleOutcome, b: CycleOutcome): boolean {
  if (a.placements.length !== b.placements.length) return false;
  const ids = new Set(b.placements.map((p) => p.ctx.index));
  return a.placements.every((p) => ids.has(p.ctx.index));
}

/** A placement as accounting sees it. */
export function toSlotUse(cycle: Cycle, p: Placement): SlotUse {
  const { option } = p.candidate;
  const moved = option.route.links.length > 0 && p.ctx.job.inputGb > 0;
  return {
    siteId: cycle.sites[option.siteIndex].site.id,
    slots: p.candidate.slots,
    energyKWh: slotEnergies(cycle, p.ctx, p.candidate),
    transfer: moved ? { route: option.route, gb: p.ctx.job.inputGb, startSlot: p.ctx.transferStartSlot } : null,
  };
}

function plannedJob(cycle: Cycle, p: Placement, figures: JobFigures, explain: Explain): PlannedJob {
  const { job } = p.ctx;
  const { option } = p.candidate;
  const site = cycle.sites[option.siteIndex];
  const use = toSlotUse(cycle, p);
  const readyMs = Math.max(job.releaseMs, cycle.snapshot.nowMs);
  const pool = site.pools.get(job.poolClass)!.pool;
  return {
    id: job.id,
    site: site.site.id,
    pool: pool.id,
    speed: poolSpeed(pool, job.class),
    runs: runsOf(job, p.candidate),
    transfer: use.transfer ? { route: option.route.path, gb: job.inputGb, start: iso(readyMs), end: iso(readyMs + option.transferS * 1000), ...segmentsOf(option) } : null,
    ...figures,
    explain,
  };
}

/** A transfer's pieces as the plan states them (the backup planner and checks count them as they are). */
function segmentsOf(option: Placement['candidate']['option']): { segments?: { start: string; end: string; gb: number }[] } {
  return option.transferSegments ? { segments: option.transferSegments.map((s) => ({ start: iso(s.startMs), end: iso(s.endMs), gb: s.gb })) } : {};
}

/** A placement's runs as the plan states them. */
function runsOf(job: Job, c: Candidate): Run[] {
  const runs: Run[] = [];
  for (let i = 0; i < c.runs.length; i += 2) runs.push({ start: iso(c.runs[i]), end: iso(c.runs[i + 1]), units: job.units });
  return runs;
}

/** Explains each decision against the final plan: each job is taken out and its best candidates ranked given everyone else. */
function explainAll(cycle: Cycle, placements: readonly Placement[], options: DispatchOptions): Explain[] {
  const search = new SlotSearch(cycle);
  const asap = options.profile.strategy === 'asap';
  const top = options.explainTop ?? 3;
  const scoreNames = options.registry.scoreNames();
  return placements.map((p) => {
    apply(cycle, p.ctx, p.candidate, -1);
    const others = topCandidates(cycle, search, p.ctx, asap, top - 1, p.candidate.option.siteIndex);
    // The chosen place, scored against the final plan (its neighbours may have moved since).
    const chosen = rescore(cycle, p.ctx, p.candidate);
    const candidates = [chosen, ...others].slice(0, top).map((c) => describe(cycle, p, c, scoreNames, options.registry));
    const earliest = search.best(p.ctx, p.candidate.option, true);
    const explain: Explain = {
      policy: options.profile.name,
      candidates,
      earliestHere: earliest ? describe(cycle, p, earliest, scoreNames, options.registry) : null,
      rejected: p.ctx.rejected.map(({ site, reason }) => ({ site, reason })),
    };
    apply(cycle, p.ctx, p.candidate, +1);
    return explain;
  });
}

function describe(cycle: Cycle, p: Placement, c: Candidate, scoreNames: string[], registry: Registry): ExplainCandidate {
  const site = cycle.sites[c.option.siteIndex];
  // What the job adds there (with the idle draw it changes under the sleep policy), as its score counts it.
  const pool = site.pools.get(p.ctx.job.poolClass)!;
  const energies = c.slots.map((t, i) => addedKWh(pool, p.ctx.job.units, t, c.shares[i]));
  const parts: Record<string, number> = {};
  const origin = cycle.snapshot.signals[p.ctx.job.origin];
  const transferSlot = Math.min(cycle.snapshot.grid.slots - 1, Math.max(0, p.ctx.transferStartSlot));
  const gb = c.option.route.links.length > 0 ? p.ctx.job.inputGb : 0;
  for (const name of scoreNames) {
    const plugin = registry.score(name);
    let value = gb > 0 ? plugin.transfer(gb, c.option.route, origin, transferSlot) : 0;
    c.slots.forEach((t, i) => {
      const green = Math.min(energies[i], Math.max(0, site.greenKWh[t] - site.loadKWh[t]));
      value += green * plugin.greenPerKWh(site.site, site.signals) + (energies[i] - green) * plugin.gridPerKWh(site.site, site.signals, t);
    });
    parts[name] = value;
  }
  return {
    site: site.site.id,
    start: iso(c.runs[0]),
    end: iso(c.runs[c.runs.length - 1]),
    score: c.score,
    parts,
  };
}

/** ISO 8601 of an instant; slot boundaries repeat across thousands of runs, so they are cached. */
const isoCache = new Map<number, string>();
function iso(ms: number): string {
  let text = isoCache.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (isoCache.size > 100_000) isoCache.clear();
    isoCache.set(ms, text);
  }
  return text;
}
