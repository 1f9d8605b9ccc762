/**
 * A year of work for the simulator benchmark: the real Alibaba GPU trace (34 days) tiled over the
 * year, each copy shifted so that `count` jobs spread evenly; ids stay unique.
 */
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Job } from '../src/core/model/types.ts';
import { importAlibabaGpu2023 } from '../src/jobs/alibaba-gpu-2023.ts';

export async function yearOfJobs(startMs: number, count: number): Promise<Job[]> {
  const trace = fileURLToPath(new URL('../datasets/alibaba-gpu-2023/pods.csv', import.meta.url));
  const base = await importAlibabaGpu2023(createReadStream(trace), trace, { startMs });
  const yearMs = 365 * 86_400_000;
  // A few spare copies: the last ones run past the year's end and are cut.
  const copies = Math.ceil((count * 1.15) / base.length);
  const strideMs = Math.floor(yearMs / copies);
  const jobs: Job[] = [];
  for (let c = 0; c < copies; c++) {
    for (const job of base) {
      const releaseMs = job.releaseMs + c * strideMs;
      if (releaseMs < startMs + yearMs) jobs.push({ ...job, id: `${job.id}-${c}`, releaseMs, deadlineMs: job.deadlineMs + c * strideMs });
    }
  }
  return jobs.sort((a, b) => a.releaseMs - b.releaseMs || (a.id < b.id ? -1 : 1)).slice(0, count);
}
