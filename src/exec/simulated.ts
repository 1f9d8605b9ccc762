/**
 * The embedded default executor: runs take exactly their work's time on the service's clock and
 * complete on their own, as on a real cluster, even while the service is down. Its memory of started
 * runs is kept in a JSON file (written before `submit` returns), so a restarted service finds the runs
 * it started — the same guarantee a real engine gives by naming jobs. Runs are known by the same refs as Slurm's
 * job names (`<deployment>/<tenant>/<job>/<n>`), so a data directory copied with its store keeps the runs of the
 * deployment that started them apart from those of a copy given a new deployment id.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { runLocalProbe } from './local-probe.ts';
import type { Executor, Outage, RunRequest, RunStatus } from './port.ts';
import type { ProbeRequest, ProbeResult } from './port.ts';

interface SimRun {
  request: RunRequest;
  /** Null while the run waits for its pool to come back from an outage. */
  startedMs: number | null;
  cancelledMs: number | null;
}

export class SimulatedExecutor implements Executor {
  readonly name = 'simulated';
  private readonly runs = new Map<string, SimRun>();
  /** Pools taken out by `setOutage`, by `site/pool`. */
  private readonly out = new Map<string, Outage>();

  /** `file`: where runs are remembered across restarts; null keeps them in memory only (tests). */
  constructor(private readonly file: string | null) {
    if (file) {
      try {
        for (const run of JSON.parse(readFileSync(file, 'utf8')) as SimRun[]) this.runs.set(run.request.ref, run);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }

  async submit(request: RunRequest, nowMs: number): Promise<RunStatus> {
    const known = this.runs.get(request.ref);
    if (known) return this.statusOf(known, nowMs);
    const run: SimRun = { request, startedMs: this.isOut(request) ? null : nowMs, cancelledMs: null };
    this.runs.set(request.ref, run);
    this.save();
    return this.statusOf(run, nowMs);
  }

  async status(ref: string, nowMs: number): Promise<RunStatus | null> {
    const run = this.runs.get(ref);
    return run ? this.statusOf(run, nowMs) : null;
  }

  async cancel(ref: string, nowMs: number): Promise<void> {
    const run = this.runs.get(ref);
    if (!run || run.cancelledMs !== null || this.statusOf(run, nowMs).state === 'completed') return;
    run.cancelledMs = nowMs;
    this.save();
  }

  async outages(): Promise<Outage[]> {
    return [...this.out.values()];
  }

  /** Takes a simulated site's pool out of service (reason) or back in (null): runs not yet started there are re-planned by the loop. */
  setOutage(siteId: string, poolId: string, reason: string | null): void {
    if (reason === null) this.out.delete(`${siteId}/${poolId}`);
    else this.out.set(`${siteId}/${poolId}`, { siteId, poolId, reason });
  }

  private save(): void {
    if (!this.file) return;
    const temp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(temp, JSON.stringify([...this.runs.values()]));
    renameSync(temp, this.file);
  }

  private isOut(request: RunRequest): boolean {
    return this.out.has(`${request.siteId}/${request.poolId}`);
  }

  /** A run waiting out an outage starts when its pool is back (seen at the next look). */
  private statusOf(run: SimRun, nowMs: number): RunStatus {
    if (run.startedMs === null && run.cancelledMs === null && !this.isOut(run.request)) {
      run.startedMs = nowMs;
      this.save();
    }
    return statusOf(run, nowMs);
  }

  /**
   * The simulated sites are this machine: a probe runs its script here as a child process (bash), with the
   * machine's CPUs and no accelerators, and is stopped (the whole process group) after `timeLimitS`.
   */
  async runProbe(request: ProbeRequest): Promise<ProbeResult> {
    return runLocalProbe(request);
  }
}

function statusOf(run: SimRun, nowMs: number): RunStatus {
  if (run.startedMs === null) {
    return run.cancelledMs === null
      ? { ref: run.request.ref, state: 'pending', startedMs: null, endedMs: null, reason: 'waiting for its pool to come back' }
      : { ref: run.request.ref, state: 'cancelled', startedMs: null, endedMs: run.cancelledMs };
  }
  const endMs = run.startedMs + run.request.durationS * 1000;
  if (run.cancelledMs !== null && run.cancelledMs < endMs) return { ref: run.request.ref, state: 'cancelled', startedMs: run.startedMs, endedMs: run.cancelledMs };
  if (nowMs >= endMs) return { ref: run.request.ref, state: 'completed', startedMs: run.startedMs, endedMs: endMs };
  return { ref: run.request.ref, state: 'running', startedMs: run.startedMs, endedMs: null };
}
