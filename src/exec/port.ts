/**
 * The executor port: how the service hands a decided run to the engine of a site (a simulated one
 * by default, Slurm for real clusters) and follows it. The dispatch loop is its only caller.
 *
 * Runs are named by the service (`ref`, derived from the job), so that after a crash the service can
 * find a run it started but had not yet recorded: `submit` with a known ref returns that run and
 * never starts a second one.
 */
export type RunState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'timeout' | 'node-failure';

export interface RunRequest {
  ref: string;
  tenantId: string;
  jobId: string;
  siteId: string;
  poolId: string;
  units: number;
  /** Work in this run, seconds. */
  durationS: number;
  /** The job's command (a shell script body), when the job gave one; without it the run stands in for the work by waiting its length. */
  command?: string;
}

export interface RunStatus {
  ref: string;
  state: RunState;
  startedMs: number | null;
  endedMs: number | null;
  reason?: string;
}

/** A site's pool that takes no new work now (a drained or down partition): the dispatch loop plans around it. */
export interface Outage {
  siteId: string;
  poolId: string;
  reason: string;
}

export interface Executor {
  readonly name: string;
  /** Starts the run, or returns the run already started under this ref. */
  submit(request: RunRequest, nowMs: number): Promise<RunStatus>;
  /** The run's state now, or null when the executor never saw the ref. */
  status(ref: string, nowMs: number): Promise<RunStatus | null>;
  /** Stops a run; stopping a finished or unknown run does nothing. */
  cancel(ref: string, nowMs: number): Promise<void>;
  /** The pools this executor runs that cannot start work now; read by the dispatch loop at every tick. */
  outages(nowMs: number): Promise<Outage[]>;
}
