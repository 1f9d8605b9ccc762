/**
 * The executor contract: what the dispatch loop (src/service/loop.ts) relies on from any executor
 * (src/exec/port.ts). executors.test.ts runs it against every executor; a new executor passes it unchanged.
 */
import { expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Executor, RunRequest, RunState, RunStatus } from '../../src/exec/port.ts';
import { newDeploymentId } from '../../src/store/deployment.ts';
import { runRef } from '../../src/service/loop.ts';

export interface ExecutorHarness {
  /** A fresh executor over the same engine: a second one stands for a restarted service. */
  make(): Executor;
  /** The executor's clock now (virtual for the simulated executor, the wall clock for Slurm). */
  now(): number;
  /** Lets time pass between polls. */
  tick(): Promise<void>;
  /** How many runs the engine itself holds under `ref` (Slurm: jobs with that name). */
  countRuns(ref: string): Promise<number>;
  /** Two sites, each with a pool the engine runs. */
  sites: [{ siteId: string; poolId: string }, { siteId: string; poolId: string }];
  /** Longest a short run may take from submit to its end, in polls. */
  maxPolls: number;
  /** A third site's pool, used only by the outage test, and how to take it out of service and back. */
  outageSite: { siteId: string; poolId: string };
  takeDown(executor: Executor): Promise<void>;
  bringUp(executor: Executor): Promise<void>;
}

const unique = `${Date.now().toString(36)}-${process.pid}`;
let count = 0;

function request(h: ExecutorHarness, durationS: number, site = 0): RunRequest {
  const n = count++;
  return { ref: `contract-${unique}/job-${n}/0`, tenantId: 'contract', jobId: `job-${n}`, ...h.sites[site], units: 1, durationS };
}

/** Polls until the run reaches one of `states`; returns every status seen on the way. */
async function until(h: ExecutorHarness, executor: Executor, ref: string, states: RunState[]): Promise<RunStatus[]> {
  const seen: RunStatus[] = [];
  for (let i = 0; i < h.maxPolls; i++) {
    const status = await executor.status(ref, h.now());
    expect(status).not.toBeNull();
    seen.push(status!);
    if (states.includes(status!.state)) return seen;
    await h.tick();
  }
  throw new Error(`run ${ref} did not reach ${states.join('/')}; last: ${JSON.stringify(seen.at(-1))}`);
}

export function executorContract(h: ExecutorHarness): void {
  it('submit is idempotent by ref, also for a restarted executor', async () => {
    const executor = h.make();
    const req = request(h, 30);
    const first = await executor.submit(req, h.now());
    expect(first.ref).toBe(req.ref);
    expect(['pending', 'running']).toContain(first.state);
    const again = await executor.submit(req, h.now());
    expect(again.ref).toBe(req.ref);
    const restarted = h.make();
    expect((await restarted.submit(req, h.now())).ref).toBe(req.ref);
    expect(await h.countRuns(req.ref)).toBe(1);
    await executor.cancel(req.ref, h.now());
  });

  it('a short run goes pending/running to completed', async () => {
    const executor = h.make();
    const req = request(h, 1);
    const first = await executor.submit(req, h.now());
    expect(['pending', 'running']).toContain(first.state);
    const seen = await until(h, executor, req.ref, ['completed', 'failed', 'cancelled', 'timeout', 'node-failure']);
    const last = seen.at(-1)!;
    expect(last.state).toBe('completed');
    expect(last.startedMs).not.toBeNull();
    expect(last.endedMs).toBeGreaterThanOrEqual(last.startedMs!);
    // A finished run stays finished, and cancelling it does nothing.
    await executor.cancel(req.ref, h.now());
    expect((await executor.status(req.ref, h.now()))!.state).toBe('completed');
  });

  it('cancel stops a run: cancelled', async () => {
    const executor = h.make();
    const req = request(h, 60);
    await executor.submit(req, h.now());
    await until(h, executor, req.ref, ['running']);
    await executor.cancel(req.ref, h.now());
    await until(h, executor, req.ref, ['cancelled']);
    await executor.cancel(req.ref, h.now());
    expect((await executor.status(req.ref, h.now()))!.state).toBe('cancelled');
  });

  it('a run held until stopped (a service replica) runs past its work’s length and ends only when cancelled', async () => {
    const executor = h.make();
    const req: RunRequest = { ...request(h, 1), holdUntilStopped: true };
    await executor.submit(req, h.now());
    await until(h, executor, req.ref, ['running']);
    // A run of 1 s that were not held ends within a few polls (the short-run case above).
    for (let i = 0; i < 12; i++) {
      await h.tick();
      expect(await executor.status(req.ref, h.now())).toMatchObject({ state: 'running', endedMs: null });
    }
    await executor.cancel(req.ref, h.now());
    expect((await until(h, executor, req.ref, ['cancelled', 'completed', 'failed'])).at(-1)!.state).toBe('cancelled');
  });

  it('two deployments naming the same tenant and job: the second gets a run of its own, never the first one’s finished run', async () => {
    const executor = h.make();
    const n = count++;
    const [first, second] = [newDeploymentId(randomBytes), newDeploymentId(randomBytes)].map((id) => ({
      ref: runRef(id, `contract-${unique}`, `job-${n}`, 0, 0), tenantId: `contract-${unique}`, jobId: `job-${n}`, ...h.sites[0], units: 1, durationS: 1,
    }));
    await executor.submit(first, h.now());
    expect((await until(h, executor, first.ref, ['completed', 'failed', 'cancelled'])).at(-1)!.state).toBe('completed');
    // Another executor (the second deployment's service) over the same engine.
    const other = h.make();
    expect(await other.status(second.ref, h.now())).toBeNull();
    const own = await other.submit(second, h.now());
    expect(own.ref).toBe(second.ref);
    expect(['pending', 'running']).toContain(own.state);
    expect(await h.countRuns(first.ref)).toBe(1);
    expect(await h.countRuns(second.ref)).toBe(1);
    expect((await until(h, other, second.ref, ['completed', 'failed', 'cancelled'])).at(-1)!.state).toBe('completed');
  });

  it('an unknown ref has no status, and cancelling it does nothing', async () => {
    const executor = h.make();
    expect(await executor.status(`contract-${unique}/never/0`, h.now())).toBeNull();
    await executor.cancel(`contract-${unique}/never/0`, h.now());
    expect(await h.countRuns(`contract-${unique}/never/0`)).toBe(0);
  });

  it('reports a pool out of service, holds runs sent there pending, and lets them be cancelled', async () => {
    const executor = h.make();
    const out = (list: { siteId: string; poolId: string }[]) => list.some((o) => o.siteId === h.outageSite.siteId && o.poolId === h.outageSite.poolId);
    expect(out(await executor.outages(h.now()))).toBe(false);
    await h.takeDown(executor);
    try {
      const outages = await executor.outages(h.now());
      expect(out(outages)).toBe(true);
      expect(outages.find((o) => o.siteId === h.outageSite.siteId)!.reason).not.toBe('');
      const n = count++;
      const req: RunRequest = { ref: `contract-${unique}/job-${n}/0`, tenantId: 'contract', jobId: `job-${n}`, ...h.outageSite, units: 1, durationS: 1 };
      expect((await executor.submit(req, h.now())).state).toBe('pending');
      for (let i = 0; i < 4; i++) {
        await h.tick();
        expect((await executor.status(req.ref, h.now()))!.state).toBe('pending');
      }
      await executor.cancel(req.ref, h.now());
      await until(h, executor, req.ref, ['cancelled']);
    } finally {
      await h.bringUp(executor);
    }
    // The engine may take a moment to put the pool back in service.
    let back = false;
    for (let i = 0; i < h.maxPolls && !back; i++) {
      back = !out(await executor.outages(h.now()));
      if (!back) await h.tick();
    }
    expect(back).toBe(true);
  });

  it('runs at two sites at once', async () => {
    const executor = h.make();
    const reqs = [request(h, 1, 0), request(h, 1, 1)];
    await Promise.all(reqs.map((r) => executor.submit(r, h.now())));
    for (const r of reqs) expect((await until(h, executor, r.ref, ['completed', 'failed', 'cancelled'])).at(-1)!.state).toBe('completed');
  });

  // Probes (src/probe): a script on one whole node of a pool, its stdout returned.
  it('a probe runs its script on one node of the pool and returns what it printed', async () => {
    const executor = h.make();
    const script = '#!/bin/bash\necho "KUMUL-PROBE node name=${SLURMD_NODENAME:-$(hostname)} cores=${SLURM_CPUS_ON_NODE:-$(nproc)}"\necho "probe ran"\n';
    const result = await executor.runProbe({ ref: `contract-${unique}-probe-${count++}`, ...h.sites[0], script, timeLimitS: 60, acceleratorsPerNode: 0 });
    expect(result).toMatchObject({ ok: true, state: 'completed' });
    expect(result.stdout).toMatch(/^KUMUL-PROBE node name=\S+ cores=[1-9]\d*\nprobe ran\n$/);
    expect(result.node).toBeTruthy();
    expect(result.endedMs).toBeGreaterThanOrEqual(result.startedMs!);
  });

  it('a failing probe script is not ok, and the reason carries its exit status and stderr', async () => {
    const executor = h.make();
    const script = '#!/bin/bash\necho partial\necho "no compiler here" >&2\nexit 3\n';
    const result = await executor.runProbe({ ref: `contract-${unique}-probe-${count++}`, ...h.sites[0], script, timeLimitS: 60, acceleratorsPerNode: 0 });
    expect(result).toMatchObject({ ok: false, state: 'failed', stdout: 'partial\n' });
    expect(result.reason).toMatch(/exit(ed| status) 3\b/);
    expect(result.reason).toContain('no compiler here');
  });
}
