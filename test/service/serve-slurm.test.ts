/**
 * `kumul serve --executors FILE` on the real local Slurm (scripts/slurm-up.sh): jobs submitted through the API
 * run as Slurm batch jobs and finish; a service killed with SIGKILL again and again runs every job exactly once
 * in Slurm; a site whose node goes down has its work requeued and re-planned elsewhere within one cycle.
 * Partition urumqi is drained and downed here only (the other tests never use it).
 */
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSlurm, scontrol, slurmJobs, writeExecutorsFile } from '../exec/slurm-env.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import { exited, sleep, startServe, type ServeProcess } from '../support/serve-process.ts';

const unique = Date.now().toString(36);
const SCALE = 240; // simulated seconds per real second: a 10-minute job sleeps 2.5 s in Slurm
const REPLAN_MINUTES = 30; // one cycle: 7.5 real seconds

function serveArgs(dir: string, policy: string): string[] {
  return ['--db', `sqlite:${join(dir, 'kumul.db')}`, '--no-demo', '--time-scale', String(SCALE), '--start', '2026-06-01T00:00Z',
    '--tick-ms', '100', '--replan-minutes', String(REPLAN_MINUTES), '--policy', policy, '--executors', writeExecutorsFile(dir, { hami: { 'hami-ai': 'hami', 'hami-general': 'hami-cpu' }, zhengzhou: { 'zhengzhou-ai': 'zhengzhou' }, urumqi: { 'urumqi-ai': 'urumqi' } })];
}

async function api(server: { url: string }, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function createTenant(server: ServeProcess, id: string): Promise<string> {
  const created = await api(server, server.operatorKey!, 'POST', '/v1/tenants', { id, name: id, role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.apiKey;
}

/** Short jobs on the Slurm sites only, ready at once. */
function jobs(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `j${i}`,
    class: i % 3 === 2 ? 'batch' : 'training',
    poolClass: i % 3 === 2 ? 'general' : 'ai',
    units: i % 3 === 2 ? 4 : 1 + (i % 4),
    durationS: 600 + (i % 3) * 300,
    release: '2026-06-01T00:00:00Z',
    deadline: '2026-06-01T03:00:00Z',
    origin: i % 2 ? 'zhengzhou' : 'hami',
    allowedSites: i % 3 === 2 ? ['hami'] : ['hami', 'zhengzhou'],
  }));
}

/** Polls the tenant's jobs until none is open; returns them. */
async function waitAllEnded(server: () => ServeProcess, key: string, timeoutMs: number): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = await api(server(), key, 'GET', '/v1/jobs?limit=1000');
    const open = page.body.jobs.filter((j: { status: string }) => !['succeeded', 'failed', 'cancelled', 'missed'].includes(j.status));
    if (open.length === 0) return page.body.jobs;
    if (Date.now() > deadline) throw new Error(`jobs still open: ${JSON.stringify(open.map((j: any) => [j.id, j.status]))}; serve stderr: ${server().stderr().slice(0, 2000)}`);
    await sleep(500);
  }
}

/** The store's run names of a job, from its events. */
async function runRefs(server: ServeProcess, key: string, id: string): Promise<string[]> {
  const events = await api(server, key, 'GET', `/v1/jobs/${id}/events`);
  return events.body.events.filter((e: { name: string }) => e.name === 'startRun' || e.name === 'resumeRun').map((e: { detail: { executorRef: string } }) => e.detail.executorRef);
}

describe('kumul serve on Slurm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kumul-serve-slurm-'));
  chmodSync(dir, 0o755);
  let server: ServeProcess;
  let key = '';
  const tenant = `s${unique}`;

  beforeAll(async () => {
    server = await startServe(serveArgs(dir, 'asap-any'));
    key = await createTenant(server, tenant);
  }, 60_000);

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    if (server) await exited(server.child);
  });

  it('runs jobs submitted through the API as Slurm batch jobs to completion, metered', async () => {
    // One job brings its own command: it becomes the batch script.
    const withCommand = jobs(6).map((j, i) => (i === 0 ? { ...j, command: `echo "$KUMUL_REF ran on $SLURM_JOB_PARTITION" > ${dir}/j0.out; sleep 2` } : j));
    const submitted = await api(server, key, 'POST', '/v1/jobs', { jobs: withCommand });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    expect(submitted.body.jobs[0].command).toMatch(/^echo/);
    const ended = await waitAllEnded(() => server, key, 120_000);
    expect(ended.map((j) => j.status)).toEqual(Array(6).fill('succeeded'));
    const inSlurm = (await slurmJobs(localSlurm())).filter((j) => String(j.name).startsWith(`${server.deploymentId}/${tenant}/`));
    expect(inSlurm).toHaveLength(6);
    for (const spec of jobs(6)) {
      const refs = await runRefs(server, key, String(spec.id));
      expect(refs).toEqual([`${server.deploymentId}/${tenant}/${spec.id}/0`]);
      const job = inSlurm.find((j) => j.name === refs[0])!;
      expect(job.job_state, String(spec.id)).toBe('COMPLETED');
      if (spec.id === 'j0') expect(readFileSync(join(dir, 'j0.out'), 'utf8').trim()).toBe(`${refs[0]} ran on ${job.partition}`);
      expect(spec.poolClass === 'general' ? ['hami-cpu'] : ['hami', 'zhengzhou']).toContain(job.partition);
    }
    // Every run was metered from Slurm's own start and end, mapped onto the service clock.
    const bill = await api(server, key, 'GET', `/v1/tenants/${tenant}/bill?month=2026-06`);
    expect(bill.status, JSON.stringify(bill.body)).toBe(200);
    const metered = await Promise.all(jobs(6).map(async (j) => (await api(server, key, 'GET', `/v1/jobs/${j.id}/events`)).body.events.map((e: { name: string; atMs?: number; at?: string }) => `${e.name}@${e.at ?? e.atMs}`)));
    const db = await openStore(`sqlite:${join(dir, 'kumul.db')}`);
    const rows = await Promise.all(jobs(6).map((j) => db.jobMetering({ tenantId: tenant, jobId: String(j.id) })));
    await db.close();
    metered.push(rows.map((r) => JSON.stringify(r.map((m) => [m.key, new Date(m.startMs).toISOString(), new Date(m.endMs).toISOString()]))));
    expect(bill.body.lines.map((l: { jobId: string }) => l.jobId).sort(), `bill ${JSON.stringify(bill.body)}; events ${JSON.stringify(metered)}; serve stderr ${server.stderr().slice(0, 2000)}`).toEqual(jobs(6).map((j) => j.id).sort());
    for (const line of bill.body.lines) expect(line.energyKWh, line.jobId).toBeGreaterThan(0);
  }, 180_000);

  it('moves work off a site whose node goes down: requeued and re-planned elsewhere within one cycle', async () => {
    // A large input at urumqi makes it the earliest start there; anywhere else waits for the transfer.
    const job = { id: 'outage', class: 'training', poolClass: 'ai', units: 1, durationS: 4 * 3600, release: '2026-06-01T00:00:00Z', deadline: '2026-06-09T00:00:00Z', origin: 'urumqi', inputGb: 5000, allowedSites: ['urumqi', 'zhengzhou'] };
    expect((await api(server, key, 'POST', '/v1/jobs', job)).status).toBe(201);
    const ref = `${server.deploymentId}/${tenant}/outage/0`;
    const runningInSlurm = async () => (await slurmJobs(localSlurm())).find((j) => j.name === ref)?.job_state === 'RUNNING';
    for (let i = 0; i < 120 && !(await runningInSlurm()); i++) await sleep(250);
    expect(await runningInSlurm(), 'the job should run at urumqi first').toBe(true);
    expect((await api(server, key, 'GET', '/v1/jobs/outage/plan')).body.plan.site).toBe('urumqi');

    const downAt = Date.now();
    scontrol('update', 'nodename=urumqi-1', 'state=down', 'reason=site urumqi lost power');
    let moved: any = null;
    try {
      while (Date.now() - downAt < 30_000) {
        const now = (await api(server, key, 'GET', '/v1/jobs/outage/plan')).body;
        if (now.plan?.site === 'zhengzhou') {
          moved = { ...now, events: (await api(server, key, 'GET', '/v1/jobs/outage/events')).body.events };
          break;
        }
        await sleep(100);
      }
    } finally {
      scontrol('update', 'nodename=urumqi-1', 'state=resume');
    }
    const movedAfterS = (Date.now() - downAt) / 1000;
    expect(moved, 'the job was not re-planned at zhengzhou').not.toBeNull();
    // Slurm marks the node down and requeues its job within a second or two; the loop acts at its next tick.
    expect(movedAfterS).toBeLessThan((REPLAN_MINUTES * 60) / SCALE + 3);
    const names: string[] = moved.events.map((e: { name: string }) => e.name);
    expect(names.indexOf('requeueRun')).toBeGreaterThan(names.indexOf('startRun'));
    expect(names.at(-1)).toBe('planJob');
    expect(JSON.stringify(moved.events[names.indexOf('requeueRun')].detail)).toMatch(/urumqi/);
    // The run at urumqi was stopped in Slurm, not left to run when the site comes back.
    const old = (await slurmJobs(localSlurm())).find((j) => j.name === ref)!;
    expect(old.job_state).toBe('CANCELLED');
    expect((await api(server, key, 'POST', '/v1/jobs/outage/cancel')).status).toBe(200);
  }, 120_000);
});

describe('kumul serve on Slurm survives kill -9', () => {
  it('runs every job exactly once in Slurm', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumul-serve-slurm-kill-'));
    const tenant = `k${unique}`;
    const args = serveArgs(dir, 'optimize');
    let server = await startServe(args);
    const key = await createTenant(server, tenant);
    expect((await api(server, key, 'POST', '/v1/jobs', { jobs: jobs(8) })).status).toBe(201);
    for (let kill = 0; kill < 4; kill++) {
      await sleep(700 + ((kill * 977) % 1500));
      server.child.kill('SIGKILL');
      await exited(server.child);
      server = await startServe(args);
    }
    try {
      const ended = await waitAllEnded(() => server, key, 150_000);
      expect(ended.map((j) => j.status)).toEqual(Array(8).fill('succeeded'));
      expect(server.deploymentId).toMatch(/^[a-z2-7]{8}$/);
      const inSlurm = (await slurmJobs(localSlurm())).filter((j) => String(j.name).startsWith(`${server.deploymentId}/${tenant}/`));
      const names = inSlurm.map((j) => String(j.name));
      expect(new Set(names).size, 'a run was submitted to Slurm twice').toBe(names.length);
      const recorded: string[] = [];
      for (const spec of jobs(8)) recorded.push(...(await runRefs(server, key, String(spec.id))));
      expect(names.sort()).toEqual(recorded.sort());
      for (const job of inSlurm) expect(job.job_state, String(job.name)).toBe('COMPLETED');
    } finally {
      server.child.kill('SIGTERM');
      await exited(server.child);
    }
  }, 240_000);
});
