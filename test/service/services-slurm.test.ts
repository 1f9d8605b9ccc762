/**
 * A service replica on the real local Slurm (scripts/slurm-up.sh): the dispatch loop starts each replica its placement
 * keeps as a Slurm job named after the replica, with no time limit of its own (the partition's, INFINITE here), which
 * runs until the loop stops it; deleting the service cancels the jobs (scancel through slurmrestd).
 * Uses partition hami only.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SlurmExecutor } from '../../src/exec/slurm.ts';
import { localSlurm, slurmJobs } from '../exec/slurm-env.ts';
import { T0, demand, service, servicesWorld, type ServicesWorld } from './services-fixtures.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('service replicas on Slurm', () => {
  const base = localSlurm();
  const realStartMs = Date.now();
  // Slurm keeps real time: mapped onto the service's clock from the test's start.
  const executor = new SlurmExecutor({ ...base, target: (siteId) => ({ partition: siteId, units: 'gpus' }), serviceMs: (ms) => T0 + (ms - realStartMs) });
  let w: ServicesWorld | null = null;

  afterAll(async () => {
    for (const r of (await w?.store.replicaRuns({ live: true })) ?? []) await executor.cancel(r.ref);
    await w?.close();
  });

  /** The Slurm jobs named after the live replicas, once each is in `state` (waits up to 20 s). */
  async function jobsIn(refs: string[], state: string): Promise<Record<string, unknown>[]> {
    for (let i = 0; ; i++) {
      const jobs = (await slurmJobs(base)).filter((j) => refs.includes(j.name as string));
      if (jobs.length === refs.length && jobs.every((j) => j.job_state === state)) return jobs;
      if (i >= 40) throw new Error(`jobs ${refs.join(', ')} not all ${state}: ${JSON.stringify(jobs.map((j) => [j.name, j.job_state]))}`);
      await sleep(500);
    }
  }

  it('runs each replica as a Slurm job held until the loop stops it', async () => {
    w = await servicesWorld(executor);
    // The deployment id is new for every test store, so these jobs are this test's only.
    expect((await w.call(w.keys.lab, 'POST', '/v1/services', service('chat', { sites: ['hami'] }))).status).toBe(201);
    await w.call(w.keys.lab, 'POST', '/v1/services/chat/demand', demand('chat', { beijing: new Array(24).fill(15) }));
    await w.loop.tick();
    const replicas = await w.store.replicaRuns({ live: true });
    expect(replicas.length).toBe(2); // 15 req/s at 10 a replica
    const refs = replicas.map((r) => r.ref);
    const jobs = await jobsIn(refs, 'RUNNING');
    for (const job of jobs) expect(job).toMatchObject({ partition: 'hami', tres_per_node: 'gres:gpu:1' });
    // No limit of its own (a job run asks for its length plus slack): the partition's, INFINITE here, for which Slurm
    // 22.05 expects the job to end a year after its start.
    for (const job of jobs) expect(Number(job.end_time) - Number(job.start_time), JSON.stringify(job)).toBeGreaterThanOrEqual(365 * 86_400);
    // Still held a while later (a stand-in for a job would have slept its warm-up of 60 s × 1; the loop keeps it).
    await sleep(3000);
    w.clock.set(T0 + 5 * 60_000);
    await w.loop.tick();
    await jobsIn(refs, 'RUNNING');
    expect((await w.store.replicaRuns({ live: true })).map((r) => r.ref).sort()).toEqual([...refs].sort());
    expect((await w.store.replicaRuns({ live: true })).every((r) => r.startedMs !== null)).toBe(true);

    // Deleted: the next tick cancels the jobs.
    expect((await w.call(w.keys.lab, 'DELETE', '/v1/services/chat')).status).toBe(200);
    w.clock.set(T0 + 10 * 60_000);
    await w.loop.tick();
    await jobsIn(refs, 'CANCELLED');
    expect(await w.store.replicaRuns({ live: true })).toEqual([]);
  });
});
