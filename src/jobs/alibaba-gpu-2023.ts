/**
 * Import of Alibaba's GPU-cluster trace cluster-trace-gpu-v2023 (Weng et al., USENIX ATC 2023, CC BY 4.0):
 * its pod list becomes Kumul jobs, for realistic plans, simulations and benchmarks
 * (`kumul jobs import --format alibaba-gpu-2023`). The mapping and its reasons are in docs/jobs-format.md.
 */
import type { Job, JobClass } from '../core/model/types.ts';
import type { CsvInput } from '../csv/read.ts';
import { IssueCollector } from './errors.ts';
import * as field from './fields.ts';
import { parseInstantMs } from './instant.ts';
import { allParsed, readTable, type TableRow } from './table.ts';
import { parseWeightedSites, pickWeighted, stableHash32, type WeightedSite } from './weighted-pick.ts';

export const ALIBABA_GPU_2023_COLUMNS = [
  'name',
  'cpu_milli',
  'memory_mib',
  'num_gpu',
  'gpu_milli',
  'gpu_spec',
  'qos',
  'pod_phase',
  'creation_time',
  'deletion_time',
  'scheduled_time',
] as const;

/** LS: latency-sensitive (online services); BE: best effort (batch, preemptible); the other two are Kubernetes' own classes. */
export const ALIBABA_QOS = ['LS', 'BE', 'Burstable', 'Guaranteed'] as const;
type Qos = (typeof ALIBABA_QOS)[number];

const HOUR_S = 3600;
const DAY_S = 86_400;

interface QosRule {
  /** Class of a GPU pod; a CPU-only pod of class training is a batch job. */
  class: JobClass;
  interruptible: boolean;
  /** Time the job may wait beyond its run time: deadline = release + duration + slack. */
  slackS: (durationS: number) => number;
}

/** Online work must start within the hour (one slot of the coarsest grid); batch work may wait a day, or its own length when longer. */
const TIGHT_SLACK = (): number => HOUR_S;
const DAY_SLACK = (durationS: number): number => Math.max(DAY_S, durationS);

export const QOS_RULES: Record<Qos, QosRule> = {
  LS: { class: 'inference', interruptible: false, slackS: TIGHT_SLACK },
  Guaranteed: { class: 'inference', interruptible: false, slackS: TIGHT_SLACK },
  Burstable: { class: 'training', interruptible: false, slackS: DAY_SLACK },
  BE: { class: 'training', interruptible: true, slackS: DAY_SLACK },
};

export const DEFAULT_START = '2026-06-01T00:00:00Z';
/** Where tenants' data is assumed to be: mostly the eastern cities linked to Hami by data networks (docs/jobs-format.md). */
export const DEFAULT_ORIGINS = 'hami:15|zhengzhou:20|beijing:30|chongqing:15|urumqi:10|qingyang:10';
/** The trace names no users; Hami's centre serves "more than 10 enterprises": pods map to this many tenants. */
export const TENANT_COUNT = 12;

export interface AlibabaImportOptions {
  /** Instant the trace's observation window opens at; default DEFAULT_START. */
  startMs?: number;
  /** Keep only the first `limit` jobs by release time. */
  limit?: number;
  /** Origin sites and their weights; default DEFAULT_ORIGINS. */
  origins?: WeightedSite[];
}

export interface AlibabaImport {
  jobs: Job[];
  /** Pods in the file. */
  pods: number;
  /** Pods not turned into jobs, by reason. */
  dropped: { neverScheduled: number; noRunTimeInWindow: number };
  /** Trace time (s) the observation window opens at: the first deletion in the file. */
  windowStartS: number;
  /** Jobs before `limit` was applied. */
  jobsBeforeLimit: number;
  /** Jobs (before `limit`) of pods sharing a GPU (gpu_milli < 1000), which become 1 whole GPU, and what that costs. */
  sharedGpu: { jobs: number; gpuHoursAsWhole: number; gpuHoursRequested: number };
}

interface Pod {
  name: string;
  cpuMilli: number;
  memoryMib: number;
  numGpu: number;
  gpuMilli: number;
  qos: Qos;
  creationS: number;
  deletionS: number;
  scheduledS: number | null;
}

/** The jobs of an alibaba-gpu-2023 pod list; `file` names it in errors (a JobsFileError naming line and column). */
export async function importAlibabaGpu2023(input: CsvInput, file: string, opts: AlibabaImportOptions = {}): Promise<Job[]> {
  return (await importAlibabaGpu2023Detailed(input, file, opts)).jobs;
}

/** As importAlibabaGpu2023, with the counts the CLI reports (pods read, dropped and why, window start). */
export async function importAlibabaGpu2023Detailed(input: CsvInput, file: string, opts: AlibabaImportOptions = {}): Promise<AlibabaImport> {
  const pods = await readPods(input, file);
  const startMs = opts.startMs ?? (parseInstantMs(DEFAULT_START) as number);
  const origins = opts.origins ?? parseWeightedSites(DEFAULT_ORIGINS);
  const windowStartS = pods.reduce((min, p) => Math.min(min, p.deletionS), Infinity);
  const dropped = { neverScheduled: 0, noRunTimeInWindow: 0 };
  const sharedGpu = { jobs: 0, gpuHoursAsWhole: 0, gpuHoursRequested: 0 };
  const jobs: Job[] = [];
  for (const pod of pods) {
    if (pod.scheduledS === null) {
      dropped.neverScheduled++;
      continue;
    }
    const durationS = pod.deletionS - Math.max(pod.scheduledS, windowStartS);
    if (durationS <= 0) {
      dropped.noRunTimeInWindow++;
      continue;
    }
    const releaseMs = startMs + Math.round(Math.max(0, pod.creationS - windowStartS) * 1000);
    jobs.push(podToJob(pod, durationS, releaseMs, origins));
    if (pod.numGpu === 1 && pod.gpuMilli < 1000) {
      sharedGpu.jobs++;
      sharedGpu.gpuHoursAsWhole += durationS / HOUR_S;
      sharedGpu.gpuHoursRequested += ((pod.gpuMilli / 1000) * durationS) / HOUR_S;
    }
  }
  jobs.sort((a, b) => a.releaseMs - b.releaseMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    jobs: opts.limit === undefined ? jobs : jobs.slice(0, opts.limit),
    pods: pods.length,
    dropped,
    windowStartS: pods.length > 0 ? windowStartS : 0,
    jobsBeforeLimit: jobs.length,
    sharedGpu,
  };
}

function podToJob(pod: Pod, durationS: number, releaseMs: number, origins: WeightedSite[]): Job {
  const rule = QOS_RULES[pod.qos];
  const cpuOnly = pod.numGpu === 0;
  return {
    id: pod.name,
    tenant: tenantOf(pod),
    class: cpuOnly && rule.class === 'training' ? 'batch' : rule.class,
    poolClass: cpuOnly ? 'general' : 'ai',
    units: cpuOnly ? Math.ceil(pod.cpuMilli / 1000) : pod.numGpu,
    durationS,
    releaseMs,
    deadlineMs: releaseMs + Math.round((durationS + rule.slackS(durationS)) * 1000),
    origin: pickWeighted(pod.name, origins).site,
    inputGb: Math.round((pod.memoryMib / 1024) * 1000) / 1000,
    interruptible: rule.interruptible,
    allowedSites: null,
  };
}

/** Pods of the same request shape are likely replicas of one workload, so they share a tenant: t01 … t12. */
function tenantOf(pod: Pod): string {
  const shape = `${pod.cpuMilli}/${pod.memoryMib}/${pod.numGpu}/${pod.qos}`;
  return `t${String((stableHash32(shape) % TENANT_COUNT) + 1).padStart(2, '0')}`;
}

async function readPods(input: CsvInput, file: string): Promise<Pod[]> {
  const issues = new IssueCollector(file);
  const pods: Pod[] = [];
  const seen = new Set<string>();
  for await (const row of readTable(input, { columns: ALIBABA_GPU_2023_COLUMNS, exact: false }, issues)) {
    const pod = readPod(row);
    if (pod === null) continue;
    if (seen.has(pod.name)) row.fail('name', `pod ${pod.name} appears twice`);
    seen.add(pod.name);
    pods.push(pod);
  }
  issues.throwIfAny();
  return pods;
}

function readPod(row: TableRow): Pod | null {
  const values = {
    name: row.parse('name', field.name),
    cpuMilli: row.parse('cpu_milli', field.nonNegativeNumber),
    memoryMib: row.parse('memory_mib', field.nonNegativeNumber),
    numGpu: row.parse('num_gpu', field.nonNegativeInteger),
    gpuMilli: row.parse('gpu_milli', field.nonNegativeNumber),
    qos: row.parse('qos', field.oneOf(ALIBABA_QOS)),
    creationS: row.parse('creation_time', field.nonNegativeNumber),
    deletionS: row.parse('deletion_time', field.nonNegativeNumber),
    scheduledS: row.parse('scheduled_time', (text) => (text === '' ? null : field.nonNegativeNumber(text))),
  };
  if (!allParsed(values)) return null;
  const pod: Pod = values;
  const problems: [string, string][] = [];
  if (pod.gpuMilli > 1000) problems.push(['gpu_milli', `${pod.gpuMilli} is more than one GPU (1000)`]);
  if (pod.numGpu === 0 && pod.cpuMilli === 0) problems.push(['cpu_milli', 'a pod without GPUs must request CPU (cpu_milli > 0)']);
  if (pod.scheduledS !== null && pod.scheduledS < pod.creationS) problems.push(['scheduled_time', `${pod.scheduledS} is before creation_time ${pod.creationS}`]);
  const startedS = pod.scheduledS ?? pod.creationS;
  if (pod.deletionS < startedS) problems.push(['deletion_time', `${pod.deletionS} is before ${pod.scheduledS === null ? 'creation' : 'scheduled'}_time ${startedS}`]);
  for (const [column, reason] of problems) row.fail(column, reason);
  return problems.length === 0 ? pod : null;
}
