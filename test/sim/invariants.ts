/**
 * Invariants of a simulation, checked at the end of every cycle and at the end of a run:
 * no pool over capacity in any slot; committed work adds up (no work lost across pause and resume);
 * every job ends exactly once as completed or missed, or is still queued or running.
 */
import { expect } from 'vitest';
import type { Scenario } from '../../src/core/model/types.ts';
import { busyUnitFacilityKW } from '../../src/core/model/power.ts';
import type { SimOutcome, SimState } from '../../src/sim/engine.ts';

export function checkInvariants(scenario: Scenario, state: SimState): SimState {
  const slotHours = scenario.grid.slotMinutes / 60;
  for (const site of scenario.network.sites) {
    for (const pool of site.pools) {
      const busy = state.busyUnits.get(`${site.id}/${pool.id}`)!;
      for (let t = 0; t < busy.length; t++) if (busy[t] > pool.units) expect.fail(`${site.id}/${pool.id} slot ${t}: ${busy[t]} units busy of ${pool.units}`);
    }
  }
  for (const r of state.records) {
    if (r.slots.length === 0) {
      expect(r.doneMs).toBe(0);
      continue;
    }
    const site = scenario.network.sites.find((s) => s.id === r.siteId)!;
    const pool = site.pools.find((p) => p.id === r.poolId)!;
    const fullKWh = r.job.units * busyUnitFacilityKW(pool, site.pue) * slotHours;
    const workS = r.energyKWh.reduce((sum, e) => sum + (e / fullKWh) * scenario.grid.slotMinutes * 60, 0);
    expect(workS).toBeCloseTo(r.doneMs / 1000, 2);
    expect(r.doneMs).toBeLessThanOrEqual(r.workMs);
    expect(new Set(r.slots).size).toBe(r.slots.length);
    if (r.state === 'completed') expect(r.doneMs).toBe(r.workMs);
    if (r.firstStartMs !== null) expect(r.firstStartMs).toBeGreaterThanOrEqual(r.planned.releaseMs);
    if (r.endMs !== null) expect(r.endMs).toBeLessThanOrEqual(r.planned.deadlineMs);
  }
  return state;
}

export function checkFinalStates(outcome: SimOutcome): void {
  const ends = new Map<string, number>();
  for (const e of outcome.log) if (e.kind === 'finish' || e.kind === 'miss') ends.set(e.jobId!, (ends.get(e.jobId!) ?? 0) + 1);
  for (const r of outcome.records) {
    expect(['completed', 'missed', 'waiting', 'paused', 'transferring', 'running']).toContain(r.state);
    const expected = r.state === 'completed' || r.state === 'missed' ? 1 : 0;
    expect(ends.get(r.job.id) ?? 0, `${r.job.id} (${r.state}) ends ${ends.get(r.job.id) ?? 0} times`).toBe(expected);
  }
}
