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

/**
 * Runs `work` in one transaction: commits when it returns `ok`, rolls back when it returns a refusal or throws.
 * On SQLite Kysely runs one transaction at a time on its single connection; on PostgreSQL each takes a pool client.
 */
export async function inTransaction<T extends { ok: boolean }>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  const trx = await db.startTransaction().execute();
  let result: T;
  try {
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
