/**
 * Leases one instance holds at a time (the dispatch loop's, `dispatch`): who holds it, until when, and its fencing
 * token, which grows by one at every change of holder. Every write of the loop checks the token in its own
 * transaction (src/store/leases.ts), so an old holder that wakes up late changes nothing.
 */
import type { Kysely, Migration } from 'kysely';

export function leasesMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('token', 'bigint', (c) => c.notNull())
        .addColumn('acquired_ms', 'bigint', (c) => c.notNull())
        .addColumn('expires_ms', 'bigint', (c) => c.notNull())
        .execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('leases').execute();
    },
  };
}
