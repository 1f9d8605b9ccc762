/**
 * Measured or stated speed: a job runs its duration ÷ its pool's speed (in its class's precision), and a slow
 * pool is chosen only when that still pays. Planner, bound, simulator and measured capability agree.
 */
import { describe, expect, it } from 'vitest';
import { makeLink, makeSite, scenarioOf, snapshotOf, T0 } from '../fixtures/scenario-builder.ts';
import { makeJob } from '../fixtures/job-builder.ts';
import { boundViolations, objectiveOf, planViolations, planWith } from '../fixtures/plan-checks.ts';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import { poolSpeed, runTimeMs, withMeasuredCapability } from '../../src/core/model/capability.ts';
import { simulate } from '../../src/sim/engine.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';

const HOUR = 3_600_000;
const solver = await loadHighsSolver();
const ranHours = (runs: { start: string; end: string }[]) => runs.reduce((h, r) => h + (Date.parse(r.end) - Date.parse(r.start)) / HOUR, 0);

/** `fast` at 0.5 yuan/kWh; `slow` (its accelerators at half speed in bf16) at `slowPrice`. */
function twoSites(slowPrice: number, interruptible: boolean) {
  const sites = [makeSite('fast').ai(8).prices(0.5), makeSite('slow').pool('ai', 8, 690, { bf16: 0.5, fp64: 2 }).prices(slowPrice)];
  const links = [makeLink('fast', 'slow', { costYuanPerGB: 0, energyKWhPerGB: 0 })];
  let job = makeJob('train').units(2).duration('2h').deadline('20h').at('fast');
  if (interruptible) job = job.interruptible();
  return snapshotOf(sites, links, [job.build()]);
}

describe('a pool at half speed', () => {
  it.each([false, true])('runs a job twice as long, and is chosen only when its energy is less than half the price (interruptible: %s)', (interruptible) => {
    // Twice the time at the same power: the slow pool pays when its price is below half the fast one's.
    const dear = planWith(twoSites(0.3, interruptible), 'optimize', 'cost', solver);
    expect(dear.jobs[0]).toMatchObject({ site: 'fast', speed: 1 });
    expect(ranHours(dear.jobs[0].runs)).toBeCloseTo(2, 9);
    const cheap = planWith(twoSites(0.2, interruptible), 'optimize', 'cost', solver);
    expect(cheap.jobs[0]).toMatchObject({ site: 'slow', speed: 0.5 });
    expect(ranHours(cheap.jobs[0].runs)).toBeCloseTo(4, 9);
    for (const [plan, price] of [[dear, 0.3], [cheap, 0.2]] as const) {
      expect(planViolations(twoSites(price, interruptible), plan)).toEqual([]);
      expect(boundViolations(plan, objectiveOf('cost').weights)).toEqual([]);
    }
    // Four hours of 2 accelerators' facility energy (690 W × 1.2 PUE) at 0.2 yuan/kWh.
    expect(cheap.jobs[0].costYuan).toBeCloseTo(4 * 2 * 0.69 * 1.2 * 0.2, 9);
  });

  it('reads the speed in the job class\'s precision: an hpc job (fp64) runs twice as fast there', () => {
    const pool = { speed: { bf16: 0.5, fp64: 2 } };
    expect(poolSpeed(pool, 'training')).toBe(0.5);
    expect(poolSpeed(pool, 'hpc')).toBe(2);
    expect(poolSpeed(pool, 'batch')).toBe(1);
    expect(runTimeMs({ durationS: 3600, class: 'hpc' }, pool)).toBe(1_800_000);
    expect(runTimeMs({ durationS: 3600, class: 'inference' }, pool)).toBe(7_200_000);
  });

  it('does not fit where even alone it could not finish by its deadline, and says so', () => {
    const sites = [makeSite('slow').pool('ai', 8, 690, { bf16: 0.5 })];
    const job = makeJob('tight').units(1).duration('3h').deadline('5h').at('slow').build();
    const plan = planWith(snapshotOf(sites, [], [job]), 'optimize', 'cost');
    expect(plan.jobs).toEqual([]);
    expect(plan.unplaced[0].reasons.join(' ')).toMatch(/cannot finish by the deadline.*needs 6 h 00 min, 5 h 00 min left/);
  });
});

describe('measured capability', () => {
  it('sets a probed pool\'s speed to measured ÷ advertised, precision by precision', () => {
    const network = { sites: [makeSite('a').ai(8).site()], links: [] };
    const measured = withMeasuredCapability(network, [{ siteId: 'a', poolId: 'ai', peakTflopsPerNode: { bf16: 330.5 } }]);
    const pool = measured.sites[0].pools[0];
    expect(pool.speed).toEqual({ bf16: 0.5 });
    expect(pool.peakTflopsPerNode.bf16).toBe(330.5);
    expect(poolSpeed(pool, 'training')).toBe(0.5);
    expect(poolSpeed(pool, 'hpc')).toBe(1);
  });
});

describe('the simulator', () => {
  it('completes a job at a half-speed pool after twice its duration, and paused work resumes at that speed', () => {
    const snapshot = snapshotOf([makeSite('slow').pool('ai', 8, 690, { bf16: 0.5 })], [], [], { slots: 48 });
    const scenario = scenarioOf(snapshot, 'speed');
    const jobs = [
      makeJob('whole').units(1).duration('3h').deadline('24h').at('slow').build(),
      makeJob('split').units(1).duration('5h').deadline('30h').interruptible().at('slow').build(),
    ];
    const outcome = simulate({ scenario, jobs, policy: 'asap-origin', objective: objectiveFrom('cost'), fromMs: T0, toMs: T0 + 40 * HOUR, replanMinutes: 60, horizonSlots: 4, shiftHours: 0 });
    const byId = new Map(outcome.records.map((r) => [r.job.id, r]));
    expect(byId.get('whole')).toMatchObject({ state: 'completed', doneMs: 3 * HOUR });
    expect(byId.get('whole')!.endMs! - byId.get('whole')!.firstStartMs!).toBe(6 * HOUR);
    expect(byId.get('split')).toMatchObject({ state: 'completed', doneMs: 5 * HOUR });
    expect(byId.get('split')!.endMs! - byId.get('split')!.firstStartMs!).toBe(10 * HOUR);
  });
});
