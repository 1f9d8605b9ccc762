/**
 * Which waiting jobs the dispatch loop counts as at risk of missing their deadline (src/service/at-risk.ts, the gauge
 * `kumul_jobs_at_risk`). The loop test counts one the tenant's quota holds back, on a real store.
 */
import { describe, expect, it } from 'vitest';
import { atRisk } from '../../src/service/at-risk.ts';
import type { StoredJob } from '../../src/store/port.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const HOUR = 3_600_000;
const MARGIN = HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

/** A job of `hours` of work due at `deadlineMs`, in `status`, with runs [start, end) in ms when given. */
function stored(status: StoredJob['status'], deadlineMs: number, runs: [number, number][] | null, executorRef: string | null = null, hours = 2): StoredJob {
  const plan = runs && ({ runs: runs.map(([a, b]) => ({ start: iso(a), end: iso(b) })) } as unknown as StoredJob['plan']);
  return { job: { durationS: hours * 3600, deadlineMs }, status, plan, executorRef } as unknown as StoredJob;
}

describe('atRisk', () => {
  it('a job without a place is at risk once its latest start is less than the margin away', () => {
    expect(atRisk(stored('submitted', NOW + 3.5 * HOUR, null), NOW, MARGIN)).toBe(false); // latest start in 1.5 h
    expect(atRisk(stored('submitted', NOW + 2.5 * HOUR, null), NOW, MARGIN)).toBe(true); // in 30 min
    expect(atRisk(stored('submitted', NOW + HOUR, null), NOW, MARGIN)).toBe(true); // past
  });

  it('a plan on time is not at risk however tight; a late one is once it would end less than the margin before the deadline', () => {
    // Two hours of work planned to start 10 minutes ago: it would end 2 hours from now.
    const late: [number, number][] = [[NOW - 10 * 60_000, NOW + 110 * 60_000]];
    expect(atRisk(stored('planned', NOW + 2 * HOUR, [[NOW, NOW + 2 * HOUR]]), NOW, MARGIN)).toBe(false); // no slack, on time
    expect(atRisk(stored('planned', NOW + 2.5 * HOUR, [[NOW + 5 * 60_000, NOW + 125 * 60_000]]), NOW, MARGIN)).toBe(false); // on time
    expect(atRisk(stored('planned', NOW + 3.5 * HOUR, late), NOW, MARGIN)).toBe(false); // would end 1.5 h before
    expect(atRisk(stored('planned', NOW + 2.5 * HOUR, late), NOW, MARGIN)).toBe(true); // 30 min before
    expect(atRisk(stored('transferring', NOW + 2.5 * HOUR, late), NOW, MARGIN)).toBe(true);
  });

  it('a paused job is judged by its remaining runs', () => {
    const runs: [number, number][] = [
      [NOW - 3 * HOUR, NOW - 2 * HOUR],
      [NOW - 30 * 60_000, NOW + 30 * 60_000],
    ];
    expect(atRisk(stored('paused', NOW + 2 * HOUR, runs, 'd/t/j/0'), NOW, MARGIN)).toBe(false); // ends 1 h before after a 30 min slip: not less
    expect(atRisk(stored('paused', NOW + 1.5 * HOUR, runs, 'd/t/j/0'), NOW, MARGIN)).toBe(true);
    expect(atRisk(stored('paused', NOW, runs, 'd/t/j/1'), NOW, MARGIN)).toBe(false); // no run left
  });

  it('running and ended jobs are never at risk here', () => {
    for (const status of ['running', 'succeeded', 'failed', 'cancelled', 'missed'] as const) expect(atRisk(stored(status, NOW, [[NOW - 3 * HOUR, NOW - HOUR]], 'd/t/j/0'), NOW, MARGIN), status).toBe(false);
  });
});
