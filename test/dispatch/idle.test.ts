/**
 * Idle energy (src/core/energy/idle.ts): units on but not busy draw the idle point of their power curve; under the
 * sleep policy, nodes no work holds (beyond the reserve) sleep, and waking one costs its wake energy. Jobs keep
 * their figures: the renewables go to them first.
 */
import { describe, expect, it } from 'vitest';
import { idleFigures, type PowerPolicy } from '../../src/core/energy/idle.ts';
import type { PowerStates } from '../../src/core/model/types.ts';
import { makeSite, scenarioOf, snapshotOf, T0 } from '../fixtures/scenario-builder.ts';
import { makeJob } from '../fixtures/job-builder.ts';
import { planWith } from '../fixtures/plan-checks.ts';
import { dispatch, type Plan } from '../../src/core/dispatch/plan.ts';
import type { Snapshot } from '../../src/core/dispatch/cycle.ts';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import { mulberry32 } from '../../src/scenario/random.ts';
import { builtinRegistry, policyProfile } from '../../src/core/dispatch/plugins/index.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';
import { simulate } from '../../src/sim/engine.ts';
import { buildReport } from '../../src/sim/summarize.ts';

// 4 nodes of 8 accelerators; 690 W busy, 0.17 × 690 = 117.3 W idle per accelerator (makePool); PUE 1.2; 0.5 yuan/kWh.
const STATES: PowerStates = { sleepWPerNode: 20, wakeS: 300, wakeKWhPerNode: 0.1 };
const IDLE_KW = (0.17 * 690 * 1.2) / 1000;
const SLEEP: PowerPolicy = { policy: 'sleep', reserveShare: 0.25 };

describe('idle energy of a pool', () => {
  const grid = { startMs: 0, slotMinutes: 60, slots: 3 };
  const sites = (states?: PowerStates) => {
    const s = makeSite('a').pool('ai', 32, 690).prices(0.5).carbonG(500).renewableKW([0, 10, 0]);
    const built = s.site();
    if (states) built.pools[0].powerStates = states;
    return { sites: [built], signals: { a: s.signals(3) } };
  };
  // 10 units held in slot 0 (busy 10 unit-hours), none in slot 1, 20 held for half of slot 2.
  const load = { siteId: 'a', poolId: 'ai', heldUnits: Float64Array.from([10, 0, 20]), busyUnitHours: Float64Array.from([10, 0, 10]) };

  it('always on: every unit not busy draws its idle power, the renewables left after the jobs first', () => {
    const { sites: s, signals } = sites(STATES);
    const { total } = idleFigures(grid, s, signals, [load], new Map([['a', [0, 4, 0]]]), { policy: 'always-on', reserveShare: 0 });
    const idleUnitHours = 22 + 32 + 22;
    expect(total.idleUnitHours).toBeCloseTo(idleUnitHours, 9);
    expect(total.energyKWh).toBeCloseTo(idleUnitHours * IDLE_KW, 9);
    // Slot 1: 10 kWh of renewables, 4 taken by the jobs: the 6 left cover the idle power of all 32 units.
    const green = 32 * IDLE_KW;
    expect(green).toBeLessThan(6);
    expect(total.greenKWh).toBeCloseTo(green, 9);
    expect(total.costYuan).toBeCloseTo(green * 0.2 + (total.energyKWh - green) * 0.5, 9);
    expect(total).toMatchObject({ sleepingNodeHours: 0, wakes: 0 });
  });

  it('sleep: only the nodes the work holds, plus the reserve, stay on; the rest sleep; wake-ups are charged', () => {
    const { sites: s, signals } = sites(STATES);
    const { total } = idleFigures(grid, s, signals, [load], new Map(), SLEEP);
    // Reserve: 1 node (25 % of 4). On: 2+1 = 3, 0+1 = 1, 3+1 = 4 nodes; asleep 1, 3, 0; woken 0 (first slot), 0, 3.
    expect(total.sleepingNodeHours).toBeCloseTo(4, 9);
    expect(total.wakes).toBe(3);
    expect(total.idleUnitHours).toBeCloseTo(3 * 8 - 10 + 8 + 4 * 8 - 10, 9);
    const kWh = total.idleUnitHours * IDLE_KW + (4 * 20 * 1.2) / 1000 + 3 * 0.1 * 1.2;
    expect(total.energyKWh).toBeCloseTo(kWh, 9);
  });

  it('a pool without power states stays on under the sleep policy', () => {
    const { sites: s, signals } = sites();
    const on = idleFigures(grid, s, signals, [load], new Map(), { policy: 'always-on', reserveShare: 0 }).total;
    expect(idleFigures(grid, s, signals, [load], new Map(), SLEEP).total).toEqual(on);
  });
});

/** The plan under a power policy, with its bound (HiGHS). */
async function planUnder(snapshot: Snapshot, power: PowerPolicy) {
  return dispatch({ ...snapshot, power }, { registry: builtinRegistry(), profile: policyProfile('optimize', objectiveFrom('cost')), objectiveName: 'cost', solver: await loadHighsSolver() });
}

const placesOf = (plan: Plan) => plan.jobs.map(({ id, site, runs, energyKWh, costYuan }) => ({ id, site, runs, energyKWh, costYuan }));

describe('in plans', () => {
  it('reports idle figures under the plan\'s power policy and leaves the jobs\' figures as they were', async () => {
    const s = makeSite('a').pool('ai', 32, 690).prices(0.5);
    s.site().pools[0].powerStates = STATES;
    const snapshot = snapshotOf([s], [], [makeJob('j').units(8).duration('2h').release('2026-06-01T05:00Z').deadline('24h').at('a').build()]);
    const on = planWith(snapshot, 'optimize', 'cost');
    const asleep = await planUnder(snapshot, SLEEP);
    expect(placesOf(asleep)).toEqual(placesOf(on));
    expect(on.totals.idle).toMatchObject({ policy: 'always-on', sleepingNodeHours: 0 });
    expect(on.totals.idle!.idleUnitHours).toBeCloseTo(24 * 32 - 2 * 8, 9);
    // One node busy for 2 hours from 05:00 (woken for it, asleep before and after), one in reserve, two asleep throughout.
    expect(asleep.totals.idle).toMatchObject({ policy: 'sleep', wakes: 1 });
    expect(asleep.totals.idle!.energyKWh).toBeLessThan(on.totals.idle!.energyKWh / 3);
  });
});

describe('packing under the sleep policy', () => {
  // Two nodes of 8 accelerators, no reserve. Job a must run by 05:00, where 03:00 is cheapest; job b may run all day,
  // and 07:00 is a little cheaper still. Always on, b takes 07:00 and a second slot has a node awake for half its
  // units; asleep, b joins a at 03:00 on the node already awake.
  const prices = Array.from({ length: 24 }, (_, t) => (t === 3 ? 0.4 : t === 7 ? 0.399 : 0.5));
  const site = () => {
    const s = makeSite('a').pool('ai', 16, 690).prices(prices);
    s.site().pools[0].powerStates = STATES;
    return s;
  };
  const jobs = [
    makeJob('a').units(4).duration('1h').release('2026-06-01T00:00Z').deadline('5h').at('a').build(),
    makeJob('b').units(4).duration('1h').release('2026-06-01T00:00Z').deadline('24h').at('a').build(),
  ];
  const NONE: PowerPolicy = { policy: 'sleep', reserveShare: 0 };

  it('puts work on nodes already awake when that costs less than waking another', async () => {
    const snapshot = snapshotOf([site()], [], jobs);
    const on = planWith(snapshot, 'optimize', 'cost');
    expect(on.jobs.map((j) => j.runs[0].start)).toEqual(['2026-06-01T03:00:00.000Z', '2026-06-01T07:00:00.000Z']);
    const asleep = await planUnder(snapshot, NONE);
    expect(asleep.jobs.map((j) => j.runs[0].start)).toEqual(['2026-06-01T03:00:00.000Z', '2026-06-01T03:00:00.000Z']);
    // The always-on placement accounted under the sleep policy: one node awake for two hours instead of one.
    const onAsleep = await planUnder({ ...snapshot, jobs: [] }, NONE);
    expect(asleep.totals.idle!.sleepingNodeHours).toBeCloseTo(2 * 24 - 1, 9);
    expect(asleep.totals.idle!.wakes).toBe(1);
    expect(asleep.totals.idle!.energyKWh).toBeLessThan(onAsleep.totals.idle!.energyKWh + 2 * (4 * IDLE_KW - STATES.sleepWPerNode * 1.2 / 1000));
    // The plan's value is the jobs' and the idle energy's cost together, and the bound is under it.
    expect(asleep.bound!.planValue).toBeCloseTo(asleep.totals.costYuan + asleep.totals.idle!.costYuan, 9);
    expect(asleep.bound!.value).toBeLessThanOrEqual(asleep.bound!.planValue + 1e-9);
  });

  it('never takes a pool below its reserve, and the bound stays under the plan on random instances', async () => {
    const random = mulberry32(7);
    for (let trial = 0; trial < 12; trial++) {
      const p = Array.from({ length: 24 }, () => 0.3 + random() * 0.4);
      const s = makeSite('a').pool('ai', 32, 690).prices(p);
      s.site().pools[0].powerStates = STATES;
      const t = makeSite('b').pool('ai', 16, 690).prices(p.map((x) => x * 0.9));
      t.site().pools[0].powerStates = STATES;
      const list = Array.from({ length: 10 }, (_, i) => {
        const release = Math.floor(random() * 12);
        const job = makeJob(`j${i}`).units(1 + Math.floor(random() * 8)).duration(`${1 + Math.floor(random() * 3)}h`);
        return job.release(`2026-06-01T${String(release).padStart(2, '0')}:00Z`).deadline(`${4 + Math.floor(random() * 8)}h`).at(random() < 0.5 ? 'a' : 'b').interruptible(random() < 0.5).build();
      });
      const plan = await planUnder(snapshotOf([s, t], [], list), SLEEP);
      expect(plan.bound!.value, `trial ${trial}: ${plan.bound!.method}`).toBeLessThanOrEqual(plan.bound!.planValue * (1 + 1e-9) + 1e-9);
      // Small pools, small jobs: a job's first unit on a node wakes all of it, which the linear relaxation shares out.
      expect(plan.bound!.gapPct, `trial ${trial}`).toBeLessThan(10);
      expect(plan.bound!.method).toContain('sleep policy');
      // Under the 0.25 reserve one node of each pool is always awake, so no slot has every node asleep.
      expect(plan.totals.idle!.sleepingNodeHours, `trial ${trial}`).toBeLessThanOrEqual(24 * (3 + 1) + 1e-9);
    }
  });
});

describe('in the simulator\'s report', () => {
  it('counts every unit-hour of the period not run as idle with every node on, and less energy with idle nodes asleep', () => {
    const s = makeSite('a').pool('ai', 32, 690).prices(0.5);
    s.site().pools[0].powerStates = STATES;
    const snapshot = snapshotOf([s], [], [], { slots: 24 });
    const scenario = scenarioOf(snapshot, 'idle');
    const jobs = [makeJob('j').units(8).duration('3h').release('2026-06-01T04:00Z').deadline('10h').at('a').build()];
    const outcome = simulate({ scenario, jobs, policy: 'asap-origin', objective: objectiveFrom('cost'), fromMs: T0, toMs: T0 + 24 * 3_600_000, replanMinutes: 60, horizonSlots: 24, shiftHours: 0 });
    const report = buildReport({ scenario, fromMs: T0, toMs: T0 + 24 * 3_600_000, replanMinutes: 60, forecastErrorPct: null, seed: 1, shiftHours: 0, objective: 'cost', outcomes: [outcome] });
    const { alwaysOn, asleep } = report.policies[0].idle;
    expect(alwaysOn.idleUnitHours).toBeCloseTo(24 * 32 - 3 * 8, 9);
    expect(alwaysOn.energyKWh).toBeCloseTo((24 * 32 - 3 * 8) * IDLE_KW, 9);
    // Asleep: the job's node and the reserve node on while it runs; one node on (the reserve) otherwise; one wake-up.
    expect(asleep.wakes).toBe(1);
    expect(asleep.idleUnitHours).toBeCloseTo(21 * 8 + 3 * 8, 9);
    expect(asleep.energyKWh).toBeLessThan(alwaysOn.energyKWh / 3);
  });
});
