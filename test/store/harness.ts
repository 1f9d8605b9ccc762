/**
 * The backends the store contract runs on, and an empty database for every test: a new temporary SQLite file, or
 * on PostgreSQL one schema `kumul_test_<random>` per test file in the database `KUMUL_TEST_PG` names (scripts/test.sh
 * exports it; default postgres://postgres@127.0.0.1:5432/test), emptied between tests and dropped at the end.
 * Only the schema the file created is touched.
 * PostgreSQL unreachable is a failure with the command that starts it, never a skip.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { openStore, type StoreOptions } from '../../src/store/kysely-store.ts';
import type { Backend } from '../../src/store/dialects.ts';
import type { Store } from '../../src/store/port.ts';

export const BACKENDS: readonly Backend[] = ['sqlite', 'postgres'];
export const TEST_PG_URL = process.env.KUMUL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** What a contract section gets: this test's store, a second instance on the same database, the raw tables. */
export interface Harness {
  readonly backend: Backend;
  readonly store: Store;
  /** Another store on this test's database, as a second service instance (or a restart) would open it. */
  reopen(options?: StoreOptions): Promise<Store>;
  /** Every row of a table as the database holds it, bypassing the port. */
  raw(table: string): Promise<Record<string, unknown>[]>;
}

interface TestDatabase {
  url: string;
  options: StoreOptions;
  raw(table: string): Promise<Record<string, unknown>[]>;
  /** Empties it for the next test. */
  clear(): Promise<void>;
  drop(): Promise<void>;
}

/** A temporary SQLite file; a new one for every test (cheaper than emptying one). */
function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'kumul-store-'));
  const file = join(dir, 'kumul.db');
  return {
    url: `sqlite:${file}`,
    options: {},
    async raw(table) {
      const db = new SqliteDatabase(file, { readonly: true });
      try {
        return db.prepare(`select * from "${table}"`).all() as Record<string, unknown>[];
      } finally {
        db.close();
      }
    },
    async clear() {
      rmSync(dir, { recursive: true, force: true });
    },
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The store's tables in an order that deletes rows before the rows they reference. */
const TABLES_CHILDREN_FIRST = ['backup_storage', 'backup_transfers', 'backup_replicas', 'backup_datasets', 'backup_policies', 'service_bursts', 'service_load', 'service_metering', 'service_replicas', 'service_placements', 'service_demand', 'services', 'deployments', 'simulated_runs', 'service_state', 'leases', 'signal_points', 'probes', 'metering', 'job_events', 'jobs', 'api_keys', 'tenants', 'scenarios'];

/**
 * A PostgreSQL schema for the file's tests: created and migrated once, emptied after each test (the migration
 * log kept), dropped at the end.
 */
async function postgresDatabase(admin: pg.Client): Promise<TestDatabase> {
  const schema = `kumul_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`create schema ${schema}`);
  return {
    url: TEST_PG_URL,
    options: { schema, sessionSettings: { synchronous_commit: 'off' } },
    async raw(table) {
      return (await admin.query(`select * from ${schema}."${table}"`)).rows;
    },
    async clear() {
      // DELETE, children first: TRUNCATE costs ~30 ms a table here, DELETE of a few rows ~1 ms.
      await admin.query(TABLES_CHILDREN_FIRST.map((table) => `delete from ${schema}."${table}";`).join('\n'));
    },
    async drop() {
      await admin.query(`drop schema ${schema} cascade`);
    },
  };
}

async function connectAdmin(): Promise<pg.Client> {
  const admin = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL at ${TEST_PG_URL} is unreachable (${(error as Error).message}); the store contract needs it. ` +
        `Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start (npm test does).`,
    );
  }
  return admin;
}

/** Registers the hooks that give each test of the enclosing `describe` an empty, migrated database on `backend`. */
export function useBackend(backend: Backend): Harness {
  let admin: pg.Client | null = null;
  let database: TestDatabase | null = null;
  let store: Store | null = null;
  const opened: Store[] = [];

  /** On PostgreSQL one store serves every test (opening one costs ~90 ms here); on SQLite each test opens its file. */
  let shared: Store | null = null;
  /** Why PostgreSQL could not be set up; every test then fails with it (a failed beforeAll would only skip them). */
  let setupError: Error | null = null;

  beforeAll(async () => {
    if (backend !== 'postgres') return;
    try {
      admin = await connectAdmin();
      database = await postgresDatabase(admin);
      shared = await openStore(database.url, database.options);
    } catch (error) {
      setupError = error as Error;
    }
  });
  afterAll(async () => {
    await shared?.close();
    if (backend === 'postgres') await database?.drop();
    await admin?.end();
  });
  beforeEach(async () => {
    if (setupError) throw setupError;
    if (backend === 'sqlite') {
      database = sqliteDatabase();
      store = await openStore(database.url, database.options);
      opened.push(store);
    } else {
      store = shared;
    }
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    await database?.clear();
    store = null;
  });

  return {
    backend,
    get store() {
      if (!store) throw new Error('the store exists only inside a test');
      return store;
    },
    async reopen(options = {}) {
      const other = await openStore(database!.url, { ...database!.options, ...options });
      opened.push(other);
      return other;
    },
    raw: (table) => database!.raw(table),
  };
}
