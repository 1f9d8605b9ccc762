/**
 * Cross-regional backup in the service (docs/backup.md, "The service"): tenants' backup policies and datasets (their
 * documents as JSON text, in the shapes of the backup files), the state of each replica (dataset × target site: the
 * newest complete, verified copy — the instant it is current to, when it was verified, its bytes), a log of the bytes
 * each copy moved over each hop, and a log of the bytes each replica keeps over time (for GB-months).
 */
import type { Kysely, Migration } from 'kysely';
import { idType, type Backend } from '../dialects.ts';

export function backupMigration(backend: Backend): Migration {
  const id = idType(backend);
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const table of ['backup_policies', 'backup_datasets']) {
        await db.schema
          .createTable(table)
          .addColumn('tenant_id', id, (c) => c.notNull().references('tenants.id'))
          .addColumn('id', id, (c) => c.notNull())
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('created_ms', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['tenant_id', 'id'])
          .execute();
      }
      await db.schema
        .createTable('backup_replicas')
        .addColumn('tenant_id', id, (c) => c.notNull())
        .addColumn('dataset_id', id, (c) => c.notNull())
        .addColumn('site', id, (c) => c.notNull())
        .addColumn('version_ms', 'bigint', (c) => c.notNull())
        .addColumn('verified_ms', 'bigint', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('files', 'integer', (c) => c.notNull())
        .addColumn('stored_bytes', 'bigint', (c) => c.notNull())
        .addColumn('updated_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('backup_replicas_pk', ['tenant_id', 'dataset_id', 'site'])
        .execute();
      await db.schema
        .createTable('backup_transfers')
        .addColumn('tenant_id', id, (c) => c.notNull())
        .addColumn('dataset_id', id, (c) => c.notNull())
        .addColumn('key', id, (c) => c.notNull())
        .addColumn('from_site', id, (c) => c.notNull())
        .addColumn('to_site', id, (c) => c.notNull())
        .addColumn('target', id, (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('start_ms', 'bigint', (c) => c.notNull())
        .addColumn('end_ms', 'bigint', (c) => c.notNull())
        .addColumn('recorded_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('backup_transfers_pk', ['tenant_id', 'dataset_id', 'key'])
        .execute();
      await db.schema.createIndex('backup_transfers_time').on('backup_transfers').columns(['start_ms']).execute();
      await db.schema
        .createTable('backup_storage')
        .addColumn('tenant_id', id, (c) => c.notNull())
        .addColumn('dataset_id', id, (c) => c.notNull())
        .addColumn('site', id, (c) => c.notNull())
        .addColumn('from_ms', 'bigint', (c) => c.notNull())
        .addColumn('stored_bytes', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('backup_storage_pk', ['tenant_id', 'dataset_id', 'site', 'from_ms'])
        .execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      for (const table of ['backup_storage', 'backup_transfers', 'backup_replicas', 'backup_datasets', 'backup_policies']) await db.schema.dropTable(table).execute();
    },
  };
}
