/**
 * A lower bound on a plan's objective, so that every plan states how far from optimal it can be.
 * Called by `dispatch` after the planner.
 *
 * Two relaxations of placing the plan's jobs (each at one of its allowed sites, in its window):
 * - the LP, when it fits the solver in single slots: a job's work (units × slots) may split across sites and
 *   slots, up to its units per slot (times the share of the slot its window leaves, in its first and last slot);
 *   per site and slot, the site's energy costs renewable first (a green segment at the renewable rate, a grid
 *   segment at the slot's rate); moving input costs, per unit of work placed at a site, the job's transfer
 *   objective ÷ its work. Up to `maxSiteChoices` (job, site) pairs, the site-choice MIP tightens it.
 * - the Lagrangian relaxation (lagrangian.ts), at any size: capacity and shared energy priced, each job placed
 *   exactly (a gang job's one run, not a thin spread), so it is often the tighter of the two. Where the LP fits, it
 *   is computed only when the LP (or MIP) leaves more than its stopping gap.
 * The plan states the larger and how it was obtained.
 */
import type { LpBuilder as LpBuilderType, LpSolver } from '../lp/model.ts';
import { LpBuilder } from '../lp/model.ts';
import type { Cycle, SiteOption } from './cycle.ts';
import { LAGRANGIAN_STOP_GAP_PCT, lagrangianBound, type LagrangianOptions } from './lagrangian.ts';
import type { Guide, Placement } from './planner.ts';

/** The bound as a plan states it. */
export interface Bound {
  objective: string;
  value: number;
  planValue: number;
  gapPct: number;
  method: string;
}

export interface BoundOptions {
  solver: LpSolver;
  /** Largest LP to build, in work variables; beyond it only the Lagrangian bound is computed (default 150,000). */
  maxVariables?: number;
  /**
   * Up to this many (job, site) pairs (default 2,000), the bound also solves the site-choice MIP:
   * each job at exactly one site (binary), its work spread over that site's slots. Its proven
   * bound is at least the LP's. 0 turns it off.
   */
  maxSiteChoices?: number;
  /** Time limit of the MIP, seconds (default 20). */
  mipTimeLimitS?: number;
  /**
   * The plan's value (the Lagrangian bound steps towards it and stops near it), and that bound's limits (lagrangian.ts).
   */
  planValue: number;
  lagrangian?: Omit<LagrangianOptions, 'upperBound'>;
}

/** One job as the LP sees it: its units, and per allowed site its window, work and transfer objective. */
interface JobColumns {
  poolClass: string;
  units: number;
  /** Per allowed site: [siteIndex, firstSlot, lastSlot, work (unit-slots at the pool's speed), transfer objective]. */
  sites: [number, number, number, number, number][];
  /** Per allowed site: the job's most work (unit-slots) in its first and in its last slot (its window cuts them). */
  edges: [number, number][];
}

/** A proven lower bound, how it was obtained, and — when the solution is per job — a guide for re-planning. */
export interface BoundResult {
  value: number;
  method: string;
  /** The relaxation's placement of each job (its site and its work per slot), when solved one class per job in single slots. */
  guide: Guide | null;
}

/** Lower bound on the weighted objective of placing `placements` (`base`: a fresh view of the snapshot without them). */
export function lowerBound(base: Cycle, placements: readonly Placement[], options: BoundOptions): BoundResult {
  const slots = base.snapshot.grid.slots;
  const maxVariables = options.maxVariables ?? 150_000;
  const decomposed = () => {
    const r = lagrangianBound(base, placements, { ...options.lagrangian, upperBound: options.planValue });
    const method = `Lagrangian relaxation of capacity and shared energy (each job's exact place at the prices; ${r.iterations} subgradient iterations): ${placements.length} jobs, ${base.sites.length} sites × ${slots} slots`;
    return { value: r.value, method, guide: r.guide };
  };
  if (placements.length === 0) return { value: 0, method: 'no jobs placed', guide: null };
  // The exact LP when it fits in single slots; beyond that the decomposition, which needs no merging.
  if (workVariables(placements) > maxVariables) return decomposed();
  const columns = placements.map((p) => columnsOf(p, base.snapshot.grid.startMs, base.slotMs));
  const relaxation = buildLp(base, columns, false);
  const result = options.solver(relaxation.lp.build());
  const shape = `${placements.length} jobs, ${base.sites.length} sites × ${slots} slots, ${relaxation.lp.numCols} variables`;
  if (result.status !== 'optimal') {
    const lagrangian = decomposed();
    return { ...lagrangian, method: `${lagrangian.method} (the LP relaxation did not solve: ${result.message})` };
  }
  let value = result.dualBound;
  let method = `LP relaxation solved by HiGHS: ${shape}`;
  let guide: Guide | null = guideOf(placements, relaxation.work, result.colValue!, slots);
  const choices = placements.reduce((n, p) => n + p.ctx.options.length, 0);
  if (choices <= (options.maxSiteChoices ?? 2000)) {
    const mip = buildLp(base, columns, true);
    const solved = options.solver(mip.lp.build(), { timeLimitS: options.mipTimeLimitS ?? 20 });
    if ((solved.status === 'optimal' || solved.status === 'limit') && solved.dualBound > value) {
      value = solved.dualBound;
      method = `site-choice MIP solved by HiGHS (${solved.status === 'optimal' ? 'optimal' : 'proven bound at its time limit'}): each of ${placements.length} jobs at one site, its work spread over that site's slots; tighter than the LP relaxation (${result.dualBound.toPrecision(8)}): ${shape}`;
    }
    if (solved.colValue) guide = guideOf(placements, mip.work, solved.colValue, slots);
  }
  // The decomposition only where the LP or MIP leaves more than its stopping gap (the service runs this every cycle).
  const stopGap = (options.lagrangian?.stopGapPct ?? LAGRANGIAN_STOP_GAP_PCT) / 100;
  if (options.planValue - value <= stopGap * Math.abs(options.planValue)) return { value, method, guide };
  const lagrangian = decomposed();
  if (lagrangian.value > value) return { ...lagrangian, method: `${lagrangian.method}; tighter than the ${method}` };
  return { value, method, guide };
}

/** Each job's site (where most of its work went) and its work per slot there, from a per-job solution. */
function guideOf(placements: readonly Placement[], work: readonly WorkColumn[], colValue: Float64Array, slots: number): Guide {
  const mass = placements.map(() => new Map<number, Float64Array>());
  for (const w of work) {
    const value = colValue[w.col];
    if (value <= 1e-9) continue;
    const perSite = mass[w.job];
    let bySlot = perSite.get(w.site);
    if (!bySlot) perSite.set(w.site, (bySlot = new Float64Array(slots)));
    bySlot[w.slot] += value;
  }
  const byJob = new Map<number, { site: number; preference: Float64Array }>();
  placements.forEach((p, i) => {
    let best: [number, Float64Array] | null = null;
    let bestMass = 0;
    for (const [site, bySlot] of mass[i]) {
      const total = bySlot.reduce((a, b) => a + b, 0);
      if (total > bestMass + 1e-12 || (Math.abs(total - bestMass) <= 1e-12 && best !== null && site < best[0])) {
        best = [site, bySlot];
        bestMass = total;
      }
    }
    if (best) byJob.set(p.ctx.index, { site: best[0], preference: best[1] });
  });
  return {
    siteIndex: (j) => byJob.get(j)?.site ?? -1,
    slotPreference: (j) => byJob.get(j)?.preference ?? null,
  };
}

function columnsOf(p: Placement, gridStartMs: number, slotMs: number): JobColumns {
  const units = p.ctx.job.units;
  return {
    poolClass: p.ctx.job.poolClass,
    units,
    sites: p.ctx.options.map((o) => [o.siteIndex, o.firstSlot, o.lastSlot, units * o.workSlots, o.transferScore]),
    edges: p.ctx.options.map((o) => edgeWork(p, o, gridStartMs, slotMs)),
  };
}

/** The most work (unit-slots) a job can do at a site in its window's first and last slot: its units times the time the window leaves there. */
function edgeWork(p: Placement, o: SiteOption, gridStartMs: number, slotMs: number): [number, number] {
  const units = p.ctx.job.units;
  const head = (Math.min(o.endMs, gridStartMs + (o.firstSlot + 1) * slotMs) - o.readyMs) / slotMs;
  const tail = (o.endMs - Math.max(o.readyMs, gridStartMs + o.lastSlot * slotMs)) / slotMs;
  return [units * head, units * tail];
}

/** The LP's work variables: one per job, allowed site and slot of its window. */
function workVariables(placements: readonly Placement[]): number {
  let n = 0;
  for (const p of placements) for (const o of p.ctx.options) n += o.lastSlot - o.firstSlot + 1;
  return n;
}

/** A work column of the LP: unit-slots of job `job` (its index among the placements) at site `site` in slot `slot`. */
interface WorkColumn {
  col: number;
  job: number;
  site: number;
  slot: number;
}

/** The relaxation as an LP; with `siteChoice`, each job also picks one site with binaries. */
function buildLp(base: Cycle, jobs: readonly JobColumns[], siteChoice: boolean): { lp: LpBuilderType; work: WorkColumn[] } {
  const lp = new LpBuilder();
  const work: WorkColumn[] = [];
  // Rows are created lazily per (site, slot): one energy balance, one capacity row per pool class.
  const energyRow = new Map<string, number>();
  const capacityRow = new Map<string, number>();
  jobs.forEach((c, job) => {
    // The job is done once: Σ over sites of (work placed there ÷ its work there) = 1 (a pool's speed sets its work).
    const workRow = siteChoice ? -1 : lp.addRow(1, 1);
    const chooseRow = siteChoice ? lp.addRow(1, 1) : -1;
    c.sites.forEach(([s, first, last, siteWork, transfer], i) => {
      const site = base.sites[s];
      const pool = site.pools.get(c.poolClass as never)!;
      // With site choice, the work row becomes Σ y at this site = work there × z(site): one row per site.
      const siteRow = siteChoice ? lp.addRow(0, 0) : workRow;
      if (siteChoice) lp.addCol(transfer, 0, 1, [chooseRow, siteRow], [1, -siteWork], true);
      for (let t = first; t <= last; t++) {
        const key = `${s}:${t}`;
        let eRow = energyRow.get(key);
        if (eRow === undefined) {
          eRow = lp.addRow(0, 0);
          energyRow.set(key, eRow);
        }
        const capKey = `${key}:${c.poolClass}`;
        let cRow = capacityRow.get(capKey);
        if (cRow === undefined) {
          cRow = lp.addRow(-Infinity, Math.max(0, pool.free[t]));
          capacityRow.set(capKey, cRow);
        }
        let most = c.units;
        if (t === first) most = Math.min(most, c.edges[i][0]);
        if (t === last) most = Math.min(most, c.edges[i][1]);
        const col = lp.addCol(siteChoice ? 0 : transfer / siteWork, 0, Math.max(0, most), [siteRow, eRow, cRow], [siteChoice ? 1 : 1 / siteWork, pool.kWhPerUnitSlot, 1]);
        work.push({ col, job, site: s, slot: t });
      }
    });
  });
  // Energy of each (site, slot) is covered by segments: renewable (cheapest) and grid.
  for (const [key, row] of energyRow) {
    const [s, t] = key.split(':').map(Number);
    const site = base.sites[s];
    let maxKWh = 0;
    for (const pool of site.pools.values()) maxKWh += Math.max(0, pool.free[t]) * pool.kWhPerUnitSlot;
    const green = Math.min(Math.max(0, site.greenKWh[t] - site.loadKWh[t]), maxKWh);
    lp.addCol(site.gridRate[t], 0, Math.max(0, maxKWh - green), [row], [-1]);
    lp.addCol(site.greenRate, 0, green, [row], [-1]);
  }
  return { lp, work };
}
