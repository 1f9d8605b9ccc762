/** Baselines: `asap-origin` runs at the origin as early as it can; `asap-any` as early as it can anywhere. */
import { describe, expect, it } from 'vitest';
import { makeLink, makeSite, snapshotOf, T0 } from '../fixtures/scenario-builder.ts';
import { makeJob } from '../fixtures/job-builder.ts';
import { planViolations, planWith } from '../fixtures/plan-checks.ts';

const HOUR = 3_600_000;
const at = (iso: string) => (Date.parse(iso) - T0) / HOUR;
const series = (base: number, marks: Record<number, number>) => Array.from({ length: 24 }, (_, t) => marks[t] ?? base);

describe('asap-origin', () => {
  // The origin is dear now and cheap later; b is cheap all day.
  const sites = () => [makeSite('a').ai(8).prices(series(0.9, { 6: 0.1 })), makeSite('b').ai(8).prices(0.1)];
  const links = [makeLink('a', 'b', { costYuanPerGB: 0 })];

  it.each([
    // release, interruptible, expected first start (hours): runs start at any instant, slots only price energy
    ['2026-06-01T00:00Z', false, 0],
    ['2026-06-01T02:20Z', false, 2 + 20 / 60],
    ['2026-06-01T05:00Z', true, 5],
    ['2026-06-01T05:59Z', true, 5 + 59 / 60],
  ] as const)('a job released at %s (interruptible: %s) runs at the origin from its release, in one run', (release, interruptible, start) => {
    const job = makeJob('j').units(2).duration('2h').release(release).deadline('12h').interruptible(interruptible).at('a').build();
    const snapshot = snapshotOf(sites(), links, [job]);
    for (const objective of ['cost', 'carbon', 'green']) {
      const plan = planWith(snapshot, 'asap-origin', objective);
      expect(plan.jobs[0].site).toBe('a');
      expect(plan.jobs[0].runs).toEqual([{ start: new Date(T0 + start * HOUR).toISOString(), end: new Date(T0 + (start + 2) * HOUR).toISOString(), units: 2 }]);
      expect(plan.policy).toBe('asap-origin');
      expect(plan.objective).toBe(objective);
      expect(planViolations(snapshot, plan)).toEqual([]);
    }
  });

  it('starts no earlier than now', () => {
    const job = makeJob('j').duration('1h').deadline('12h').at('a').build();
    const snapshot = { ...snapshotOf(sites(), links, [job]), nowMs: T0 + 4.5 * HOUR };
    const plan = planWith(snapshot, 'asap-origin');
    expect(at(plan.jobs[0].runs[0].start)).toBe(4.5);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('queues jobs by release at a full origin: the later job waits, it never moves', () => {
    const jobs = [
      makeJob('first').units(8).duration('3h').deadline('12h').at('a').build(),
      makeJob('second').units(8).duration('2h').release('2026-06-01T01:00Z').deadline('12h').at('a').build(),
      makeJob('third').units(4).duration('1h').release('2026-06-01T01:00Z').deadline('12h').interruptible().at('a').build(),
    ];
    const snapshot = snapshotOf(sites(), links, jobs);
    const plan = planWith(snapshot, 'asap-origin');
    const starts = Object.fromEntries(plan.jobs.map((j) => [j.id, at(j.runs[0].start)]));
    expect(plan.jobs.every((j) => j.site === 'a')).toBe(true);
    expect(starts).toEqual({ first: 0, second: 3, third: 5 });
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('leaves a job unplaced when its origin cannot run it, naming the policy for the other sites', () => {
    const snapshot = snapshotOf([makeSite('a').pool('general', 8), makeSite('b').ai(8)], links, [makeJob('j').at('a').build()]);
    const plan = planWith(snapshot, 'asap-origin');
    expect(plan.jobs).toEqual([]);
    const [summary, ...perSite] = plan.unplaced[0].reasons;
    expect(summary).toMatch(/^0\/2 sites can run it: /);
    expect(perSite).toEqual(['a: no ai pool', expect.stringMatching(/^b: .*origin/)]);
  });

  it('keeps the deadline: a job the origin cannot finish in time is unplaced, not late', () => {
    const jobs = [makeJob('first').units(8).duration('3h').deadline('3h').at('a').build(), makeJob('second').units(8).duration('2h').deadline('4h').at('a').build()];
    const snapshot = snapshotOf(sites(), links, jobs);
    const plan = planWith(snapshot, 'asap-origin');
    expect(plan.jobs.map((j) => j.id)).toEqual(['first']);
    expect(plan.unplaced.map((u) => u.id)).toEqual(['second']);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });
});

describe('asap-any', () => {
  it('runs at the origin when it is free, even if elsewhere is cheaper', () => {
    const snapshot = snapshotOf([makeSite('a').ai(8).prices(0.9), makeSite('b').ai(8).prices(0.1)], [makeLink('a', 'b', { costYuanPerGB: 0 })], [makeJob('j').at('b').build(), makeJob('k').at('a').build()]);
    const plan = planWith(snapshot, 'asap-any');
    expect(Object.fromEntries(plan.jobs.map((j) => [j.id, [j.site, at(j.runs[0].start)]]))).toEqual({ j: ['b', 0], k: ['a', 0] });
  });

  it('moves a job to the site where it can start earliest when its origin is busy', () => {
    const jobs = [makeJob('blocker').units(8).duration('5h').deadline('5h').at('a').allowed('a').build(), makeJob('j').units(4).duration('1h').release('2026-06-01T01:00Z').deadline('12h').at('a').input(10).build()];
    const snapshot = snapshotOf([makeSite('a').ai(8), makeSite('b').ai(8).prices(0.9), makeSite('c').ai(8)], [makeLink('a', 'b'), makeLink('a', 'c')], jobs);
    const plan = planWith(snapshot, 'asap-any');
    const j = plan.jobs.find((x) => x.id === 'j')!;
    // b and c both start at 01:00:08.02 (10 GB arrive in 8 s and the link's latency); the tie goes to site order.
    expect(j.site).toBe('b');
    expect(j.runs[0].start).toBe(j.transfer!.end);
    expect(at(j.runs[0].start)).toBeCloseTo(1 + 8 / 3600, 4);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('waits at the origin when moving the input would start later', () => {
    // 36,000 GB over 10 Gbit/s take 8 h; the origin frees up at 05:00.
    const jobs = [makeJob('blocker').units(8).duration('5h').deadline('5h').at('a').allowed('a').build(), makeJob('j').units(4).duration('1h').deadline('20h').at('a').input(36_000).build()];
    const snapshot = snapshotOf([makeSite('a').ai(8), makeSite('b').ai(8)], [makeLink('a', 'b', { bandwidthGbps: 10 })], jobs);
    const plan = planWith(snapshot, 'asap-any');
    const j = plan.jobs.find((x) => x.id === 'j')!;
    expect([j.site, at(j.runs[0].start), j.transfer]).toEqual(['a', 5, null]);
  });

  it('moves the input when that still starts earlier, and starts after it arrives', () => {
    // 3,600 GB over 10 Gbit/s take 48 min: b can start at 00:48, the origin only at 05:00.
    const jobs = [makeJob('blocker').units(8).duration('5h').deadline('5h').at('a').allowed('a').build(), makeJob('j').units(4).duration('1h').deadline('20h').at('a').input(3600).build()];
    const snapshot = snapshotOf([makeSite('a').ai(8), makeSite('b').ai(8)], [makeLink('a', 'b', { bandwidthGbps: 10 })], jobs);
    const plan = planWith(snapshot, 'asap-any');
    const j = plan.jobs.find((x) => x.id === 'j')!;
    expect(j.site).toBe('b');
    expect(j.runs[0].start).toBe(j.transfer!.end);
    expect(at(j.runs[0].start)).toBeCloseTo(0.8, 4);
    expect(j.transfer).toMatchObject({ route: ['a', 'b'], gb: 3600 });
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('on a small queue, places at least what asap-origin places, and the first job starts no later', () => {
    const jobs = Array.from({ length: 12 }, (_, i) =>
      makeJob(`j${i}`)
        .units(1 + (i % 4) * 2)
        .duration(`${1 + (i % 3)}h`)
        .release(`2026-06-01T0${i % 4}:00Z`)
        .deadline('18h')
        .interruptible(i % 2 === 0)
        .at(i % 3 === 0 ? 'b' : 'a')
        .build(),
    );
    const snapshot = snapshotOf([makeSite('a').ai(8), makeSite('b').ai(4), makeSite('c').ai(8)], [makeLink('a', 'b'), makeLink('b', 'c')], jobs);
    const any = planWith(snapshot, 'asap-any');
    const origin = planWith(snapshot, 'asap-origin');
    expect(planViolations(snapshot, any)).toEqual([]);
    expect(planViolations(snapshot, origin)).toEqual([]);
    expect(any.jobs.length).toBeGreaterThanOrEqual(origin.jobs.length);
    // The first job released (ties by id) has the whole network to itself under both.
    const firstAny = any.jobs.find((j) => j.id === 'j0')!;
    const firstOrigin = origin.jobs.find((j) => j.id === 'j0')!;
    expect(at(firstAny.runs[0].start)).toBeLessThanOrEqual(at(firstOrigin.runs[0].start));
  });
});
