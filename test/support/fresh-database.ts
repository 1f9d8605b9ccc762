/**
 * A PostgreSQL database of a test file's own on the machine's cluster (KUMUL_TEST_PG), for tests that start several
 * `kumul serve` processes on one database: created empty, dropped (with its connections) at the end. PostgreSQL
 * unreachable is a failure with the command that starts it, never a skip.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TEST_PG_URL } from '../store/harness.ts';

export interface FreshDatabase {
  /** A `--db` URL of the new database. */
  url: string;
  drop(): Promise<void>;
}

export async function freshDatabase(prefix: string): Promise<FreshDatabase> {
  const admin = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
  await admin.connect().catch((error: Error) => {
    throw new Error(`PostgreSQL at ${TEST_PG_URL} is unreachable (${error.message}); start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`);
  });
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin.query(`create database ${name}`);
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
