/** scripts/ad-hoc-jobs.ts: the ad hoc jobs of "Let's Wait Awhile" (scenario II) as a jobs file (docs/space-and-time.md). */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseJobsCsv } from '../../src/jobs/jobs-file.ts';

const SCRIPT = fileURLToPath(new URL('../../scripts/ad-hoc-jobs.ts', import.meta.url));
const HOUR = 3_600_000;
const MINUTE = 60_000;

async function adHoc(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, '--sites', 'de,gb,fr', '--count', '300', ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return parseJobsCsv(r.stdout, 'ad-hoc.csv');
}
const timeOfDayMs = (ms: number) => ms % (24 * HOUR);
const isWorkday = (ms: number) => ![0, 6].includes(new Date(ms).getUTCDay());

describe('scripts/ad-hoc-jobs.ts', () => {
  let jobs: Awaited<ReturnType<typeof adHoc>>;
  beforeAll(async () => {
    jobs = await adHoc();
  });

  it('submits on workdays at 09:00 to 16:30 UTC, runs 4 to 89.5 h in half hours, origins taking turns', () => {
    expect(jobs).toHaveLength(300);
    for (const job of jobs) {
      expect(isWorkday(job.releaseMs), job.id).toBe(true);
      expect(timeOfDayMs(job.releaseMs) % (30 * MINUTE)).toBe(0);
      expect(timeOfDayMs(job.releaseMs)).toBeGreaterThanOrEqual(9 * HOUR);
      expect(timeOfDayMs(job.releaseMs)).toBeLessThanOrEqual(16.5 * HOUR);
      expect(job.durationS % 1800).toBe(0);
      expect(job.durationS).toBeGreaterThanOrEqual(4 * 3600);
      expect(job.durationS).toBeLessThanOrEqual(89.5 * 3600);
    }
    expect(jobs.slice(0, 6).map((j) => j.origin)).toEqual(['de', 'gb', 'fr', 'de', 'gb', 'fr']);
    expect(jobs.map((j) => j.releaseMs)).toEqual([...jobs.map((j) => j.releaseMs)].sort((a, b) => a - b));
  });

  it('lets a job finish by 09:00 of the next workday when it would end outside 09:00 to 17:00 of a workday, plus a minute', () => {
    for (const job of jobs) {
      const finishMs = job.releaseMs + job.durationS * 1000;
      const latestMs = job.deadlineMs - MINUTE;
      if (isWorkday(finishMs) && timeOfDayMs(finishMs) >= 9 * HOUR && timeOfDayMs(finishMs) <= 17 * HOUR) expect(latestMs, job.id).toBe(finishMs);
      else {
        expect(timeOfDayMs(latestMs), job.id).toBe(9 * HOUR);
        expect(isWorkday(latestMs), job.id).toBe(true);
        expect(latestMs - finishMs, job.id).toBeGreaterThan(0);
        expect(latestMs - finishMs, job.id).toBeLessThanOrEqual(3 * 24 * HOUR); // a Friday evening waits for Monday
      }
    }
  });

  it('with --window none, the same jobs have no slack but the minute; the same seed gives the same jobs', async () => {
    const now = await adHoc('--window', 'none');
    expect(now.map((j) => [j.releaseMs, j.durationS, j.origin])).toEqual(jobs.map((j) => [j.releaseMs, j.durationS, j.origin]));
    for (const job of now) expect(job.deadlineMs - job.releaseMs - job.durationS * 1000).toBe(MINUTE);
    expect(await adHoc()).toEqual(jobs);
    expect(await adHoc('--seed', '1')).not.toEqual(jobs);
  });
});
