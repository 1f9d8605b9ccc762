/**
 * How far a planning cycle looks ahead. The service's loop and the simulator call it before they build a
 * snapshot, so that a job longer than their configured horizon is planned whole instead of waiting for a
 * look-ahead that never comes.
 */
import type { Job, Network } from '../model/types.ts';
import { poolSpeed } from '../model/capability.ts';

/**
 * The end of a cycle's look-ahead: at least `minEndMs` (now plus the configured horizon), and far enough for
 * every job to be placed with the same choice of start a short job has: to its deadline, or to its earliest
 * end plus the configured horizon when its deadline is further. Its run time is the longest it has at any pool of
 * its class in `network` (a slow pool's speed stretches it), so that every pool it may use is in reach.
 */
export function lookAheadEndMs(jobs: readonly Pick<Job, 'releaseMs' | 'deadlineMs' | 'durationS' | 'class' | 'poolClass'>[], nowMs: number, minEndMs: number, network: Network): number {
  const horizonMs = minEndMs - nowMs;
  let endMs = minEndMs;
  // The slowest speed per pool class and job class (they set it), worked out once for the cycle.
  const slowestOf = new Map<string, number>();
  for (const job of jobs) {
    const kind = `${job.poolClass}/${job.class}`;
    let slowest = slowestOf.get(kind);
    if (slowest === undefined) {
      slowest = 1;
      for (const site of network.sites) for (const pool of site.pools) if (pool.class === job.poolClass) slowest = Math.min(slowest, poolSpeed(pool, job.class));
      slowestOf.set(kind, slowest);
    }
    const earliestEndMs = Math.max(nowMs, job.releaseMs) + (job.durationS * 1000) / slowest;
    endMs = Math.max(endMs, Math.min(job.deadlineMs, earliestEndMs + horizonMs));
  }
  return endMs;
}
