/**
 * Opens the database a store URL names, as one Kysely instance: `sqlite:PATH` (file, WAL),
 * `sqlite::memory:`, or `postgres://…` (`postgresql://…`). Called by `openStore` only.
 * This file and the key column type of the migrations are where SQLite and PostgreSQL differ;
 * queries are the same for both.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type RawBuilder, type SqliteDialectConfig } from 'kysely';
import type { Database } from './schema.ts';

export type Backend = 'sqlite' | 'postgres';

export interface Connection {
  db: Kysely<Database>;
  backend: Backend;
  /** PostgreSQL only: Kysely's pool, for the few hot statements run as named prepared statements (jobs.ts). */
  pool?: pg.Pool;
}

export interface ConnectOptions {
  /** PostgreSQL only: the schema to work in (set as `search_path`; it must exist). Tests use one per file. */
  schema?: string;
  /**
   * PostgreSQL only: settings for every session, e.g. `{ statement_timeout: '30s' }`. The contract tests turn
   * `synchronous_commit` off (a commit then costs no disk flush; a crash of the server, not of the service, may lose the last commits).
   */
  sessionSettings?: Record<string, string>;
  /** SQLite only: how long a writer waits for another process's lock (default 5000 ms). */
  busyTimeoutMs?: number;
}

/** What a store URL names; throws on a URL that names nothing this store can open (a usage error at startup). */
export function parseStoreUrl(url: string): { backend: 'sqlite'; file: string } | { backend: 'postgres'; connectionString: string } {
  if (url.startsWith('sqlite:')) {
    let file = url.slice('sqlite:'.length);
    if (file.startsWith('//')) file = file.slice(2);
    if (file === '') throw new Error(`store URL ${url} names no file: use sqlite:./data/kumul.db or sqlite::memory:`);
    return { backend: 'sqlite', file };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { backend: 'postgres', connectionString: url };
  throw new Error(`unsupported store URL ${url}: use sqlite:PATH, sqlite::memory: or postgres://USER@HOST:PORT/DATABASE`);
}

export function connect(url: string, options: ConnectOptions = {}): Connection {
  const target = parseStoreUrl(url);
  if (target.backend === 'sqlite') return { backend: 'sqlite', db: new Kysely<Database>({ dialect: new SqliteDialect({ database: preparedOnce(openSqlite(target.file, options)) }) }) };
  const pool = openPostgresPool(target.connectionString, options);
  return { backend: 'postgres', db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), pool };
}

/** SQLite: WAL so readers never block the writer, a busy timeout for a second process, foreign keys enforced. */
function openSqlite(file: string, options: ConnectOptions): SqliteDatabase.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new SqliteDatabase(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  database.pragma('foreign_keys = ON');
  return database;
}

/**
 * The database as Kysely's SQLite driver sees it, with each distinct SQL text prepared once: the driver prepares
 * every query it runs, which cost ~8 % of a job submission's CPU. Kysely compiles queries to a few hundred texts
 * (lists of values vary the count of placeholders), so the cache is bounded and cleared when full. The store never
 * streams (`.stream()` iterates a statement, which a shared statement could not do twice at once).
 */
function preparedOnce(database: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => database.close(),
    prepare(sqlText: string) {
      let statement = statements.get(sqlText);
      if (!statement) {
        if (statements.size >= PREPARED_CACHE_SIZE) statements.clear();
        statement = database.prepare(sqlText);
        statements.set(sqlText, statement);
      }
      return statement;
    },
  };
}

const PREPARED_CACHE_SIZE = 1000;

/**
 * PostgreSQL: bigint (instants, counts) and numeric (sums of bigints) arrive as JS numbers, as SQLite gives them;
 * instants in ms stay far below 2^53. An idle client's error is dropped: the next query reports it.
 */
function openPostgresPool(connectionString: string, options: ConnectOptions): pg.Pool {
  const settings: Record<string, string> = { ...options.sessionSettings, ...(options.schema !== undefined ? { search_path: options.schema } : {}) };
  for (const [name, value] of Object.entries(settings)) {
    if (!/^[a-z_][a-z0-9_.]{0,62}$/.test(name) || !/^[A-Za-z0-9_.:-]{1,63}$/.test(value)) throw new Error(`bad PostgreSQL setting ${name}=${value}`);
  }
  const numeric = new Set<number>([pg.types.builtins.INT8, pg.types.builtins.NUMERIC]);
  const pool = new pg.Pool({
    connectionString,
    options: Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`).join(' ') || undefined,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        numeric.has(oid) ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // A connection the server ends (a restart, an administrator) emits 'error' on its client: for an idle client on the
  // pool, for one a transaction holds between two queries on the client itself, where no listener would crash the
  // process. The work using it fails on its own (the API answers 503, the loop retries), so both are only noted here.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * The column type of ids (tenant, job, key, executor ref): compared bytewise on both databases, so that
 * ordering and pagination agree (PostgreSQL's default collation may follow a locale; SQLite's is BINARY).
 */
export function idType(backend: Backend): RawBuilder<unknown> {
  return backend === 'postgres' ? sql`text collate "C"` : sql`text`;
}

/** Error codes of a store that cannot be reached: sockets, and PostgreSQL's connection and shutdown classes (08, 57P0x). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

/**
 * Whether an error thrown by the store means the database cannot be reached now (stopped, restarting, network down),
 * not a bug: the API answers 503 and the dispatch loop tries again at its next tick. Called by the API's error mapping.
 */
export function isStoreUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: string }).code;
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return true;
  // node-postgres: a connection that dies mid-query, or a pool that cannot get one in time.
  return /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/.test(error.message) || (error instanceof AggregateError && error.errors.some(isStoreUnreachable));
}
