/**
 * Job input transfers share link capacity among themselves (docs/dispatch.md, "Moving input data"): as the planner
 * commits a job, the GB its input moves on each hop and slot are taken (core/dispatch/cycle.ts `takeTransfer`), so a
 * later job's input moves on what is left, like the backup reservation; transfers already under way (earlier cycles)
 * come in as `Snapshot.committedLinkGB`. Hand cases on one thin link, a property over random thin-link instances
 * (no link direction over its capacity in any slot, with a reservation and transfers under way), and the simulator
 * counting transfers of earlier cycles.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Job } from '../../src/core/model/types.ts';
import type { LpSolver } from '../../src/core/lp/model.ts';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import { addSegmentsGB, hopKey } from '../../src/core/network/routes.ts';
import { simulate } from '../../src/sim/engine.ts';
import { makeLink, makeSite, scenarioOf, snapshotOf, T0 } from '../fixtures/scenario-builder.ts';
import { makeJob } from '../fixtures/job-builder.ts';
import { ALL_POLICIES, boundViolations, linkViolations, objectiveOf, planLinkUse, planViolations, planWith } from '../fixtures/plan-checks.ts';

let solver: LpSolver;
beforeAll(async () => {
  solver = await loadHighsSolver();
});

const HOUR_MS = 3_600_000;

describe('two big-input jobs on one thin link (1 Gbit/s: 450 GB an hour)', () => {
  // Both jobs start at a, whose pool is dear; b is green and has room for both at once. Each moves 900 GB: 2 h alone.
  const sites = [makeSite('a').ai(8).prices(2), makeSite('b').ai(8).prices(0.1).carbonG(10)];
  const links = [makeLink('a', 'b', { bandwidthGbps: 1, latencyMs: 10, costYuanPerGB: 0 })];
  const job = (id: string, deadline: string): Job => makeJob(id).units(4).duration('1h').at('a').input(900).release(T0).deadline(deadline).build();

  it('the second job waits for the first one\'s transfer: its input moves in slots 2–3 and it starts after 4 h', () => {
    const snapshot = snapshotOf(sites, links, [job('first', '12h'), job('second', '12h')], { slots: 12 });
    const plan = planWith(snapshot, 'optimize', 'cost');
    expect(plan.jobs.map((j) => j.site)).toEqual(['b', 'b']);
    const [early, late] = [...plan.jobs].sort((x, y) => Date.parse(x.transfer!.end) - Date.parse(y.transfer!.end));
    expect(Date.parse(early.transfer!.end) - T0).toBeLessThan(2.01 * HOUR_MS);
    expect(early.transfer!.segments!.map((s) => Math.round(s.gb))).toEqual([450, 450]);
    // The later one moves nothing while the first fills the link, then the whole bandwidth in slots 2 and 3.
    expect(Date.parse(late.transfer!.end) - T0).toBeGreaterThanOrEqual(4 * HOUR_MS);
    expect(late.transfer!.segments!.map((s) => [Date.parse(s.start) - T0, Math.round(s.gb)])).toEqual([
      [2 * HOUR_MS, 450],
      [3 * HOUR_MS, 450],
    ]);
    expect(Date.parse(late.runs[0].start) - T0).toBeGreaterThanOrEqual(4 * HOUR_MS);
    const use = planLinkUse(snapshot, plan).get(hopKey('a', 'b'))!;
    expect([...use.slice(0, 5)].map((x) => Math.round(x))).toEqual([450, 450, 450, 450, 0]);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('when its deadline cannot wait, the second job runs elsewhere (at its origin) instead of overfilling the link', () => {
    // Due 3.5 h after release: only one of the two can move 900 GB (2 h) and run 1 h by then.
    const snapshot = snapshotOf(sites, links, [job('first', '3.5h'), job('second', '3.5h')], { slots: 12 });
    const plan = planWith(snapshot, 'optimize', 'cost');
    expect(plan.jobs.map((j) => j.site).sort()).toEqual(['a', 'b']);
    expect(plan.jobs.find((j) => j.site === 'a')!.transfer).toBeNull();
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('input already under way from an earlier cycle is taken too: a new job waits for it', () => {
    const snapshot = snapshotOf(sites, links, [job('new', '12h')], { slots: 12 });
    const committedLinkGB = new Map([[hopKey('a', 'b'), Float64Array.from([450, 225, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]]);
    const plan = planWith({ ...snapshot, committedLinkGB }, 'optimize', 'cost');
    // 0 GB in slot 0, 225 in slot 1, 450 in slot 2, 225 in the first half of slot 3.
    expect((Date.parse(plan.jobs[0].transfer!.end) - T0) / HOUR_MS).toBeCloseTo(3.5, 4);
    expect(planViolations({ ...snapshot, committedLinkGB }, plan)).toEqual([]);
  });
});

describe('property: thin links shared by several big-input jobs, a reservation and transfers under way', () => {
  const instance = fc.record({
    sites: fc.integer({ min: 2, max: 4 }),
    bandwidth: fc.array(fc.double({ min: 0.2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }),
    jobs: fc.array(
      fc.record({ origin: fc.nat(), gb: fc.integer({ min: 0, max: 1500 }), release: fc.integer({ min: 0, max: 3 }), hours: fc.integer({ min: 1, max: 3 }), slackHours: fc.integer({ min: 0, max: 8 }), units: fc.integer({ min: 1, max: 2 }), interruptible: fc.boolean() }),
      { minLength: 2, maxLength: 6 },
    ),
    // Per link and slot, a share of its capacity held by backups or by transfers of earlier cycles.
    held: fc.array(fc.constantFrom(0, 0, 0.25, 0.5, 1), { minLength: 12, maxLength: 12 }),
    reserveNotCommitted: fc.boolean(),
  });

  it('no link direction carries more GB than its capacity in any slot, under every policy; the bound stays under the plan', () => {
    fc.assert(
      fc.property(instance, fc.constantFrom(...ALL_POLICIES), (x, policy) => {
        const slots = 12;
        const ids = Array.from({ length: x.sites }, (_, i) => `s${i}`);
        // A star around s0: green sites at its tips, the origins dear.
        const sites = ids.map((id, i) => makeSite(id).ai(i === 0 ? 2 : 4).prices(i === 0 ? 2 : 0.1 * i));
        const links = ids.slice(1).map((id, i) => makeLink('s0', id, { bandwidthGbps: x.bandwidth[i], latencyMs: 5, costYuanPerGB: 0 }));
        const jobs = x.jobs.map((j, k) =>
          makeJob(`j${k}`)
            .units(2 * j.units)
            .duration(`${j.hours}h`)
            .at(ids[j.origin % ids.length])
            .input(j.gb)
            .release(T0 + j.release * HOUR_MS)
            .deadline(`${j.hours + j.slackHours}h`)
            .interruptible(j.interruptible)
            .build(),
        );
        const base = snapshotOf(sites, links, jobs, { slots });
        const held = new Map<string, Float64Array>();
        for (const l of links) for (const key of [hopKey(l.from, l.to), hopKey(l.to, l.from)]) held.set(key, Float64Array.from(x.held, (share) => (share * l.bandwidthGbps * 3600) / 8));
        const snapshot = x.reserveNotCommitted ? { ...base, linkReserveGB: held } : { ...base, committedLinkGB: held };
        const plan = planWith(snapshot, policy, 'cost', policy === 'optimize' ? solver : undefined);
        expect(linkViolations(snapshot, plan)).toEqual([]);
        expect(planViolations(snapshot, plan)).toEqual([]);
        if (plan.bound) expect(boundViolations(plan, objectiveOf('cost').weights)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});

describe('the simulator counts transfers started in earlier cycles', () => {
  it('a job arriving an hour later moves its input on what the first one leaves', () => {
    const sites = [makeSite('a').ai(8).prices(2), makeSite('b').ai(8).prices(0.1)];
    const links = [makeLink('a', 'b', { bandwidthGbps: 1, latencyMs: 10, costYuanPerGB: 0 })];
    const jobs = [
      makeJob('first').units(4).duration('1h').at('a').input(900).release(T0).deadline('20h').build(),
      makeJob('second').units(4).duration('1h').at('a').input(900).release(T0 + HOUR_MS).deadline('19h').build(),
    ];
    const snapshot = snapshotOf(sites, links, jobs, { slots: 24 });
    const out = simulate({ scenario: scenarioOf(snapshot), jobs, policy: 'optimize', objective: objectiveOf('cost'), fromMs: T0, toMs: T0 + 20 * HOUR_MS, replanMinutes: 60, horizonSlots: 12, shiftHours: 0 });
    const records = new Map(out.records.map((r) => [r.job.id, r]));
    expect(records.get('first')!.siteId).toBe('b');
    expect(records.get('second')!.siteId).toBe('b');
    const use = new Map<string, Float64Array>();
    for (const r of out.records) if (r.transfer) addSegmentsGB(use, r.transfer.route.path, r.transfer.segments, snapshot.grid);
    for (const gb of use.get(hopKey('a', 'b'))!) expect(gb).toBeLessThanOrEqual(450 * (1 + 1e-9));
    // The second's 900 GB move after the first's (slots 0–1): it is ready no earlier than 4 h.
    expect(records.get('second')!.readyMs! - T0).toBeGreaterThanOrEqual(4 * HOUR_MS - 1);
    expect(out.records.every((r) => r.state === 'completed')).toBe(true);
  });
});
