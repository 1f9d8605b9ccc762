/**
 * What the Slurm executor adds to a probe (src/exec/slurm-probe.ts), on the local Slurm of scripts/slurm-up.sh:
 * GPU counts read from GRES, the output files removed after reading, and output that never reaches Kumul (a probe
 * directory the nodes do not share) reported as such instead of an empty success.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gpuCount, runSlurmProbe } from '../../src/exec/slurm-probe.ts';
import { SlurmExecutor } from '../../src/exec/slurm.ts';
import { localSlurm } from '../exec/slurm-env.ts';

const dir = mkdtempSync(join(tmpdir(), 'kumul-slurm-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const unique = `${Date.now().toString(36)}-${process.pid}`;

describe('GPUs in a GRES string', () => {
  it('counts every gpu entry, typed or not, with or without socket affinity', () => {
    expect(gpuCount('gpu:a100:8')).toBe(8);
    expect(gpuCount('gpu:4(S:0),gpu:t4:2(S:1)')).toBe(6);
    expect(gpuCount('gpu:a100:8,mps:100')).toBe(8);
    expect(gpuCount(null)).toBe(0);
    expect(gpuCount('')).toBe(0);
  });
});

describe('a probe whose job Kumul can no longer follow', () => {
  it('is cancelled, not left holding a whole node, and the error says which job and why', async () => {
    const calls: string[] = [];
    const call = async (method: string, path: string) => {
      calls.push(`${method} ${path}`);
      if (path === '/nodes') return { ok: true, status: 200, body: { nodes: [] } };
      if (path === '/job/submit') return { ok: true, status: 200, body: { job_id: 42 } };
      if (method === 'GET') return { ok: false, status: 502, body: { errors: [{ error: 'slurmctld unreachable' }] } };
      return { ok: true, status: 200, body: {} };
    };
    const request = { ref: `probe-${unique}-lost-sight`, siteId: 'hami', poolId: 'hami-general', script: '#!/bin/bash\n', timeLimitS: 60, acceleratorsPerNode: 0 };
    await expect(runSlurmProbe(request, { partition: 'hami-cpu', units: 'tasks', probeDir: dir, call })).rejects.toThrow('slurm: read probe job 42 failed (HTTP 502: slurmctld unreachable)');
    expect(calls).toEqual(['GET /nodes', 'POST /job/submit', 'GET /job/42', 'DELETE /job/42']);
  });
});

describe('a probe job on Slurm', () => {
  const executor = () => new SlurmExecutor({ ...localSlurm(), target: () => ({ partition: 'hami-cpu', units: 'tasks' }), probeDir: dir });

  it('gets the whole node, and leaves nothing in the probe directory', async () => {
    const result = await executor().runProbe({ ref: `probe-${unique}-whole`, siteId: 'hami', poolId: 'hami-general', script: '#!/bin/bash\necho "cpus=$SLURM_CPUS_ON_NODE node=$SLURMD_NODENAME"\n', timeLimitS: 60, acceleratorsPerNode: 0 });
    expect(result).toMatchObject({ ok: true, state: 'completed', stdout: 'cpus=8 node=hami-cpu-1\n', node: 'hami-cpu-1', nodeGres: null });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a probe directory whose name holds a % (a Slurm output pattern character) still gets its output back', async () => {
    const pct = join(dir, '100%j-share');
    const ex = new SlurmExecutor({ ...localSlurm(), target: () => ({ partition: 'hami-cpu', units: 'tasks' }), probeDir: pct });
    const result = await ex.runProbe({ ref: `probe-${unique}-pct`, siteId: 'hami', poolId: 'hami-general', script: '#!/bin/bash\necho here\n', timeLimitS: 60, acceleratorsPerNode: 0 });
    expect(result).toMatchObject({ ok: true, state: 'completed', stdout: 'here\n' });
    expect(readdirSync(pct)).toEqual([]);
    rmSync(pct, { recursive: true, force: true });
  });

  it('output that never reached Kumul is a failed probe saying the directory must be shared', async () => {
    // The script removes its own output file, as a node-local directory would keep it from Kumul.
    const script = '#!/bin/bash\necho "measured something"\nrm -f "$(readlink /proc/$$/fd/1)"\n';
    const result = await executor().runProbe({ ref: `probe-${unique}-lost`, siteId: 'hami', poolId: 'hami-general', script, timeLimitS: 60, acceleratorsPerNode: 0 });
    expect(result).toMatchObject({ ok: false, state: 'failed', stdout: '' });
    expect(result.reason).toMatch(/completed but its output .* is not there: the probe directory must be one the nodes and Kumul share$/);
  });
});
