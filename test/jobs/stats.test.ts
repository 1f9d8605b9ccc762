import { describe, expect, it } from 'vitest';
import { formatJobStats, summarizeJobs } from '../../src/jobs/stats.ts';
import { makeJobs } from '../fixtures/job-builder.ts';

describe('summarizeJobs', () => {
  const jobs = makeJobs(10, (b, i) =>
    b.duration((i + 1) * 60).units(i < 8 ? 1 : 4).interruptible(i % 2 === 0).class(i < 6 ? 'training' : 'inference').release(Date.UTC(2026, 5, 1) + i * 3_600_000),
  );

  it('counts, nearest-rank percentiles and release span', () => {
    const s = summarizeJobs(jobs);
    expect(s).toMatchObject({ jobs: 10, byClass: { training: 6, inference: 4 }, byUnits: { 'ai/1': 8, 'ai/4': 2 }, interruptible: 5, tenants: 1 });
    expect(s.durationS).toEqual({ p10: 60, p50: 300, p90: 540, p99: 600, max: 600 });
    expect(s.durationSByClass.inference).toEqual({ p10: 420, p50: 480, p90: 600, p99: 600, max: 600 });
    expect(s.unitHoursByPoolClass).toEqual({ ai: Math.round((36 * 60 + 4 * (9 + 10) * 60) / 3600) });
    expect(s.lastReleaseMs - s.firstReleaseMs).toBe(9 * 3_600_000);
  });

  it('prints one line per figure', () => {
    const text = formatJobStats(summarizeJobs(jobs));
    expect(text).toContain('interruptible: 5 (50.0 %)\n');
    expect(text).toContain('release: 2026-06-01T00:00:00Z to 2026-06-01T09:00:00Z (0.38 days)\n');
  });
});
