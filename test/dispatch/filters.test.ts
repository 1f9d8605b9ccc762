/** Filters: capacity, allowed sites, deadline reachability; unplaced jobs are values with merged and per-site reasons. */
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/core/model/types.ts';
import { makeLink, makeSite, snapshotOf, type SiteBuilder } from '../fixtures/scenario-builder.ts';
import { makeJob } from '../fixtures/job-builder.ts';
import { ALL_POLICIES, planViolations, planWith } from '../fixtures/plan-checks.ts';

/** Per-site reasons of an unplaced job, as a map site → reason (from lines 'site: reason'). */
function perSite(reasons: string[]): Map<string, string> {
  return new Map(reasons.slice(1).map((r) => [r.slice(0, r.indexOf(': ')), r.slice(r.indexOf(': ') + 2)]));
}

interface FilterCase {
  name: string;
  sites: SiteBuilder[];
  links?: ReturnType<typeof makeLink>[];
  job: Job;
  /** Site → a fragment of the reason it is rejected for; sites not listed must be usable. */
  rejected: Record<string, string | RegExp>;
  runsAt?: string;
}

const linkAll = (ids: string[]) => ids.slice(1).map((id) => makeLink(ids[0], id));

const cases: FilterCase[] = [
  {
    name: 'a site without a pool of the job\'s class',
    sites: [makeSite('a').pool('general', 64), makeSite('b').ai(8)],
    links: linkAll(['a', 'b']),
    job: makeJob('j').units(2).at('a').build(),
    rejected: { a: 'no ai pool' },
    runsAt: 'b',
  },
  {
    name: 'a pool with fewer units than the job needs at once',
    sites: [makeSite('a').ai(2), makeSite('b').ai(4)],
    links: linkAll(['a', 'b']),
    job: makeJob('j').units(4).at('a').build(),
    rejected: { a: 'needs 4 units, ai pool has 2' },
    runsAt: 'b',
  },
  {
    name: 'an hpc job where only ai and general pools exist',
    sites: [makeSite('a').ai(8).pool('general', 64), makeSite('b').pool('hpc', 1)],
    links: linkAll(['a', 'b']),
    job: makeJob('j').pool('hpc').units(2).at('a').build(),
    rejected: { a: 'no hpc pool', b: 'needs 2 units, hpc pool has 1' },
  },
  {
    name: 'data residency: only the allowed sites',
    sites: [makeSite('a').ai(8).prices(0.9), makeSite('b').ai(8).prices(0.1), makeSite('c').ai(8).prices(0.5)],
    links: linkAll(['a', 'b', 'c']),
    job: makeJob('j').at('a').allowed('a', 'c').build(),
    rejected: { b: 'not in the job\'s allowed sites' },
    runsAt: 'c',
  },
  {
    name: 'allowed sites that exclude the origin',
    sites: [makeSite('a').ai(8), makeSite('b').ai(8)],
    links: linkAll(['a', 'b']),
    job: makeJob('j').at('a').allowed('b').build(),
    rejected: { a: 'not in the job\'s allowed sites' },
    runsAt: 'b',
  },
  {
    // 10,000 GB over 10 Gbit/s take 8000 s ≈ 2.2 h: a 1 h job with a 3 h deadline cannot move.
    name: 'deadline unreachable after moving a big input',
    sites: [makeSite('a').ai(8).prices(0.9), makeSite('b').ai(8).prices(0.1)],
    links: [makeLink('a', 'b', { bandwidthGbps: 10 })],
    job: makeJob('j').duration('1h').deadline('3h').input(10_000).at('a').build(),
    rejected: { b: /deadline.* after moving 10000 GB \(2\.2 h\)/ },
    runsAt: 'a',
  },
  {
    name: 'a moved input that still arrives in time does not reject the site',
    sites: [makeSite('a').ai(8).prices(0.9), makeSite('b').ai(8).prices(0.1)],
    links: [makeLink('a', 'b', { bandwidthGbps: 10, costYuanPerGB: 0 })],
    job: makeJob('j').duration('1h').deadline('4h').input(10_000).at('a').build(),
    rejected: {},
    runsAt: 'b',
  },
  {
    name: 'a job longer than its window',
    sites: [makeSite('a').ai(8)],
    job: makeJob('j').duration('3h').deadline('2h').at('a').build(),
    rejected: { a: /deadline/ },
  },
  {
    name: 'a window beyond the grid',
    sites: [makeSite('a').ai(8)],
    job: makeJob('j').release('2026-06-01T22:00Z').duration('3h').deadline('10h').at('a').build(),
    rejected: { a: /horizon/ },
  },
  {
    name: 'a job ready only after the grid ends',
    sites: [makeSite('a').ai(8)],
    job: makeJob('j').release('2026-06-02T01:00Z').duration('1h').deadline('10h').at('a').build(),
    rejected: { a: /horizon/ },
  },
  {
    name: 'a deadline already past',
    sites: [makeSite('a').ai(8)],
    job: makeJob('j').release('2026-05-31T20:00Z').duration('1h').deadline('2h').at('a').build(),
    rejected: { a: /deadline/ },
  },
  {
    name: 'a site the origin has no route to',
    sites: [makeSite('a').ai(8).prices(0.9), makeSite('b').ai(8).prices(0.1)],
    job: makeJob('j').input(1).at('a').build(),
    rejected: { b: 'no network route from a' },
    runsAt: 'a',
  },
];

describe.each(cases)('filter: $name', ({ sites, links = [], job, rejected, runsAt }) => {
  const snapshot = snapshotOf(sites, links, [job]);
  const plan = planWith(snapshot, 'optimize');
  const rejections = runsAt ? plan.jobs[0]?.explain.rejected : undefined;
  const reasons = runsAt ? new Map(rejections?.map((r) => [r.site, r.reason])) : perSite(plan.unplaced[0]?.reasons ?? []);

  it(runsAt ? `runs at ${runsAt}` : 'is unplaced', () => {
    if (runsAt) {
      expect(plan.unplaced).toEqual([]);
      expect(plan.jobs.map((j) => j.site)).toEqual([runsAt]);
    } else {
      expect(plan.jobs).toEqual([]);
      expect(plan.unplaced.map((u) => u.id)).toEqual([job.id]);
    }
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('names the reason for each rejected site, and only for those', () => {
    for (const [site, reason] of Object.entries(rejected)) {
      expect(reasons.get(site), `reason at ${site}`).toEqual(typeof reason === 'string' ? expect.stringContaining(reason) : expect.stringMatching(reason));
    }
    const usable = sites.map((s) => s.id).filter((id) => !(id in rejected));
    for (const id of usable) {
      if (runsAt) expect(reasons.has(id), `${id} was usable`).toBe(false);
      else expect(reasons.get(id)).toBe('no free capacity in its window');
    }
  });
});

describe('jobs that fit nowhere are values, never exceptions', () => {
  const sites = [makeSite('a').ai(2), makeSite('b').pool('general', 8)];
  const jobs = [
    makeJob('unknown-origin').at('nowhere').build(),
    makeJob('too-big').units(64).at('a').build(),
    makeJob('no-pool').pool('hpc').at('a').build(),
    makeJob('zero-window').duration('2h').deadline('1h').at('a').build(),
    makeJob('fits').at('a').build(),
  ];
  const snapshot = snapshotOf(sites, [makeLink('a', 'b')], jobs);

  it.each(ALL_POLICIES)('%s places what fits and lists the rest with reasons', (policy) => {
    const plan = planWith(snapshot, policy);
    expect(plan.jobs.map((j) => j.id)).toEqual(['fits']);
    expect(plan.unplaced.map((u) => u.id).sort()).toEqual(['no-pool', 'too-big', 'unknown-origin', 'zero-window']);
    for (const u of plan.unplaced) expect(u.reasons[0]).toMatch(/^0\/2 sites can run it: /);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });
});

describe('an unplaced job', () => {
  // a's ai pool is taken by `blocker` in the only slot; b and c have no ai pool; d's is too small; e is unreachable.
  const sites = [makeSite('a').ai(4), makeSite('b').pool('general', 64), makeSite('c').pool('hpc', 8), makeSite('d').ai(2), makeSite('e').ai(8)];
  const links = [makeLink('a', 'b'), makeLink('b', 'c'), makeLink('a', 'd')];
  const blocker = makeJob('blocker').units(4).duration('1h').deadline('1h').at('a').allowed('a').build();
  const job = makeJob('late').units(4).duration('1h').deadline('1h').at('a').input(1).build();
  const snapshot = snapshotOf(sites, links, [blocker, job]);

  it.each(ALL_POLICIES)('is a value under %s: the plan is returned with the job and its reasons', (policy) => {
    const plan = planWith(snapshot, policy);
    expect(plan.jobs.map((j) => j.id)).toEqual(['blocker']);
    expect(plan.unplaced.map((u) => u.id)).toEqual(['late']);
    expect(plan.totals.jobsUnplaced).toBe(1);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('has one merged reason with counts over all sites, then one reason per site', () => {
    const [merged, ...rest] = planWith(snapshot, 'optimize').unplaced[0].reasons;
    expect(merged.startsWith('0/5 sites can run it: ')).toBe(true);
    // Reasons are counted across sites: b and c share 'no ai pool'; the counts cover all 5 sites.
    const items = merged.slice('0/5 sites can run it: '.length).split(', ');
    expect(items).toContain('2 no ai pool');
    expect(items).toContain('1 no free capacity in its window');
    expect(items.every((item) => /^\d+ \S/.test(item))).toBe(true);
    expect(items.reduce((sum, item) => sum + Number(item.split(' ')[0]), 0)).toBe(5);
    expect(rest).toHaveLength(5);
    const reasons = perSite([merged, ...rest]);
    expect([...reasons.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(reasons.get('a')).toBe('no free capacity in its window');
    expect(reasons.get('b')).toBe('no ai pool');
    expect(reasons.get('c')).toBe('no ai pool');
    expect(reasons.get('d')).toBe('needs 4 units, ai pool has 2');
    expect(reasons.get('e')).toBe('no network route from a');
  });
});
