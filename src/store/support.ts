/**
 * Small helpers every store module uses: refusals, the all-or-nothing transaction, batching.
 */
import type { Kysely } from 'kysely';
import type { Refusal } from './port.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

export function refuse(code: Refusal['code'], reason: string): Refusal {
  return { ok: false, code, reason };
}

/** What every write transaction of a fenced store checks first (leases.ts `checkFence`); null when the store is not fenced. */
export type WriteGuard = ((trx: Db) => Promise<void>) | null;

/**
 * Runs `work` in one transaction: commits when it returns `ok`, rolls back when it returns a refusal or throws.
 * `guard` runs first in the same transaction (a fenced store's lease check; it throws to refuse).
 * On SQLite Kysely runs one transaction at a time on its single connection; on PostgreSQL each takes a pool client.
 */
export async function inTransaction<T extends { ok: boolean }>(db: Db, work: (trx: Db) => Promise<T>, guard: WriteGuard = null): Promise<T> {
  const trx = await db.startTransaction().execute();
  let result: T;
  try {
    if (guard) await guard(trx);
    result = await work(trx);
  } catch (error) {
    await trx.rollback().execute().catch(() => {});
    throw error;
  }
  if (result.ok) await trx.commit().execute();
  else await trx.rollback().execute();
  return result;
}

/**
 * Rows per multi-row INSERT: SQLite takes at most 32,766 parameters a statement and PostgreSQL 65,535;
 * 500 rows of the widest table (18 columns) stay far below both.
 */
export const ROWS_PER_INSERT = 500;

export function chunks<T>(items: readonly T[], size = ROWS_PER_INSERT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Number of a driver's row count (bigint in Kysely's results, undefined when the driver gives none). */
export function count(value: bigint | number | undefined): number {
  return value === undefined ? 0 : Number(value);
}
