/**
 * Inference services (issue 12, docs/services.md "The service"): per tenant, the services (the spec as a services
 * file's entry, normalized, JSON text) and their state; demand per service, user region and slot (requests/s, the
 * slot's start); the current placement per service and slot (replicas per site, routing weights, attainment: JSON
 * text); the replica runs the dispatch loop started (named like job runs, held until stopped) and how far each is
 * metered; and the metering rows of replicas (one per replica and slot), which bills sum per service.
 */
import type { Kysely, Migration } from 'kysely';
import { idType, type Backend } from '../dialects.ts';

export function servicesMigration(backend: Backend): Migration {
  const id = idType(backend);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('services')
        .addColumn('tenant_id', id, (c) => c.notNull().references('tenants.id'))
        .addColumn('service_id', id, (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_ms', 'bigint', (c) => c.notNull())
        .addColumn('deleted_ms', 'bigint')
        .addPrimaryKeyConstraint('services_pk', ['tenant_id', 'service_id'])
        .execute();
      await db.schema
        .createTable('service_demand')
        .addColumn('tenant_id', id, (c) => c.notNull())
        .addColumn('service_id', id, (c) => c.notNull())
        .addColumn('region', id, (c) => c.notNull())
        .addColumn('slot_ms', 'bigint', (c) => c.notNull())
        .addColumn('requests_per_s', 'double precision', (c) => c.notNull())
        .addColumn('recorded_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('service_demand_pk', ['tenant_id', 'service_id', 'region', 'slot_ms'])
        .addForeignKeyConstraint('service_demand_service', ['tenant_id', 'service_id'], 'services', ['tenant_id', 'service_id'])
        .execute();
      await db.schema
        .createTable('service_placements')
        .addColumn('tenant_id', id, (c) => c.notNull())
        .addColumn('service_id', id, (c) => c.notNull())
        .addColumn('slot_ms', 'bigint', (c) => c.notNull())
        .addColumn('placement', 'text', (c) => c.notNull())
        .addColumn('planned_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('service_placements_pk', ['tenant_id', 'service_id', 'slot_ms'])
        .addForeignKeyConstraint('service_placements_service', ['tenant_id', 'service_id'], 'services', ['tenant_id', 'service_id'])
        .execute();
      await db.schema
        .createTable('service_replicas')
        .addColumn('ref', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', id, (c) => c.notNull())
        .addColumn('service_id', id, (c) => c.notNull())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('pool', 'text', (c) => c.notNull())
        .addColumn('units', 'integer', (c) => c.notNull())
        .addColumn('requested_ms', 'bigint', (c) => c.notNull())
        .addColumn('started_ms', 'bigint')
        .addColumn('stopped_ms', 'bigint')
        .addColumn('metered_to_ms', 'bigint')
        .addForeignKeyConstraint('service_replicas_service', ['tenant_id', 'service_id'], 'services', ['tenant_id', 'service_id'])
        .execute();
      await db.schema.createIndex('service_replicas_service').on('service_replicas').columns(['tenant_id', 'service_id']).execute();
      await db.schema
        .createTable('service_metering')
        .addColumn('tenant_id', id, (c) => c.notNull())
        .addColumn('service_id', id, (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('replica_ref', 'text', (c) => c.notNull())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('pool', 'text', (c) => c.notNull())
        .addColumn('start_ms', 'bigint', (c) => c.notNull())
        .addColumn('end_ms', 'bigint', (c) => c.notNull())
        .addColumn('units', 'integer', (c) => c.notNull())
        .addColumn('energy_kwh', 'double precision', (c) => c.notNull())
        .addColumn('green_kwh', 'double precision', (c) => c.notNull())
        .addColumn('cost_yuan', 'double precision', (c) => c.notNull())
        .addColumn('carbon_kg', 'double precision', (c) => c.notNull())
        .addColumn('recorded_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('service_metering_pk', ['tenant_id', 'service_id', 'key'])
        .addForeignKeyConstraint('service_metering_service', ['tenant_id', 'service_id'], 'services', ['tenant_id', 'service_id'])
        .execute();
      await db.schema.createIndex('service_metering_month').on('service_metering').columns(['start_ms', 'tenant_id']).execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      for (const table of ['service_metering', 'service_replicas', 'service_placements', 'service_demand', 'services']) await db.schema.dropTable(table).execute();
    },
  };
}
