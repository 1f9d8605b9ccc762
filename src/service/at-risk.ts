/**
 * Jobs at risk of missing their deadline: what the dispatch loop's gauge `kumul_jobs_at_risk` counts at every tick and
 * the KumulJobsAtRisk alert watches (deploy/prometheus/kumul-rules.yml, docs/metrics.md). Pure.
 */
import type { StoredJob } from '../store/port.ts';
import { runIndex } from './loop.ts';

/**
 * Whether a job waiting to run may miss its deadline unless something changes within `marginMs` (the loop passes one
 * replanning interval: the next cycle is the next chance to place it):
 * - without a plan (submitted: no cycle found it a place yet), when its latest start, the deadline less its run
 *   time, is less than `marginMs` away or past;
 * - with a plan (planned, transferring, paused), when the plan is late — its next run should have started and has not
 *   (a tenant's quota, a pool out of service, an engine slow to start it) — and the plan, slipped by that delay,
 *   would end less than `marginMs` before the deadline, or after it. A plan on time is not at risk however tight:
 *   the planner kept the deadline.
 * Running jobs and jobs in a final state are never at risk here.
 */
export function atRisk(stored: StoredJob, nowMs: number, marginMs: number): boolean {
  const { job, plan, status } = stored;
  if (status === 'submitted') return job.deadlineMs - job.durationS * 1000 < nowMs + marginMs;
  if ((status !== 'planned' && status !== 'transferring' && status !== 'paused') || plan === null) return false;
  const next = status === 'paused' ? runIndex(stored.executorRef!) + 1 : 0;
  const runs = plan.runs.slice(next);
  if (runs.length === 0) return false;
  const lateMs = nowMs - Date.parse(runs[0].start);
  if (lateMs <= 0) return false;
  return Date.parse(runs[runs.length - 1].end) + lateMs + marginMs > job.deadlineMs;
}
