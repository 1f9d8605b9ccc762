/**
 * Property tests of the simulator on random networks and workloads (fast-check): for every policy,
 * re-planning interval and forecast error, the invariants hold after every cycle, every job ends
 * once, and the same inputs give the same outcome.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomInstance } from '../../bench/random-instance.ts';
import type { Job, Scenario } from '../../src/core/model/types.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';
import { simulate } from '../../src/sim/engine.ts';
import type { PolicyName } from '../../src/core/dispatch/plugins/index.ts';
import { checkFinalStates, checkInvariants } from './invariants.ts';

function scenarioOf(seed: number, jobs: number, errorShare: number): { scenario: Scenario; jobs: readonly Job[] } {
  const snapshot = randomInstance({ sites: 3, slots: 72, jobs, interruptibleShare: 0.5, seed });
  // Actuals differ from the forecasts the plans see by a deterministic ±errorShare wobble.
  const wobble = (xs: number[], k: number) => xs.map((x, i) => Math.max(0, x * (1 + errorShare * Math.sin(i * 1.7 + k))));
  const signals = Object.fromEntries(
    Object.entries(snapshot.signals).map(([id, s], k) => [id, { forecast: s, actual: { priceYuanPerKWh: s.priceYuanPerKWh, carbonGPerKWh: wobble(s.carbonGPerKWh, k), renewableKW: wobble(s.renewableKW, k + 1) } }]),
  );
  return { scenario: { id: `random-${seed}`, name: 'random', description: '', network: snapshot.network, grid: snapshot.grid, signals, assumptions: [] }, jobs: snapshot.jobs };
}

describe('simulator invariants on random instances', () => {
  it('hold for every policy, re-planning interval and forecast error', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 5, max: 60 }),
        fc.constantFrom<PolicyName>('optimize', 'asap-origin', 'asap-any'),
        fc.constantFrom(60, 120, 180),
        fc.constantFrom(0, 0.2),
        fc.constantFrom(0, 3),
        (seed, jobCount, policy, replanMinutes, errorShare, shiftHours) => {
          const { scenario, jobs } = scenarioOf(seed, jobCount, errorShare);
          const fromMs = scenario.grid.startMs;
          const run = () =>
            simulate({
              scenario,
              jobs,
              policy,
              objective: objectiveFrom('cost'),
              fromMs,
              toMs: fromMs + 36 * 3_600_000,
              replanMinutes,
              horizonSlots: 24,
              shiftHours,
              recordEvents: true,
              onCycle: (state) => checkInvariants(scenario, state),
            });
          const outcome = run();
          checkFinalStates(outcome);
          expect(outcome.cycles).toBe(36 / (replanMinutes / 60));
          const again = run();
          expect(again.records.map((r) => [r.state, r.siteId, r.slots.join(',')])).toEqual(outcome.records.map((r) => [r.state, r.siteId, r.slots.join(',')]));
        },
      ),
      { numRuns: 40 },
    );
  });
});
