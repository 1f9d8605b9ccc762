/**
 * Jobs: atomic batch submission, reads, keyset-paginated listing and events. The API submits and lists;
 * the dispatch loop reads active jobs for its snapshot; the reconciler maps executor refs back to jobs.
 * Job ids are chosen by the tenant and unique within it; a batch with an id already stored (or twice) is refused whole.
 */
import { sql } from 'kysely';
import type pg from 'pg';
import type { JobFilter, JobSpec, Store } from './port.ts';
import { jobRow, toJobEvent, toStoredJob } from './rows.ts';
import type { JobsTable } from './schema.ts';
import { chunks, count, inTransaction, refuse, type Db } from './support.ts';
import { checkJobSpec } from './validate.ts';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

type JobMethods = Pick<Store, 'submitJobs' | 'getJob' | 'findJobByExecutorRef' | 'listJobs' | 'jobEvents'>;

/** A page cursor: the last job's sort key, opaque to clients. */
type Cursor = [submittedMs: number, tenantId: string, jobId: string];

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): Cursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 3 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string' && typeof value[2] === 'string') return value as Cursor;
  } catch {
    // not JSON: refused below
  }
  return null;
}

/** Why a batch cannot be stored before touching the database, or null. */
function checkBatch(jobs: readonly JobSpec[]): string | null {
  if (jobs.length === 0) return 'a batch needs at least one job';
  const seen = new Set<string>();
  for (const [index, spec] of jobs.entries()) {
    const bad = checkJobSpec(spec);
    if (bad) return `jobs[${index}]: ${bad}`;
    if (seen.has(spec.id)) return `jobs[${index}]: job id ${spec.id} appears twice in the batch`;
    seen.add(spec.id);
  }
  return null;
}

/**
 * PostgreSQL: a batch of any size as one statement of fixed text, the columns passed as arrays and unnested, so each
 * connection parses and plans it once (a named prepared statement) instead of once per request: the API's group
 * commit (src/api/submit-queue.ts) runs it for every submission. Columns left out (plan, executor_ref, unplaced) are null.
 */
const SUBMIT_COLUMNS = ['job_id', 'class', 'pool_class', 'units', 'duration_s', 'release_ms', 'deadline_ms', 'origin', 'input_gb', 'interruptible', 'allowed_sites', 'command'] as const;
const SUBMIT_TYPES = ['text', 'text', 'text', 'integer', 'float8', 'bigint', 'bigint', 'text', 'float8', 'integer', 'text', 'text'];
const SUBMIT_JOBS_SQL = `with ins as (
  insert into jobs (tenant_id, ${SUBMIT_COLUMNS.join(', ')}, status, version, submitted_ms, updated_ms)
  select $1, t.*, 'submitted', 1, $2, $2 from unnest(${SUBMIT_TYPES.map((type, i) => `$${i + 3}::${type}[]`).join(', ')}) as t
  returning job_id)
insert into job_events (tenant_id, job_id, version, at_ms, name, from_status, to_status, detail)
select $1, job_id, 1, $2, 'submit', null, 'submitted', '{}' from ins`;

function submitValues(tenantId: string, rows: readonly JobsTable[], nowMs: number): unknown[] {
  return [tenantId, nowMs, ...SUBMIT_COLUMNS.map((column) => rows.map((row) => row[column]))];
}

/** The job methods; `pool` (PostgreSQL) runs submissions as one prepared statement, SQLite uses the transaction below. */
export function jobMethods(db: Db, pool: pg.Pool | undefined): JobMethods {
  /** Which of `ids` the tenant has already: the message of a refused batch. */
  async function taken(tenantId: string, ids: string[]): Promise<string[]> {
    return (await db.selectFrom('jobs').select('job_id').where('tenant_id', '=', tenantId).where('job_id', 'in', ids).orderBy('job_id').execute()).map((r) => r.job_id);
  }

  return {
    async submitJobs(tenantId, jobs, nowMs) {
      const bad = checkBatch(jobs);
      if (bad) return refuse('invalid', bad);
      if (pool) {
        // One statement, so one round trip and one commit: the jobs and their submit events, all or nothing (a
        // statement is atomic). A taken id or an unknown tenant fails it whole; only then are the ids looked up.
        const rows = jobs.map((spec) => jobRow(tenantId, spec, nowMs));
        try {
          await pool.query({ name: 'kumul_submit_jobs', text: SUBMIT_JOBS_SQL, values: submitValues(tenantId, rows, nowMs) });
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === '23503') return refuse('not-found', `no tenant ${tenantId}`);
          if (code !== '23505') throw error;
          const ids = await taken(tenantId, rows.map((r) => r.job_id));
          return refuse('duplicate', ids.length > 0 ? `tenant ${tenantId} already has job ${ids.join(', ')}` : `tenant ${tenantId} submitted some of these job ids concurrently`);
        }
        return { ok: true, jobs: rows.map(toStoredJob) };
      }
      return inTransaction(db, async (trx) => {
        const tenant = await trx.selectFrom('tenants').select('id').where('id', '=', tenantId).executeTakeFirst();
        if (!tenant) return refuse('not-found', `no tenant ${tenantId}`);
        const rows = jobs.map((spec) => jobRow(tenantId, spec, nowMs));
        for (const chunk of chunks(rows)) {
          const taken = await trx
            .selectFrom('jobs')
            .select('job_id')
            .where('tenant_id', '=', tenantId)
            .where('job_id', 'in', chunk.map((r) => r.job_id))
            .orderBy('job_id')
            .execute();
          if (taken.length > 0) return refuse('duplicate', `tenant ${tenantId} already has job ${taken.map((r) => r.job_id).join(', ')}`);
          // DO NOTHING and a count, not an error, for the same id submitted by a concurrent request: one path on both databases.
          const result = await trx.insertInto('jobs').values(chunk).onConflict((oc) => oc.doNothing()).executeTakeFirst();
          if (count(result.numInsertedOrUpdatedRows) < chunk.length) return refuse('duplicate', `tenant ${tenantId} submitted some of these job ids concurrently`);
          const events = chunk.map((r) => ({ tenant_id: tenantId, job_id: r.job_id, version: 1, at_ms: nowMs, name: 'submit', from_status: null, to_status: 'submitted', detail: '{}' }));
          await trx.insertInto('job_events').values(events).execute();
        }
        return { ok: true, jobs: rows.map(toStoredJob) };
      });
    },

    async getJob(ref) {
      const row = await db.selectFrom('jobs').selectAll().where('tenant_id', '=', ref.tenantId).where('job_id', '=', ref.jobId).executeTakeFirst();
      return row ? toStoredJob(row) : null;
    },

    async findJobByExecutorRef(executorRef) {
      const row = await db.selectFrom('jobs').selectAll().where('executor_ref', '=', executorRef).executeTakeFirst();
      return row ? toStoredJob(row) : null;
    },

    async listJobs(filter: JobFilter, page = {}) {
      const limit = page.limit ?? DEFAULT_PAGE;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) return refuse('invalid', `limit must be an integer from 1 to ${MAX_PAGE}`);
      const after = page.after ? decodeCursor(page.after) : null;
      if (page.after && !after) return refuse('invalid', 'after is not a cursor this store gave');
      if (filter.statuses && filter.statuses.length === 0) return { ok: true, jobs: [], next: null };

      let query = db.selectFrom('jobs').selectAll();
      if (filter.tenantId !== undefined) query = query.where('tenant_id', '=', filter.tenantId);
      if (filter.statuses) query = query.where('status', 'in', [...filter.statuses]);
      if (filter.class !== undefined) query = query.where('class', '=', filter.class);
      if (filter.poolClass !== undefined) query = query.where('pool_class', '=', filter.poolClass);
      if (filter.updatedSinceMs !== undefined) query = query.where('updated_ms', '>=', filter.updatedSinceMs);
      if (after) query = query.where(({ eb, refTuple, tuple }) => eb(refTuple('submitted_ms', 'tenant_id', 'job_id'), '>', tuple(...after)));
      const rows = await query.orderBy('submitted_ms').orderBy('tenant_id').orderBy('job_id').limit(limit + 1).execute();

      const jobs = rows.slice(0, limit).map(toStoredJob);
      const last = rows.length > limit ? rows[limit - 1] : null;
      return { ok: true, jobs, next: last ? encodeCursor([last.submitted_ms, last.tenant_id, last.job_id]) : null };
    },

    async jobEvents(ref) {
      const rows = await db.selectFrom('job_events').selectAll().where('tenant_id', '=', ref.tenantId).where('job_id', '=', ref.jobId).orderBy('version').execute();
      return rows.map(toJobEvent);
    },
  };
}
