/**
 * `kumul probe` end to end (the real command as a child process): on the simulated executor (this machine) and on
 * the local Slurm of scripts/slurm-up.sh (hami-cpu, and the GPU partition hami), results printed, flagged and
 * stored; and bad input refused with the site, pool, option or file named. Small matrices keep it to seconds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { registerProbeCommand } from '../../src/cli/probe-command.ts';
import { CliError } from '../../src/cli/errors.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import type { ProbeRecord } from '../../src/store/port.ts';

const dir = mkdtempSync(join(tmpdir(), 'kumul-probe-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SMALL = ['--matrix-n', '128', '--min-seconds', '0.1'];

function kumul(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/kumul.js', 'probe', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The command in this process, its stdout captured (no child: faster where the output is all a test reads). */
async function inProcess(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerProbeCommand(program);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await program.parseAsync(['node', 'kumul', 'probe', ...args]);
    return spy.mock.calls.map((c) => String(c[0])).join('');
  } finally {
    spy.mockRestore();
  }
}

async function stored(db: string): Promise<ProbeRecord[]> {
  const store = await openStore(db);
  try {
    const listed = await store.listProbes();
    if (!listed.ok) throw new Error(listed.reason);
    return listed.probes;
  } finally {
    await store.close();
  }
}

/** An executors file for the local Slurm: hami's accelerator pool on partition hami, its CPU pool on hami-cpu. */
function slurmExecutors(): string {
  const envFile = process.env.KUMUL_SLURM_ENV ?? '/tmp/kumul-slurm/env';
  const url = readFileSync(envFile, 'utf8').split('\n').find((l) => l.startsWith('KUMUL_SLURM_URL='))!.slice('KUMUL_SLURM_URL='.length);
  const file = join(dir, 'executors.json');
  writeFileSync(
    file,
    JSON.stringify({
      clusters: { local: { url, user: 'root', tokenFile: envFile, probeDir: join(dir, 'probe-output') } },
      sites: { hami: { cluster: 'local', pools: { 'hami-ai': { partition: 'hami', units: 'gpus' }, 'hami-general': { partition: 'hami-cpu', units: 'tasks' } } } },
    }),
  );
  return file;
}

describe('kumul probe on the simulated executor (this machine)', () => {
  it('measures a CPU pool, prints measured against advertised, flags it below the threshold and stores it', async () => {
    const db = `sqlite:${join(dir, 'sim.db')}`;
    const r = kumul('hami', '--pool', 'hami-general', '--db', db, ...SMALL);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Probing site hami: hami-general on simulated; flagged below 0\.8 of advertised\n/);
    expect(r.stdout).toMatch(/\n {2}fp64 {2}per core [\d.]+ GFLOP\/s {2}per node [\d.]+ GFLOP\/s {2}advertised 5120 GFLOP\/s {2}ratio [\d.e-]+\n/);
    expect(r.stdout).toMatch(/\n {2}FLAGGED: fp64 [\d.e-]+, fp32 [\d.e-]+ of advertised < threshold 0\.8\n/);
    expect(r.stdout).toMatch(/1 probe stored in sqlite:.*; 1 flagged\n$/);
    const [probe] = await stored(db);
    expect(probe).toMatchObject({ siteId: 'hami', poolId: 'hami-general', kind: 'cpu', flagged: true, error: null, threshold: 0.8, advertisedPerNodeTflops: { fp64: 5.12, fp32: 10.24, bf16: 20.48 } });
    // Two cores shared by several people measure far below a 64-core server's 5 TFLOPS; but they do measure something.
    expect(probe.perCoreGflops.fp64).toBeGreaterThan(0.1);
    expect(probe.ratio.fp64).toBeCloseTo(probe.perNodeGflops.fp64! / 5120, 12);
    expect(probe.ratio.fp64).toBeLessThan(0.8);
  });

  it('a threshold under what was measured flags nothing; --json prints the stored probes', async () => {
    const db = `sqlite:${join(dir, 'sim2.db')}`;
    const out = await inProcess('hami', '--pool', 'hami-general', '--db', db, '--threshold', '1e-9', '--json', ...SMALL);
    const { probes } = JSON.parse(out) as { probes: ProbeRecord[] };
    expect(probes).toHaveLength(1);
    expect(probes[0]).toMatchObject({ flagged: false, note: null, threshold: 1e-9 });
    expect(await stored(db)).toEqual(probes);
  });

  it('an accelerator pool on a machine without accelerators: 0 of 8 found, flagged, no number made up', async () => {
    const db = `sqlite:${join(dir, 'sim3.db')}`;
    const [probe] = (JSON.parse(await inProcess('hami', '--pool', 'hami-ai', '--db', db, '--json', ...SMALL)) as { probes: ProbeRecord[] }).probes;
    expect(probe).toMatchObject({ kind: 'accelerator', flagged: true, perNodeGflops: { fp64: null, fp32: null, bf16: null }, inventory: { deviceCount: 0 } });
    expect(probe.note).toMatch(/0 of the 8 accelerators .* no accelerator runtime on the node/);
  });
});

describe('kumul probe on Slurm', () => {
  it('hami-general on partition hami-cpu and hami-ai on the GPU partition hami, each on a whole node; hami-hpc on this machine', async () => {
    const db = `sqlite:${join(dir, 'slurm.db')}`;
    const executors = slurmExecutors();
    const r = kumul('hami', '--executors', executors, '--db', db, ...SMALL);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Probing site hami: hami-ai on slurm, hami-general on slurm, hami-hpc on simulated;/);
    const [gpu, cpu, hpc] = await stored(db);
    expect(hpc).toMatchObject({ poolId: 'hami-hpc', kind: 'cpu', error: null });
    // The whole node: Slurm gave the job all 8 CPUs of hami-cpu-1 (exclusive), the kernel ran 8 threads.
    expect(cpu).toMatchObject({ poolId: 'hami-general', kind: 'cpu', node: 'hami-cpu-1', cores: 8, flagged: true, error: null, inventory: { threads: [1, 8] } });
    expect(cpu.perNodeGflops.fp64).toBeGreaterThan(0.1);
    expect(gpu).toMatchObject({ poolId: 'hami-ai', kind: 'accelerator', cores: 8, flagged: false, error: null, perNodeGflops: { fp64: null, fp32: null, bf16: null } });
    expect(gpu.node).toMatch(/^hami-[12]$/);
    expect(gpu.inventory).toMatchObject({ deviceCount: 8, deviceCountSource: 'CUDA_VISIBLE_DEVICES', nodeGres: 'gpu:a100:8', visibleDevices: '0,1,2,3,4,5,6,7', runtime: null });
    expect(gpu.note).toMatch(/^no accelerator runtime on the node .*: throughput not measured$/);
  });
});

describe('kumul probe refuses bad input, naming it', () => {
  const db = `sqlite:${join(dir, 'bad.db')}`;

  /** The command in this process (no child per case): the CliError it throws, or null. */
  async function refusal(...args: string[]): Promise<CliError | null> {
    const program = new Command().exitOverride();
    registerProbeCommand(program);
    try {
      await program.parseAsync(['node', 'kumul', 'probe', ...args]);
      return null;
    } catch (err) {
      if (err instanceof CliError) return err;
      throw err;
    }
  }

  it('as the real command does: on stderr, exit status 2, nothing on stdout', () => {
    const r = kumul('atlantis', '--db', db);
    expect(r.stderr).toBe('kumul: no site "atlantis" in the network (sites: hami, qingyang, zhengzhou, urumqi, beijing, chongqing)\n');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
  });

  const cases: [string, string[], RegExp][] = [
    ['an unknown pool', ['hami', '--pool', 'hami-quantum', '--db', db], /^site hami has no pool "hami-quantum" \(pools: hami-ai, hami-general, hami-hpc\)$/],
    ['a threshold above 1', ['hami', '--threshold', '2', '--db', db], /^--threshold: '2' must be a number in \(0, 1\]$/],
    ['a threshold of 0', ['hami', '--threshold', '0', '--db', db], /^--threshold: '0' must be a number > 0$/],
    ['a matrix order the kernel cannot tile', ['hami', '--matrix-n', '100', '--db', db], /^--matrix-n: '100' must be a multiple of 32$/],
    ['a missing executors file', ['hami', '--executors', join(dir, 'nope.json'), '--db', db], /nope\.json: ENOENT: no such file or directory/],
    ['an unknown scenario', ['hami', '--scenario', 'mars', '--db', db], /mars/],
    ['a store that cannot be opened', ['hami', '--db', 'mysql://nowhere'], /^--db mysql:\/\/nowhere: cannot open the store: /],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const err = await refusal(...args);
      expect(err?.message).toMatch(message);
      expect(err?.exitCode).toBe(2);
    });
  }

  it('an executors file naming a pool the site does not have', async () => {
    const file = join(dir, 'wrong-pool.json');
    writeFileSync(file, JSON.stringify({ clusters: { c: { url: 'http://127.0.0.1:1', user: 'root', token: 't' } }, sites: { hami: { cluster: 'c', pools: { gpu: { partition: 'hami', units: 'gpus' } } } } }));
    expect((await refusal('hami', '--executors', file, '--db', db))?.message).toBe(`${file}: sites.hami.pools.gpu: site hami has no pool gpu (pools: hami-ai, hami-general, hami-hpc)`);
  });

  it('nothing was stored by any of them', async () => {
    expect(await stored(db)).toEqual([]);
  });
});
