/**
 * The demo workload of `kumul serve` (off with `--no-demo`): real jobs from the Alibaba GPU trace,
 * submitted as simulated time passes by two demo tenants, so that a new user sees a living network.
 * Each call of `submitDue` submits the trace's jobs whose (replayed) release has come.
 */
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Job } from '../core/model/types.ts';
import { importAlibabaGpu2023 } from '../jobs/alibaba-gpu-2023.ts';
import type { Store } from '../store/port.ts';

const TRACE = fileURLToPath(new URL('../../datasets/alibaba-gpu-2023/pods.csv', import.meta.url));
export const DEMO_TENANTS = ['demo-lab', 'demo-city'] as const;

/**
 * Where every replay is anchored: round r of the trace starts at DEMO_EPOCH_MS + r × its span, whichever instance
 * submits it and whenever it started, so that jobs keep their ids (`<trace id>-r<round>`) across restarts and changes
 * of leader.
 */
export const DEMO_EPOCH_MS = Date.UTC(2026, 0, 1);

export class DemoWorkload {
  private next = 0;
  private readonly periodMs: number;

  /** Replays the trace from `startMs`, over and over (each round shifted by the trace's span). */
  static async load(startMs: number = DEMO_EPOCH_MS): Promise<DemoWorkload> {
    return new DemoWorkload(await importAlibabaGpu2023(createReadStream(TRACE), TRACE, { startMs }), startMs);
  }

  private constructor(
    private readonly jobs: Job[],
    private readonly startMs: number,
  ) {
    const last = this.jobs[this.jobs.length - 1].releaseMs;
    this.periodMs = last - startMs + 3_600_000;
  }

  /** Creates the demo tenants if they are missing. */
  async ensureTenants(store: Store, nowMs: number): Promise<void> {
    for (const id of DEMO_TENANTS) {
      if (!(await store.getTenant(id))) await store.createTenant({ id, name: `Demo tenant ${id}`, role: 'tenant', maxConcurrentUnits: { ai: 48, general: null, hpc: null } }, nowMs);
    }
  }

  /** Submits every trace job released up to `nowMs` not submitted yet (at most `max` per call); returns how many. */
  async submitDue(store: Store, nowMs: number, max = 200): Promise<number> {
    const batch = new Map<string, ReturnType<typeof toSpec>[]>();
    let count = 0;
    while (count < max) {
      const round = Math.floor(this.next / this.jobs.length);
      const job = this.jobs[this.next % this.jobs.length];
      const shiftMs = round * this.periodMs;
      if (job.releaseMs + shiftMs > nowMs) break;
      this.next++;
      // Jobs released while the service was down are skipped, not replayed in a burst.
      if (job.releaseMs + shiftMs < nowMs - 3_600_000) continue;
      const tenant = DEMO_TENANTS[this.next % DEMO_TENANTS.length];
      const list = batch.get(tenant) ?? [];
      list.push(toSpec(job, round, shiftMs));
      batch.set(tenant, list);
      count++;
    }
    for (const [tenant, specs] of batch) {
      const stored = await store.submitJobs(tenant, specs, nowMs);
      // Some were submitted already (by this instance before a restart, or by an earlier leader): the others one by one.
      if (!stored.ok && stored.code === 'duplicate') for (const spec of specs) await store.submitJobs(tenant, [spec], nowMs);
    }
    return count;
  }

  /** Where replay resumes after a restart: the first trace job after `nowMs`. */
  seek(nowMs: number): void {
    const round = Math.max(0, Math.floor((nowMs - this.startMs) / this.periodMs));
    const shiftMs = round * this.periodMs;
    const index = this.jobs.findIndex((j) => j.releaseMs + shiftMs > nowMs);
    this.next = round * this.jobs.length + (index < 0 ? this.jobs.length : index);
  }
}

function toSpec(job: Job, round: number, shiftMs: number) {
  const { tenant: _tenant, ...rest } = job;
  void _tenant;
  return { ...rest, id: `${job.id}-r${round}`, releaseMs: job.releaseMs + shiftMs, deadlineMs: job.deadlineMs + shiftMs };
}
