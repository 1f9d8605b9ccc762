/** The plan's lower bound: exact on easy cases, a lower bound when the LP is too large (the Lagrangian alone), and with committed work. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import { dispatch } from '../../src/core/dispatch/plan.ts';
import { builtinRegistry, policyProfile } from '../../src/core/dispatch/plugins/index.ts';
import type { Snapshot } from '../../src/core/dispatch/cycle.ts';
import { makeSite, snapshotOf } from '../fixtures/scenario-builder.ts';
import { makeJob } from '../fixtures/job-builder.ts';
import { ALL_POLICIES, boundViolations, objectiveOf, planViolations, planWith } from '../fixtures/plan-checks.ts';
import { instanceArb, objectiveArb } from './arbitraries.ts';

const solver = await loadHighsSolver();

describe('the bound on cases with a known optimum', () => {
  it('is absent without a solver', () => {
    const snapshot = snapshotOf([makeSite('a').ai(8)], [], [makeJob('j').at('a').build()]);
    expect(planWith(snapshot, 'optimize').bound).toBeNull();
  });

  it('equals the plan\'s value for one job on flat prices', () => {
    const snapshot = snapshotOf([makeSite('a').ai(8)], [], [makeJob('j').units(2).duration('3h').at('a').build()]);
    const { bound } = planWith(snapshot, 'optimize', 'cost', solver);
    expect(bound!.objective).toBe('cost');
    expect(bound!.planValue).toBeCloseTo(2 * 3 * 0.828 * 0.5, 9);
    expect(bound!.value).toBeCloseTo(bound!.planValue, 6);
    expect(Math.abs(bound!.gapPct)).toBeLessThan(1e-4);
  });

  it('equals the plan\'s value when interruptible jobs share renewables optimally', () => {
    // Renewables of one accelerator in hours 2 and 5; two 1-unit 1-hour interruptible jobs: each takes one.
    const site = makeSite('a').ai(8).renewableKW(Array.from({ length: 24 }, (_, t) => (t === 2 || t === 5 ? 0.828 : 0)), 0.1, 10);
    const jobs = [makeJob('x').interruptible().deadline('8h').at('a').build(), makeJob('y').interruptible().deadline('8h').at('a').build()];
    const plan = planWith(snapshotOf([site], [], jobs), 'optimize', 'green', solver);
    expect(plan.totals.greenKWh).toBeCloseTo(2 * 0.828, 9);
    expect(plan.bound!.planValue).toBeCloseTo(0, 9);
    expect(plan.bound!.value).toBeCloseTo(0, 6);
  });

  it('prices a mixed objective as the weighted sum of the plan\'s figures', () => {
    const snapshot = snapshotOf([makeSite('a').ai(8).carbonG(400)], [], [makeJob('j').units(1).duration('1h').at('a').build()]);
    const { bound } = planWith(snapshot, 'optimize', 'cost=1,carbon=0.2', solver);
    expect(bound!.planValue).toBeCloseTo(0.828 * 0.5 + 0.2 * 0.828 * 0.4, 9);
    expect(bound!.value).toBeLessThanOrEqual(bound!.planValue + 1e-9);
  });
});

describe('when the LP is too large: the Lagrangian bound alone', () => {
  const planSmallLp = (snapshot: Snapshot, policy: (typeof ALL_POLICIES)[number], objective: string, maxLpVariables: number) =>
    dispatch(snapshot, { registry: builtinRegistry(), profile: policyProfile(policy, objectiveOf(objective)), objectiveName: objective, solver, maxLpVariables });

  it.each(ALL_POLICIES)('%s: the bound stays a lower bound', (policy) => {
    fc.assert(
      fc.property(instanceArb({ maxJobs: 10 }), objectiveArb, fc.constantFrom(10, 40, 120), (snapshot, objective, maxLpVariables) => {
        const plan = planSmallLp(snapshot, policy, objective, maxLpVariables);
        fc.pre(plan.jobs.length > 0);
        expect(boundViolations(plan, objectiveOf(objective).weights)).toEqual([]);
      }),
      { numRuns: Number(process.env.KUMUL_PROPERTY_RUNS ?? 30) },
    );
  });

  it('says so in its method', () => {
    const site = makeSite('a').ai(8);
    const jobs = Array.from({ length: 6 }, (_, i) => makeJob(`j${i}`).units(1).duration('2h').deadline('20h').at('a').build());
    const plan = planSmallLp(snapshotOf([site], [], jobs), 'optimize', 'cost', 30);
    expect(plan.bound!.method).toMatch(/^Lagrangian relaxation of capacity and shared energy .*\d+ subgradient iterations/);
    expect(plan.bound!.value).toBeLessThanOrEqual(plan.bound!.planValue + 1e-9);
  });
});

describe('with committed work', () => {
  // Committed work uses one accelerator in hour 0; the site has exactly one accelerator's worth of renewables.
  // A new 1-unit job due at 01:00 must share hour 0 with it.
  const site = makeSite('a').ai(4).renewableKW([0.828, 0], 0.2, 20);
  const job = makeJob('j').units(1).duration('1h').deadline('1h').at('a').build();
  const snapshot: Snapshot = { ...snapshotOf([site], [], [job], { slots: 2 }), committed: [{ siteId: 'a', poolId: 'ai', units: 1, slots: [0], energyKWh: [0.828] }] };

  it('plans around it; the committed work has the first claim on the renewables', () => {
    const plan = planWith(snapshot, 'optimize', 'cost', solver);
    expect(planViolations(snapshot, plan)).toEqual([]);
    expect(plan.jobs[0].greenKWh).toBeCloseTo(0, 9);
    expect(plan.jobs[0].costYuan).toBeCloseTo(0.828 * 0.5, 9);
  });

  it('the bound is at most the plan\'s value, under every policy', () => {
    // Planner, bound and accounting all let committed work take the renewables first (the job pays 0.414 yuan).
    const violations = ALL_POLICIES.flatMap((policy) => boundViolations(planWith(snapshot, policy, 'cost', solver), objectiveOf('cost').weights).map((v) => `${policy}: ${v}`));
    expect(violations).toEqual([]);
  });
});
