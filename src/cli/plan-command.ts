/**
 * `kumul plan`: place a jobs file on a scenario, write the plan (docs/plan-format.md) and print a
 * short summary: totals, the saving against `asap-origin`, and the bound's gap.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadScenario } from '../scenario/index.ts';
import { loadHighsSolver } from '../solver/highs.ts';
import { compareOnCommonJobs, objectiveFrom, planJobs, policyFrom } from '../planning/plan-jobs.ts';
import { formatPlanSummary } from '../planning/summary.ts';
import type { Job } from '../core/model/types.ts';
import { readJobsFile, writeTextAtomically } from './files.ts';
import { readScenarioJson } from '../scenario/index.ts';
import { committedOnGrid } from '../services/committed.ts';
import { powerPolicy, positiveInteger, userInput } from './options.ts';

interface PlanOptions {
  scenario: string;
  jobs: string;
  objective: string;
  policy: string;
  start?: string;
  slots?: string;
  slotMinutes?: string;
  out: string;
  bound: boolean;
  power: string;
  reserve: string;
  servicesPlan?: string;
}

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('Decide where and when each job runs, with its energy, cost and carbon, and a bound on how far from optimal the plan can be')
    .requiredOption('--scenario <name|file>', 'built-in scenario name or scenario file')
    .requiredOption('--jobs <file>', 'jobs file (CSV, docs/jobs-format.md)')
    .option('--objective <objective>', 'cost | carbon | green | a mix such as cost=1,carbon=0.2', 'cost')
    .option('--policy <name>', 'optimize | asap-origin | asap-any', 'optimize')
    .option('--start <iso>', 'start of the planning horizon (default: the earliest release)')
    .option('--slots <n>', `number of slots in the horizon (default: to the latest deadline, at most ${MAX_DEFAULT_HORIZON_DAYS} days)`)
    .option('--slot-minutes <m>', 'slot length in minutes')
    .option('--no-bound', 'skip the LP lower bound')
    .option('--power <policy>', "idle nodes: always-on, or sleep (pools with powerStates keep on only the nodes their work holds, plus the reserve)", 'always-on')
    .option('--reserve <share>', "under --power sleep: share of each pool's nodes kept awake for urgent work", '0.1')
    .option('--services-plan <file>', 'a services plan (kumul services plan) whose replicas keep their units and energy; jobs fill the rest')
    .requiredOption('--out <file>', 'where to write the plan JSON')
    .action(runPlan);
}

async function runPlan(options: PlanOptions): Promise<void> {
  const objective = userInput(() => objectiveFrom(options.objective));
  const policy = userInput(() => policyFrom(options.policy));
  const power = powerPolicy(options.power, options.reserve);
  const slotMinutes = optional(options.slotMinutes, (t) => positiveInteger('--slot-minutes', t));
  const requested = { start: options.start, slots: optional(options.slots, (t) => positiveInteger('--slots', t)), slotMinutes };
  const defaults = userInput(() => loadScenario(options.scenario, { slotMinutes }));
  const jobs = await readJobsFile(options.jobs, { siteIds: defaults.network.sites.map((s) => s.id) });
  const period = options.start === undefined && options.slots === undefined ? horizonOfJobs(jobs, defaults.grid.slotMinutes) : requested;
  const scenario = userInput(() => loadScenario(options.scenario, period));
  const committed = options.servicesPlan ? userInput(() => committedOnGrid(readScenarioJson(options.servicesPlan!), scenario.grid, options.servicesPlan!)) : undefined;
  const solver = options.bound ? await loadHighsSolver() : undefined;
  const started = performance.now();
  const bar = jobs.length >= 2000 ? new cliProgress.SingleBar({ format: 'planning {bar} {value}/{total} jobs', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  bar?.start(jobs.length, 0);
  const plan = planJobs({ scenario, jobs, objective, policy, solver, power, committed, onProgress: (done) => bar?.update(done) });
  bar?.stop();
  const baseline = policy === 'asap-origin' ? plan : planJobs({ scenario, jobs, objective, policy: 'asap-origin', power, committed });
  const seconds = (performance.now() - started) / 1000;
  writeTextAtomically(options.out, JSON.stringify(plan, null, 1) + '\n');
  process.stdout.write(formatPlanSummary({ scenario, plan, comparison: compareOnCommonJobs(plan, baseline), seconds, out: options.out }));
}

/** Longest horizon `kumul plan` picks by itself. */
const MAX_DEFAULT_HORIZON_DAYS = 45;

/**
 * The default horizon: from the earliest release (down to a whole hour) to the latest deadline,
 * at most MAX_DEFAULT_HORIZON_DAYS; jobs that cannot finish in it are reported as unplaced.
 */
function horizonOfJobs(jobs: readonly Job[], slotMinutes: number): { start?: string; slots?: number; slotMinutes: number } {
  if (jobs.length === 0) return { slotMinutes };
  const slotMs = slotMinutes * 60_000;
  // reduce, not Math.min(...): a spread of a large jobs file overflows the call stack.
  const startMs = Math.floor(jobs.reduce((m, j) => Math.min(m, j.releaseMs), Infinity) / 3_600_000) * 3_600_000;
  const endMs = jobs.reduce((m, j) => Math.max(m, j.deadlineMs), -Infinity);
  const slots = Math.min(Math.ceil((endMs - startMs) / slotMs), Math.round((MAX_DEFAULT_HORIZON_DAYS * 86_400_000) / slotMs));
  return { start: new Date(startMs).toISOString(), slots, slotMinutes };
}

function optional<T>(text: string | undefined, read: (text: string) => T): T | undefined {
  return text === undefined ? undefined : read(text);
}
