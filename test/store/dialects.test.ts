/**
 * Store URLs and the SQLite connection settings the embedded default relies on (WAL, busy timeout, foreign keys),
 * and migrations that run from any working directory.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, parseStoreUrl } from '../../src/store/dialects.ts';
import { openStore } from '../../src/store/kysely-store.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kumul-dialect-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('parseStoreUrl', () => {
  it('reads SQLite paths, memory and PostgreSQL URLs', () => {
    expect(parseStoreUrl('sqlite:./data/kumul.db')).toEqual({ backend: 'sqlite', file: './data/kumul.db' });
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ backend: 'sqlite', file: ':memory:' });
    expect(parseStoreUrl('sqlite:///var/lib/kumul.db')).toEqual({ backend: 'sqlite', file: '/var/lib/kumul.db' });
    expect(parseStoreUrl('postgres://u@h:5432/d')).toEqual({ backend: 'postgres', connectionString: 'postgres://u@h:5432/d' });
    expect(parseStoreUrl('postgresql://u@h/d')).toEqual({ backend: 'postgres', connectionString: 'postgresql://u@h/d' });
  });

  it('names what it accepts when it cannot read a URL', () => {
    expect(() => parseStoreUrl('mysql://x')).toThrow(/unsupported store URL mysql:\/\/x: use sqlite:PATH, sqlite::memory: or postgres:/);
    expect(() => parseStoreUrl('sqlite:')).toThrow(/names no file/);
  });

  it('refuses PostgreSQL settings that could smuggle options', () => {
    expect(() => connect('postgres://u@h/d', { schema: 'x; drop' })).toThrow(/bad PostgreSQL setting search_path/);
    expect(() => connect('postgres://u@h/d', { sessionSettings: { statement_timeout: '1s -c x=y' } })).toThrow(/bad PostgreSQL setting/);
  });
});

describe('SQLite', () => {
  it('opens a file in WAL mode with a busy timeout and foreign keys on, creating its folder', async () => {
    const file = join(tempDir(), 'nested', 'data', 'kumul.db');
    const { db } = connect(`sqlite:${file}`, { busyTimeoutMs: 1234 });
    try {
      const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(db)).rows[0] as object)[0];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('busy_timeout')).toBe(1234);
      expect(await pragma('foreign_keys')).toBe(1);
      expect(existsSync(file)).toBe(true);
    } finally {
      await db.destroy();
    }
  });

  it('enforces foreign keys: the database itself rejects an event of an unknown job', async () => {
    const file = join(tempDir(), 'fk.db');
    await (await openStore(`sqlite:${file}`)).close();
    const { db } = connect(`sqlite:${file}`);
    try {
      await expect(
        sql`insert into job_events (tenant_id, job_id, version, at_ms, name, from_status, to_status, detail) values ('t', 'j', 1, 0, 'submit', null, 'submitted', '{}')`.execute(db),
      ).rejects.toThrow(/FOREIGN KEY/);
    } finally {
      await db.destroy();
    }
  });

  it('migrates from any working directory (the migrations are a static list) and in memory', async () => {
    const dir = tempDir();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const store = await openStore('sqlite:./data/kumul.db');
      expect(await store.listTenants()).toEqual([]);
      await store.close();
      expect(existsSync(join(dir, 'data', 'kumul.db'))).toBe(true);
    } finally {
      process.chdir(cwd);
    }
    const memory = await openStore('sqlite::memory:');
    expect(await memory.currentScenario()).toBeNull();
    expect(await memory.migrate()).toEqual([]);
    await memory.close();
  });
});
