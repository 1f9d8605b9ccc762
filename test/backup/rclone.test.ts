/**
 * The rclone executor (src/backup/rclone.ts) end to end with the real rclone binary and sites as local remotes:
 * a copy along a relayed route, verified; a relayed copy of a replica already made moving only the change on each hop; rclone SIGKILLed mid-copy, resumed and verified; a replica corrupted on
 * purpose, detected by the next verification and repaired; retention of versions; progress from rclone's stats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackupExecutor, bandwidthBytesPerS, type CopyProgress } from '../../src/backup/rclone.ts';
import { loadEndpoints } from '../../src/backup/load.ts';

let root: string;
let executor: BackupExecutor;
const sites = ['beijing', 'zhengzhou', 'hami'];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kumul-rclone-'));
  // One local remote per site, each in its own directory, as an operator's rclone config would define them.
  writeFileSync(join(root, 'rclone.conf'), sites.map((s) => `[${s}-store]\ntype = local\n`).join('\n'));
  for (const s of sites) mkdirSync(join(root, s), { recursive: true });
  const endpoints = { version: 1, rcloneConfig: 'rclone.conf', sites: Object.fromEntries(sites.map((s) => [s, { remote: `${s}-store`, path: join(root, s) }])) };
  writeFileSync(join(root, 'endpoints.json'), JSON.stringify(endpoints));
  executor = new BackupExecutor(loadEndpoints(join(root, 'endpoints.json'), sites));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeFiles(dir: string, count: number, bytes: number, salt: number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const buf = Buffer.alloc(bytes);
    for (let k = 0; k < bytes; k += 4) buf.writeUInt32LE(((i + 1) * 2654435761 + k * 97 + salt) >>> 0, k);
    writeFileSync(join(dir, `part-${String(i).padStart(4, '0')}.bin`), buf);
  }
}

describe('rclone executor', () => {
  it('copies along a relayed route, verifies the replica, and removes the relay copy', async () => {
    writeFiles(join(root, 'beijing', 'health'), 20, 64 * 1024, 1);
    const progress: CopyProgress[] = [];
    const result = await executor.replicate({ tenant: 'bj-health', dataset: 'records', prefix: 'health', route: ['beijing', 'zhengzhou', 'hami'], versionTag: '2026-06-01T00-00Z', retainVersions: 2, onProgress: (_h, p) => progress.push(p) });
    expect(result.ok).toBe(true);
    expect(result.copies).toHaveLength(2);
    expect(result.check).toMatchObject({ ok: true, matching: 20, differences: [] });
    expect(readdirSync(join(root, 'hami', 'replicas', 'bj-health', 'records', 'current'))).toHaveLength(20);
    expect(existsSync(join(root, 'zhengzhou', 'relay', 'bj-health', 'records'))).toBe(false);
    // Progress is rclone's own count of bytes, ending at the dataset's size.
    expect(progress.at(-1)).toMatchObject({ bytes: 20 * 64 * 1024, totalBytes: 20 * 64 * 1024 });
  });

  it('a relayed copy of a replica already made moves only the change over each hop, not the dataset', async () => {
    const live = join(root, 'beijing', 'orders');
    writeFiles(live, 20, 64 * 1024, 5);
    const replicate = (versionTag: string, onProgress?: (hop: number, p: CopyProgress) => void) =>
      executor.replicate({ tenant: 'bj-trade', dataset: 'orders', prefix: 'orders', route: ['beijing', 'zhengzhou', 'hami'], versionTag, retainVersions: 2, ...(onProgress ? { onProgress } : {}) });
    expect((await replicate('2026-06-01T00-00Z')).ok).toBe(true);
    // Since that copy: one file changed, one added, one deleted at the origin.
    writeFileSync(join(live, 'part-0003.bin'), Buffer.alloc(64 * 1024, 7));
    writeFileSync(join(live, 'part-0100.bin'), Buffer.alloc(64 * 1024, 9));
    rmSync(join(live, 'part-0005.bin'));
    const last = new Map<number, CopyProgress>();
    const result = await replicate('2026-06-02T00-00Z', (h, p) => last.set(h, p));
    expect(result.ok).toBe(true);
    expect(result.check).toMatchObject({ ok: true, matching: 20, differences: [] });
    expect(result.copies).toHaveLength(2);
    // Each hop copied the two files the replica lacked (128 KB), not the twenty of the 1.25 MB dataset. The last hop's
    // stats also count the replaced file moved into the version directory (a move on the replica's own storage).
    expect(last.get(1)).toMatchObject({ bytes: 2 * 64 * 1024, totalBytes: 2 * 64 * 1024, transfers: 2 });
    expect(last.get(2)).toMatchObject({ transfers: 2 });
    expect(last.get(2)!.bytes).toBeLessThanOrEqual(3 * 64 * 1024);
    // The replaced and the deleted file are kept as the version; the relay copy is gone.
    const kept = join(root, 'hami', 'replicas', 'bj-trade', 'orders');
    expect(readdirSync(join(kept, 'versions', '2026-06-02T00-00Z')).sort()).toEqual(['part-0003.bin', 'part-0005.bin']);
    expect(readdirSync(join(kept, 'current'))).not.toContain('part-0005.bin');
    expect(existsSync(join(root, 'zhengzhou', 'relay', 'bj-trade', 'orders'))).toBe(false);
  });

  it('resumes a copy whose rclone was SIGKILLed and ends with a verified replica', async () => {
    writeFiles(join(root, 'beijing', 'video'), 40, 256 * 1024, 2);
    const from = executor.livePath('beijing', 'video');
    const to = executor.replicaPath('hami', 'city', 'video');
    // 10 MB at 1 MB/s: still running when killed after rclone reports some bytes moved.
    let killedAt = 0;
    const running = executor.rclone.start({ from, to, mode: 'sync', bwlimitBytesPerS: 1024 * 1024 });
    const moved = new Promise<void>((resolve) => {
      running.child.stderr!.on('data', (chunk: Buffer) => {
        const m = /"bytes":(\d+)/.exec(chunk.toString());
        if (m && Number(m[1]) > 0 && killedAt === 0) {
          killedAt = Number(m[1]);
          resolve();
        }
      });
    });
    await moved;
    running.child.kill('SIGKILL');
    const killed = await running.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.ok).toBe(false);
    const partial = readdirSync(join(root, 'hami', 'replicas', 'city', 'video', 'current')).length;
    expect(partial).toBeLessThan(40);
    const before = await executor.verify('beijing', 'hami', 'city', 'video', 'video');
    expect(before.ok).toBe(false);
    // Resume: the same replicate again; files already complete match their hashes and are skipped.
    const resumed = await executor.replicate({ tenant: 'city', dataset: 'video', prefix: 'video', route: ['beijing', 'hami'], versionTag: '2026-06-01T01-00Z', retainVersions: 2 });
    expect(resumed.ok).toBe(true);
    expect(resumed.check).toMatchObject({ ok: true, matching: 40 });
    expect(resumed.copies[0].progress!.bytes).toBeLessThan(40 * 256 * 1024);
  }, 30_000);

  it('detects a replica corrupted on purpose at the next verification and repairs it', async () => {
    const file = join(root, 'hami', 'replicas', 'bj-health', 'records', 'current', 'part-0003.bin');
    const original = readFileSync(file);
    const bad = Buffer.from(original);
    bad[100] ^= 0xff; // same size, different content: only a hash finds it
    writeFileSync(file, bad);
    const repair = await executor.verifyAndRepair({ origin: 'beijing', target: 'hami', tenant: 'bj-health', dataset: 'records', prefix: 'health', versionTag: '2026-06-01T02-00Z' });
    expect(repair.before.ok).toBe(false);
    expect(repair.before.differences).toEqual([{ path: 'part-0003.bin', kind: 'differ' }]);
    expect(repair.repaired).toBe(true);
    expect(repair.after).toMatchObject({ ok: true, matching: 20 });
    expect(readFileSync(file).equals(original)).toBe(true);
    // The corrupted file was kept as a version (--backup-dir), not lost.
    expect(existsSync(join(root, 'hami', 'replicas', 'bj-health', 'records', 'versions', '2026-06-01T02-00Z', 'part-0003.bin'))).toBe(true);
  });

  it('verifies a replica against the SUM file of its copy: a change of the live data since is not damage', async () => {
    writeFiles(join(root, 'beijing', 'logs'), 5, 16 * 1024, 3);
    const made = await executor.replicate({ tenant: 'ops', dataset: 'logs', prefix: 'logs', route: ['beijing', 'hami'], versionTag: '2026-06-05T00-00Z', retainVersions: 1 });
    expect(made.ok).toBe(true);
    expect(existsSync(join(root, 'hami', 'replicas', 'ops', 'logs', 'current.md5'))).toBe(true);
    writeFiles(join(root, 'beijing', 'logs'), 1, 16 * 1024, 99); // the live data moves on
    const intact = await executor.verifyAndRepair({ origin: 'beijing', target: 'hami', tenant: 'ops', dataset: 'logs', prefix: 'logs', versionTag: '2026-06-05T01-00Z' });
    expect(intact).toMatchObject({ repaired: false, copy: null, before: { ok: true, matching: 5 } });
    rmSync(join(root, 'hami', 'replicas', 'ops', 'logs', 'current', 'part-0002.bin'));
    const missing = await executor.checkSums('hami', 'ops', 'logs');
    expect(missing?.differences).toEqual([{ path: 'part-0002.bin', kind: 'missing-on-destination' }]);
  });

  it('keeps changed files as versions and prunes beyond retention', async () => {
    for (const [k, tag] of ['2026-06-02T00-00Z', '2026-06-03T00-00Z', '2026-06-04T00-00Z'].entries()) {
      writeFiles(join(root, 'beijing', 'health'), 1, 64 * 1024, 100 + k); // part-0000 changes each day
      const r = await executor.replicate({ tenant: 'bj-health', dataset: 'records', prefix: 'health', route: ['beijing', 'hami'], versionTag: tag, retainVersions: 2 });
      expect(r.ok).toBe(true);
    }
    expect(readdirSync(join(root, 'hami', 'replicas', 'bj-health', 'records', 'versions')).sort()).toEqual(['2026-06-03T00-00Z', '2026-06-04T00-00Z']);
  });

  it('sets --bwlimit from the planned share of a link', () => {
    // 45 GB in an hour is 12.5 MB/s.
    expect(bandwidthBytesPerS(45, 60)).toBeCloseTo(12_500_000, 6);
  });
});
