/**
 * A lower bound on a plan's objective from a linear-programming relaxation, so that every plan
 * states how far from optimal it can be. Called by `dispatch` after the planner.
 *
 * Relaxation of placing the plan's jobs (each at one of its allowed sites, in its window):
 * - a job's work (units × slots) may split across sites and slots, up to its units per slot (times the
 *   share of the slot its window leaves, in its first and last slot);
 * - per site and slot, the objective of the site's energy is renewable-first (convex, piecewise
 *   linear): a green segment at the renewable rate and a grid segment at the slot's rate;
 * - moving input data costs, per unit of work placed at a site, the job's transfer objective ÷ its work.
 * When the model would be too large, slots are merged into blocks of k slots (windows widened to
 * whole blocks, capacities and energy summed, each block's cost the cheapest spread of energy over
 * its slots) and jobs with the same pool class and block windows merge into classes (their work
 * and units add up; the transfer rate is the smallest of theirs). Both only loosen the relaxation,
 * so the value stays a lower bound. With k = 1 and one job per class the bound is the exact LP.
 */
import type { LpBuilder as LpBuilderType, LpSolver } from '../lp/model.ts';
import { LpBuilder } from '../lp/model.ts';
import { Cycle, type SiteOption } from './cycle.ts';
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
  /** Largest LP to build, in variables; beyond it slots merge into blocks (default 150,000). */
  maxVariables?: number;
  /**
   * Up to this many (job, site) pairs (default 2,000), the bound also solves the site-choice MIP:
   * each job at exactly one site (binary), its work spread over that site's slots. Its proven
   * bound is at least the LP's. 0 turns it off.
   */
  maxSiteChoices?: number;
  /** Time limit of the MIP, seconds (default 20). */
  mipTimeLimitS?: number;
}

interface JobClass {
  poolClass: string;
  work: number;
  units: number;
  /** Per allowed site: [siteIndex, firstBlock, lastBlock, transfer objective per unit of work]. */
  sites: [number, number, number, number][];
  /** Per allowed site: the class's most work (unit-slots) in its first and in its last block (its windows cut them). */
  edges: [number, number][];
  jobs: number;
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
  // Start from the smallest block size at which even unmerged jobs would be within 4× the limit
  // (cheap to count), then double until the merged classes fit.
  let block = 1;
  while (block < slots && unmergedVariables(placements, block) > 4 * maxVariables) block *= 2;
  let classes = classify(placements, block, base.snapshot.grid.startMs, base.slotMs);
  while (countVariables(classes, block, base.sites.length, slots) > maxVariables && block < slots) {
    block *= 2;
    classes = classify(placements, block, base.snapshot.grid.startMs, base.slotMs);
  }
  const relaxation = buildLp(base, classes, block, false);
  const result = options.solver(relaxation.lp.build());
  const shape = `${classes.length} job classes for ${placements.length} jobs, ${base.sites.length} sites × ${slots} slots in blocks of ${block}, ${relaxation.lp.numCols} variables`;
  if (result.status !== 'optimal') {
    const method = `per-job cheapest energy, ignoring capacity and shared renewables (the LP relaxation did not solve: ${result.message}; ${shape})`;
    return { value: perJobCheapest(base, placements), method, guide: null };
  }
  const perJob = block === 1 && classes.length === placements.length;
  let value = result.dualBound;
  let method = `LP relaxation solved by HiGHS: ${shape}${perJob ? '; one class per job' : ''}`;
  let guide = perJob ? guideOf(placements, relaxation.work, result.colValue!, slots) : null;
  const choices = placements.reduce((n, p) => n + p.ctx.options.length, 0);
  if (block === 1 && choices <= (options.maxSiteChoices ?? 2000)) {
    const mip = buildLp(base, classify(placements, 1, base.snapshot.grid.startMs, base.slotMs, true), 1, true);
    const solved = options.solver(mip.lp.build(), { timeLimitS: options.mipTimeLimitS ?? 20 });
    if ((solved.status === 'optimal' || solved.status === 'limit') && solved.dualBound > value) {
      value = solved.dualBound;
      method = `site-choice MIP solved by HiGHS (${solved.status === 'optimal' ? 'optimal' : 'proven bound at its time limit'}): each of ${placements.length} jobs at one site, its work spread over that site's slots; tighter than the LP relaxation (${result.dualBound.toPrecision(8)}): ${shape}`;
    }
    if (solved.colValue) guide = guideOf(placements, mip.work, solved.colValue, slots);
  }
  return { value, method, guide };
}

/** Each job's site (where most of its work went) and its work per slot there, from a per-job solution. */
function guideOf(placements: readonly Placement[], work: readonly WorkColumn[], colValue: Float64Array, slots: number): Guide {
  const mass = placements.map(() => new Map<number, Float64Array>());
  for (const w of work) {
    const value = colValue[w.col];
    if (value <= 1e-9) continue;
    const perSite = mass[w.cls];
    let bySlot = perSite.get(w.site);
    if (!bySlot) perSite.set(w.site, (bySlot = new Float64Array(slots)));
    bySlot[w.block] += value;
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

function workOf(p: Placement): number {
  return p.ctx.job.units * p.ctx.workSlots;
}

/** Groups jobs into classes by pool class, block windows and transfer rate (`perJob` keeps one class per job). */
function classify(placements: readonly Placement[], block: number, gridStartMs: number, slotMs: number, perJob = false): JobClass[] {
  const byKey = new Map<string, JobClass>();
  const parts: (string | number)[] = [];
  for (const p of placements) {
    const { job } = p.ctx;
    const work = workOf(p);
    parts.length = 0;
    parts.push(job.poolClass);
    for (const o of p.ctx.options) parts.push(o.siteIndex, Math.floor(o.firstSlot / block), Math.floor(o.lastSlot / block), transferBucket(o.transferScore / work));
    const key = perJob ? job.id : parts.join(':');
    const known = byKey.get(key);
    if (known) {
      known.work += work;
      known.units += job.units;
      known.jobs += 1;
      p.ctx.options.forEach((o, i) => {
        known.sites[i][3] = Math.min(known.sites[i][3], o.transferScore / work);
        const [head, tail] = edgeWork(p, o, block, gridStartMs, slotMs);
        known.edges[i][0] += head;
        known.edges[i][1] += tail;
      });
    } else {
      const sites = p.ctx.options.map((o): [number, number, number, number] => [o.siteIndex, Math.floor(o.firstSlot / block), Math.floor(o.lastSlot / block), o.transferScore / work]);
      const edges = p.ctx.options.map((o) => edgeWork(p, o, block, gridStartMs, slotMs));
      byKey.set(key, { poolClass: job.poolClass, work, units: job.units, sites, edges, jobs: 1 });
    }
  }
  return [...byKey.values()];
}

/** The most work (unit-slots) a job can do at a site in its window's first and last block: its units times the time the window leaves there. */
function edgeWork(p: Placement, o: SiteOption, block: number, gridStartMs: number, slotMs: number): [number, number] {
  const blockMs = block * slotMs;
  const firstBlock = Math.floor(o.firstSlot / block);
  const lastBlock = Math.floor(o.lastSlot / block);
  const units = p.ctx.job.units;
  const head = (Math.min(o.endMs, gridStartMs + (firstBlock + 1) * blockMs) - o.readyMs) / slotMs;
  const tail = (o.endMs - Math.max(o.readyMs, gridStartMs + lastBlock * blockMs)) / slotMs;
  return [units * head, units * tail];
}

/** Jobs merge only when their transfer objective per unit of work is within 10 % (the class takes the smallest). */
function transferBucket(perWork: number): number {
  return perWork <= 0 ? -1 : Math.floor(Math.log(perWork) / Math.log(1.1));
}

/** Variables if no jobs merged: an upper bound on the LP's size, without building classes. */
function unmergedVariables(placements: readonly Placement[], block: number): number {
  let n = 0;
  for (const p of placements) for (const o of p.ctx.options) n += Math.floor(o.lastSlot / block) - Math.floor(o.firstSlot / block) + 1;
  return n;
}

function countVariables(classes: readonly JobClass[], block: number, siteCount: number, slots: number): number {
  const blocks = Math.ceil(slots / block);
  const used = new Uint8Array(siteCount * blocks);
  let n = 0;
  for (const c of classes) {
    for (const [s, first, last] of c.sites) {
      n += last - first + 1;
      used.fill(1, s * blocks + first, s * blocks + last + 1);
    }
  }
  let siteBlocks = 0;
  for (const u of used) siteBlocks += u;
  return n + siteBlocks * (1 + Math.min(block, slots));
}

/** A work column of the LP: unit-slots of class `cls` at site `site` in block `block`. */
interface WorkColumn {
  col: number;
  cls: number;
  site: number;
  block: number;
}

/** The relaxation as an LP; with `siteChoice`, each class (one job) also picks one site with binaries. */
function buildLp(base: Cycle, classes: readonly JobClass[], block: number, siteChoice: boolean): { lp: LpBuilderType; work: WorkColumn[] } {
  const slots = base.snapshot.grid.slots;
  const lp = new LpBuilder();
  const work: WorkColumn[] = [];
  // Rows are created lazily per (site, block): one energy balance, one capacity row per pool class.
  const energyRow = new Map<string, number>();
  const capacityRow = new Map<string, number>();
  const blockSlots = (b: number) => {
    const from = b * block;
    return { from, to: Math.min(slots, from + block) };
  };
  classes.forEach((c, cls) => {
    const workRow = siteChoice ? -1 : lp.addRow(c.work, c.work);
    const chooseRow = siteChoice ? lp.addRow(1, 1) : -1;
    c.sites.forEach(([s, first, last, transferPerWork], i) => {
      const site = base.sites[s];
      const pool = site.pools.get(c.poolClass as never)!;
      // With site choice, the work row becomes Σ y at this site = work × z(site): one row per site.
      const siteRow = siteChoice ? lp.addRow(0, 0) : workRow;
      if (siteChoice) lp.addCol(transferPerWork * c.work, 0, 1, [chooseRow, siteRow], [1, -c.work], true);
      for (let b = first; b <= last; b++) {
        const { from, to } = blockSlots(b);
        const key = `${s}:${b}`;
        let eRow = energyRow.get(key);
        if (eRow === undefined) {
          eRow = lp.addRow(0, 0);
          energyRow.set(key, eRow);
        }
        const capKey = `${key}:${c.poolClass}`;
        let cRow = capacityRow.get(capKey);
        if (cRow === undefined) {
          let free = 0;
          for (let t = from; t < to; t++) free += Math.max(0, pool.free[t]);
          cRow = lp.addRow(-Infinity, free);
          capacityRow.set(capKey, cRow);
        }
        let most = c.units * (to - from);
        if (b === first) most = Math.min(most, c.edges[i][0]);
        if (b === last) most = Math.min(most, c.edges[i][1]);
        const col = lp.addCol(siteChoice ? 0 : transferPerWork, 0, Math.max(0, most), [siteRow, eRow, cRow], [1, pool.kWhPerUnitSlot, 1]);
        work.push({ col, cls, site: s, block: b });
      }
    });
  });
  // Energy of each (site, block) is covered by segments: renewable (cheapest) and grid per slot.
  for (const [key, row] of energyRow) {
    const [s, b] = key.split(':').map(Number);
    const site = base.sites[s];
    const { from, to } = blockSlots(b);
    let greenLength = 0;
    for (let t = from; t < to; t++) {
      let maxKWh = 0;
      for (const pool of site.pools.values()) maxKWh += Math.max(0, pool.free[t]) * pool.kWhPerUnitSlot;
      const green = Math.min(Math.max(0, site.greenKWh[t] - site.loadKWh[t]), maxKWh);
      greenLength += green;
      lp.addCol(site.gridRate[t], 0, Math.max(0, maxKWh - green), [row], [-1]);
    }
    lp.addCol(site.greenRate, 0, greenLength, [row], [-1]);
  }
  return { lp, work };
}

/** A weaker bound that needs no solver: each job's work at its cheapest rate anywhere in its window, plus its cheapest transfer. */
function perJobCheapest(base: Cycle, placements: readonly Placement[]): number {
  let total = 0;
  for (const p of placements) {
    let best = Infinity;
    for (const o of p.ctx.options) {
      const site = base.sites[o.siteIndex];
      const pool = site.pools.get(p.ctx.job.poolClass)!;
      let rate = site.greenRate;
      for (let t = o.firstSlot; t <= o.lastSlot; t++) rate = Math.min(rate, site.gridRate[t]);
      best = Math.min(best, workOf(p) * pool.kWhPerUnitSlot * rate + o.transferScore);
    }
    total += best;
  }
  return total;
}
