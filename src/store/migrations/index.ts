/**
 * The store's migrations as a static list (no folder scan, so they run from any working directory and bundle),
 * applied by Kysely's Migrator when a store opens. Append new migrations; never edit an applied one.
 */
import { Migrator, type Kysely, type Migration } from 'kysely';
import type { Backend } from '../dialects.ts';
import type { Database } from '../schema.ts';
import { initialMigration } from './0001-initial.ts';
import { meteringBaselineMigration } from './0002-metering-baseline.ts';
import { probesMigration } from './0003-probes.ts';
import { jobCommandMigration } from './0004-job-command.ts';
import { jobsUpdatedMigration } from './0005-jobs-updated.ts';
import { jobUnplacedMigration } from './0006-job-unplaced.ts';
import { signalPointsMigration } from './0007-signal-points.ts';
import { deploymentMigration } from './0008-deployment.ts';
import { leasesMigration } from './0009-leases.ts';
import { sharedRuntimeMigration } from './0010-shared-runtime.ts';
import { backupMigration } from './0011-backup.ts';
import { servicesMigration } from './0012-services.ts';
import { serviceLoadMigration } from './0013-service-load.ts';
import { backupMeteringMigration } from './0014-backup-metering.ts';
import { backupLinkLoadsMigration } from './0015-backup-link-loads.ts';

function migrations(backend: Backend): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(backend),
    '0002-metering-baseline': meteringBaselineMigration(),
    '0003-probes': probesMigration(backend),
    '0004-job-command': jobCommandMigration(),
    '0005-jobs-updated': jobsUpdatedMigration(),
    '0006-job-unplaced': jobUnplacedMigration(),
    '0007-signal-points': signalPointsMigration(backend),
    '0008-deployment': deploymentMigration(backend),
    '0009-leases': leasesMigration(),
    '0010-shared-runtime': sharedRuntimeMigration(),
    '0011-backup': backupMigration(backend),
    '0012-services': servicesMigration(backend),
    '0013-service-load': serviceLoadMigration(backend),
    '0014-backup-metering': backupMeteringMigration(backend),
    '0015-backup-link-loads': backupLinkLoadsMigration(backend),
  };
}

/**
 * Applies pending migrations in name order; returns the names applied now. Throws on a failed migration (a bug).
 * `schema` (PostgreSQL) keeps the migration log in that schema: Kysely looks for its tables across all schemas
 * otherwise, and would take another schema's log for its own.
 */
export async function migrateToLatest(db: Kysely<Database>, backend: Backend, schema?: string): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations(backend) }, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Migrates up or down to the named migration. Only tests call it: they build a store as an earlier version of Kumul
 * left it (e.g. before 0008-deployment) and check that an upgrade keeps what it holds.
 */
export async function migrateTo(db: Kysely<Database>, backend: Backend, name: string, schema?: string): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations(backend) }, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error } = await migrator.migrateTo(name);
  if (error) throw error instanceof Error ? error : new Error(String(error));
}
