/**
 * The embedded default executor: runs take exactly their work's time on the service's clock and
 * complete on their own, as on a real cluster, even while the service is down. Its memory of started
 * runs is kept in a JSON file (written before `submit` returns), so a restarted service finds the runs
 * it started — the same guarantee a real engine gives by naming jobs.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Executor, RunRequest, RunStatus } from './port.ts';

interface SimRun {
  request: RunRequest;
  startedMs: number;
  cancelledMs: number | null;
}

export class SimulatedExecutor implements Executor {
  readonly name = 'simulated';
  private readonly runs = new Map<string, SimRun>();

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
    if (known) return statusOf(known, nowMs);
    const run: SimRun = { request, startedMs: nowMs, cancelledMs: null };
    this.runs.set(request.ref, run);
    this.save();
    return statusOf(run, nowMs);
  }

  async status(ref: string, nowMs: number): Promise<RunStatus | null> {
    const run = this.runs.get(ref);
    return run ? statusOf(run, nowMs) : null;
  }

  async cancel(ref: string, nowMs: number): Promise<void> {
    const run = this.runs.get(ref);
    if (!run || run.cancelledMs !== null || statusOf(run, nowMs).state === 'completed') return;
    run.cancelledMs = nowMs;
    this.save();
  }

  private save(): void {
    if (!this.file) return;
    const temp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(temp, JSON.stringify([...this.runs.values()]));
    renameSync(temp, this.file);
  }
}

function statusOf(run: SimRun, nowMs: number): RunStatus {
  const endMs = run.startedMs + run.request.durationS * 1000;
  if (run.cancelledMs !== null && run.cancelledMs < endMs) return { ref: run.request.ref, state: 'cancelled', startedMs: run.startedMs, endedMs: run.cancelledMs };
  if (nowMs >= endMs) return { ref: run.request.ref, state: 'completed', startedMs: run.startedMs, endedMs: endMs };
  return { ref: run.request.ref, state: 'running', startedMs: run.startedMs, endedMs: null };
}
