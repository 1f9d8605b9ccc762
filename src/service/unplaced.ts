/**
 * Why a dispatch cycle found no place for a job (the plan's `unplaced` entry: its reason codes, a summary `0/6 sites
 * can run it: 4 too few units, 2 not allowed` and one line per site), and whether waiting can still help. The dispatch loop (src/service/loop.ts `replan`) calls these for each unplaced job:
 * to store the reasons (Store.recordUnplaced), to mark a job `missed` at once when its deadline can no longer be met,
 * and to count unplaced jobs by reason code in the metrics. Pure functions.
 */
import type { StoredJob, UnplacedInput } from '../store/port.ts';
import type { Metrics } from './metrics.ts';

/** The `deadline-reachable` filter's code when even an empty site could not finish the job by its deadline (transfer included). */
export const DEADLINE_UNREACHABLE = 'cannot finish by the deadline';
/** The code of a job whose deadline is before now + its duration: no site can help. */
export const DEADLINE_PASSED = 'deadline passed';
/** The label of a reason code beyond MAX_REASON_CODES distinct ones, or one the summary did not give. */
export const OTHER_REASON = 'other';
/** Distinct reason codes the metrics label jobs with at most; more are counted as OTHER_REASON. */
export const MAX_REASON_CODES = 24;

/**
 * Codes that waiting cannot cure: the site will not take the job whatever the time (only an operator's change of the
 * network or the policy would). A job rejected everywhere for these and DEADLINE_UNREACHABLE has missed its deadline.
 */
const PERMANENT = [/^no \S+ pool$/, /^too few units$/, /^not allowed$/, /^no route$/, /^not the origin$/];

/**
 * What the loop does with a job the cycle could not place: `missed` when it can no longer meet its deadline (now +
 * its duration is past the deadline, or every site rejects it because the deadline cannot be reached or for a reason
 * waiting cannot cure, at least one of them the deadline), else `waiting` with its reasons.
 */
export function judgeUnplaced(
  job: { durationS: number; deadlineMs: number },
  why: { codes: readonly string[]; reasons: readonly string[] },
  nowMs: number,
): { verdict: 'missed' | 'waiting'; unplaced: UnplacedInput } {
  const lines = why.reasons.length > 0 ? [...why.reasons] : ['no reason given by the dispatcher'];
  if (nowMs + job.durationS * 1000 > job.deadlineMs) {
    const line = `${DEADLINE_PASSED}: ${job.durationS} s from now ends after the deadline ${new Date(job.deadlineMs).toISOString()}`;
    return { verdict: 'missed', unplaced: { codes: [DEADLINE_PASSED], reasons: [line, ...lines] } };
  }
  const codes = why.codes.length > 0 ? [...why.codes] : [OTHER_REASON];
  const hopeless = codes.includes(DEADLINE_UNREACHABLE) && codes.every((c) => c === DEADLINE_UNREACHABLE || PERMANENT.some((p) => p.test(c)));
  return { verdict: hopeless ? 'missed' : 'waiting', unplaced: { codes, reasons: lines } };
}

/**
 * Unplaced jobs by reason code (a job counts once under each distinct code it has), at most MAX_REASON_CODES labels:
 * codes beyond them, in name order, are summed under OTHER_REASON. Read by the loop's `kumul_jobs_unplaced` gauge.
 */
export function countByReason(jobs: readonly { codes: readonly string[] }[]): Map<string, number> {
  const all = new Set(jobs.flatMap((j) => j.codes));
  const kept = new Set(all.size <= MAX_REASON_CODES ? all : [...all].sort().slice(0, MAX_REASON_CODES - 1));
  const counts = new Map<string, number>();
  for (const { codes } of jobs) {
    for (const label of new Set(codes.map((c) => (kept.has(c) ? c : OTHER_REASON)))) counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return counts;
}

/**
 * The loop's metrics of jobs without a place: gauge `kumul_jobs_unplaced{reason}` (submitted jobs whose last cycle found
 * no place, by reason code; set every tick from the jobs not yet started) and counter `kumul_jobs_missed_total{reason}`
 * (jobs marked missed because their deadline could no longer be met, by reason code). Labels are codes, at most
 * MAX_REASON_CODES of them at a time, never free text.
 */
export class UnplacedMetrics {
  private readonly gauge;
  private readonly missedCounter;
  /** Every label set so far (codes come from the filter plugins, a bounded set): those gone are set to 0, so a reason that went away does not linger. */
  private readonly shown = new Set<string>();

  constructor(metrics: Metrics) {
    this.gauge = metrics.gauge('kumul_jobs_unplaced', 'Jobs waiting that the last dispatch cycle could not place, by reason code (a job counts under each of its codes)');
    this.missedCounter = metrics.counter('kumul_jobs_missed_total', 'Jobs marked missed because they could no longer meet their deadline, by reason code');
  }

  /** Called by the loop every tick with the jobs not yet started. */
  waiting(jobs: readonly StoredJob[]): void {
    const counts = countByReason(jobs.flatMap((s) => (s.status === 'submitted' && s.unplaced ? [s.unplaced] : [])));
    for (const label of this.shown) if (!counts.has(label)) this.gauge(0, { reason: label });
    for (const [label, n] of counts) {
      this.gauge(n, { reason: label });
      this.shown.add(label);
    }
  }

  /** Called by the loop when it marks a job missed. */
  missed(codes: readonly string[]): void {
    const label = codes.includes(DEADLINE_PASSED) ? DEADLINE_PASSED : codes.includes(DEADLINE_UNREACHABLE) ? DEADLINE_UNREACHABLE : OTHER_REASON;
    this.missedCounter(1, { reason: label });
  }
}
