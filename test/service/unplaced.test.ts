/**
 * The dispatcher's reasons for a job it could not place (src/service/unplaced.ts): whether waiting can still help, and the counts by reason the metrics show, with bounded labels.
 * The dispatch-loop tests (loop.test.ts) check the same against the real core dispatcher's lines.
 */
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/service/metrics.ts';
import { MAX_REASON_CODES, UnplacedMetrics, countByReason, judgeUnplaced } from '../../src/service/unplaced.ts';
import type { StoredJob } from '../../src/store/port.ts';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;
const job = { durationS: 3600, deadlineMs: NOW + 10 * HOUR };

describe('judgeUnplaced', () => {
  const lines = (summary: string) => [`0/3 sites can run it: ${summary}`, 'a: …', 'b: …', 'c: …'];
  /** A plan's unplaced entry for a summary such as '1 too few units, 2 not allowed'. */
  const why = (summary: string) => ({ codes: summary.split(', ').map((part) => part.replace(/^\d+ /, '')), reasons: lines(summary) });

  it('misses a job every site rejects for its deadline or for good, at least one for its deadline', () => {
    expect(judgeUnplaced(job, why('3 cannot finish by the deadline'), NOW).verdict).toBe('missed');
    expect(judgeUnplaced(job, why('1 cannot finish by the deadline, 1 not allowed, 1 too few units'), NOW)).toEqual({
      verdict: 'missed',
      unplaced: { codes: ['cannot finish by the deadline', 'not allowed', 'too few units'], reasons: lines('1 cannot finish by the deadline, 1 not allowed, 1 too few units') },
    });
  });

  it('keeps waiting a job that a later cycle could still place, or that no deadline rules out', () => {
    for (const summary of ['1 cannot finish by the deadline, 2 no free capacity in its window', '2 cannot finish by the horizon end, 1 cannot finish by the deadline', '3 too few units', '3 after the horizon', '3 some new code']) {
      expect(judgeUnplaced(job, why(summary), NOW).verdict, summary).toBe('waiting');
    }
  });

  it('misses a job whose duration from now ends after its deadline, whatever the sites say', () => {
    const late = judgeUnplaced(job, why('3 no free capacity in its window'), NOW + 9.5 * HOUR);
    expect(late.verdict).toBe('missed');
    expect(late.unplaced.codes).toEqual(['deadline passed']);
    expect(late.unplaced.reasons[0]).toBe('deadline passed: 3600 s from now ends after the deadline 2026-06-01T10:00:00.000Z');
    expect(late.unplaced.reasons.slice(1)).toEqual(lines('3 no free capacity in its window'));
    // No slack at all (deadline = now + duration) is not late.
    expect(judgeUnplaced(job, why('3 no free capacity in its window'), NOW + 9 * HOUR).verdict).toBe('waiting');
  });
});

describe('counts by reason', () => {
  it('count a job once under each of its codes', () => {
    expect(countByReason([{ codes: ['a', 'b'] }, { codes: ['a'] }, { codes: ['a', 'a'] }])).toEqual(new Map([['a', 3], ['b', 1]]));
  });

  it(`keep at most ${MAX_REASON_CODES} labels, the rest under "other"`, () => {
    const jobs = Array.from({ length: 40 }, (_, i) => ({ codes: [`code-${String(i).padStart(2, '0')}`, 'code-00'] }));
    const counts = countByReason(jobs);
    expect(counts.size).toBe(MAX_REASON_CODES);
    expect(counts.get('code-00')).toBe(40);
    expect(counts.get('other')).toBe(40 - (MAX_REASON_CODES - 1));
  });

  it('set the gauge of a reason gone to 0 and count misses by their deadline code', () => {
    const metrics = new Metrics();
    const gauge = new UnplacedMetrics(metrics);
    const waiting = (codes: string[]) => ({ status: 'submitted', unplaced: { atMs: NOW, sinceMs: NOW, codes, reasons: ['…'] } }) as unknown as StoredJob;
    gauge.waiting([waiting(['too few units']), waiting(['too few units', 'not allowed']), { ...waiting(['x']), status: 'planned' } as StoredJob]);
    expect(metrics.render()).toContain('kumul_jobs_unplaced{reason="too few units"} 2\nkumul_jobs_unplaced{reason="not allowed"} 1');
    gauge.waiting([waiting(['not allowed'])]);
    expect(metrics.render()).toContain('kumul_jobs_unplaced{reason="too few units"} 0\nkumul_jobs_unplaced{reason="not allowed"} 1');
    gauge.missed(['cannot finish by the deadline', 'not allowed']);
    gauge.missed(['deadline passed']);
    gauge.missed(['deadline passed']);
    expect(metrics.render()).toContain('kumul_jobs_missed_total{reason="cannot finish by the deadline"} 1\nkumul_jobs_missed_total{reason="deadline passed"} 2');
  });
});
