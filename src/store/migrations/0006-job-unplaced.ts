/**
 * Why the dispatch loop found no place for a job (issue 10, "never silent"): a JSON text column, null while the
 * job is planned or was never found unplaceable. `recordUnplaced` and `markMissed` write it, `planJob` clears it;
 * the API, `kumul jobs get` and the dashboard show it.
 */
import type { Kysely, Migration } from 'kysely';

export function jobUnplacedMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('jobs').addColumn('unplaced', 'text').execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('jobs').dropColumn('unplaced').execute();
    },
  };
}
