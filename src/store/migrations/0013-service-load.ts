/**
 * Live load of inference services (docs/services.md, "Bursts in the service"): the requests/s a load balancer or the
 * service's gateway last reported per service and user region (one row per region, replaced by each report), and the
 * dispatch loop's burst state per service (extra replicas, their routing, the batch runs it paused and why: JSON text).
 */
import type { Kysely, Migration } from 'kysely';
import { idType, type Backend } from '../dialects.ts';

export function serviceLoadMigration(backend: Backend): Migration {
  const id = idType(backend);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('service_load')
        .addColumn('tenant_id', id, (c) => c.notNull())
        .addColumn('service_id', id, (c) => c.notNull())
        .addColumn('region', id, (c) => c.notNull())
        .addColumn('requests_per_s', 'double precision', (c) => c.notNull())
        .addColumn('reported_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('service_load_pk', ['tenant_id', 'service_id', 'region'])
        .addForeignKeyConstraint('service_load_service', ['tenant_id', 'service_id'], 'services', ['tenant_id', 'service_id'])
        .execute();
      await db.schema
        .createTable('service_bursts')
        .addColumn('tenant_id', id, (c) => c.notNull())
        .addColumn('service_id', id, (c) => c.notNull())
        .addColumn('burst', 'text', (c) => c.notNull())
        .addColumn('updated_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('service_bursts_pk', ['tenant_id', 'service_id'])
        .addForeignKeyConstraint('service_bursts_service', ['tenant_id', 'service_id'], 'services', ['tenant_id', 'service_id'])
        .execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      for (const table of ['service_bursts', 'service_load']) await db.schema.dropTable(table).execute();
    },
  };
}
