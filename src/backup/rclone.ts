/**
 * The real backup executor: rclone (Debian package `rclone`) moves, verifies and repairs replicas; Kumul only
 * decides what to copy where and how fast (docs/backup.md, "The rclone executor"). Each site's storage is an
 * rclone remote named in the endpoints file (src/backup/load.ts); the rclone config file defines them.
 *
 * `Rclone` drives the binary: `copy`/`sync` with `--checksum` (files whose hash matches are skipped, so a copy
 * killed half way resumes where it stopped), `--bwlimit` from the planned link share, `--backup-dir` for
 * retention, and progress read from rclone's own stats (`--use-json-log --stats 1s`). `check` runs
 * `rclone check` (hashes on both sides). `BackupExecutor` lays replicas out on the endpoints and runs a planned
 * route hop by hop (a relay keeps a temporary copy), verifies, repairs and prunes old versions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { Endpoints, StorageEndpoint } from './load.ts';

/** Progress of a copy as rclone's stats report it. */
export interface CopyProgress {
  bytes: number;
  totalBytes: number;
  transfers: number;
  totalTransfers: number;
  speedBytesPerS: number;
  elapsedS: number;
  errors: number;
}

export interface CopyRequest {
  /** `remote:path` of the source and destination. */
  from: string;
  to: string;
  /** `sync` makes the destination an exact mirror (files gone from the source are removed, or moved to `backupDir`); `move` removes what it copied from the source. */
  mode?: 'copy' | 'sync' | 'move';
  /** Only these paths (relative to `from`; `--files-from-raw`); absent: every file. */
  files?: readonly string[];
  /** Bandwidth limit, bytes per second (absent: none). */
  bwlimitBytesPerS?: number;
  /** `remote:path` where files the copy would overwrite or delete are moved instead (a version). */
  backupDir?: string;
  onProgress?: (progress: CopyProgress) => void;
}

export interface CopyResult {
  ok: boolean;
  exitCode: number | null;
  /** The signal that ended rclone (e.g. SIGKILL), if one did. */
  signal: NodeJS.Signals | null;
  /** The last stats rclone printed. */
  progress: CopyProgress | null;
  /** rclone's last error messages. */
  errors: string[];
}

export interface CheckResult {
  ok: boolean;
  /** rclone could not check (an exit code other than 0 or 1): `differences` may be incomplete. */
  failed: boolean;
  matching: number;
  /** Files whose content differs, missing on the destination, or missing on the source. */
  differences: { path: string; kind: 'differ' | 'missing-on-destination' | 'missing-on-source' }[];
  errors: string[];
}

export interface RcloneOptions {
  /** rclone config file defining the remotes. */
  config: string;
  /** The rclone binary (default `rclone` on PATH). */
  binary?: string;
  /**
   * Linux: rclone gets SIGKILL when the process that started it dies (util-linux `setpriv --pdeathsig`), so that a
   * `kumul serve` killed mid-copy leaves no copy running on its own; its restart runs the copy again, which resumes.
   */
  diesWithParent?: boolean;
}

/** A running rclone copy: its process (tests kill it) and its result. */
export interface RunningCopy {
  child: ChildProcess;
  done: Promise<CopyResult>;
}

/** Drives the rclone binary. Used by BackupExecutor and bench/backup.ts. */
export class Rclone {
  constructor(private readonly options: RcloneOptions) {}

  /** Starts `rclone copy|sync --checksum` and follows its JSON stats. */
  start(request: CopyRequest): RunningCopy {
    const args = [request.mode ?? 'copy', request.from, request.to, '--checksum', '--use-json-log', '--stats', '1s', '--stats-log-level', 'NOTICE'];
    if (request.bwlimitBytesPerS !== undefined) args.push('--bwlimit', `${Math.max(1, Math.floor(request.bwlimitBytesPerS / 1024))}K`);
    if (request.backupDir !== undefined) args.push('--backup-dir', request.backupDir);
    let listDir: string | null = null;
    if (request.files !== undefined) {
      listDir = mkdtempSync(join(tmpdir(), 'kumul-rclone-files-'));
      writeFileSync(join(listDir, 'files'), request.files.map((f) => `${f}\n`).join(''));
      args.push('--files-from-raw', join(listDir, 'files'));
    }
    const child = this.spawn(args);
    let progress: CopyProgress | null = null;
    const errors: string[] = [];
    readJsonLines(child, (entry) => {
      const stats = entry.stats as Record<string, number> | undefined;
      if (stats) {
        progress = {
          bytes: stats.bytes ?? 0,
          totalBytes: stats.totalBytes ?? 0,
          transfers: stats.transfers ?? 0,
          totalTransfers: stats.totalTransfers ?? 0,
          speedBytesPerS: stats.speed ?? 0,
          elapsedS: stats.elapsedTime ?? 0,
          errors: stats.errors ?? 0,
        };
        request.onProgress?.(progress);
      } else if (entry.level === 'error' || entry.level === 'critical') {
        errors.push(String(entry.msg));
      }
    });
    const done = exited(child)
      .then(({ code, signal }) => ({ ok: code === 0, exitCode: code, signal, progress, errors: errors.slice(-10) }))
      .finally(() => listDir && rmSync(listDir, { recursive: true, force: true }));
    return { child, done };
  }

  /** Copies and waits for the end. */
  copy(request: CopyRequest): Promise<CopyResult> {
    return this.start(request).done;
  }

  /**
   * `rclone check`: compares sizes and hashes of every file on both sides; with `checkfile` (a hash name), `from` is a
   * SUM file of that hash (as `rclone md5sum` writes) whose hashes `to` is checked against.
   */
  async check(request: { from: string; to: string; checkfile?: 'md5' }): Promise<CheckResult> {
    const child = this.spawn(['check', ...(request.checkfile ? ['--checkfile', request.checkfile] : []), request.from, request.to, '--combined', '-', '--use-json-log']);
    const lines: string[] = [];
    const errors: string[] = [];
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    readJsonLines(child, (entry) => {
      if (entry.level === 'error' || entry.level === 'critical') errors.push(String(entry.msg));
    });
    const { code } = await exited(child);
    lines.push(...out.split('\n').filter((l) => l.length > 1));
    // rclone's --combined: '+' only in the source (missing on the destination), '-' only in the destination.
    const kinds: Record<string, CheckResult['differences'][number]['kind']> = { '*': 'differ', '+': 'missing-on-destination', '-': 'missing-on-source' };
    const differences = lines.filter((l) => l[0] in kinds).map((l) => ({ path: l.slice(2), kind: kinds[l[0]] }));
    const matching = lines.filter((l) => l[0] === '=').length;
    // Exit 1 means differences were found; anything else but 0 is a failure to check.
    const failed = code !== 0 && code !== 1;
    return { ok: !failed && differences.length === 0, failed, matching, differences, errors: failed && errors.length === 0 ? [`rclone check exited ${code}`] : errors.filter((e) => !/differences found|files? missing|files? differ|did not match|not found|file not in/i.test(e)) };
  }

  /** Directory names directly under `remote:path` (empty when it does not exist). */
  async listDirs(path: string): Promise<string[]> {
    const child = this.spawn(['lsf', path, '--dirs-only']);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    await exited(child);
    return out
      .split('\n')
      .filter((l) => l.endsWith('/'))
      .map((l) => l.slice(0, -1));
  }

  /** Files and bytes under `remote:path` (`rclone size`); none when it does not exist. */
  async size(path: string): Promise<{ count: number; bytes: number }> {
    const child = this.spawn(['size', path, '--json']);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const { code } = await exited(child);
    if (code !== 0) return { count: 0, bytes: 0 };
    const parsed = JSON.parse(out) as { count?: number; bytes?: number };
    return { count: parsed.count ?? 0, bytes: parsed.bytes ?? 0 };
  }

  /** Writes the MD5 of every file under `path` to the SUM file `sumPath` (`rclone md5sum`, then `rclone rcat`). */
  async writeSums(path: string, sumPath: string): Promise<void> {
    const sums = this.spawn(['md5sum', path]);
    const upload = this.spawn(['rcat', sumPath], 'pipe');
    sums.stdout!.pipe(upload.stdin!);
    const [made, stored] = await Promise.all([exited(sums), exited(upload)]);
    if (made.code !== 0 || stored.code !== 0) throw new Error(`rclone md5sum ${path} | rclone rcat ${sumPath} exited ${made.code}, ${stored.code}`);
  }

  /** Removes `remote:path` and everything under it. */
  async purge(path: string): Promise<void> {
    const child = this.spawn(['purge', path]);
    const { code } = await exited(child);
    if (code !== 0 && code !== 3) throw new Error(`rclone purge ${path} exited ${code}`);
  }

  private spawn(args: string[], stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
    const command = [this.options.binary ?? 'rclone', '--config', this.options.config, ...args];
    if (this.options.diesWithParent && process.platform === 'linux') command.unshift('setpriv', '--pdeathsig', 'KILL');
    return spawn(command[0], command.slice(1), { stdio: [stdin, 'pipe', 'pipe'] });
  }
}

/** Calls `onEntry` for each JSON line rclone logs on stderr (`--use-json-log`); other lines are ignored. */
function readJsonLines(child: ChildProcess, onEntry: (entry: Record<string, unknown>) => void): void {
  let buffer = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      try {
        onEntry(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line that is not JSON (rclone prints none under --use-json-log, but a crash might)
      }
    }
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/** Bytes per second that move `gb` in one slot of `slotMinutes`: a transfer's `--bwlimit` from its planned share of a link. */
export function bandwidthBytesPerS(gb: number, slotMinutes: number): number {
  return (gb * 1e9) / (slotMinutes * 60);
}

/** A dataset as the executor needs it: where its live data is and where its replicas go. */
export interface ReplicaRequest {
  tenant: string;
  dataset: string;
  /** Path of the live data under the origin's endpoint. */
  prefix: string;
  /** Sites from the origin to the replica: any sites between are relays. */
  route: readonly string[];
  /** Names the version the copy makes (e.g. its cut instant, `2026-06-01T12-00Z`): files it replaces are kept under it. */
  versionTag: string;
  /** Older versions to keep at the replica; older ones are removed after a verified copy. */
  retainVersions: number;
  /** Bandwidth per hop, bytes per second (absent: none). */
  bwlimitBytesPerS?: number;
  onProgress?: (hop: number, progress: CopyProgress) => void;
}

export interface ReplicaResult {
  ok: boolean;
  /** The hop that failed, or null. */
  failedHop: number | null;
  copies: CopyResult[];
  check: CheckResult | null;
  /** Versions removed by retention. */
  pruned: string[];
}

/**
 * Keeps replicas on the sites' endpoints. Layout under a site's endpoint path:
 * `replicas/<tenant>/<dataset>/current` (the newest copy), `replicas/<tenant>/<dataset>/versions/<tag>` (files
 * the copy of version <tag> replaced or deleted: `rclone sync --backup-dir`), `relay/<tenant>/<dataset>` (a relay's
 * temporary copy). The live data is `<origin path>/<prefix>`.
 */
export class BackupExecutor {
  readonly rclone: Rclone;

  constructor(
    private readonly endpoints: Endpoints,
    options: Pick<RcloneOptions, 'diesWithParent'> = {},
  ) {
    this.rclone = new Rclone({ config: endpoints.rcloneConfig, ...options });
  }

  /** `remote:path` of the live data, a replica, its versions, or a relay copy. */
  livePath(site: string, prefix: string): string {
    return at(this.endpoint(site), prefix);
  }

  replicaPath(site: string, tenant: string, dataset: string): string {
    return at(this.endpoint(site), posix.join('replicas', tenant, dataset, 'current'));
  }

  versionsPath(site: string, tenant: string, dataset: string): string {
    return at(this.endpoint(site), posix.join('replicas', tenant, dataset, 'versions'));
  }

  /** `remote:path` of everything a replica keeps (the copy, its versions, its SUM file): what storage is billed on. */
  keptPath(site: string, tenant: string, dataset: string): string {
    return at(this.endpoint(site), posix.join('replicas', tenant, dataset));
  }

  /** `remote:path` of the replica's SUM file: the MD5 of each file of the verified copy, which later verifications check it against. */
  sumsPath(site: string, tenant: string, dataset: string): string {
    return at(this.endpoint(site), posix.join('replicas', tenant, dataset, 'current.md5'));
  }

  relayPath(site: string, tenant: string, dataset: string): string {
    return at(this.endpoint(site), posix.join('relay', tenant, dataset));
  }

  /**
   * Copies the live data along the route (hop by hop; relays keep a temporary copy), verifies the replica against
   * the origin with `rclone check`, records its SUM file, then removes relay copies and versions beyond retention.
   * A direct copy is `rclone sync --checksum` (it moves only files whose hashes differ). A relayed one moves only what
   * the replica lacks over every hop: `rclone check` of the live data against the replica lists the files changed or
   * new since its newest copy (or damaged), each hop copies just those (`--files-from-raw`), the last one keeping the
   * files it replaces as the version, and files gone from the live data then move from the replica into the version.
   * So a relay leg moves the change, not the dataset (the planner's model: a version is its change, on every hop).
   * Running it again after an interruption resumes: files already copied match their hashes and are skipped.
   */
  async replicate(request: ReplicaRequest): Promise<ReplicaResult> {
    const { route, tenant, dataset } = request;
    const target = route[route.length - 1];
    const replica = this.replicaPath(target, tenant, dataset);
    const versionDir = `${this.versionsPath(target, tenant, dataset)}/${request.versionTag}`;
    let files: string[] | undefined;
    let gone: string[] = [];
    if (route.length > 2) {
      const lack = await this.rclone.check({ from: this.livePath(route[0], request.prefix), to: replica });
      if (lack.failed) return { ok: false, failedHop: null, copies: [], check: lack, pruned: [] };
      files = lack.differences.filter((d) => d.kind !== 'missing-on-source').map((d) => d.path);
      gone = lack.differences.filter((d) => d.kind === 'missing-on-source').map((d) => d.path);
    }
    const copies: CopyResult[] = [];
    for (let h = 1; h < route.length; h++) {
      const last = h === route.length - 1;
      const from = h === 1 ? this.livePath(route[0], request.prefix) : this.relayPath(route[h - 1], tenant, dataset);
      const to = last ? replica : this.relayPath(route[h], tenant, dataset);
      const result = await this.rclone.copy({
        from,
        to,
        mode: files ? 'copy' : 'sync',
        ...(files ? { files } : {}),
        bwlimitBytesPerS: request.bwlimitBytesPerS,
        backupDir: last ? versionDir : undefined,
        onProgress: (p) => request.onProgress?.(h, p),
      });
      copies.push(result);
      if (!result.ok) return { ok: false, failedHop: h, copies, check: null, pruned: [] };
    }
    if (gone.length > 0) {
      const moved = await this.rclone.copy({ from: replica, to: versionDir, mode: 'move', files: gone });
      if (!moved.ok) return { ok: false, failedHop: route.length - 1, copies: [...copies, moved], check: null, pruned: [] };
    }
    const check = await this.verify(request.route[0], target, tenant, dataset, request.prefix);
    if (!check.ok) return { ok: false, failedHop: null, copies, check, pruned: [] };
    await this.rclone.writeSums(replica, this.sumsPath(target, tenant, dataset));
    for (const relay of route.slice(1, -1)) await this.rclone.purge(this.relayPath(relay, tenant, dataset));
    const pruned = await this.prune(target, tenant, dataset, request.retainVersions);
    return { ok: true, failedHop: null, copies, check, pruned };
  }

  /** Compares the replica at `target` with the live data at `origin`, file by file with hashes. */
  verify(origin: string, target: string, tenant: string, dataset: string, prefix: string): Promise<CheckResult> {
    return this.rclone.check({ from: this.livePath(origin, prefix), to: this.replicaPath(target, tenant, dataset) });
  }

  /** Checks a replica against the SUM file of its last verified copy; null when it has none (no verified copy yet). */
  async checkSums(target: string, tenant: string, dataset: string): Promise<CheckResult | null> {
    const sums = this.sumsPath(target, tenant, dataset);
    if ((await this.rclone.size(sums)).count === 0) return null;
    return this.rclone.check({ from: sums, to: this.replicaPath(target, tenant, dataset), checkfile: 'md5' });
  }

  /**
   * Checks a replica against the SUM file its last verified copy recorded (so a change of the live data since is not
   * taken for damage; without a SUM file, against the live data), and when a file differs or is missing (corrupted,
   * deleted), copies the live data over it (`--checksum` recopies exactly the files whose hashes differ; the damaged
   * ones move to the version directory), checks it against the live data and records its SUM file again.
   * `copy` is the repair's copy, null when none was needed.
   */
  async verifyAndRepair(request: { origin: string; target: string; tenant: string; dataset: string; prefix: string; versionTag: string; bwlimitBytesPerS?: number }): Promise<{ before: CheckResult; repaired: boolean; after: CheckResult; copy: CopyResult | null }> {
    const { origin, target, tenant, dataset, prefix } = request;
    const sums = this.sumsPath(target, tenant, dataset);
    const before = (await this.checkSums(target, tenant, dataset)) ?? (await this.verify(origin, target, tenant, dataset, prefix));
    if (before.ok) return { before, repaired: false, after: before, copy: null };
    const copy = await this.rclone.copy({
      from: this.livePath(origin, prefix),
      to: this.replicaPath(target, tenant, dataset),
      mode: 'sync',
      bwlimitBytesPerS: request.bwlimitBytesPerS,
      backupDir: `${this.versionsPath(target, tenant, dataset)}/${request.versionTag}`,
    });
    const after = await this.verify(origin, target, tenant, dataset, prefix);
    if (after.ok) await this.rclone.writeSums(this.replicaPath(target, tenant, dataset), sums);
    return { before, repaired: after.ok, after, copy };
  }

  /** Removes the oldest versions beyond `retain` (tags sort by time); returns the removed tags. */
  async prune(site: string, tenant: string, dataset: string, retain: number): Promise<string[]> {
    const tags = (await this.rclone.listDirs(this.versionsPath(site, tenant, dataset))).sort();
    const old = tags.slice(0, Math.max(0, tags.length - retain));
    for (const tag of old) await this.rclone.purge(`${this.versionsPath(site, tenant, dataset)}/${tag}`);
    return old;
  }

  private endpoint(site: string): StorageEndpoint {
    const e = this.endpoints.sites.get(site);
    if (!e) throw new Error(`no storage endpoint for site '${site}'`);
    return e;
  }
}

function at(endpoint: StorageEndpoint, path: string): string {
  return `${endpoint.remote}:${posix.join(endpoint.path, path)}`;
}
