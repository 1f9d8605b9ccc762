/**
 * Restart safety of `kumul serve`: the real command runs as a child process on a SQLite file and is
 * killed with SIGKILL at random moments, again and again, then left to finish. No job is lost, every
 * job ends, and no run is started twice: each job's runs are numbered 0, 1, … without repeats, and
 * the executor knows exactly the runs the store recorded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/kysely-store.ts';
import type { JobSpec } from '../../src/store/port.ts';
import { mulberry32 } from '../../src/scenario/random.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const T0 = Date.parse('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;
const SEED = 20261128;

function jobs(): JobSpec[] {
  return Array.from({ length: 14 }, (_, i) => ({
    id: `j${i}`,
    class: i % 3 === 0 ? 'inference' : 'training',
    poolClass: i % 4 === 3 ? 'general' : 'ai',
    units: i % 4 === 3 ? 64 : 1 + (i % 4),
    durationS: 1800 + (i % 5) * 2700,
    releaseMs: T0 + (i % 6) * HOUR,
    deadlineMs: T0 + 40 * HOUR,
    origin: ['beijing', 'hami', 'zhengzhou', 'chongqing'][i % 4],
    inputGb: (i % 3) * 20,
    interruptible: i % 2 === 0,
    allowedSites: null,
  }));
}

function startServe(db: string, data: string): ChildProcess {
  return spawn(
    process.execPath,
    [join(ROOT, 'bin/kumul.js'), 'serve', '--db', `sqlite:${db}`, '--port', '0', '--no-demo', '--time-scale', '3600', '--start', '2026-06-01T00:00Z', '--tick-ms', '40', '--replan-minutes', '30'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (child: ChildProcess) => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));

describe('kumul serve survives kill -9', () => {
  it('loses no job and starts none twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumul-restart-'));
    const db = join(dir, 'kumul.db');
    const data = join(dir, 'data');
    const setup = await openStore(`sqlite:${db}`);
    await setup.createTenant({ id: 'lab', name: 'Lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
    expect((await setup.submitJobs('lab', jobs(), T0)).ok).toBe(true);
    await setup.close();

    const random = mulberry32(SEED);
    for (let kill = 0; kill < 6; kill++) {
      const child = startServe(db, data);
      await sleep(1500 + random() * 2500);
      child.kill('SIGKILL');
      await exited(child);
    }
    const last = startServe(db, data);
    let stderr = '';
    last.stderr!.on('data', (b) => (stderr += String(b)));
    const store = await openStore(`sqlite:${db}`);
    try {
      const deadline = Date.now() + 90_000;
      let open = jobs().length;
      while (Date.now() < deadline && open > 0) {
        await sleep(500);
        const page = await store.listJobs({ tenantId: 'lab', statuses: ['submitted', 'planned', 'transferring', 'running', 'paused'] });
        if (page.ok) open = page.jobs.length;
      }
      last.kill('SIGTERM');
      await exited(last);
      expect(open, `jobs still open; serve stderr: ${stderr.slice(0, 2000)}`).toBe(0);

      const executorRuns = await store.simulatedRunRefs();
      expect(new Set(executorRuns).size, 'the executor started a ref twice').toBe(executorRuns.length);
      const recorded: string[] = [];
      const deploymentId = (await store.deployment(0)).id;
      for (const spec of jobs()) {
        const job = (await store.getJob({ tenantId: 'lab', jobId: spec.id }))!;
        expect(job.status, `${spec.id}`).toBe('succeeded');
        const events = await store.jobEvents({ tenantId: 'lab', jobId: spec.id });
        expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
        const refs = events.filter((e) => e.name === 'startRun' || e.name === 'resumeRun').map((e) => String(e.detail.executorRef));
        expect(refs, `${spec.id} runs`).toEqual(refs.map((_, i) => `${deploymentId}/lab/${spec.id}/${i}`));
        recorded.push(...refs);
        const metering = await store.jobMetering({ tenantId: 'lab', jobId: spec.id });
        expect(metering.length, `${spec.id} metering rows`).toBe(refs.length);
        const unitHours = metering.reduce((h, m) => h + (m.units * (m.endMs - m.startMs)) / HOUR, 0);
        expect(unitHours).toBeCloseTo((spec.units * spec.durationS) / 3600, 3);
      }
      expect(executorRuns.sort()).toEqual(recorded.sort());
    } finally {
      await store.close();
    }
  }, 180_000);
});
