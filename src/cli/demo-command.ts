/**
 * `kumul demo` (what `npm start` runs until the service lands): plans a week of the real Alibaba
 * GPU trace on the built-in hami network for cost and for carbon, prints both summaries against
 * the carbon-agnostic baseline, and writes the plans to ./out/.
 */
import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadScenario } from '../scenario/index.ts';
import { importAlibabaGpu2023 } from '../jobs/alibaba-gpu-2023.ts';
import { loadHighsSolver } from '../solver/highs.ts';
import { compareOnCommonJobs, objectiveFrom, planJobs } from '../planning/plan-jobs.ts';
import { formatPlanSummary } from '../planning/summary.ts';

const TRACE = fileURLToPath(new URL('../../datasets/alibaba-gpu-2023/pods.csv', import.meta.url));

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Plan a week of the Alibaba GPU trace on the hami network for cost and for carbon (writes ./out/)')
    .option('--out <dir>', 'where to write the plans', 'out')
    .action(async (options: { out: string }) => {
      const scenario = loadScenario('hami');
      const endMs = scenario.grid.startMs + scenario.grid.slots * scenario.grid.slotMinutes * 60_000;
      const jobs = (await importAlibabaGpu2023(createReadStream(TRACE), TRACE, { startMs: scenario.grid.startMs })).filter((j) => j.releaseMs < endMs);
      process.stdout.write(`Kumul demo: ${jobs.length} jobs of the Alibaba GPU trace (2023) released in the hami scenario's week\n\n`);
      const solver = await loadHighsSolver();
      mkdirSync(options.out, { recursive: true });
      for (const name of ['cost', 'carbon']) {
        const started = performance.now();
        const objective = objectiveFrom(name);
        const plan = planJobs({ scenario, jobs, objective, policy: 'optimize', solver });
        const baseline = planJobs({ scenario, jobs, objective, policy: 'asap-origin' });
        const out = join(options.out, `plan-${name}.json`);
        writeFileSync(out, JSON.stringify(plan, null, 1) + '\n');
        const seconds = (performance.now() - started) / 1000;
        process.stdout.write(formatPlanSummary({ scenario, plan, comparison: compareOnCommonJobs(plan, baseline), seconds, out }) + '\n');
      }
      process.stdout.write('Next: `kumul plan --help`, `kumul scenario export hami`, docs/plan-format.md\n');
    });
}
