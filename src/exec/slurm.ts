/**
 * The Slurm executor: runs on a real Slurm cluster through slurmrestd (OpenAPI v0.0.38, JWT headers).
 * The dispatch loop calls it like any executor; each site (and pool) maps to a partition and account.
 *
 * A run is a batch job named after its ref (`<deployment>/<tenant>/<job>/<n>`, src/service/loop.ts runRef; at
 * most 1024 characters in Slurm 22.05, error 2012 beyond). Before submitting, the executor looks for a job with
 * exactly that name, so a restarted service finds the runs it started and never submits one twice, and another
 * deployment on the same cluster (another deployment id) never finds them. The ref → job id cache only saves that
 * lookup; Slurm stays the source of truth.
 *
 * Slurm keeps its own clock: the `nowMs` arguments of the port are ignored and times come from Slurm.
 */
import { RunRejected, type Executor, type Outage, type RunRequest, type RunState, type RunStatus } from './port.ts';
import type { ProbeRequest, ProbeResult } from './port.ts';
import { runSlurmProbe } from './slurm-probe.ts';

/** Where a site's pool runs on the cluster, and whether its units are GPUs or tasks (CPUs). */
export interface SlurmTarget {
  partition: string;
  account?: string;
  units: 'gpus' | 'tasks';
}

export interface SlurmOptions {
  /** slurmrestd base URL, e.g. http://127.0.0.1:6820 */
  url: string;
  user: string;
  /** A JWT for `user` (e.g. from `scontrol token`). */
  token: string;
  /**
   * Gives a fresh token: called a minute before the current one expires (its JWT `exp`), and when slurmrestd
   * refuses it (401/403, or 22.05's HTTP 500 "Unspecified error" for a bad or expired JWT); the call is then retried once.
   */
  renewToken?: () => Promise<string>;
  target(siteId: string, poolId: string): SlurmTarget;
  /** The site pools this cluster runs, whose partitions `outages()` watches. */
  pools: { siteId: string; poolId: string }[];
  /** Real seconds a job without a command waits per second of work (1 in production; 1/time-scale under an accelerated service clock). */
  timeScale?: number;
  /** Maps Slurm's wall-clock instants (epoch ms) onto the service's clock (identity when absent). */
  serviceMs?: (slurmEpochMs: number) => number;
  /** Minutes added to the job's time limit beyond its expected length. */
  timeLimitSlackMin?: number;
  /** Where probe jobs write their output: a directory the nodes and Kumul share (slurm-probe.ts's default when absent). */
  probeDir?: string;
}

/** The fields of a job record the executor reads (GET /job/{id}, GET /jobs). */
interface SlurmJob {
  job_id: number;
  name: string;
  job_state: string;
  state_reason: string;
  start_time: number;
  end_time: number;
}

/** The fields of partition and node records `outages()` reads (GET /partitions, GET /nodes). */
interface SlurmPartition {
  name: string;
  state: string;
}

interface SlurmNode {
  name: string;
  state: string;
  state_flags?: string[];
  partitions?: string[];
  reason?: string;
}

interface Known {
  jobId: number;
  /** Last status seen, kept for when Slurm has purged the finished record (MinJobAge). */
  last: RunStatus | null;
}

const API = '/slurm/v0.0.38';
const UNKNOWN_JOB = 2017;

export class SlurmExecutor implements Executor {
  readonly name = 'slurm';
  private readonly known = new Map<string, Known>();
  private readonly submitting = new Map<string, Promise<RunStatus>>();

  private token: string;

  constructor(private readonly options: SlurmOptions) {
    this.token = options.token;
  }

  submit(request: RunRequest): Promise<RunStatus> {
    // Concurrent submits of one ref share one lookup-then-submit, so even they cannot start two jobs.
    let pending = this.submitting.get(request.ref);
    if (!pending) {
      pending = this.submitOnce(request).finally(() => this.submitting.delete(request.ref));
      this.submitting.set(request.ref, pending);
    }
    return pending;
  }

  async status(ref: string): Promise<RunStatus | null> {
    const known = this.known.get(ref) ?? (await this.recover(ref));
    if (!known) return null;
    const job = await this.job(known.jobId);
    if (!job) return known.last && isFinal(known.last.state) ? known.last : purged(ref, known.jobId);
    known.last = this.toService(statusOf(ref, job));
    return known.last;
  }

  async cancel(ref: string): Promise<void> {
    const status = await this.status(ref);
    if (!status || isFinal(status.state)) return;
    const { jobId } = this.known.get(ref)!;
    const res = await this.call('DELETE', `/job/${jobId}`);
    if (!res.ok && errorNumber(res.body) !== UNKNOWN_JOB) throw slurmError(`cancel job ${jobId}`, res);
  }

  private async submitOnce(request: RunRequest): Promise<RunStatus> {
    const found = (await this.status(request.ref));
    if (found) return found;
    const target = this.options.target(request.siteId, request.poolId);
    // A stand-in waits the work's length on the service's clock; a real command runs at real speed.
    const sleepS = Math.max(0, request.durationS * (this.options.timeScale ?? 1));
    const limitS = request.command === undefined ? sleepS : request.durationS;
    // A held run (a service replica) has no limit of its own (the partition's) and waits until scancel.
    const held = request.holdUntilStopped === true;
    const job: Record<string, unknown> = {
      name: request.ref,
      partition: target.partition,
      ...(target.account ? { account: target.account } : {}),
      ...(target.units === 'tasks' ? { tasks: request.units } : gpusOn(request.units, request.unitsPerNode)),
      ...(held ? {} : { time_limit: Math.ceil(limitS / 60) + (this.options.timeLimitSlackMin ?? 5) }),
      comment: `kumul tenant=${request.tenantId} job=${request.jobId}`,
      current_working_directory: '/tmp',
      standard_output: '/dev/null',
      environment: { PATH: '/usr/bin:/bin', KUMUL_REF: request.ref },
    };
    const script = request.command !== undefined ? `#!/bin/bash\n${request.command}\n` : held ? '#!/bin/bash\nexec sleep infinity\n' : `#!/bin/bash\nexec sleep ${sleepS.toFixed(3)}\n`;
    const res = await this.call('POST', '/job/submit', { script, job });
    // errors[] may be non-empty on success (e.g. 2068 "nodes not available": the job waits): job_id decides.
    const jobId = (res.body as { job_id?: number } | null)?.job_id;
    if (!res.ok || typeof jobId !== 'number') {
      const error = slurmError(`submit ${request.ref} to ${target.partition}`, res);
      throw refusesJob(res) ? new RunRejected(error.message) : error;
    }
    this.known.set(request.ref, { jobId, last: null });
    return (await this.status(request.ref)) ?? { ref: request.ref, state: 'pending', startedMs: null, endedMs: null };
  }

  /** Finds the job named `ref` in Slurm (after a restart, or for a ref this instance never submitted). */
  private async recover(ref: string): Promise<Known | null> {
    const res = await this.call('GET', '/jobs');
    if (!res.ok) throw slurmError('list jobs', res);
    const jobs = ((res.body as { jobs?: SlurmJob[] }).jobs ?? []).filter((j) => j.name === ref);
    if (jobs.length === 0) return null;
    const job = jobs.reduce((a, b) => (b.job_id > a.job_id ? b : a));
    const known = { jobId: job.job_id, last: this.toService(statusOf(ref, job)) };
    this.known.set(ref, known);
    return known;
  }

  /** The job's record, or null when Slurm does not know (or no longer knows) its id. */
  private async job(jobId: number): Promise<SlurmJob | null> {
    const res = await this.call('GET', `/job/${jobId}`);
    if (!res.ok && errorNumber(res.body) === UNKNOWN_JOB) return null;
    if (!res.ok) throw slurmError(`read job ${jobId}`, res);
    return (res.body as { jobs: SlurmJob[] }).jobs[0] ?? null;
  }

  /**
   * Pools whose partition takes no new work: the partition is not UP, or none of its nodes is usable
   * (down, drained or draining, failing, not responding). Running jobs on draining nodes go on; the
   * dispatch loop re-plans what has not started.
   */
  async outages(): Promise<Outage[]> {
    const [partitions, nodes] = await Promise.all([this.call('GET', '/partitions'), this.call('GET', '/nodes')]);
    if (!partitions.ok) throw slurmError('list partitions', partitions);
    if (!nodes.ok) throw slurmError('list nodes', nodes);
    const byName = new Map(((partitions.body as { partitions?: SlurmPartition[] }).partitions ?? []).map((p) => [p.name, p]));
    const nodeList = (nodes.body as { nodes?: SlurmNode[] }).nodes ?? [];
    const outages: Outage[] = [];
    for (const { siteId, poolId } of this.options.pools) {
      const { partition } = this.options.target(siteId, poolId);
      const reason = partitionOutage(partition, byName.get(partition), nodeList);
      if (reason) outages.push({ siteId, poolId, reason });
    }
    return outages;
  }

  /** The port's times are on the service's clock. */
  private toService(status: RunStatus): RunStatus {
    const map = this.options.serviceMs;
    if (!map) return status;
    return { ...status, startedMs: status.startedMs === null ? null : map(status.startedMs), endedMs: status.endedMs === null ? null : map(status.endedMs) };
  }

  private async call(method: string, path: string, body?: unknown): Promise<{ ok: boolean; status: number; body: unknown }> {
    const renew = this.options.renewToken;
    if (renew && Date.now() > tokenExpiryMs(this.token) - 60_000) this.token = await renew();
    let res = await this.send(method, path, body);
    if (renew && refusedToken(res)) {
      this.token = await renew();
      res = await this.send(method, path, body);
    }
    return res;
  }

  private async send(method: string, path: string, body: unknown): Promise<{ ok: boolean; status: number; body: unknown }> {
    const res = await fetch(`${this.options.url}${API}${path}`, {
      method,
      headers: {
        'X-SLURM-USER-NAME': this.options.user,
        'X-SLURM-USER-TOKEN': this.token,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { errors: [{ error: text.slice(0, 200) }] };
    }
    return { ok: res.ok, status: res.status, body: parsed };
  }

  /** A probe job on one whole node of the pool's partition, output through the probe directory (slurm-probe.ts). */
  runProbe(request: ProbeRequest): Promise<ProbeResult> {
    const target = this.options.target(request.siteId, request.poolId);
    return runSlurmProbe(request, { ...target, probeDir: this.options.probeDir, call: (method, path, body) => this.call(method, path, body) });
  }
}

const STATES: Record<string, RunState> = {
  PENDING: 'pending', REQUEUED: 'pending', REQUEUE_HOLD: 'pending', REQUEUE_FED: 'pending', CONFIGURING: 'pending',
  RUNNING: 'running', COMPLETING: 'running', SUSPENDED: 'running', STOPPED: 'running', SIGNALING: 'running',
  RESIZING: 'running', STAGE_OUT: 'running',
  COMPLETED: 'completed', CANCELLED: 'cancelled', TIMEOUT: 'timeout', NODE_FAIL: 'node-failure',
  FAILED: 'failed', BOOT_FAIL: 'failed', DEADLINE: 'failed', OUT_OF_MEMORY: 'failed', PREEMPTED: 'failed',
};

/** Maps a Slurm job record onto the port's status (Slurm times are epoch seconds, 0 when unset). */
export function statusOf(ref: string, job: SlurmJob): RunStatus {
  const state = STATES[job.job_state] ?? 'failed';
  const started = state !== 'pending' && job.start_time > 0 ? job.start_time * 1000 : null;
  const ended = isFinal(state) && job.end_time > 0 ? job.end_time * 1000 : null;
  const reason = job.state_reason && job.state_reason !== 'None' ? job.state_reason : undefined;
  return { ref, state, startedMs: started, endedMs: ended, ...(reason ? { reason: `${job.job_state}: ${reason}` } : {}) };
}

const UNUSABLE_NODE_STATES = new Set(['down', 'drained', 'fail', 'future', 'unknown']);
const UNUSABLE_NODE_FLAGS = new Set(['DRAIN', 'FAIL', 'NOT_RESPONDING', 'MAINTENANCE', 'POWERED_DOWN', 'POWERING_DOWN']);

/** Why a partition takes no new work, or null when it does (some node usable and the partition UP). */
export function partitionOutage(name: string, partition: SlurmPartition | undefined, nodes: SlurmNode[]): string | null {
  if (!partition) return `partition ${name} does not exist`;
  if (partition.state !== 'UP') return `partition ${name} is ${partition.state}`;
  const members = nodes.filter((n) => n.partitions?.includes(name));
  if (members.length === 0) return `partition ${name} has no nodes`;
  const usable = members.filter((n) => !UNUSABLE_NODE_STATES.has(n.state.toLowerCase()) && !(n.state_flags ?? []).some((f) => UNUSABLE_NODE_FLAGS.has(f)));
  if (usable.length > 0) return null;
  const reasons = [...new Set(members.map((n) => `${n.state}${n.state_flags?.length ? `+${n.state_flags.join('+')}` : ''}${n.reason ? ` (${n.reason})` : ''}`))];
  return `every node of partition ${name} is unusable: ${reasons.join(', ')}`;
}

/** GPUs as Slurm takes them: `nodes` nodes with the same count each (GRES is per node), enough for `units`; one task per node. */
function gpusOn(units: number, perNode: number | undefined): { nodes: number; tasks: number; gres: string } {
  const nodes = perNode && units > perNode ? Math.ceil(units / perNode) : 1;
  return { nodes, tasks: nodes, gres: `gpu:${Math.ceil(units / nodes)}` };
}

/** A JWT's `exp` in epoch ms (Infinity when it has none or is not a JWT: then only a refusal renews it). */
export function tokenExpiryMs(token: string): number {
  try {
    const exp = (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : Infinity;
  } catch {
    return Infinity;
  }
}

/**
 * Whether a failed submission refuses this job for good (a malformed request, or one of Slurm's job-request errors
 * 2000-2099: no such partition, more resources than a node has, a bad account), rather than the cluster failing now
 * (an inactive partition, 2070, is an outage; a controller that does not answer, a refused token: errors to retry).
 */
function refusesJob(res: { status: number; body: unknown }): boolean {
  const n = errorNumber(res.body);
  return res.status === 400 || (n !== undefined && n >= 2000 && n < 2100 && n !== PARTITION_NOT_AVAILABLE);
}

const PARTITION_NOT_AVAILABLE = 2070;

/** slurmrestd 22.05 answers a bad or expired JWT with 401/403, or with HTTP 500 and error -1 "Unspecified error". */
function refusedToken(res: { status: number; body: unknown }): boolean {
  return res.status === 401 || res.status === 403 || (res.status === 500 && errorNumber(res.body) === -1);
}

function isFinal(state: RunState): boolean {
  return state !== 'pending' && state !== 'running';
}

function purged(ref: string, jobId: number): RunStatus {
  return { ref, state: 'failed', startedMs: null, endedMs: null, reason: `Slurm purged job ${jobId} before its end was seen` };
}

function errorNumber(body: unknown): number | undefined {
  const e = (body as { errors?: { error_number?: number; error_code?: number }[] } | null)?.errors?.[0];
  return e?.error_number ?? e?.error_code;
}

function slurmError(what: string, res: { status: number; body: unknown }): Error {
  const errors = (res.body as { errors?: { error?: string; description?: string }[] } | null)?.errors ?? [];
  const text = errors.map((e) => [e.error, e.description].filter(Boolean).join(': ')).join('; ');
  return new Error(`slurm: ${what} failed (HTTP ${res.status}${text ? `: ${text}` : ''})`);
}
