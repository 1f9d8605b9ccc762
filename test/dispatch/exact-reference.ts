/**
 * An exact reference for tiny instances: the dispatch problem of a plan's placed jobs written out as a
 * MIP from the snapshot alone (not from the planner's state) and solved by HiGHS. Each job runs at one
 * site; a non-interruptible job in one run starting at its window's start or end, a slot boundary, or so
 * that it ends on one (between those the run's slots do not change); an interruptible one for any share of
 * any slot of its window (at most what the window leaves of the slot); pools hold the job's units in every
 * slot it touches; per site and slot, energy is covered by renewables (up to what is available, at the
 * renewable rate) and grid energy (at the slot's rate); moving an input costs its transfer objective.
 * Every placement the planner can make is one of these, so when renewables are never dearer than the grid,
 * bound ≤ optimum ≤ plan.
 */
import type { Snapshot } from '../../src/core/dispatch/cycle.ts';
import type { Plan } from '../../src/core/dispatch/plan.ts';
import { LpBuilder, type LpSolver } from '../../src/core/lp/model.ts';
import type { Job } from '../../src/core/model/types.ts';
import { slotMs } from '../../src/core/model/types.ts';
import { computeRoutes } from '../../src/core/network/routes.ts';
import { siteWindows } from '../fixtures/plan-checks.ts';

export interface ExactResult {
  status: string;
  /** The best placement found (≥ the optimum). */
  value: number;
  /** HiGHS's proven lower bound (≤ the optimum; equal within its MIP gap tolerance). */
  dualBound: number;
}

/** Minimum weighted objective of placing `plan`'s placed jobs, each at one of its allowed sites (only the origin for asap-origin). */
export function exactOptimum(snapshot: Snapshot, plan: Plan, weights: Readonly<Record<string, number>>, solver: LpSolver, timeLimitS = 30): ExactResult {
  const { grid } = snapshot;
  const len = slotMs(grid);
  const slotHours = grid.slotMinutes / 60;
  const routes = computeRoutes(snapshot.network);
  const w = (name: string) => weights[name] ?? 0;
  const lp = new LpBuilder();
  const energyRow = new Map<string, number>();
  const capRow = new Map<string, number>();
  const eRow = (site: string, t: number) => {
    const key = `${site}/${t}`;
    if (!energyRow.has(key)) energyRow.set(key, lp.addRow(0, 0));
    return energyRow.get(key)!;
  };
  const cRow = (site: string, pool: string, units: number, t: number) => {
    const key = `${site}/${pool}/${t}`;
    if (!capRow.has(key)) capRow.set(key, lp.addRow(-Infinity, units));
    return capRow.get(key)!;
  };
  const placed = new Set(plan.jobs.map((j) => j.id));
  const jobs = snapshot.jobs.filter((j) => placed.has(j.id));
  for (const job of jobs) {
    const windows = siteWindows(snapshot, job, plan.policy === 'asap-origin');
    const oneSite = lp.addRow(1, 1);
    for (const win of windows) {
      const { workMs } = win;
      const site = snapshot.network.sites.find((s) => s.id === win.site)!;
      const pool = site.pools.find((p) => p.id === win.poolId)!;
      const full = pool.powerCurve.find((p) => p.load === 1) ?? pool.powerCurve[pool.powerCurve.length - 1];
      const kWh = (job.units * full.powerW * site.pue * slotHours) / 1000;
      const transfer = transferObjective(snapshot, job, win.site, routes, w);
      const slotStart = (t: number) => grid.startMs + t * len;
      if (!job.interruptible) {
        const starts = new Set<number>([win.readyMs, win.endMs - workMs]);
        for (let t = win.first; t <= win.last + 1; t++) {
          for (const s of [slotStart(t), slotStart(t) - workMs]) if (s >= win.readyMs && s <= win.endMs - workMs) starts.add(s);
        }
        for (const s of starts) {
          const rows = [oneSite];
          const coefs = [1];
          for (let t = Math.floor((s - grid.startMs) / len); slotStart(t) < s + workMs; t++) {
            const share = (Math.min(s + workMs, slotStart(t + 1)) - Math.max(s, slotStart(t))) / len;
            rows.push(eRow(win.site, t), cRow(win.site, win.poolId, pool.units, t));
            coefs.push(kWh * share, job.units);
          }
          lp.addCol(transfer, 0, 1, rows, coefs, true);
        }
        continue;
      }
      // Interruptible: z (site chosen); per slot y_t (touched: holds the units) and x_t (share run), x_t ≤ available × y_t.
      const work = lp.addRow(0, 0);
      lp.addCol(transfer, 0, 1, [oneSite, work], [1, -workMs / len], true);
      for (let t = win.first; t <= win.last; t++) {
        const available = (Math.min(win.endMs, slotStart(t + 1)) - Math.max(win.readyMs, slotStart(t))) / len;
        const link = lp.addRow(-Infinity, 0);
        lp.addCol(0, 0, 1, [link, cRow(win.site, win.poolId, pool.units, t)], [-available, job.units], true);
        lp.addCol(0, 0, available, [work, link, eRow(win.site, t)], [1, 1, kWh]);
      }
    }
  }
  // Committed work takes units and energy.
  for (const c of snapshot.committed ?? []) {
    const site = snapshot.network.sites.find((s) => s.id === c.siteId)!;
    const pool = site.pools.find((p) => p.id === c.poolId)!;
    c.slots.forEach((t, i) => {
      lp.addCol(0, 1, 1, [eRow(c.siteId, t), cRow(c.siteId, c.poolId, pool.units, t)], [c.energyKWh[i], c.units]);
    });
  }
  for (const [key, row] of energyRow) {
    const [siteId, slot] = key.split('/');
    const t = Number(slot);
    const site = snapshot.network.sites.find((s) => s.id === siteId)!;
    const sig = snapshot.signals[siteId];
    const greenRate = w('cost') * site.renewable.priceYuanPerKWh + (w('carbon') * site.renewable.carbonGPerKWh) / 1000;
    const gridRate = w('cost') * sig.priceYuanPerKWh[t] + (w('carbon') * sig.carbonGPerKWh[t]) / 1000 + w('green');
    lp.addCol(greenRate, 0, Math.max(0, sig.renewableKW[t]) * slotHours, [row], [-1]);
    lp.addCol(gridRate, 0, Infinity, [row], [-1]);
  }
  const result = solver(lp.build(), { timeLimitS });
  const solved = result.status === 'optimal';
  return { status: result.status, value: solved ? result.objective : NaN, dualBound: solved ? result.dualBound : NaN };
}

function transferObjective(snapshot: Snapshot, job: Job, siteId: string, routes: ReturnType<typeof computeRoutes>, w: (name: string) => number): number {
  if (siteId === job.origin || job.inputGb <= 0) return 0;
  const route = routes.get(job.origin)!.get(siteId)!;
  const { grid } = snapshot;
  const ready = Math.max(job.releaseMs, snapshot.nowMs);
  const slot = Math.min(grid.slots - 1, Math.max(0, Math.floor((ready - grid.startMs) / slotMs(grid))));
  const kWh = job.inputGb * route.links.reduce((s, l) => s + l.energyKWhPerGB, 0);
  const yuan = job.inputGb * route.links.reduce((s, l) => s + l.costYuanPerGB, 0);
  return w('cost') * yuan + (w('carbon') * kWh * snapshot.signals[job.origin].carbonGPerKWh[slot]) / 1000 + w('green') * kWh;
}
