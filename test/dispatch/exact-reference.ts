/**
 * An exact reference for tiny instances: the dispatch problem of a plan's placed jobs written out as a
 * MIP from the snapshot alone (not from the planner's state) and solved by HiGHS. Each job runs at one
 * site; a non-interruptible job in one window (its partial share in the window's first or last slot, the
 * deadline's slot only as the last), an interruptible one in any n−1 full slots and one partial slot;
 * pools hold their units in every slot; per site and slot, energy is covered by renewables (up to what
 * is available, at the renewable rate) and grid energy (at the slot's rate); moving an input costs its
 * transfer objective. When renewables are never dearer than the grid, its optimum is the true optimum of
 * the planner's model, so bound ≤ optimum ≤ plan.
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
    const durationSlots = (job.durationS * 1000) / len;
    const n = Math.max(1, Math.ceil(durationSlots - 1e-9));
    const f = durationSlots - (n - 1);
    const partialUsed = f < 1;
    for (const win of windows) {
      const site = snapshot.network.sites.find((s) => s.id === win.site)!;
      const pool = site.pools.find((p) => p.id === win.poolId)!;
      const full = pool.powerCurve.find((p) => p.load === 1) ?? pool.powerCurve[pool.powerCurve.length - 1];
      const kWh = (job.units * full.powerW * site.pue * slotHours) / 1000;
      const transfer = transferObjective(snapshot, job, win.site, routes, w);
      // A slot's rows for `share` of a full slot of this job.
      const use = (t: number, share: number): [number[], number[]] => [
        [eRow(win.site, t), cRow(win.site, win.poolId, pool.units, t)],
        [kWh * share, job.units],
      ];
      if (!job.interruptible) {
        for (let s = win.first; s + n - 1 <= win.last; s++) {
          const patterns: number[] = partialUsed ? [s + n - 1, ...(n > 1 && s + n - 1 !== win.tail ? [s] : [])] : [-1];
          for (const partialAt of patterns) {
            const rows = [oneSite];
            const coefs = [1];
            for (let t = s; t < s + n; t++) {
              const [r, c] = use(t, t === partialAt ? f : 1);
              rows.push(...r);
              coefs.push(...c);
            }
            lp.addCol(transfer, 0, 1, rows, coefs, true);
          }
        }
        continue;
      }
      // Interruptible: z (site chosen), x_t full slots, p_t the partial slot.
      const fullCount = lp.addRow(0, 0);
      const partialCount = partialUsed ? lp.addRow(0, 0) : -1;
      lp.addCol(transfer, 0, 1, partialUsed ? [oneSite, fullCount, partialCount] : [oneSite, fullCount], partialUsed ? [1, -(n - 1), -1] : [1, -n], true);
      for (let t = win.first; t <= win.last; t++) {
        const once = partialUsed ? lp.addRow(-Infinity, 1) : -1;
        if (t !== win.tail) {
          const [r, c] = use(t, 1);
          lp.addCol(0, 0, 1, [fullCount, ...r, ...(partialUsed ? [once] : [])], [1, ...c, ...(partialUsed ? [1] : [])], true);
        }
        if (partialUsed) {
          const [r, c] = use(t, f);
          lp.addCol(0, 0, 1, [partialCount, ...r, once], [1, ...c, 1], true);
        }
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
