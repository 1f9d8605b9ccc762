import { createReadStream } from 'node:fs';
import { importAlibabaGpu2023 } from '../src/jobs/alibaba-gpu-2023.ts';
import { loadScenario } from '../src/scenario/index.ts';
import { planJobs, objectiveFrom } from '../src/planning/plan-jobs.ts';
import { loadHighsSolver } from '../src/solver/highs.ts';
const trace = 'datasets/alibaba-gpu-2023/pods.csv';
const jobs = await importAlibabaGpu2023(createReadStream(trace), trace, {});
const scenario = loadScenario('hami', { start: '2026-06-01T00:00Z', slots: 45 * 24 });
const solver = await loadHighsSolver();
for (const objective of ['cost', 'carbon']) {
  for (const power of [undefined, { policy: 'sleep' as const, reserveShare: 0.1 }]) {
    const t = performance.now();
    const p = planJobs({ scenario, jobs, objective: objectiveFrom(objective), policy: 'optimize', solver, power });
    const s = (performance.now() - t) / 1000;
    console.log(objective, power?.policy ?? 'always-on', s.toFixed(2), 's', 'placed', p.totals.jobsPlaced, 'jobs kWh', Math.round(p.totals.energyKWh), 'idle kWh', Math.round(p.totals.idle!.energyKWh), 'cost', Math.round(p.totals.costYuan + p.totals.idle!.costYuan), 'carbon', Math.round(p.totals.carbonKg + p.totals.idle!.carbonKg), 'gap', p.bound!.gapPct.toFixed(2), p.bound!.method.slice(0, 80));
  }
}
