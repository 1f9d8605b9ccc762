/**
 * Leases and fencing (Store.acquireLease, releaseLease, lease, and the check of `fenced` stores). `kumul serve` takes
 * the `dispatch` lease at each tick to run the loop; the loop's writes go through a fenced store, whose transactions
 * first read the lease row (locked for share on PostgreSQL, so a takeover waits until they commit) and throw
 * LeaseLost when another holder has it.
 */
import type { Selectable } from 'kysely';
import type { Backend } from './dialects.ts';
import { LeaseLost, type Fence, type Lease, type LeaseResult, type Store } from './port.ts';
import type { LeasesTable } from './schema.ts';
import type { Db } from './support.ts';

type LeaseMethods = Pick<Store, 'acquireLease' | 'releaseLease' | 'lease'>;

function toLease(row: Selectable<LeasesTable>): Lease {
  return { name: row.name, holder: row.holder, token: Number(row.token), acquiredMs: Number(row.acquired_ms), expiresMs: Number(row.expires_ms) };
}

export function leaseMethods(db: Db): LeaseMethods {
  async function read(name: string): Promise<Lease | null> {
    const row = await db.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toLease(row) : null;
  }

  return {
    lease: read,

    async acquireLease(name, holder, ttlMs, nowMs, takeOver) {
      const expiresMs = nowMs + ttlMs;
      for (;;) {
        const current = await read(name);
        if (!current) {
          const inserted = await db
            .insertInto('leases')
            .values({ name, holder, token: 1, acquired_ms: nowMs, expires_ms: expiresMs })
            .onConflict((oc) => oc.column('name').doNothing())
            .executeTakeFirst();
          if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { ok: true, lease: { name, holder, token: 1, acquiredMs: nowMs, expiresMs }, takenOver: true };
          continue; // another instance inserted it first: look again
        }
        const mine = current.holder === holder;
        if (!mine && current.expiresMs > nowMs && !(takeOver?.(current) ?? false)) return { ok: false, lease: current };
        // Compare-and-set on the token read: of two instances racing for it, exactly one updates.
        const token = mine ? current.token : current.token + 1;
        const updated = await db
          .updateTable('leases')
          .set({ holder, token, expires_ms: expiresMs, ...(mine ? {} : { acquired_ms: nowMs }) })
          .where('name', '=', name)
          .where('holder', '=', current.holder)
          .where('token', '=', current.token)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 1) {
          const lease: Lease = { name, holder, token, acquiredMs: mine ? current.acquiredMs : nowMs, expiresMs };
          return { ok: true, lease, takenOver: !mine } satisfies LeaseResult;
        }
        // Lost a race (another instance took or renewed it in between): look again.
      }
    },

    async releaseLease(name, holder, token) {
      await db.updateTable('leases').set({ expires_ms: 0 }).where('name', '=', name).where('holder', '=', holder).where('token', '=', token).execute();
    },
  };
}

/**
 * The fence check at the start of a write transaction: the lease is still `fence.holder`'s at `fence.token`, else
 * LeaseLost (the transaction rolls back). On PostgreSQL the row is locked for share until the transaction ends, so a
 * takeover (an UPDATE of that row) waits for the write to commit, and the next write sees the new token.
 */
export async function checkFence(trx: Db, backend: Backend, fence: Fence): Promise<void> {
  let query = trx.selectFrom('leases').select(['holder', 'token']).where('name', '=', fence.name);
  if (backend === 'postgres') query = query.forShare();
  const row = await query.executeTakeFirst();
  if (!row || row.holder !== fence.holder || Number(row.token) !== fence.token) throw new LeaseLost(fence, row ? { holder: row.holder, token: Number(row.token) } : null);
}
