/**
 * The job lifecycle: a closed set of states changed only by the named transitions below.
 * The store (transitions.ts) checks every change against `TRANSITIONS`; the service and the API
 * read it to say what a job can do next. Pure data and functions, no I/O.
 */

export const JOB_STATUSES = ['submitted', 'planned', 'transferring', 'running', 'paused', 'succeeded', 'failed', 'cancelled', 'missed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** States a job never leaves. */
export const FINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'missed'];
/** States a dispatch cycle still has to care about. */
export const ACTIVE_STATUSES: readonly JobStatus[] = JOB_STATUSES.filter((s) => !FINAL_STATUSES.includes(s));

export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/**
 * Every legal change of state, by transition name: from which states, to which state.
 * - `planJob` (re-)plans a waiting job: the dispatcher re-plans on a rolling horizon, so planned → planned is legal;
 * - `unplanJob` returns a planned job to the queue when a later cycle finds no place for it;
 * - `noteUnplaced` records a new reason why a waiting job has no place (submitted → submitted; the same reason
 *   again is stored without a transition: Store.recordUnplaced);
 * - `startTransfer` moves the job's input to the planned site; `startRun` starts it (after a transfer or directly);
 * - `pauseRun`/`resumeRun` interrupt and resume an interruptible job at its site; `replanPaused` gives a job paused
 *   mid-run (a service's burst took its units) the runs of the work it has left;
 * - `requeueRun` returns a started job to the queue when its run was stopped for the site's sake (the pool went out of
 *   service, the node failed, the run waited too long to start): the plan is cleared, the last run's executor ref kept;
 * - `cancel`, `fail` and `markMissed` end a job from any non-final state (the service stops a started run first,
 *   or its reconciler stops any run whose job is final).
 */
export const TRANSITIONS = {
  planJob: { from: ['submitted', 'planned'], to: 'planned' },
  unplanJob: { from: ['planned'], to: 'submitted' },
  noteUnplaced: { from: ['submitted'], to: 'submitted' },
  startTransfer: { from: ['planned'], to: 'transferring' },
  startRun: { from: ['planned', 'transferring'], to: 'running' },
  pauseRun: { from: ['running'], to: 'paused' },
  resumeRun: { from: ['paused'], to: 'running' },
  replanPaused: { from: ['paused'], to: 'paused' },
  requeueRun: { from: ['running', 'paused'], to: 'submitted' },
  succeed: { from: ['running'], to: 'succeeded' },
  fail: { from: ACTIVE_STATUSES, to: 'failed' },
  cancel: { from: ACTIVE_STATUSES, to: 'cancelled' },
  markMissed: { from: ACTIVE_STATUSES, to: 'missed' },
} as const satisfies Record<string, { from: readonly JobStatus[]; to: JobStatus }>;

export type TransitionName = keyof typeof TRANSITIONS;
export const TRANSITION_NAMES = Object.keys(TRANSITIONS) as TransitionName[];

/** Why `name` cannot be applied to a job in `status`, or null when it can. */
export function refuseTransition(jobId: string, status: JobStatus, name: TransitionName): string | null {
  const from: readonly JobStatus[] = TRANSITIONS[name].from;
  if (from.includes(status)) return null;
  return `job ${jobId} is ${status}; cannot ${name} (allowed from ${from.join(', ')})`;
}
