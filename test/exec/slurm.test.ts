/**
 * What the Slurm executor adds to the executor contract (contract.ts): how Slurm's job states map onto
 * the port's, what a job asks of the cluster (partition, account, GPUs or tasks, scaled time), and
 * that a rejected submission is an error. Runs on the local Slurm of scripts/slurm-up.sh.
 */
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunRejected } from '../../src/exec/port.ts';
import { SlurmExecutor, statusOf, tokenExpiryMs } from '../../src/exec/slurm.ts';
import { localSlurm, slurmJobs } from './slurm-env.ts';

const unique = `${Date.now().toString(36)}-${process.pid}`;
const request = { tenantId: 't', jobId: 'j', siteId: 'hami', poolId: 'ai', units: 2, durationS: 100 };

describe('Slurm executor', () => {
  it('maps Slurm job states onto run states', () => {
    const job = (job_state: string, state_reason = 'None') => ({ job_id: 1, name: 'r', job_state, state_reason, start_time: 100, end_time: 200 });
    expect(statusOf('r', job('PENDING', 'Priority'))).toEqual({ ref: 'r', state: 'pending', startedMs: null, endedMs: null, reason: 'PENDING: Priority' });
    expect(statusOf('r', job('RUNNING'))).toEqual({ ref: 'r', state: 'running', startedMs: 100_000, endedMs: null });
    expect(statusOf('r', job('COMPLETED'))).toEqual({ ref: 'r', state: 'completed', startedMs: 100_000, endedMs: 200_000 });
    const states = ['FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'COMPLETING', 'REQUEUED', 'OUT_OF_MEMORY', 'SOMETHING_NEW'];
    expect(states.map((s) => statusOf('r', job(s)).state)).toEqual(['failed', 'cancelled', 'timeout', 'node-failure', 'running', 'pending', 'failed', 'failed']);
  });

  it('asks for the partition, account, GPUs and scaled time of the site', async () => {
    const base = localSlurm();
    const executor = new SlurmExecutor({ ...base, timeScale: 0.01, target: () => ({ partition: 'zhengzhou', account: 'acme', units: 'gpus' }) });
    const ref = `slurm-${unique}/gpus/0`;
    await executor.submit({ ...request, ref });
    const job = (await slurmJobs(base)).find((j) => j.name === ref)!;
    expect(job).toMatchObject({ partition: 'zhengzhou', account: 'acme', tres_per_node: 'gres:gpu:2', time_limit: 6 });
  });

  it('a run larger than one node spreads over nodes with the same GPUs each', async () => {
    const base = localSlurm();
    const executor = new SlurmExecutor({ ...base, timeScale: 0.01, target: () => ({ partition: 'hami', units: 'gpus' }) });
    const ref = `slurm-${unique}/two-nodes/0`;
    await executor.submit({ ...request, units: 12, unitsPerNode: 8, ref });
    const job = (await slurmJobs(base)).find((j) => j.name === ref)!;
    expect(job).toMatchObject({ partition: 'hami', node_count: 2, tres_per_node: 'gres:gpu:6' });
    await executor.cancel(ref);
  });

  it('units as tasks ask for that many tasks', async () => {
    const base = localSlurm();
    const executor = new SlurmExecutor({ ...base, timeScale: 0.01, target: () => ({ partition: 'hami', units: 'tasks' }) });
    const ref = `slurm-${unique}/tasks/0`;
    await executor.submit({ ...request, units: 3, ref });
    const job = (await slurmJobs(base)).find((j) => j.name === ref)!;
    expect(job).toMatchObject({ partition: 'hami', tasks: 3 });
  });

  it('a submission Slurm rejects is a RunRejected naming why', async () => {
    const executor = new SlurmExecutor({ ...localSlurm(), target: () => ({ partition: 'atlantis', units: 'gpus' }) });
    const refused = executor.submit({ ...request, ref: `slurm-${unique}/nowhere/0` });
    await expect(refused).rejects.toThrow(/Invalid partition name/);
    await expect(refused).rejects.toBeInstanceOf(RunRejected);
  });

  it('renews a token before it expires and when slurmrestd refuses it; without renewal the refusal is an error', async () => {
    const base = localSlurm();
    const jwt = (payload: object) => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.x`;
    expect(tokenExpiryMs(jwt({ exp: 1_800_000_000 }))).toBe(1_800_000_000_000);
    expect(tokenExpiryMs('not-a-jwt')).toBe(Infinity);
    let renewals = 0;
    // Expired by its own claim: renewed before the first call.
    const expiring = new SlurmExecutor({ ...base, token: jwt({ exp: 1, sun: 'root' }), renewToken: async () => (renewals++, base.token) });
    expect(await expiring.status(`slurm-${unique}/never/0`)).toBeNull();
    expect(await expiring.status(`slurm-${unique}/never/0`)).toBeNull();
    expect(renewals).toBe(1);
    // Refused although it claims no expiry (wrong signature): renewed on the refusal.
    const forged = jwt({ sun: 'root' });
    const refused = new SlurmExecutor({ ...base, token: forged, renewToken: async () => (renewals++, base.token) });
    expect(await refused.status(`slurm-${unique}/never/0`)).toBeNull();
    expect(renewals).toBe(2);
    const stale = new SlurmExecutor({ ...base, token: forged });
    await expect(stale.status(`slurm-${unique}/never/0`)).rejects.toThrow(/HTTP 500/);
    // A cluster that refuses the service is not the job's fault: an error to retry, not a refusal that fails the job.
    const submitted = new SlurmExecutor({ ...base, token: forged, target: () => ({ partition: 'hami', units: 'gpus' }) }).submit({ ...request, ref: `slurm-${unique}/stale/0` });
    await expect(submitted).rejects.toThrow(/HTTP 500/);
    await expect(submitted).rejects.not.toBeInstanceOf(RunRejected);
  });

  it('runs the command a job gives as its batch script', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumul-slurm-cmd-'));
    chmodSync(dir, 0o777);
    const executor = new SlurmExecutor({ ...localSlurm(), target: () => ({ partition: 'zhengzhou', units: 'gpus' }) });
    const ref = `slurm-${unique}/command/0`;
    await executor.submit({ ...request, ref, command: `echo "ran $KUMUL_REF on $SLURM_JOB_PARTITION" > ${dir}/out.txt` });
    for (let i = 0; i < 60 && (await executor.status(ref))!.state !== 'completed'; i++) await new Promise((r) => setTimeout(r, 250));
    expect((await executor.status(ref))!.state).toBe('completed');
    expect(readFileSync(join(dir, 'out.txt'), 'utf8').trim()).toBe(`ran ${ref} on zhengzhou`);
  });
});
