/**
 * Jobs may carry the command their run executes (a shell script body; the Slurm executor makes it the batch
 * script). Null for jobs without one: their run stands in for the work by waiting its length.
 */
import type { Kysely, Migration } from 'kysely';

export function jobCommandMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('jobs').addColumn('command', 'text').execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('jobs').dropColumn('command').execute();
    },
  };
}
