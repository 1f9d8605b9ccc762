/**
 * Pools shared by services and batch (docs/services.md "Shared pools"): a batch plan's runs as the units and energy
 * a services placement must plan around, and a services plan's own use as `CommittedUse` on a batch plan's grid, so
 * that `kumul plan --services-plan` leaves those units to the services. Called by the CLI.
 */
import type { CommittedUse } from '../core/dispatch/cycle.ts';
import { busyUnitFacilityKW } from '../core/model/power.ts';
import type { Scenario, TimeGrid } from '../core/model/types.ts';
import { slotMs } from '../core/model/types.ts';
import { ServicesFileError } from './files.ts';

interface BatchPlanJson {
  jobs?: { site: string; pool: string; runs: { start: string; end: string; units: number }[] }[];
}

/** The units and facility energy of a batch plan's runs per slot of the scenario's grid (runs pay for the part of a slot they cover). */
export function committedFromBatchPlan(json: unknown, scenario: Scenario, file: string): CommittedUse[] {
  const plan = json as BatchPlanJson;
  if (typeof json !== 'object' || json === null || !Array.isArray(plan.jobs)) throw new ServicesFileError(file, [{ path: 'jobs', reason: 'is required: a batch plan (docs/plan-format.md) lists its jobs' }]);
  const { grid } = scenario;
  const ms = slotMs(grid);
  const out: CommittedUse[] = [];
  plan.jobs.forEach((job, i) => {
    const site = scenario.network.sites.find((s) => s.id === job.site);
    const pool = site?.pools.find((p) => p.id === job.pool);
    if (!site || !pool) throw new ServicesFileError(file, [{ path: `jobs[${i}].pool`, reason: `unknown pool '${job.pool}' at site '${job.site}' in scenario '${scenario.id}'` }]);
    const kW = busyUnitFacilityKW(pool, site.pue);
    for (const run of job.runs) {
      const from = Date.parse(run.start);
      const to = Date.parse(run.end);
      const use: CommittedUse = { siteId: site.id, poolId: pool.id, units: run.units, slots: [], energyKWh: [] };
      for (let t = Math.max(0, Math.floor((from - grid.startMs) / ms)); t < grid.slots && grid.startMs + t * ms < to; t++) {
        const hours = (Math.min(to, grid.startMs + (t + 1) * ms) - Math.max(from, grid.startMs + t * ms)) / 3_600_000;
        if (hours <= 0) continue;
        use.slots.push(t);
        use.energyKWh.push(run.units * kW * hours);
      }
      if (use.slots.length > 0) out.push(use);
    }
  });
  return out;
}

interface ServicesPlanJson {
  format?: string;
  start?: string;
  slotMinutes?: number;
  committed?: CommittedUse[];
}

/**
 * A services plan's `committed` entries moved onto a batch planning grid: same slot length, slot boundaries aligned;
 * slots outside the grid are dropped. Throws a ServicesFileError when the grids do not line up.
 */
export function committedOnGrid(json: unknown, grid: TimeGrid, file: string): CommittedUse[] {
  const plan = json as ServicesPlanJson;
  if (typeof json !== 'object' || json === null || plan.format !== 'kumul-services-plan' || !Array.isArray(plan.committed) || typeof plan.start !== 'string')
    throw new ServicesFileError(file, [{ path: 'format', reason: "must be 'kumul-services-plan' (written by kumul services plan)" }]);
  if (plan.slotMinutes !== grid.slotMinutes) throw new ServicesFileError(file, [{ path: 'slotMinutes', reason: `is ${plan.slotMinutes}; the batch plan's slots are ${grid.slotMinutes} minutes` }]);
  const shift = (Date.parse(plan.start) - grid.startMs) / slotMs(grid);
  if (!Number.isInteger(shift)) throw new ServicesFileError(file, [{ path: 'start', reason: `${plan.start} is not on a slot boundary of the batch plan (from ${new Date(grid.startMs).toISOString()})` }]);
  const out: CommittedUse[] = [];
  for (const use of plan.committed) {
    const moved: CommittedUse = { siteId: use.siteId, poolId: use.poolId, units: use.units, slots: [], energyKWh: [] };
    use.slots.forEach((t, i) => {
      const at = t + shift;
      if (at < 0 || at >= grid.slots) return;
      moved.slots.push(at);
      moved.energyKWh.push(use.energyKWh[i]);
    });
    if (moved.slots.length > 0) out.push(moved);
  }
  return out;
}
