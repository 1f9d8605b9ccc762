/**
 * The first schema: tenants, API keys, jobs with their lifecycle columns, job events, metering, scenario versions.
 * Instants are bigint ms, JSON is text, ids are bytewise-ordered text (dialects.ts `idType`).
 */
import type { Kysely, Migration } from 'kysely';
import { idType, type Backend } from '../dialects.ts';

export function initialMigration(backend: Backend): Migration {
  const id = idType(backend);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('tenants')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('quotas', 'text', (c) => c.notNull())
        .addColumn('created_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_ms', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('tenant_id', id, (c) => c.notNull().references('tenants.id'))
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('created_ms', 'bigint', (c) => c.notNull())
        .addColumn('revoked_ms', 'bigint')
        .execute();
      await db.schema.createIndex('api_keys_tenant').on('api_keys').columns(['tenant_id', 'id']).execute();

      await db.schema
        .createTable('jobs')
        .addColumn('tenant_id', id, (c) => c.notNull().references('tenants.id'))
        .addColumn('job_id', id, (c) => c.notNull())
        .addColumn('class', 'text', (c) => c.notNull())
        .addColumn('pool_class', 'text', (c) => c.notNull())
        .addColumn('units', 'integer', (c) => c.notNull())
        .addColumn('duration_s', 'double precision', (c) => c.notNull())
        .addColumn('release_ms', 'bigint', (c) => c.notNull())
        .addColumn('deadline_ms', 'bigint', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('input_gb', 'double precision', (c) => c.notNull())
        .addColumn('interruptible', 'integer', (c) => c.notNull())
        .addColumn('allowed_sites', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('plan', 'text')
        .addColumn('executor_ref', id, (c) => c.unique())
        .addColumn('submitted_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('jobs_pk', ['tenant_id', 'job_id'])
        .execute();
      await db.schema.createIndex('jobs_order').on('jobs').columns(['submitted_ms', 'tenant_id', 'job_id']).execute();
      await db.schema.createIndex('jobs_tenant_order').on('jobs').columns(['tenant_id', 'submitted_ms', 'job_id']).execute();
      await db.schema.createIndex('jobs_status').on('jobs').columns(['status', 'submitted_ms']).execute();

      await db.schema
        .createTable('job_events')
        .addColumn('tenant_id', id, (c) => c.notNull())
        .addColumn('job_id', id, (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('at_ms', 'bigint', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('from_status', 'text')
        .addColumn('to_status', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('job_events_pk', ['tenant_id', 'job_id', 'version'])
        .addForeignKeyConstraint('job_events_job', ['tenant_id', 'job_id'], 'jobs', ['tenant_id', 'job_id'])
        .execute();

      await db.schema
        .createTable('metering')
        .addColumn('tenant_id', id, (c) => c.notNull())
        .addColumn('job_id', id, (c) => c.notNull())
        .addColumn('key', id, (c) => c.notNull())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('pool', 'text', (c) => c.notNull())
        .addColumn('start_ms', 'bigint', (c) => c.notNull())
        .addColumn('end_ms', 'bigint', (c) => c.notNull())
        .addColumn('units', 'integer', (c) => c.notNull())
        .addColumn('energy_kwh', 'double precision', (c) => c.notNull())
        .addColumn('green_kwh', 'double precision', (c) => c.notNull())
        .addColumn('cost_yuan', 'double precision', (c) => c.notNull())
        .addColumn('carbon_kg', 'double precision', (c) => c.notNull())
        .addColumn('pflop_h_fp64', 'double precision', (c) => c.notNull())
        .addColumn('pflop_h_fp32', 'double precision', (c) => c.notNull())
        .addColumn('pflop_h_bf16', 'double precision', (c) => c.notNull())
        .addColumn('recorded_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('metering_pk', ['tenant_id', 'job_id', 'key'])
        .addForeignKeyConstraint('metering_job', ['tenant_id', 'job_id'], 'jobs', ['tenant_id', 'job_id'])
        .execute();
      await db.schema.createIndex('metering_month').on('metering').columns(['start_ms', 'tenant_id']).execute();

      await db.schema
        .createTable('scenarios')
        .addColumn('version', 'integer', (c) => c.primaryKey())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('created_ms', 'bigint', (c) => c.notNull())
        .execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      for (const table of ['scenarios', 'metering', 'job_events', 'jobs', 'api_keys', 'tenants']) await db.schema.dropTable(table).execute();
    },
  };
}
