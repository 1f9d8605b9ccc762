/**
 * Backups run by `kumul serve --backup-endpoints` end to end: the real command as a child process on SQLite, real
 * rclone, one local-directory remote per site in a temporary rclone config. A tenant defines a policy and a dataset
 * through the API (bad input names the field); the loop copies the dataset to its replica, with the --bwlimit of its
 * planned share (small here, so the copy is still running when kumul serve is SIGKILLed); the restarted service
 * resumes the copy and ends with a verified replica; a byte flipped in the replica is found by the next verification
 * and repaired; the link beijing–hami taken down, the next copy goes through zhengzhou. Bytes moved per hop are in
 * the store, the replica's age against the RPO in GET /v1/backup/datasets/{id}.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/kysely-store.ts';
import { exited, sleep, startServe, type ServeProcess } from '../support/serve-process.ts';

const SITES = ['hami', 'qingyang', 'zhengzhou', 'urumqi', 'beijing', 'chongqing'];
const FILES = 40;
const FILE_BYTES = 256 * 1024;

let root: string;
let db: string;
let serve: ServeProcess | null = null;
let operatorKey = '';
let tenantKey = '';

function args(): string[] {
  // ×600: an hourly slot lasts 6 s; a 4 h RPO copies every 2 slots (12 s); replicas are verified every simulated half hour (3 s).
  return ['--db', `sqlite:${db}`, '--no-demo', '--time-scale', '600', '--start', '2026-06-01T00:00Z', '--tick-ms', '200', '--replan-minutes', '15', '--backup-endpoints', join(root, 'endpoints.json'), '--backup-verify-minutes', '30'];
}

async function call(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${serve!.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; serve stderr: ${serve?.stderr().slice(-3000)}`);
    await sleep(150);
  }
}

function writeFiles(dir: string, count: number, bytes: number, salt: number, first = 0): void {
  mkdirSync(dir, { recursive: true });
  for (let i = first; i < first + count; i++) {
    const buf = Buffer.alloc(bytes);
    for (let k = 0; k < bytes; k += 4) buf.writeUInt32LE(((i + 1) * 2654435761 + k * 97 + salt) >>> 0, k);
    writeFileSync(join(dir, `part-${String(i).padStart(4, '0')}.bin`), buf);
  }
}

const live = () => join(root, 'beijing', 'city', 'records');
const replica = () => join(root, 'hami', 'replicas', 'city', 'records', 'current');

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kumul-serve-backup-'));
  db = join(root, 'kumul.db');
  writeFileSync(join(root, 'rclone.conf'), SITES.map((s) => `[${s}-store]\ntype = local\n`).join('\n'));
  for (const s of SITES) mkdirSync(join(root, s), { recursive: true });
  const endpoints = { version: 1, rcloneConfig: 'rclone.conf', sites: Object.fromEntries(SITES.map((s) => [s, { remote: `${s}-store`, path: join(root, s) }])) };
  writeFileSync(join(root, 'endpoints.json'), JSON.stringify(endpoints));
  writeFiles(live(), FILES, FILE_BYTES, 7);
  serve = await startServe(args());
  operatorKey = serve.operatorKey!;
  const created = await call(operatorKey, 'POST', '/v1/tenants', { id: 'city', name: 'City of Beijing' });
  tenantKey = created.json.apiKey;
}, 60_000);

afterAll(async () => {
  if (serve) {
    serve.child.kill('SIGTERM');
    await exited(serve.child);
  }
  rmSync(root, { recursive: true, force: true });
});

describe('kumul serve runs backups with rclone', () => {
  it('refuses bad policies and datasets naming the field, storing nothing', async () => {
    const bad: [string, unknown, string, RegExp][] = [
      ['/v1/backup/policies', { id: 'p', targets: ['hami'], replicas: 1, rpoHours: 1, retainVersions: 2 }, 'rpoHours', /under two slots of 60 min/],
      ['/v1/backup/policies', { id: 'p', targets: ['xian'], replicas: 1, rpoHours: 4, retainVersions: 2 }, 'targets[0]', /unknown site 'xian'/],
      ['/v1/backup/policies', { id: 'p', targets: ['hami'], replicas: 2, rpoHours: 4, retainVersions: 2 }, 'replicas', /2 replicas need at least as many targets; 1 given/],
      ['/v1/backup/policies', { id: 'p', targets: ['hami'], replicas: 1, rpoHours: 4 }, 'retainVersions', /required/],
      ['/v1/backup/datasets', { id: 'd', origin: 'xian', sizeGB: 1, dailyChangeGB: 0, policy: 'none', prefix: 'x' }, 'origin', /unknown site 'xian'/],
      ['/v1/backup/datasets', { id: 'd', origin: 'beijing', sizeGB: 1, dailyChangeGB: 0, policy: 'none', prefix: 'x' }, 'policy', /unknown policy 'none'/],
      ['/v1/backup/datasets', { id: 'd', origin: 'beijing', sizeGB: -1, dailyChangeGB: 0, policy: 'none', prefix: 'x' }, 'sizeGB', /≥ 0|non-negative|must be/],
      ['/v1/backup/datasets', { id: 'd', origin: 'beijing', sizeGB: 1, policy: 'none', prefix: 'x' }, 'dailyChangeGB', /exactly one of dailyChangeGB and changeSeries/],
      ['/v1/backup/datasets', { id: 'd', tenant: 'city', origin: 'beijing', sizeGB: 1, dailyChangeGB: 0, policy: 'none', prefix: 'x' }, 'tenant', /unknown field/],
    ];
    for (const [path, body, field, message] of bad) {
      const res = await call(tenantKey, 'POST', path, body);
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      const hit = res.json.error.fields.find((f: { field: string }) => f.field === field);
      expect(hit, `${path} ${JSON.stringify(body)}: ${JSON.stringify(res.json.error.fields)}`).toBeDefined();
      expect(hit.message).toMatch(message);
    }
    expect((await call(tenantKey, 'GET', '/v1/backup/policies')).json.policies).toEqual([]);
    expect((await call(tenantKey, 'GET', '/v1/backup/datasets')).json.datasets).toEqual([]);
  });

  it('refuses to start on an endpoints file naming a site the network does not have, naming the field', async () => {
    const bad = join(root, 'bad-endpoints.json');
    writeFileSync(bad, JSON.stringify({ version: 1, rcloneConfig: 'rclone.conf', sites: { xian: { remote: 'hami-store', path: join(root, 'hami') } } }));
    await expect(startServe(['--db', `sqlite:${join(root, 'other.db')}`, '--no-demo', '--backup-endpoints', bad])).rejects.toThrow(/bad-endpoints\.json: sites\.xian: unknown site 'xian'; sites are hami, /);
    writeFileSync(bad, JSON.stringify({ version: 1, rcloneConfig: 'rclone.conf', sites: { hami: { remote: 'bad:remote', path: '/' } } }));
    await expect(startServe(['--db', `sqlite:${join(root, 'other.db')}`, '--no-demo', '--backup-endpoints', bad])).rejects.toThrow(/sites\.hami\.remote: must be an rclone remote name/);
  }, 60_000);

  it('copies, survives a SIGKILL of kumul serve mid-copy, resumes and ends with a verified replica', async () => {
    const policy = await call(tenantKey, 'POST', '/v1/backup/policies', { id: 'four-hourly', targets: ['hami'], replicas: 1, rpoHours: 4, retainVersions: 2 });
    expect(policy.status, JSON.stringify(policy.json)).toBe(201);
    // 10 MB declared as 0.01 GB: its seed planned in one slot is 0.01 GB an hour, 1.7 MB/s at ×600: about 6 s of copying.
    const dataset = await call(tenantKey, 'POST', '/v1/backup/datasets', { id: 'records', origin: 'beijing', sizeGB: 0.01, dailyChangeGB: 0.24, policy: 'four-hourly', prefix: 'city/records' });
    expect(dataset.status, JSON.stringify(dataset.json)).toBe(201);
    expect((await call(operatorKey, 'GET', '/v1/backup/datasets')).json.datasets.map((d: { tenant: string; id: string }) => `${d.tenant}/${d.id}`)).toEqual(['city/records']);

    const copying = await until('a copy under way', async () => {
      const view = (await call(tenantKey, 'GET', '/v1/backup/datasets/records')).json;
      const running = view.loop?.copying.find((c: { bytes: number; kind: string }) => c.kind === 'copy' && c.bytes > 0);
      return running && running.bytes < FILES * FILE_BYTES ? running : null;
    });
    expect(copying.route).toEqual(['beijing', 'hami']);
    serve!.child.kill('SIGKILL');
    await exited(serve!.child);
    const partial = readdirSync(replica()).length;
    // rclone died with kumul serve (no copy goes on alone): the replica stays as it was.
    await sleep(1500);
    expect(readdirSync(replica()).length).toBe(partial);
    expect(partial).toBeLessThan(FILES);
    const store = await openStore(`sqlite:${db}`);
    try {
      expect(await store.replicas()).toEqual([]);
      const killed = await store.backupTransfers({ datasetId: 'records' });
      expect(killed.length).toBe(1);
      expect(killed[0].bytes).toBeGreaterThan(0);
    } finally {
      await store.close();
    }

    serve = await startServe(args());
    const verified = await until('a verified replica', async () => {
      const view = (await call(tenantKey, 'GET', '/v1/backup/datasets/records')).json;
      return view.replicas?.find((r: { site: string; versionAt: string | null }) => r.site === 'hami' && r.versionAt !== null);
    });
    expect(verified).toMatchObject({ site: 'hami', rpoHours: 4, files: FILES, bytes: FILES * FILE_BYTES });
    expect(verified.ageHours).toBeLessThan(4);
    for (const name of readdirSync(live())) expect(readFileSync(join(replica(), name)).equals(readFileSync(join(live(), name))), name).toBe(true);
    const after = await openStore(`sqlite:${db}`);
    try {
      const transfers = await after.backupTransfers({ datasetId: 'records' });
      // The resumed copy moved only what the killed one had not finished.
      expect(transfers.length).toBeGreaterThanOrEqual(2);
      expect(transfers[1].bytes).toBeLessThan(FILES * FILE_BYTES);
      expect(transfers[0].bytes + transfers[1].bytes).toBeGreaterThanOrEqual(FILES * FILE_BYTES);
      // Each hop's bytes carry their network energy: beijing–hami's 0.005 kWh per GB (hami scenario).
      for (const t of transfers) expect(t.energyKWh).toBeCloseTo((t.bytes / 1e9) * 0.005, 12);
      for (const t of transfers) expect(t.carbonKg).toBeGreaterThan(0);
    } finally {
      await after.close();
    }
    // The tenant's bill and /metrics show the network energy and carbon of the copies.
    const bill = (await call(tenantKey, 'GET', '/v1/tenants/city/bill?month=2026-06')).json;
    expect(bill.backup.networkEnergyKWh).toBeGreaterThan(0);
    expect(bill.backup.networkCarbonKg).toBeGreaterThan(0);
    const metrics = await (await fetch(`${serve!.url}/metrics`)).text();
    expect(metrics).toMatch(/kumul_backup_network_energy_kwh_total\{from="beijing",to="hami"\} [0-9.e-]+/);
    expect(metrics).toMatch(/kumul_backup_network_carbon_kg_total\{from="beijing",to="hami"\} [0-9.e-]+/);
  }, 120_000);

  it('detects a byte flipped in the replica at the next verification and repairs it', async () => {
    // Between copies: a copy already under way would overwrite the damaged file before any verification saw it.
    await until('no copy under way', async () => (await call(tenantKey, 'GET', '/v1/backup/datasets/records')).json.loop?.copying.length === 0);
    const file = join(replica(), 'part-0005.bin');
    const original = readFileSync(file);
    const bad = Buffer.from(original);
    bad[4096] ^= 0xff;
    writeFileSync(file, bad);
    // The file is back as soon as rclone has copied it; the log line follows once the repair is verified.
    const said = /verification found 1 damaged file\(s\): part-0005\.bin \(differ\); (repaired|the copy repairs them) from the live data/;
    await until('the repair', async () => existsSync(file) && readFileSync(file).equals(original) && said.test(serve!.stderr()));
    // The damaged file was kept as a version, not lost.
    const versions = join(root, 'hami', 'replicas', 'city', 'records', 'versions');
    expect(readdirSync(versions).some((tag) => existsSync(join(versions, tag, 'part-0005.bin')))).toBe(true);
  }, 60_000);

  it('re-routes copies through another site within one cycle when a link goes down', async () => {
    const down = await call(operatorKey, 'DELETE', '/v1/links/beijing/hami');
    expect(down.status, JSON.stringify(down.json)).toBe(200);
    // The next cycle (the network changed) plans the next copy over beijing → zhengzhou → hami.
    const store = await openStore(`sqlite:${db}`);
    try {
      const sinceMs = (await store.serviceInstant())!;
      writeFiles(live(), 4, FILE_BYTES, 11, FILES); // new data to move
      const relayed = await until('a copy through zhengzhou', async () => {
        const rows = (await store.backupTransfers({ datasetId: 'records' })).filter((t) => t.startMs > sinceMs);
        return rows.some((t) => t.from === 'zhengzhou' && t.to === 'hami' && t.bytes > 0) ? rows : null;
      });
      expect(relayed.filter((t) => t.from === 'beijing' && t.to === 'hami')).toEqual([]);
      expect(relayed.some((t) => t.from === 'beijing' && t.to === 'zhengzhou' && t.bytes >= 4 * FILE_BYTES)).toBe(true);
      // The relay leg moved the new files the replica lacked, not the whole dataset.
      expect(relayed.filter((t) => t.from === 'beijing' && t.to === 'zhengzhou').every((t) => t.bytes < FILES * FILE_BYTES)).toBe(true);
      await until('the new files verified at hami', async () => {
        const view = (await call(tenantKey, 'GET', '/v1/backup/datasets/records')).json;
        return view.replicas.find((r: { site: string; files: number }) => r.site === 'hami' && r.files === FILES + 4);
      });
      // The relay's temporary copy is removed once the replica is verified.
      expect(existsSync(join(root, 'zhengzhou', 'relay', 'city', 'records'))).toBe(false);
    } finally {
      await store.close();
    }
  }, 90_000);
});
