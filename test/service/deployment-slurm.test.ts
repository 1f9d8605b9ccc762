/**
 * Runs belong to one deployment, on the real local Slurm (scripts/slurm-up.sh; issue 11, item 3). Three deployments
 * run one after the other on one cluster with the same tenant, the same job ids and the same commands, as a staging
 * copy or a restored store would: two fresh stores, then a copy of the first store, taken while some of its jobs
 * ran, started with `--new-deployment-id --requeue-running` (those jobs run again in the copy, under its id). Every job's command appends its run's name (`$KUMUL_REF`, which starts with
 * the deployment id) to one log; every command of every deployment must have run exactly once, none adopted from
 * another deployment's finished Slurm jobs (Slurm keeps those for MinJobAge, 300 s, longer than this test).
 */
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localSlurm, slurmJobs, writeExecutorsFile } from '../exec/slurm-env.ts';
import { exited, sleep, startServe, type ServeProcess } from '../support/serve-process.ts';

const SCALE = 240;
const TENANT = 'lab';
const JOBS = 6;

function serveArgs(dir: string, ...more: string[]): string[] {
  return ['--db', `sqlite:${join(dir, 'kumul.db')}`, '--no-demo', '--time-scale', String(SCALE), '--start', '2026-06-01T00:00Z',
    '--tick-ms', '100', '--replan-minutes', '30', '--policy', 'asap-any', '--executors', writeExecutorsFile(dir, { hami: { 'hami-ai': 'hami', 'hami-general': 'hami-cpu' }, zhengzhou: { 'zhengzhou-ai': 'zhengzhou' } }), ...more];
}

/** The same jobs in every deployment: ids j0…j5 on the Slurm sites, each appending its run's name to `log`. */
function jobs(log: string): Record<string, unknown>[] {
  return Array.from({ length: JOBS }, (_, i) => ({
    id: `j${i}`,
    class: i % 3 === 2 ? 'batch' : 'training',
    poolClass: i % 3 === 2 ? 'general' : 'ai',
    units: i % 3 === 2 ? 2 : 1 + (i % 2),
    durationS: 600,
    release: '2026-06-01T00:00:00Z',
    deadline: '2026-06-01T06:00:00Z',
    origin: i % 2 ? 'zhengzhou' : 'hami',
    allowedSites: i % 3 === 2 ? ['hami'] : ['hami', 'zhengzhou'],
    command: `echo "$KUMUL_REF" >> ${log}; sleep 3`,
  }));
}

async function api(server: ServeProcess, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function waitAllEnded(server: ServeProcess, key: string, timeoutMs: number): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = await api(server, key, 'GET', '/v1/jobs?limit=1000');
    const open = page.body.jobs.filter((j: { status: string }) => !['succeeded', 'failed', 'cancelled', 'missed'].includes(j.status));
    if (open.length === 0) return page.body.jobs;
    if (Date.now() > deadline) throw new Error(`jobs still open: ${JSON.stringify(open.map((j: any) => [j.id, j.status]))}; serve stderr: ${server.stderr().slice(0, 2000)}`);
    await sleep(300);
  }
}

async function stop(server: ServeProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await exited(server.child);
}

/** A fresh store: serve, the tenant, its jobs; returns the server and the tenant's key. */
async function freshDeployment(dir: string, log: string): Promise<{ server: ServeProcess; key: string }> {
  const server = await startServe(serveArgs(dir));
  const created = await api(server, server.operatorKey!, 'POST', '/v1/tenants', { id: TENANT, name: TENANT, role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const submitted = await api(server, created.body.apiKey, 'POST', '/v1/jobs', { jobs: jobs(log) });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  return { server, key: created.body.apiKey };
}

describe('deployments sharing one Slurm cluster', () => {
  it('with the same tenant, job ids and commands, each runs every command itself, exactly once', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kumul-deployments-'));
    chmodSync(root, 0o755);
    const log = join(root, 'runs.log');
    const dirs = ['first', 'second', 'copy'].map((name) => join(root, name));

    // 1. A fresh store; copied (stopped first, so the copy is consistent) once some of its jobs run in Slurm.
    let first = await freshDeployment(dirs[0], log);
    const running = async () => (await api(first.server, first.key, 'GET', '/v1/jobs?limit=1000')).body.jobs.filter((j: { status: string }) => j.status === 'running').map((j: { id: string }) => j.id);
    for (let i = 0; i < 100 && (await running()).length === 0; i++) await sleep(100);
    await stop(first.server);
    cpSync(dirs[0], dirs[2], { recursive: true });
    first = { ...first, server: await startServe(serveArgs(dirs[0])) };
    const ids: string[] = [first.server.deploymentId];
    try {
      expect((await waitAllEnded(first.server, first.key, 120_000)).map((j) => j.status)).toEqual(Array(JOBS).fill('succeeded'));
    } finally {
      await stop(first.server);
    }

    // 2. Another fresh store with the same tenant and jobs, while the first's finished Slurm jobs are still listed.
    const second = await freshDeployment(dirs[1], log);
    ids.push(second.server.deploymentId);
    try {
      expect((await waitAllEnded(second.server, second.key, 120_000)).map((j) => j.status)).toEqual(Array(JOBS).fill('succeeded'));
    } finally {
      await stop(second.server);
    }

    // 3. The copy of the first store: the same id as the first until the operator asks for a new one. Jobs the first
    // had started before the copy are requeued: their runs are the first deployment's.
    const copy = await startServe(serveArgs(dirs[2], '--new-deployment-id', '--requeue-running'));
    ids.push(copy.deploymentId);
    try {
      expect(copy.stderr()).toContain(`deployment id ${ids[0]} replaced by ${ids[2]} (--new-deployment-id)`);
      // The jobs the first had running when it was copied went back to the copy's queue, their runs left to the first.
      const requeued = [...copy.stderr().matchAll(/job lab\/(j\d) requeued; its run (\S+) was left to deployment (\w+)/g)];
      expect(requeued.length, copy.stderr()).toBeGreaterThanOrEqual(1);
      for (const [, job, ref, owner] of requeued) expect([ref, owner]).toEqual([`${ids[0]}/${TENANT}/${job}/0`, ids[0]]);
      expect((await waitAllEnded(copy, first.key, 120_000)).map((j) => j.status)).toEqual(Array(JOBS).fill('succeeded'));
    } finally {
      await stop(copy);
    }

    expect(new Set(ids).size, `deployment ids ${ids.join(', ')}`).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[a-z2-7]{8}$/);
    // Every command of every deployment ran exactly once: one line per job and deployment in the log.
    expect(existsSync(log)).toBe(true);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(new Set(lines).size, 'a run ran twice').toBe(lines.length);
    const ran = (id: string, job: string) => lines.filter((l) => l.startsWith(`${id}/${TENANT}/${job}/`));
    for (const id of ids) for (let i = 0; i < JOBS; i++) expect(ran(id, `j${i}`), `${id} j${i}: ${lines.join(' ')}`).toHaveLength(1);
    expect(lines).toHaveLength(3 * JOBS);
    // In Slurm: one completed job per run each deployment recorded, named after it.
    const inSlurm = await slurmJobs(localSlurm());
    for (const id of ids) {
      const mine = inSlurm.filter((j) => String(j.name).startsWith(`${id}/`));
      expect(mine.map((j) => String(j.name)).sort()).toEqual(lines.filter((l) => l.startsWith(`${id}/`)).sort());
      for (const job of mine) expect(job.job_state, String(job.name)).toBe('COMPLETED');
    }
  }, 420_000);
});
