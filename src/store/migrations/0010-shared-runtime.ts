/**
 * What every `kumul serve` instance on one store must share to take over the dispatch loop: the simulated
 * executor's runs (so that a new leader follows the runs the old one started) and the service's simulated instant
 * (so that the clock of a new leader goes on where the old one's stopped).
 */
import type { Kysely, Migration } from 'kysely';

export function sharedRuntimeMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('simulated_runs')
        .addColumn('ref', 'text', (c) => c.primaryKey())
        .addColumn('request', 'text', (c) => c.notNull())
        .addColumn('started_ms', 'bigint')
        .addColumn('cancelled_ms', 'bigint')
        .execute();
      await db.schema
        .createTable('service_state')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value_ms', 'bigint', (c) => c.notNull())
        .execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('service_state').execute();
      await db.schema.dropTable('simulated_runs').execute();
    },
  };
}
