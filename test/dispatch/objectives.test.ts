/**
 * Objectives on hand-made signals: cost, carbon and green each pick their own slot and site;
 * renewables are used first and shared; transfers can keep a job at its origin; interruptible
 * jobs may split, others run in one piece; partly used slots keep the work exact.
 */
import { describe, expect, it } from 'vitest';
import { makeLink, makeSite, snapshotOf, T0 } from '../fixtures/scenario-builder.ts';
import { makeJob } from '../fixtures/job-builder.ts';
import { planViolations, planWith } from '../fixtures/plan-checks.ts';
import type { Plan } from '../../src/core/dispatch/plan.ts';

const HOUR = 3_600_000;
/** Hours since T0 of an instant. */
const at = (iso: string) => (Date.parse(iso) - T0) / HOUR;
/** A 24-slot series: `base` everywhere, `value` at the given slots. */
const series = (base: number, marks: Record<number, number>) => Array.from({ length: 24 }, (_, t) => marks[t] ?? base);
/** The hours of a job's runs, as [start, end] pairs. */
const hours = (plan: Plan, id: string) => plan.jobs.find((j) => j.id === id)!.runs.map((r) => [at(r.start), at(r.end)]);

describe('each objective picks its own slot', () => {
  // Cheap at 02:00, low-carbon at 05:00, renewables at 09:00 (priced and emitting more than the grid's cheapest hours).
  const site = makeSite('a')
    .ai(8)
    .prices(series(0.8, { 2: 0.2, 5: 0.7, 9: 0.9 }))
    .carbonG(series(600, { 2: 700, 5: 100, 9: 650 }))
    .renewableKW(series(0, { 9: 10 }), 0.5, 150);
  const job = makeJob('j').units(1).duration('1h').deadline('24h').at('a').build();
  const snapshot = snapshotOf([site], [], [job]);

  it.each([
    ['cost', 2],
    ['carbon', 5],
    ['green', 9],
    ['cost=1,carbon=0.001', 2],
    ['cost=1,carbon=10', 5],
  ])('%s runs the job at %i:00', (objective, hour) => {
    const plan = planWith(snapshot, 'optimize', objective);
    expect(hours(plan, 'j')).toEqual([[hour, hour + 1]]);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });
});

describe('each objective picks its own site', () => {
  const links = [makeLink('o', 'cheap', { costYuanPerGB: 0, energyKWhPerGB: 0 }), makeLink('o', 'clean', { costYuanPerGB: 0, energyKWhPerGB: 0 }), makeLink('o', 'sunny', { costYuanPerGB: 0, energyKWhPerGB: 0 })];
  const sites = [
    makeSite('o').ai(8).prices(0.6).carbonG(600),
    makeSite('cheap').ai(8).prices(0.2).carbonG(900),
    makeSite('clean').ai(8).prices(0.7).carbonG(100),
    makeSite('sunny').ai(8).prices(0.65).carbonG(700).renewableKW(100, 0.5, 150),
  ];
  const job = makeJob('j').units(2).duration('3h').deadline('12h').at('o').build();
  const snapshot = snapshotOf(sites, links, [job]);

  it.each([
    ['cost', 'cheap'],
    ['carbon', 'clean'],
    ['green', 'sunny'],
  ])('%s runs the job at %s', (objective, site) => {
    const plan = planWith(snapshot, 'optimize', objective);
    expect(plan.jobs[0].site).toBe(site);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('prices facility energy: a site\'s lower price loses to its higher PUE', () => {
    // 0.5 × 1.0 < 0.45 × 1.2: per unit of IT work, a is cheaper.
    const a = makeSite('a').ai(8).prices(0.5).pue(1.0);
    const b = makeSite('b').ai(8).prices(0.45).pue(1.2);
    const snap = snapshotOf([a, b], [makeLink('a', 'b', { costYuanPerGB: 0 })], [makeJob('j').at('b').build()]);
    expect(planWith(snap, 'optimize', 'cost').jobs[0].site).toBe('a');
  });
});

describe('renewables are used first and shared', () => {
  // 0.828 kW of renewables every hour: exactly one busy accelerator's facility power.
  const sunny = () => makeSite('a').ai(8).renewableKW(0.828, 0.2, 20);

  it('two jobs that could share a slot are spread so that each runs on renewables only', () => {
    const jobs = [makeJob('x').units(1).duration('1h').deadline('2h').at('a').build(), makeJob('y').units(1).duration('1h').deadline('2h').at('a').build()];
    const snapshot = snapshotOf([sunny()], [], jobs);
    for (const objective of ['cost', 'carbon', 'green']) {
      const plan = planWith(snapshot, 'optimize', objective);
      expect(new Set(plan.jobs.map((j) => j.runs[0].start)).size, objective).toBe(2);
      for (const j of plan.jobs) expect(j.greenKWh / j.energyKWh, `${objective} ${j.id}`).toBeCloseTo(1, 9);
      expect(planViolations(snapshot, plan)).toEqual([]);
    }
  });

  it('two jobs that must share a slot share its renewables in proportion to their energy', () => {
    const jobs = [makeJob('x').units(1).duration('1h').deadline('1h').at('a').build(), makeJob('y').units(3).duration('1h').deadline('1h').at('a').build()];
    const snapshot = snapshotOf([sunny()], [], jobs);
    const plan = planWith(snapshot, 'optimize', 'cost');
    const [x, y] = ['x', 'y'].map((id) => plan.jobs.find((j) => j.id === id)!);
    expect(x.greenKWh).toBeCloseTo(0.828 / 4, 9);
    expect(y.greenKWh).toBeCloseTo((0.828 * 3) / 4, 9);
    expect(plan.totals.greenKWh).toBeCloseTo(0.828, 9);
    expect(plan.totals.costYuan).toBeCloseTo(0.828 * 0.2 + 3 * 0.828 * 0.5, 9);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('a job bigger than the renewables takes them all and buys the rest', () => {
    const snapshot = snapshotOf([sunny()], [], [makeJob('x').units(4).duration('1h').deadline('1h').at('a').build()]);
    const [x] = planWith(snapshot, 'optimize', 'green').jobs;
    expect(x.greenKWh).toBeCloseTo(0.828, 9);
    expect(x.energyKWh - x.greenKWh).toBeCloseTo(3 * 0.828, 9);
  });
});

describe('moving the input: transfer cost and energy against a cheaper or greener site', () => {
  // One unit-hour is 0.828 kWh: at b it saves 0.05 yuan/kWh × 0.828 = 0.0414 yuan, or all 0.828 kWh of grid energy.
  const link = makeLink('a', 'b', { costYuanPerGB: 0.01, energyKWhPerGB: 0.01, bandwidthGbps: 100, latencyMs: 5 });
  it.each([
    // objective, input GB, where it runs
    ['cost', 0, 'b'],
    ['cost', 1, 'b'], // 0.01 yuan to move < 0.0414 saved
    ['cost', 10, 'a'], // 0.1 yuan to move > 0.0414 saved
    ['green', 10, 'b'], // 0.1 kWh moved < 0.828 kWh of renewables gained
    ['green', 100, 'a'], // 1 kWh moved > 0.828 gained
  ] as const)('%s with %i GB of input runs at %s', (objective, gb, where) => {
    const a = makeSite('a').ai(8).prices(0.5);
    const b = makeSite('b').ai(8).prices(0.45).renewableKW(100, 0.45, 500);
    const snapshot = snapshotOf([a, b], [link], [makeJob('j').units(1).duration('1h').deadline('6h').input(gb).at('a').build()]);
    const plan = planWith(snapshot, 'optimize', objective);
    expect(plan.jobs[0].site).toBe(where);
    expect(plan.jobs[0].transfer === null).toBe(where === 'a' || gb === 0);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });
});

describe('interruptible and non-interruptible jobs', () => {
  // Cheap hours 1, 3 and 5; everything else dear.
  const site = () => makeSite('a').ai(8).prices(series(0.9, { 1: 0.1, 3: 0.1, 5: 0.1 }));

  it('an interruptible job runs in the cheap hours though they are not contiguous, all at one site', () => {
    const snapshot = snapshotOf([site()], [], [makeJob('j').units(2).duration('3h').deadline('12h').interruptible().at('a').build()]);
    const plan = planWith(snapshot, 'optimize');
    expect(hours(plan, 'j')).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('a non-interruptible job runs in one contiguous piece, the cheapest such window', () => {
    const snapshot = snapshotOf([site()], [], [makeJob('j').units(2).duration('3h').deadline('12h').at('a').build()]);
    const plan = planWith(snapshot, 'optimize');
    // Windows [1,4) and [3,6) both hold two cheap hours; the earlier wins the tie.
    expect(hours(plan, 'j')).toEqual([[1, 4]]);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('an interruptible job stays at one site even when two sites\' cheap hours interleave', () => {
    const a = makeSite('a').ai(8).prices(series(0.9, { 1: 0.1, 3: 0.1 }));
    const b = makeSite('b').ai(8).prices(series(0.9, { 2: 0.1, 4: 0.1 }));
    const snapshot = snapshotOf([a, b], [makeLink('a', 'b', { costYuanPerGB: 0 })], [makeJob('j').units(1).duration('4h').deadline('12h').interruptible().at('a').build()]);
    const plan = planWith(snapshot, 'optimize');
    expect(plan.jobs).toHaveLength(1);
    expect(plan.jobs[0].runs.reduce((h, r) => h + at(r.end) - at(r.start), 0)).toBeCloseTo(4, 12);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });
});

describe('work that is not a whole number of slots', () => {
  const unitHours = (plan: Plan, id: string) => plan.jobs.find((j) => j.id === id)!.runs.reduce((s, r) => s + (at(r.end) - at(r.start)) * r.units, 0);

  it.each([
    // name, duration, interruptible, price marks, expected runs in hours
    ['interruptible, 1.5 h: the cheapest hour fully, the next cheapest half', '90m', true, { 2: 0.1, 7: 0.2 }, [[2, 3], [7, 7.5]]],
    ['interruptible, 2.25 h over three cheap hours', '135m', true, { 2: 0.1, 4: 0.1, 7: 0.2 }, [[2, 3], [4, 5], [7, 7.25]]],
    ['non-interruptible, 1.5 h ending on the cheap hour', '90m', false, { 2: 0.85, 3: 0.1, 4: 0.95 }, [[2.5, 4]]],
    ['non-interruptible, 1.5 h starting on the cheap hour', '90m', false, { 2: 0.95, 3: 0.1, 4: 0.85 }, [[3, 4.5]]],
    ['non-interruptible, 20 min', '20m', false, { 6: 0.1 }, [[6, 6 + 1 / 3]]],
  ] as const)('%s', (_name, duration, interruptible, marks, expected) => {
    const site = makeSite('a').ai(8).prices(series(0.9, marks));
    const snapshot = snapshotOf([site], [], [makeJob('j').units(3).duration(duration).deadline('20h').interruptible(interruptible).at('a').build()]);
    const plan = planWith(snapshot, 'optimize');
    const got = hours(plan, 'j');
    expect(got).toHaveLength(expected.length);
    got.forEach(([s, e], i) => {
      expect(s).toBeCloseTo(expected[i][0], 9);
      expect(e).toBeCloseTo(expected[i][1], 9);
    });
    expect(unitHours(plan, 'j') * 3600).toBeCloseTo(3 * makeJob().duration(duration).build().durationS, 6);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('a partly used slot holding the deadline is used at its start when the rest of the work fits before it', () => {
    // 1.5 h of work, released at 00:00, due at 01:30: [0, 1.5) is the only way.
    const snapshot = snapshotOf([makeSite('a').ai(8)], [], [makeJob('j').units(1).duration('90m').deadline('90m').at('a').build()]);
    const plan = planWith(snapshot, 'optimize');
    expect(plan.unplaced).toEqual([]);
    expect(hours(plan, 'j')).toEqual([[0, 1.5]]);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('the energy of a partly used slot is its share of a full slot', () => {
    const snapshot = snapshotOf([makeSite('a').ai(8)], [], [makeJob('j').units(2).duration('150m').deadline('10h').at('a').build()]);
    const [j] = planWith(snapshot, 'optimize').jobs;
    expect(j.energyKWh).toBeCloseTo(2 * 0.828 * 2.5, 9);
    expect(j.costYuan).toBeCloseTo(2 * 0.828 * 2.5 * 0.5, 9);
  });
});
