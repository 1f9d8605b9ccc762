/**
 * The named job transitions (lifecycle.ts), each one transaction: read the job, check the expected version and
 * the transition table, update it with `WHERE status = read status AND version = read version` (so of two
 * racing instances exactly one updates: PostgreSQL re-checks the condition after the winner commits), then
 * append the event numbered by the new version. The dispatch loop, the reconciler and the API call them.
 */
import type { Selectable } from 'kysely';
import type { PlannedJob } from '../core/dispatch/plan.ts';
import { TRANSITIONS, refuseTransition, type JobStatus, type TransitionName } from './lifecycle.ts';
import type { JobRef, Store, TransitionOptions, TransitionResult, Unplaced, UnplacedInput, UnplacedItem } from './port.ts';
import { toStoredJob } from './rows.ts';
import type { JobsTable } from './schema.ts';
import { inTransaction, refuse, type Db, type WriteGuard } from './support.ts';
import { MAX_UNPLACED_CHARS, MAX_UNPLACED_REASONS, checkExecutorRef, checkUnplaced } from './validate.ts';

/** What one transition changes besides status, version and time. */
interface Change {
  name: TransitionName;
  /** `undefined` leaves the column as it is. */
  plan?: PlannedJob | null;
  executorRef?: string;
  /** `undefined` leaves the column as it is. */
  unplaced?: Unplaced | null;
  detail: Record<string, unknown>;
}

/** Attempts after losing a race when the caller gave no expected version (each re-reads the job). */
const RACE_ATTEMPTS = 3;

type TransitionMethods = Pick<
  Store,
  'planJob' | 'planJobs' | 'unplanJob' | 'recordUnplaced' | 'startTransfer' | 'startRun' | 'pauseRun' | 'resumeRun' | 'replanPaused' | 'requeueRun' | 'succeed' | 'fail' | 'cancel' | 'markMissed'
>;

function planSummary(plan: PlannedJob): Record<string, unknown> {
  return { site: plan.site, pool: plan.pool, start: plan.runs[0]?.start ?? null, end: plan.runs.at(-1)?.end ?? null };
}

/** A plan clears the job's reasons for having none. */
function planChange(plan: PlannedJob): Change {
  return { name: 'planJob', plan, unplaced: null, detail: planSummary(plan) };
}

/** The input as stored: distinct codes, at most MAX_UNPLACED_REASONS lines, each line and code cut to MAX_UNPLACED_CHARS. */
function trimUnplaced(input: UnplacedInput): UnplacedInput {
  const cut = (s: string) => (s.length > MAX_UNPLACED_CHARS ? `${s.slice(0, MAX_UNPLACED_CHARS - 1)}…` : s);
  const reasons = input.reasons.slice(0, MAX_UNPLACED_REASONS).map(cut);
  if (input.reasons.length > MAX_UNPLACED_REASONS) reasons[MAX_UNPLACED_REASONS - 1] = `… and ${input.reasons.length - MAX_UNPLACED_REASONS + 1} more`;
  return { codes: [...new Set(input.codes.map(cut))], reasons };
}

function sameCodes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((code, i) => code === [...b].sort()[i]);
}

/**
 * One item of `recordUnplaced` in the caller's transaction: the same codes as stored on a submitted job update the
 * stored reasons in place (no version, no event); anything else is a transition (`unplanJob` or `noteUnplaced`).
 */
async function recordOne(trx: Db, item: UnplacedItem, nowMs: number): Promise<TransitionResult> {
  const bad = checkUnplaced(item);
  if (bad) return refuse('invalid', `job ${item.ref.jobId}: ${bad}`);
  const { codes, reasons } = trimUnplaced(item);
  const { ref } = item;
  const row = await trx.selectFrom('jobs').selectAll().where('tenant_id', '=', ref.tenantId).where('job_id', '=', ref.jobId).executeTakeFirst();
  if (!row) return refuse('not-found', `no job ${ref.jobId} for tenant ${ref.tenantId}`);
  if (item.expectedVersion !== undefined && row.version !== item.expectedVersion) {
    return refuse('version-mismatch', `job ${ref.jobId} is at version ${row.version}, not ${item.expectedVersion}`);
  }
  const before = row.unplaced === null ? null : (JSON.parse(row.unplaced) as Unplaced);
  if (row.status === 'submitted' && before && sameCodes(before.codes, codes)) {
    const unplaced: Unplaced = { ...before, atMs: nowMs, reasons };
    const updated = await trx
      .updateTable('jobs')
      .set({ unplaced: JSON.stringify(unplaced) })
      .where('tenant_id', '=', ref.tenantId)
      .where('job_id', '=', ref.jobId)
      .where('status', '=', row.status)
      .where('version', '=', row.version)
      .returningAll()
      .executeTakeFirst();
    if (!updated) return refuse('version-mismatch', `job ${ref.jobId} changed concurrently (it was at version ${row.version})`);
    return { ok: true, job: toStoredJob(updated), replayed: true };
  }
  return attempt(trx, ref, unplacedChange('noteUnplaced', { codes, reasons }, nowMs), { nowMs, expectedVersion: row.version });
}

/** `noteUnplaced`, `unplanJob` or `markMissed` storing why the job has no place (reasons in the event too). */
function unplacedChange(name: 'noteUnplaced' | 'unplanJob' | 'markMissed', input: UnplacedInput, nowMs: number): Change {
  const { codes, reasons } = trimUnplaced(input);
  const unplaced: Unplaced = { atMs: nowMs, sinceMs: nowMs, codes, reasons };
  return { name, unplaced, detail: { reason: reasons[0], codes, reasons }, ...(name === 'unplanJob' ? { plan: null } : {}) };
}

/**
 * A call repeating one already applied: the job carries the executor ref the call gives and has moved past the
 * transition's source states. Only `startRun` and `resumeRun` carry a ref; nothing else replays.
 */
function isReplay(row: Selectable<JobsTable>, change: Change): boolean {
  const from: readonly string[] = TRANSITIONS[change.name].from;
  return change.executorRef !== undefined && row.executor_ref === change.executorRef && !from.includes(row.status);
}

async function attempt(trx: Db, ref: JobRef, change: Change, options: TransitionOptions): Promise<TransitionResult> {
  const row = await trx.selectFrom('jobs').selectAll().where('tenant_id', '=', ref.tenantId).where('job_id', '=', ref.jobId).executeTakeFirst();
  if (!row) return refuse('not-found', `no job ${ref.jobId} for tenant ${ref.tenantId}`);
  if (isReplay(row, change)) return { ok: true, job: toStoredJob(row), replayed: true };
  if (options.expectedVersion !== undefined && row.version !== options.expectedVersion) {
    return refuse('version-mismatch', `job ${ref.jobId} is at version ${row.version}, not ${options.expectedVersion}`);
  }
  const illegal = refuseTransition(ref.jobId, row.status as JobStatus, change.name);
  if (illegal) return refuse('illegal-transition', illegal);
  if (change.executorRef !== undefined && change.executorRef !== row.executor_ref) {
    const holder = await trx.selectFrom('jobs').select(['tenant_id', 'job_id']).where('executor_ref', '=', change.executorRef).executeTakeFirst();
    if (holder) return refuse('duplicate', `executor ref ${change.executorRef} belongs to job ${holder.job_id} of tenant ${holder.tenant_id}`);
  }

  const to = TRANSITIONS[change.name].to;
  const version = row.version + 1;
  const updated = await trx
    .updateTable('jobs')
    .set({
      status: to,
      version,
      updated_ms: options.nowMs,
      ...(change.plan !== undefined ? { plan: change.plan === null ? null : JSON.stringify(change.plan) } : {}),
      ...(change.executorRef !== undefined ? { executor_ref: change.executorRef } : {}),
      ...(change.unplaced !== undefined ? { unplaced: change.unplaced === null ? null : JSON.stringify(change.unplaced) } : {}),
    })
    .where('tenant_id', '=', ref.tenantId)
    .where('job_id', '=', ref.jobId)
    .where('status', '=', row.status)
    .where('version', '=', row.version)
    .returningAll()
    .executeTakeFirst();
  if (!updated) return refuse('version-mismatch', `job ${ref.jobId} changed concurrently (it was at version ${row.version})`);
  await trx
    .insertInto('job_events')
    .values({
      tenant_id: ref.tenantId,
      job_id: ref.jobId,
      version,
      at_ms: options.nowMs,
      name: change.name,
      from_status: row.status,
      to_status: to,
      detail: JSON.stringify({ ...options.detail, ...change.detail }),
    })
    .execute();
  return { ok: true, job: toStoredJob(updated), replayed: false };
}

export function transitionMethods(db: Db, guard: WriteGuard = null): TransitionMethods {
  /** Applies one transition; a lost race is retried (re-checked against the new state) unless the caller pinned a version. */
  async function transition(ref: JobRef, change: Change, options: TransitionOptions): Promise<TransitionResult> {
    if (change.executorRef !== undefined) {
      const bad = checkExecutorRef(change.executorRef);
      if (bad) return refuse('invalid', bad);
    }
    for (let i = 1; ; i++) {
      const result = await inTransaction(db, (trx) => attempt(trx, ref, change, options), guard);
      const lostRace = !result.ok && result.code === 'version-mismatch' && options.expectedVersion === undefined;
      if (!lostRace || i === RACE_ATTEMPTS) return result;
    }
  }

  return {
    planJob: (ref, plan, options) => transition(ref, planChange(plan), options),
    async planJobs(items, nowMs) {
      const batch = await inTransaction(db, async (trx) => {
        const results: TransitionResult[] = [];
        // A refusal writes nothing, so the transaction goes on with the next item.
        for (const item of items) results.push(await attempt(trx, item.ref, planChange(item.plan), { nowMs, expectedVersion: item.expectedVersion }));
        return { ok: true as const, results };
      }, guard);
      return batch.results;
    },
    async recordUnplaced(items, nowMs) {
      const batch = await inTransaction(db, async (trx) => {
        const results: TransitionResult[] = [];
        // A refusal writes nothing, so the transaction goes on with the next item.
        for (const item of items) results.push(await recordOne(trx, item, nowMs));
        return { ok: true as const, results };
      }, guard);
      return batch.results;
    },
    unplanJob(ref, reason, options) {
      if (!options.unplaced) return transition(ref, { name: 'unplanJob', plan: null, detail: { reason } }, options);
      const bad = checkUnplaced(options.unplaced);
      if (bad) return Promise.resolve(refuse('invalid', `job ${ref.jobId}: ${bad}`));
      return transition(ref, unplacedChange('unplanJob', options.unplaced, options.nowMs), options);
    },
    startTransfer: (ref, options) => transition(ref, { name: 'startTransfer', detail: {} }, options),
    startRun: (ref, executorRef, options) => transition(ref, { name: 'startRun', executorRef, detail: { executorRef } }, options),
    pauseRun: (ref, options) => transition(ref, { name: 'pauseRun', plan: options.plan, detail: options.plan ? { plan: planSummary(options.plan) } : {} }, options),
    resumeRun: (ref, executorRef, options) =>
      transition(ref, { name: 'resumeRun', executorRef, plan: options.plan, detail: { executorRef, ...(options.plan ? { plan: planSummary(options.plan) } : {}) } }, options),
    replanPaused: (ref, plan, options) => transition(ref, { name: 'replanPaused', plan, detail: planSummary(plan) }, options),
    requeueRun: (ref, reason, options) => transition(ref, { name: 'requeueRun', plan: null, detail: { reason } }, options),
    succeed: (ref, options) => transition(ref, { name: 'succeed', detail: {} }, options),
    fail: (ref, reason, options) => transition(ref, { name: 'fail', detail: { reason } }, options),
    cancel: (ref, options) => transition(ref, { name: 'cancel', detail: {} }, options),
    markMissed(ref, options) {
      if (!options.unplaced) return transition(ref, { name: 'markMissed', detail: {} }, options);
      const bad = checkUnplaced(options.unplaced);
      if (bad) return Promise.resolve(refuse('invalid', `job ${ref.jobId}: ${bad}`));
      return transition(ref, unplacedChange('markMissed', options.unplaced, options.nowMs), options);
    },
  };
}
