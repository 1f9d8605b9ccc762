/**
 * `openStore`: the store port on SQLite or PostgreSQL through one Kysely code path. `kumul serve` calls it once
 * at startup with its `--db` URL (`sqlite:./data/kumul.db` by default); it migrates the database to the latest
 * schema before returning, so several instances may start at once (the Migrator takes a lock).
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { connect, type ConnectOptions } from './dialects.ts';
import { deploymentMethods } from './deployment.ts';
import { jobMethods } from './jobs.ts';
import { meteringMethods } from './metering.ts';
import { migrateToLatest } from './migrations/index.ts';
import type { Store } from './port.ts';
import { probeMethods } from './probes.ts';
import { scenarioMethods } from './scenarios.ts';
import { signalMethods } from './signal-points.ts';
import { tenantMethods, type RandomBytes } from './tenants.ts';
import { transitionMethods } from './transitions.ts';
import { checkFence, leaseMethods } from './leases.ts';
import { runtimeStateMethods } from './runtime-state.ts';
import { serviceMethods } from './services.ts';
import { backupMethods } from './backups.ts';
import type { Db } from './support.ts';

/** The embedded default: one SQLite file under ./data/ (relative to the service's working directory). */
export const DEFAULT_STORE_URL = 'sqlite:./data/kumul.db';

export interface StoreOptions extends ConnectOptions {
  /** Source of API key secrets and deployment ids; node:crypto's by default (tests may pass a seeded one). */
  randomBytes?: RandomBytes;
}

export async function openStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const { db, backend, pool } = connect(url, options);
  const randomBytes = options.randomBytes ?? cryptoRandomBytes;
  try {
    await migrateToLatest(db, backend, options.schema);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const store: Store = {
    backend,
    migrate: () => migrateToLatest(db, backend, options.schema),
    close: () => db.destroy(),
    ...tenantMethods(db, randomBytes),
    ...jobMethods(db, pool),
    ...transitionMethods(db),
    ...meteringMethods(db),
    ...scenarioMethods(db),
    ...probeMethods(db),
    ...signalMethods(db),
    ...deploymentMethods(db, randomBytes),
    ...leaseMethods(db),
    ...runtimeStateMethods(db),
    ...serviceMethods(db),
    ...backupMethods(db),
    // The dispatch loop's writes (transitions, metering, services, backup replicas and transfers) check the lease first; the rest is this store's.
    fenced: (fence) => {
      const guard = (trx: Db) => checkFence(trx, backend, fence);
      return { ...store, ...transitionMethods(db, guard), ...meteringMethods(db, guard), ...serviceMethods(db, guard), ...backupMethods(db, guard) };
    },
  };
  return store;
}
