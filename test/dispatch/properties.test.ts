/**
 * Properties of every plan, on random small instances (fast-check), for all three policies:
 * (a) no pool over capacity in any slot, recomputed from the runs; (b) runs inside [release (+ transfer), deadline];
 * (c) Σ (end − start) × units = units × duration; (d) per-job figures sum to the totals (and re-account from the runs);
 * (e) the bound is a lower bound; (f) the same snapshot gives the same plan; (g) every job placed or unplaced, once.
 * Plus: the explanations hold together, the asap baselines are the earliest starts, and no job is left
 * unplaced where the final plan has room for it.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import { randomInstance } from '../../bench/random-instance.ts';
import { ALL_POLICIES, asapViolations, boundViolations, explainViolations, objectiveOf, planViolations, planWith, unplacedButFits } from '../fixtures/plan-checks.ts';
import { instanceArb, objectiveArb } from './arbitraries.ts';

const solver = await loadHighsSolver();
/** Runs per property (set KUMUL_PROPERTY_RUNS for a longer hunt). */
const RUNS = Number(process.env.KUMUL_PROPERTY_RUNS ?? 40);
/** Loose instances and busy ones (small pools, short grids, more jobs). */
const instances = (options: Parameters<typeof instanceArb>[0] = {}) => fc.oneof(instanceArb(options), instanceArb({ ...options, busy: true }));

describe.each(ALL_POLICIES)('%s on random instances', (policy) => {
  it('(a) capacity, (b) windows, (c) work, (d) totals and figures, (g) every job once', () => {
    fc.assert(
      fc.property(instances(), objectiveArb, (snapshot, objective) => {
        const plan = planWith(snapshot, policy, objective);
        expect(planViolations(snapshot, plan)).toEqual([]);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('(a)–(d), (g) on instances from bench/random-instance.ts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(0, 0.5, 1), objectiveArb, (seed, interruptibleShare, objective) => {
        const snapshot = randomInstance({ sites: 3, slots: 24, jobs: 25, interruptibleShare, seed });
        const plan = planWith(snapshot, policy, objective);
        expect(planViolations(snapshot, plan)).toEqual([]);
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('(e) the bound is ≥ 0 gap and at most the plan\'s value, which is the plan\'s own', () => {
    fc.assert(
      fc.property(instances({ maxJobs: 8 }), objectiveArb, (snapshot, objective) => {
        const plan = planWith(snapshot, policy, objective, solver);
        expect(boundViolations(plan, objectiveOf(objective).weights)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('(f) the same snapshot twice gives identical plans, bound included, and the snapshot is left as it was', () => {
    fc.assert(
      fc.property(instances({ maxJobs: 8 }), objectiveArb, (snapshot, objective) => {
        const before = structuredClone(snapshot);
        const first = JSON.stringify(planWith(snapshot, policy, objective, solver));
        expect(snapshot).toEqual(before);
        const again = JSON.stringify(planWith(structuredClone(snapshot), policy, objective, solver));
        expect(again).toBe(first);
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('the plan does not depend on the order the jobs are listed in', () => {
    fc.assert(
      fc.property(instances(), objectiveArb, (snapshot, objective) => {
        const plan = planWith(snapshot, policy, objective);
        const reversed = planWith({ ...snapshot, jobs: [...snapshot.jobs].reverse() }, policy, objective);
        const byId = <T extends { id: string }>(xs: T[]) => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));
        expect(byId(reversed.jobs).map((j) => [j.id, j.site, j.runs])).toEqual(byId(plan.jobs).map((j) => [j.id, j.site, j.runs]));
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('explanations: chosen first, others no better (optimize) or no earlier (asap), parts per plugin', () => {
    fc.assert(
      fc.property(instances(), objectiveArb, (snapshot, objective) => {
        const plan = planWith(snapshot, policy, objective, undefined, { explainTop: 10 });
        expect(explainViolations(plan)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});

describe.each(['asap-origin', 'asap-any'] as const)('%s, replayed', (policy) => {
  it('each job starts at the earliest slot it can given the jobs released before it, and is unplaced only when it fits nowhere', () => {
    fc.assert(
      fc.property(instances(), objectiveArb, (snapshot, objective) => {
        expect(asapViolations(snapshot, planWith(snapshot, policy, objective))).toEqual([]);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('optimize', () => {
  it('leaves no job unplaced where the final plan has room for it', () => {
    fc.assert(
      fc.property(instances({ maxJobs: 16 }), objectiveArb, (snapshot, objective) => {
        expect(unplacedButFits(snapshot, planWith(snapshot, 'optimize', objective))).toEqual([]);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('plans no worse than without improvement rounds (the greedy pass alone)', () => {
    fc.assert(
      fc.property(instances(), objectiveArb, (snapshot, objective) => {
        const improved = planWith(snapshot, 'optimize', objective, solver);
        const greedy = planWith(snapshot, 'optimize', objective, solver, { improveRounds: 0 });
        fc.pre(improved.jobs.length === greedy.jobs.length);
        expect(improved.bound!.planValue).toBeLessThanOrEqual(greedy.bound!.planValue * (1 + 1e-9) + 1e-9);
      }),
      { numRuns: RUNS / 2 },
    );
  });
});

describe.each(ALL_POLICIES)('%s with committed work', (policy) => {
  it('plans around it: (a)–(d), (g) hold with committed units and energy counted', () => {
    fc.assert(
      fc.property(instances({ committed: true }), objectiveArb, (snapshot, objective) => {
        expect(planViolations(snapshot, planWith(snapshot, policy, objective))).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
