/**
 * How the Slurm executor runs a probe (`SlurmExecutor.runProbe`): one batch job on one whole node of the
 * pool's partition (`exclusive`, all of the node's GPUs when the pool's units are GPUs), its stdout and
 * stderr written to files in the probe directory — on a real site a shared filesystem that Kumul and the
 * nodes both see — polled until it ends, read, and removed. The node's GRES comes from Slurm's node records.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProbeRequest, ProbeResult, RunState } from './port.ts';

/** Where probe output goes when the executors file names no `probeDir`: only right when Slurm runs on this host. */
export const DEFAULT_PROBE_DIR = join(tmpdir(), 'kumul-probes');

type Call = (method: string, path: string, body?: unknown) => Promise<{ ok: boolean; status: number; body: unknown }>;

export interface SlurmProbeContext {
  partition: string;
  account?: string;
  units: 'gpus' | 'tasks';
  probeDir?: string;
  call: Call;
  /** Between polls of the job, ms (500 when absent). */
  pollMs?: number;
}

/** The job and node fields a probe reads. */
interface ProbeJob {
  job_id: number;
  job_state: string;
  state_reason?: string;
  batch_host?: string;
  nodes?: string;
  exit_code?: number;
  start_time?: number;
  end_time?: number;
}

interface ProbeNode {
  name: string;
  gres?: string;
  partitions?: string[];
}

const UNKNOWN_JOB = 2017;
const FINAL: Record<string, RunState> = { COMPLETED: 'completed', CANCELLED: 'cancelled', TIMEOUT: 'timeout', NODE_FAIL: 'node-failure', FAILED: 'failed', BOOT_FAIL: 'failed', DEADLINE: 'failed', OUT_OF_MEMORY: 'failed', PREEMPTED: 'failed' };
/** Slurm enforces time limits up to ~30 s late (notes/slurm-on-one-host.md §6); Kumul waits that much more. */
const ENFORCEMENT_SLACK_S = 60;

export async function runSlurmProbe(request: ProbeRequest, c: SlurmProbeContext): Promise<ProbeResult> {
  const dir = c.probeDir ?? DEFAULT_PROBE_DIR;
  // A backslash makes Slurm take the output path literally (no %j): Kumul would then look for a file that is not there.
  if (dir.includes('\\')) return { ok: false, state: 'failed', stdout: '', node: null, nodeGres: null, startedMs: null, endedMs: null, reason: `probe directory ${dir} contains a backslash, which Slurm's output paths cannot hold` };
  mkdirSync(dir, { recursive: true });
  const gres = await partitionGres(c);
  const gpus = c.units === 'gpus' && request.acceleratorsPerNode > 0 ? gpuCount(gres) : 0;
  const base = `${request.ref.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  const job: Record<string, unknown> = {
    name: request.ref,
    partition: c.partition,
    ...(c.account ? { account: c.account } : {}),
    exclusive: 'exclusive',
    nodes: 1,
    tasks: 1,
    ...(gpus > 0 ? { gres: `gpu:${gpus}` } : {}),
    time_limit: Math.max(1, Math.ceil(request.timeLimitS / 60)),
    comment: `kumul probe site=${request.siteId} pool=${request.poolId}`,
    current_working_directory: dir,
    // Slurm expands %-patterns in these paths (%j: the job id), so a % in the directory's own name is written %%.
    standard_output: join(dir.replaceAll('%', '%%'), `${base}-%j.out`),
    standard_error: join(dir.replaceAll('%', '%%'), `${base}-%j.err`),
    environment: { PATH: '/usr/local/bin:/usr/bin:/bin', KUMUL_PROBE: request.ref },
  };
  const res = await c.call('POST', '/job/submit', { script: request.script, job });
  const jobId = (res.body as { job_id?: number } | null)?.job_id;
  if (!res.ok || typeof jobId !== 'number') {
    return { ok: false, state: 'failed', stdout: '', node: null, nodeGres: gres, startedMs: null, endedMs: null, reason: `Slurm refused the probe job on partition ${c.partition}: ${errorText(res)}` };
  }
  const outFile = join(dir, `${base}-${jobId}.out`);
  const errFile = join(dir, `${base}-${jobId}.err`);
  try {
    const submittedMs = Date.now();
    let startedMs: number | null = null;
    let last: ProbeJob | null = null;
    let gaveUp: string | null = null;
    for (;;) {
      const read = await c.call('GET', `/job/${jobId}`);
      if (!read.ok && errorNumber(read.body) === UNKNOWN_JOB) break; // purged after its end (MinJobAge)
      if (!read.ok) throw new Error(`slurm: read probe job ${jobId} failed (HTTP ${read.status}: ${errorText(read)})`);
      last = (read.body as { jobs: ProbeJob[] }).jobs[0] ?? null;
      if (!last || FINAL[last.job_state]) break;
      const now = Date.now();
      if (last.job_state === 'RUNNING' && startedMs === null) startedMs = now;
      if (gaveUp === null && startedMs === null && now - submittedMs > (request.maxQueueS ?? 300) * 1000) {
        gaveUp = `no node of partition ${c.partition} was free for the probe within ${request.maxQueueS ?? 300} s (${last.job_state}${last.state_reason && last.state_reason !== 'None' ? `: ${last.state_reason}` : ''})`;
      }
      if (gaveUp === null && startedMs !== null && now - startedMs > (request.timeLimitS + ENFORCEMENT_SLACK_S) * 1000) gaveUp = `the probe ran longer than ${request.timeLimitS} s`;
      if (gaveUp !== null) {
        await c.call('DELETE', `/job/${jobId}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, c.pollMs ?? 500));
    }
    const stdout = readIfThere(outFile);
    const stderr = readIfThere(errFile) ?? '';
    const state: RunState = gaveUp ? 'timeout' : last ? (FINAL[last.job_state] ?? 'failed') : 'completed';
    if (stdout === null && state === 'completed') {
      const reason = `probe job ${jobId} completed but its output ${outFile} is not there: the probe directory must be one the nodes and Kumul share`;
      return { ok: false, state: 'failed', stdout: '', node: last?.batch_host || last?.nodes || null, nodeGres: gres, startedMs: last?.start_time ? last.start_time * 1000 : startedMs, endedMs: Date.now(), reason };
    }
    const node = last?.batch_host || last?.nodes || null;
    const started = last?.start_time ? last.start_time * 1000 : startedMs;
    const ended = last?.end_time && FINAL[last.job_state] ? last.end_time * 1000 : Date.now();
    const ok = state === 'completed' && !gaveUp;
    const exit = last?.exit_code;
    const reason = ok
      ? undefined
      : gaveUp ??
        [`probe job ${jobId} ended ${last?.job_state ?? 'unknown'}`, last?.state_reason && last.state_reason !== 'None' ? last.state_reason : null, exit ? `exit status ${exit >> 8}${exit & 0x7f ? ` (signal ${exit & 0x7f})` : ''}` : null, stderr.trim() ? stderr.trim().slice(-300) : null]
          .filter(Boolean)
          .join(': ');
    return { ok, state, stdout: stdout ?? '', node, nodeGres: gres, startedMs: started ?? null, endedMs: ended, ...(reason ? { reason } : {}) };
  } catch (err) {
    // Kumul stops following the job (slurmrestd failed or went away): cancel it rather than leave it holding a whole node.
    await c.call('DELETE', `/job/${jobId}`).catch(() => undefined);
    throw err;
  } finally {
    rmSync(outFile, { force: true });
    rmSync(errFile, { force: true });
  }
}

/** The GRES of the partition's nodes (`gpu:a100:8`), from Slurm's node records; null when they have none. */
async function partitionGres(c: SlurmProbeContext): Promise<string | null> {
  const res = await c.call('GET', '/nodes');
  if (!res.ok) throw new Error(`slurm: list nodes failed (HTTP ${res.status}: ${errorText(res)})`);
  const nodes = ((res.body as { nodes?: ProbeNode[] }).nodes ?? []).filter((n) => n.partitions?.includes(c.partition));
  const gres = nodes.map((n) => n.gres ?? '').find((g) => g !== '' && g !== '(null)');
  return gres ?? null;
}

/** GPUs in a GRES string: `gpu:a100:8` → 8, `gpu:4(S:0),gpu:t4:2` → 6, none → 0. */
export function gpuCount(gres: string | null): number {
  if (!gres) return 0;
  let total = 0;
  for (const part of gres.split(',')) {
    const fields = part.replace(/\(.*\)$/, '').split(':');
    if (fields[0] !== 'gpu') continue;
    const count = Number(fields.at(-1));
    total += Number.isInteger(count) && fields.length > 1 ? count : 1;
  }
  return total;
}

/** A file's text, or null when it does not exist. */
function readIfThere(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function errorNumber(body: unknown): number | undefined {
  const e = (body as { errors?: { error_number?: number; error_code?: number }[] } | null)?.errors?.[0];
  return e?.error_number ?? e?.error_code;
}

function errorText(res: { status: number; body: unknown }): string {
  const errors = (res.body as { errors?: { error?: string; description?: string }[] } | null)?.errors ?? [];
  return errors.map((e) => [e.error, e.description].filter(Boolean).join(': ')).join('; ') || `HTTP ${res.status}`;
}
