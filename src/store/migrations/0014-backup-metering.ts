/**
 * Backup metering and the backup loop's view in the store (docs/backup.md, "The service"): the network energy and
 * carbon of each copy's bytes over a hop (bills and /metrics), and per dataset the backup loop's latest view (its
 * targets, next copies, copies running, problems) so that every instance answers GET /v1/backup/datasets/{id} alike.
 */
import type { Kysely, Migration } from 'kysely';
import { idType, type Backend } from '../dialects.ts';

export function backupMeteringMigration(backend: Backend): Migration {
  const id = idType(backend);
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Transfers recorded before this migration moved bytes whose energy was not metered: 0.
      await db.schema.alterTable('backup_transfers').addColumn('energy_kwh', 'double precision', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('backup_transfers').addColumn('carbon_kg', 'double precision', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema
        .createTable('backup_loop_state')
        .addColumn('tenant_id', id, (c) => c.notNull())
        .addColumn('dataset_id', id, (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('updated_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('backup_loop_state_pk', ['tenant_id', 'dataset_id'])
        .execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('backup_loop_state').execute();
      await db.schema.alterTable('backup_transfers').dropColumn('carbon_kg').execute();
      await db.schema.alterTable('backup_transfers').dropColumn('energy_kwh').execute();
    },
  };
}
