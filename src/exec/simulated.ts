/**
 * The embedded default executor: runs take exactly their work's time on the service's clock and
 * complete on their own, as on a real cluster, even while the service is down. Its runs are kept in the
 * store (written before `submit` returns), so a restarted service, or another instance that takes over the
 * dispatch loop, finds the runs that were started — the same guarantee a real engine gives by naming jobs.
 * Runs are known by the same refs as Slurm's job names (`<deployment>/<tenant>/<job>/<n>`), so a copy of the store
 * given a new deployment id keeps its runs apart from those of the deployment it was copied from.
 */
import { runLocalProbe } from './local-probe.ts';
import type { Executor, Outage, PowerRequest, RunRequest, RunStatus } from './port.ts';
import type { ProbeRequest, ProbeResult } from './port.ts';
import type { SimulatedRunRecord, Store } from '../store/port.ts';

interface SimRun {
  ref: string;
  request: RunRequest;
  /** Null while the run waits for its pool to come back from an outage. */
  startedMs: number | null;
  cancelledMs: number | null;
}

/** Where the simulated executor keeps its runs: the store's (Store.putSimulatedRun, simulatedRun), or a map in memory. */
export type SimulatedRunBook = Pick<Store, 'putSimulatedRun' | 'simulatedRun' | 'simulatedRunRefs'>;

/** A run book in memory, for tests and one-off commands (`kumul probe`). */
export function memoryRunBook(): SimulatedRunBook {
  const runs = new Map<string, SimulatedRunRecord>();
  return {
    putSimulatedRun: async (run) => void runs.set(run.ref, structuredClone(run)),
    simulatedRun: async (ref) => structuredClone(runs.get(ref) ?? null),
    simulatedRunRefs: async () => [...runs.keys()].sort(),
  };
}

export class SimulatedExecutor implements Executor {
  readonly name = 'simulated';
  /** Pools taken out by `setOutage`, by `site/pool`. */
  private readonly out = new Map<string, Outage>();

  constructor(private readonly book: SimulatedRunBook = memoryRunBook()) {}

  async submit(request: RunRequest, nowMs: number): Promise<RunStatus> {
    const known = await this.run(request.ref);
    if (known) return this.statusOf(known, nowMs);
    const run: SimRun = { ref: request.ref, request, startedMs: this.isOut(request) ? null : nowMs, cancelledMs: null };
    await this.book.putSimulatedRun(run);
    return this.statusOf(run, nowMs);
  }

  async status(ref: string, nowMs: number): Promise<RunStatus | null> {
    const run = await this.run(ref);
    return run ? this.statusOf(run, nowMs) : null;
  }

  async cancel(ref: string, nowMs: number): Promise<void> {
    const run = await this.run(ref);
    if (!run || run.cancelledMs !== null || (await this.statusOf(run, nowMs)).state === 'completed') return;
    run.cancelledMs = nowMs;
    await this.book.putSimulatedRun(run);
  }

  private async run(ref: string): Promise<SimRun | null> {
    return (await this.book.simulatedRun(ref)) as SimRun | null;
  }

  async outages(): Promise<Outage[]> {
    return [...this.out.values()];
  }

  /** The simulated sites' nodes power up and down at once: every node its running work needs, and the nodes asked for. */
  async setAwakeNodes(request: PowerRequest): Promise<number> {
    return Math.min(request.nodes, Math.max(request.awakeNodes, Math.ceil(request.busyUnits / request.unitsPerNode - 1e-9)));
  }

  /** Takes a simulated site's pool out of service (reason) or back in (null): runs not yet started there are re-planned by the loop. */
  setOutage(siteId: string, poolId: string, reason: string | null): void {
    if (reason === null) this.out.delete(`${siteId}/${poolId}`);
    else this.out.set(`${siteId}/${poolId}`, { siteId, poolId, reason });
  }

  private isOut(request: RunRequest): boolean {
    return this.out.has(`${request.siteId}/${request.poolId}`);
  }

  /** A run waiting out an outage starts when its pool is back (seen at the next look). */
  private async statusOf(run: SimRun, nowMs: number): Promise<RunStatus> {
    if (run.startedMs === null && run.cancelledMs === null && !this.isOut(run.request)) {
      run.startedMs = nowMs;
      await this.book.putSimulatedRun(run);
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
