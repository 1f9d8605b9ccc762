/**
 * How far a planning cycle looks ahead. The service's loop and the simulator call it before they build a
 * snapshot, so that a job longer than their configured horizon is planned whole instead of waiting for a
 * look-ahead that never comes.
 */
import type { Job } from '../model/types.ts';

/**
 * The end of a cycle's look-ahead: at least `minEndMs` (now plus the configured horizon), and far enough for
 * every job to be placed with the same choice of start a short job has: to its deadline, or to its earliest
 * end plus the configured horizon when its deadline is further.
 */
export function lookAheadEndMs(jobs: readonly Pick<Job, 'releaseMs' | 'deadlineMs' | 'durationS'>[], nowMs: number, minEndMs: number): number {
  const horizonMs = minEndMs - nowMs;
  let endMs = minEndMs;
  for (const job of jobs) {
    const earliestEndMs = Math.max(nowMs, job.releaseMs) + job.durationS * 1000;
    endMs = Math.max(endMs, Math.min(job.deadlineMs, earliestEndMs + horizonMs));
  }
  return endMs;
}
