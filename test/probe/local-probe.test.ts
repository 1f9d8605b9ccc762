/**
 * The simulated executor's probes (src/exec/local-probe.ts): a script past its time limit is stopped with everything
 * it started, and Slurm's job variables of an enclosing job do not leak into it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runLocalProbe } from '../../src/exec/local-probe.ts';

const request = { siteId: 'hami', poolId: 'hami-general', acceleratorsPerNode: 0 };

describe('a probe on this machine', () => {
  it('past its time limit is stopped, with the processes it started', async () => {
    const marker = `kumul-probe-sleeper-${process.pid}-${Date.now()}`;
    const began = Date.now();
    const result = await runLocalProbe({ ...request, ref: 'slow', script: `#!/bin/bash\necho started\nbash -c 'exec -a ${marker} sleep 30' &\nwait\n`, timeLimitS: 1 });
    expect(Date.now() - began).toBeLessThan(5000);
    expect(result).toMatchObject({ ok: false, state: 'timeout', stdout: 'started\n' });
    expect(result.reason).toBe('probe slow ran longer than 1 s and was stopped');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(marker));
    expect(left).toEqual([]);
  });

  it('killed past its time limit, leaves no temporary directory behind (its EXIT trap never ran)', async () => {
    const script = '#!/bin/bash\ndir=$(mktemp -d "${TMPDIR:-/tmp}/kumul-probe.XXXXXX")\ntrap \'rm -rf "$dir"\' EXIT\necho "$dir"\nsleep 30\n';
    const result = await runLocalProbe({ ...request, ref: 'litter', script, timeLimitS: 1 });
    expect(result.state).toBe('timeout');
    const made = result.stdout.trim();
    expect(made).toMatch(/kumul-probe\./);
    expect(existsSync(made)).toBe(false);
  });

  it('does not see the Slurm job variables of the process that runs Kumul', async () => {
    process.env.SLURM_CPUS_ON_NODE = '64';
    try {
      const result = await runLocalProbe({ ...request, ref: 'env', script: '#!/bin/bash\necho "cpus=${SLURM_CPUS_ON_NODE:-unset}"\n', timeLimitS: 10 });
      expect(result).toMatchObject({ ok: true, stdout: 'cpus=unset\n' });
    } finally {
      delete process.env.SLURM_CPUS_ON_NODE;
    }
  });
});
