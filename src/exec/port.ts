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
  /** Units one node of the pool has: a run of more units spreads over ceil(units / unitsPerNode) nodes (absent: one node). */
  unitsPerNode?: number;
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

/**
 * The nodes of a pool the service wants awake (`kumul serve --power sleep`): the nodes its work holds now and soon,
 * plus the reserve (src/core/energy/idle.ts, `nodesOn`). The engine powers the others down while idle.
 */
export interface PowerRequest {
  siteId: string;
  poolId: string;
  awakeNodes: number;
  /** What the pool has: its nodes, and the units the service's running work holds there now. */
  nodes: number;
  busyUnits: number;
  unitsPerNode: number;
}

/** The engine refused a run for good (e.g. more GPUs than any node has): the loop fails the job instead of retrying. */
export class RunRejected extends Error {}

export interface Executor {
  readonly name: string;
  /** Starts the run, or returns the run already started under this ref; throws `RunRejected` when the engine refuses it. */
  submit(request: RunRequest, nowMs: number): Promise<RunStatus>;
  /** The run's state now, or null when the executor never saw the ref. */
  status(ref: string, nowMs: number): Promise<RunStatus | null>;
  /** Stops a run; stopping a finished or unknown run does nothing. */
  cancel(ref: string, nowMs: number): Promise<void>;
  /** The pools this executor runs that cannot start work now; read by the dispatch loop at every tick. */
  outages(nowMs: number): Promise<Outage[]>;
  /** Runs a probe script once on one whole node of a pool and returns what it printed (`kumul probe`, POST /v1/probes). */
  runProbe(request: ProbeRequest): Promise<ProbeResult>;
  /**
   * Keeps `awakeNodes` of the pool's nodes awake (more when its work needs them) and puts the others to sleep, waking
   * nodes when more are asked for; returns how many are awake now (waking ones count: they draw power). Absent when
   * the engine cannot power nodes: they all stay on. The dispatch loop calls it at every tick under the sleep policy.
   */
  setAwakeNodes?(request: PowerRequest, nowMs: number): Promise<number>;
}

/**
 * A computing-power probe (src/probe): a benchmark script run once on one whole node of a site's pool, through
 * the executor that runs the site's work. Callers: src/probe/run.ts (the CLI's `kumul probe` and the API's
 * POST /v1/probes). The script's stdout is the result; the executor cleans up after it.
 */
export interface ProbeRequest {
  /** Names the probe's job (unique per probe), e.g. `probe-hami-hami-ai-<ms>`. */
  ref: string;
  siteId: string;
  poolId: string;
  /** A bash script starting with `#!`. */
  script: string;
  /** Longest the script may run once started, seconds; it is stopped after that. */
  timeLimitS: number;
  /** Accelerators one node of the pool has (0 for CPU pools): a probe job asks for all of them. */
  acceleratorsPerNode: number;
  /** Longest to wait for a node before giving up (queueing behind other jobs), seconds; 300 when absent. */
  maxQueueS?: number;
}

export interface ProbeResult {
  /** The script ran to its end and exited 0. */
  ok: boolean;
  state: RunState;
  /** What the script printed on stdout (empty when it never ran). */
  stdout: string;
  /** The node it ran on: Slurm's node name, or this host's name for the simulated executor. */
  node: string | null;
  /** What the engine's own records say the node has, e.g. Slurm's GRES `gpu:a100:8`; null when they say nothing. */
  nodeGres: string | null;
  startedMs: number | null;
  endedMs: number | null;
  /** Why it is not ok: the engine's state and reason, the exit status, the end of stderr. */
  reason?: string;
}
