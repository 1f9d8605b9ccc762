/**
 * The backup loop's load on each link direction (docs/backup.md, "The service"): the leader stores the Gbit/s its
 * running copies move over each direction, so that the dashboard of every instance shows the same backup load on the
 * map (GET /v1/dashboard), not only the leader's.
 */
import type { Kysely, Migration } from 'kysely';
import { idType, type Backend } from '../dialects.ts';

export function backupLinkLoadsMigration(backend: Backend): Migration {
  const id = idType(backend);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('backup_link_loads')
        .addColumn('from_site', id, (c) => c.notNull())
        .addColumn('to_site', id, (c) => c.notNull())
        .addColumn('gbps', 'double precision', (c) => c.notNull())
        .addColumn('updated_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('backup_link_loads_pk', ['from_site', 'to_site'])
        .execute();
      // When the loads were last stored (even as none): a row with empty sites.
      await db.insertInto('backup_link_loads').values({ from_site: '', to_site: '', gbps: 0, updated_ms: -1 }).execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('backup_link_loads').execute();
    },
  };
}
