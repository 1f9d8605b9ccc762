import { createReadStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/core/model/types.ts';
import {
  ALIBABA_GPU_2023_COLUMNS,
  DEFAULT_ORIGINS,
  importAlibabaGpu2023,
  importAlibabaGpu2023Detailed,
  type AlibabaImport,
} from '../../src/jobs/alibaba-gpu-2023.ts';
import { JobsFileError } from '../../src/jobs/errors.ts';
import { formatJobsCsv, parseJobsCsv } from '../../src/jobs/jobs-file.ts';
import { parseWeightedSites } from '../../src/jobs/weighted-pick.ts';
import { makeJob } from '../fixtures/job-builder.ts';

/** The real trace, shipped in datasets/ (see datasets/README.md). */
const TRACE = fileURLToPath(new URL('../../datasets/alibaba-gpu-2023/pods.csv', import.meta.url));
const FILE = 'alibaba_gpu_2023_pods.csv';
const ORIGINS = parseWeightedSites(DEFAULT_ORIGINS);
const HEADER = ALIBABA_GPU_2023_COLUMNS.join(',');

describe('alibaba-gpu-2023 import of the real trace', () => {
  let text: string;
  let result: AlibabaImport;
  let byId: Map<string, Job>;
  beforeAll(async () => {
    text = readFileSync(TRACE, 'utf8');
    result = await importAlibabaGpu2023Detailed(createReadStream(TRACE), FILE);
    byId = new Map(result.jobs.map((j) => [j.id, j]));
  });

  it('turns 8,152 pods into 7,254 jobs: 897 never scheduled and 1 ending as the window opens are dropped', () => {
    expect(result.pods).toBe(8152);
    expect(result.dropped).toEqual({ neverScheduled: 897, noRunTimeInWindow: 1 });
    expect(result.jobs).toHaveLength(7254);
    expect(result.windowStartS).toBe(9_964_972);
  });

  it('gives valid jobs: the jobs file it writes parses back to the same jobs, origins among the sites', async () => {
    const siteIds = ORIGINS.map((o) => o.site);
    expect(await parseJobsCsv(formatJobsCsv(result.jobs), 'out.csv', { siteIds })).toEqual(result.jobs);
  });

  it('is deterministic: the same input, as text or streamed, gives byte-identical output, and --limit gives a prefix', async () => {
    const again = formatJobsCsv(await importAlibabaGpu2023(text, FILE));
    expect(again).toBe(formatJobsCsv(result.jobs));
    expect(await importAlibabaGpu2023(text, FILE, { limit: 100 })).toEqual(result.jobs.slice(0, 100));
  });

  it('orders jobs by release, then id, and spans the 34-day window from --start', () => {
    const releases = result.jobs.map((j) => j.releaseMs);
    expect(releases).toEqual([...releases].sort((a, b) => a - b));
    expect(result.jobs[0].releaseMs).toBe(Date.UTC(2026, 5, 1));
    expect(result.jobs.at(-1)?.releaseMs).toBe(Date.UTC(2026, 5, 1) + (12_901_761 - 9_964_972) * 1000);
  });

  it('maps LS pods to inference, not interruptible, deadline one hour after the run time', () => {
    // openb-pod-0035: LS, 1 GPU, created 9967058, scheduled 9967063, deleted 9968575, 32768 MiB.
    const job = byId.get('openb-pod-0035')!;
    const expected = makeJob('openb-pod-0035')
      .class('inference')
      .units(1)
      .duration(1512)
      .release('2026-06-01T00:34:46Z') // 9967058 − 9964972 = 2086 s after the window opens
      .deadline(`${1512 + 3600}s`)
      .input(32);
    expect(job).toEqual(expected.tenant(job.tenant).at(job.origin).build());
  });

  it('maps a BE pod to interruptible training with a day of slack, its fractional GPU to 1 unit', () => {
    // openb-pod-0022: BE, gpu_milli 220, created before the window (9679175), deleted 9973826.
    const job = byId.get('openb-pod-0022')!;
    expect(job).toMatchObject({ class: 'training', poolClass: 'ai', units: 1, interruptible: true, inputGb: 14.9 });
    expect(job.releaseMs).toBe(Date.UTC(2026, 5, 1)); // alive when the window opened: released at --start
    expect(job.durationS).toBe(9973826 - 9964972); // run time inside the window
    expect(job.deadlineMs - job.releaseMs).toBe((8854 + 86_400) * 1000);
  });

  it('maps a Burstable 8-GPU pod to non-interruptible training with slack equal to its run time', () => {
    const job = byId.get('openb-pod-0017')!;
    expect(job).toMatchObject({ class: 'training', poolClass: 'ai', units: 8, interruptible: false, inputGb: 320, durationS: 804_882 });
    expect(job.deadlineMs - job.releaseMs).toBe(2 * 804_882 * 1000);
  });

  it('maps CPU-only pods to the general pool with cores as units: BE → batch, Guaranteed → inference', () => {
    expect(byId.get('openb-pod-0048')).toMatchObject({ class: 'batch', poolClass: 'general', units: 8, interruptible: true, durationS: 21_735 });
    expect(byId.get('openb-pod-2681')).toMatchObject({ class: 'inference', poolClass: 'general', units: 8, interruptible: false });
    const cores = result.jobs.filter((j) => j.id === 'openb-pod-0005')[0]; // cpu_milli 20000
    expect(cores.units).toBe(20);
  });

  it('drops pods that never ran', () => {
    expect(byId.has('openb-pod-0061')).toBe(false); // Pending, no scheduled_time
    expect(byId.has('openb-pod-0026')).toBe(false); // deleted exactly when the window opens
  });

  it('keeps the figures documented in docs/jobs-format.md', () => {
    const count = (p: (j: Job) => boolean): number => result.jobs.filter(p).length;
    expect(count((j) => j.poolClass === 'ai')).toBe(6202);
    expect(count((j) => j.poolClass === 'general')).toBe(1052);
    expect(count((j) => j.interruptible)).toBe(2957);
    expect(count((j) => j.class === 'inference')).toBe(4199);
    expect(result.sharedGpu.jobs).toBe(2573);
    expect([Math.round(result.sharedGpu.gpuHoursAsWhole), Math.round(result.sharedGpu.gpuHoursRequested)]).toEqual([9044, 4272]);
    const durations = result.jobs.map((j) => j.durationS).sort((a, b) => a - b);
    expect(durations[Math.ceil(0.5 * durations.length) - 1]).toBe(616);
    expect(durations[Math.ceil(0.9 * durations.length) - 1]).toBe(7748);
  });

  it('spreads origins by the stated weights (within 1.5 points) and uses 12 tenants', () => {
    const total = ORIGINS.reduce((s, o) => s + o.weight, 0);
    for (const { site, weight } of ORIGINS) {
      const share = result.jobs.filter((j) => j.origin === site).length / result.jobs.length;
      expect(Math.abs(share - weight / total), site).toBeLessThan(0.015);
    }
    expect(new Set(result.jobs.map((j) => j.tenant)).size).toBe(12);
  });

  it('follows --start and --origins; the same pod keeps its origin whatever the limit', async () => {
    const start = Date.UTC(2026, 0, 1);
    const jobs = await importAlibabaGpu2023(text, FILE, { startMs: start, limit: 50, origins: parseWeightedSites('a|b') });
    expect(jobs[0].releaseMs).toBe(start);
    expect(new Set(jobs.map((j) => j.origin))).toEqual(new Set(['a', 'b']));
    expect(jobs.map((j) => j.id)).toEqual(result.jobs.slice(0, 50).map((j) => j.id));
  });
});

describe('alibaba-gpu-2023 import of bad input names file, line and column', () => {
  const row = 'p1,4000,8192,1,500,,BE,Running,100,400,110';
  const withColumn = (column: string, value: string): string => {
    const fields = row.split(',');
    fields[ALIBABA_GPU_2023_COLUMNS.indexOf(column as (typeof ALIBABA_GPU_2023_COLUMNS)[number])] = value;
    return fields.join(',');
  };
  const cases: [string, string, string][] = [
    ['wrong header', `name,cpu,memory_mib\n${row}\n`, 'pods.csv line 1: columns cpu_milli, num_gpu, gpu_milli, gpu_spec, qos, pod_phase, creation_time, deletion_time, scheduled_time missing'],
    ['non-numeric cpu', `${HEADER}\n${withColumn('cpu_milli', '4k')}\n`, "pods.csv line 2, column cpu_milli: '4k' is not a number ≥ 0"],
    ['fractional GPU count', `${HEADER}\n${withColumn('num_gpu', '0.5')}\n`, "pods.csv line 2, column num_gpu: '0.5' is not an integer ≥ 0"],
    ['missing creation time', `${HEADER}\n${withColumn('creation_time', '')}\n`, "pods.csv line 2, column creation_time: '' is not a number ≥ 0"],
    ['unknown qos', `${HEADER}\n${withColumn('qos', 'LSR')}\n`, "pods.csv line 2, column qos: 'LSR' is not one of LS|BE|Burstable|Guaranteed"],
    ['more than a GPU in milli', `${HEADER}\n${withColumn('gpu_milli', '1500')}\n`, 'pods.csv line 2, column gpu_milli: 1500 is more than one GPU (1000)'],
    ['scheduled before creation', `${HEADER}\n${withColumn('scheduled_time', '50')}\n`, 'pods.csv line 2, column scheduled_time: 50 is before creation_time 100'],
    ['deleted before scheduled', `${HEADER}\n${withColumn('deletion_time', '105')}\n`, 'pods.csv line 2, column deletion_time: 105 is before scheduled_time 110'],
    ['CPU-only pod without CPU', `${HEADER}\n${withColumn('num_gpu', '0').replace(',4000,', ',0,')}\n`, 'pods.csv line 2, column cpu_milli: a pod without GPUs must request CPU'],
    ['repeated pod', `${HEADER}\n${row}\n${row}\n`, 'pods.csv line 3, column name: pod p1 appears twice'],
    ['short row', `${HEADER}\n${row}\np2,1\n`, 'pods.csv line 3: has 2 fields, expected 11'],
  ];
  it.each(cases)('%s', async (_name, text, message) => {
    await expect(importAlibabaGpu2023(text, 'pods.csv')).rejects.toThrow(JobsFileError);
    await expect(importAlibabaGpu2023(text, 'pods.csv')).rejects.toThrow(message);
  });

  it('accepts the columns in another order, with extra columns', async () => {
    const text = `extra,${[...ALIBABA_GPU_2023_COLUMNS].reverse().join(',')}\nx,${row.split(',').reverse().join(',')}\n`;
    expect(await importAlibabaGpu2023(text, 'pods.csv')).toEqual(await importAlibabaGpu2023(`${HEADER}\n${row}\n`, 'pods.csv'));
  });

  it('gives no jobs for a file with only the header', async () => {
    expect(await importAlibabaGpu2023Detailed(`${HEADER}\n`, 'pods.csv')).toMatchObject({ jobs: [], pods: 0, windowStartS: 0 });
  });
});
