/**
 * An index on (status, updated_ms): the dispatch loop asks every tick for the jobs that ended recently
 * (`listJobs({ statuses, updatedSinceMs })`) to stop their runs, without reading every job that ever ended.
 */
import type { Kysely, Migration } from 'kysely';

export function jobsUpdatedMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex('jobs_status_updated').on('jobs').columns(['status', 'updated_ms']).execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('jobs_status_updated').execute();
    },
  };
}
