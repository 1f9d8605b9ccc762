/**
 * `kumul backup plan`: when and over which links each backup version moves so that every dataset meets its
 * RPO at the least cost or carbon (src/core/backup/planner.ts), with its bound; writes the plan document
 * (docs/backup.md, "The plan") and prints a summary. With `--jobs` it plans batch and backups together, in the order
 * the service and the simulator use (docs/backup.md, "Backups and batch share the links"): the backup reservation,
 * the batch plan on what it leaves (written to `--jobs-out`), then the copies on what the jobs leave.
 * Bad input prints `kumul: <message>` and exits 2.
 */
import type { Command } from 'commander';
import { loadScenario } from '../scenario/index.ts';
import { loadHighsSolver } from '../solver/highs.ts';
import { parseObjective } from '../core/dispatch/objective.ts';
import { BACKUP_SCORES, backupReservation, planBackups } from '../core/backup/planner.ts';
import { fixedTransferOf, type FixedTransfer } from '../core/backup/model.ts';
import { objectiveFrom, planJobs, policyFrom } from '../planning/plan-jobs.ts';
import { loadBackupInput, loadJobTransfers } from '../backup/load.ts';
import { backupPlanDocument } from '../backup/plan-document.ts';
import { readJobsFile, writeTextAtomically } from './files.ts';
import { positiveInteger, userInput } from './options.ts';

interface BackupPlanOptions {
  scenario: string;
  datasets: string;
  policies: string;
  objective: string;
  jobsPlan?: string;
  jobs?: string;
  jobsOut?: string;
  jobsPolicy: string;
  start?: string;
  slots?: string;
  slotMinutes?: string;
  out: string;
}

export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('Cross-regional data backup: plan replica copies against their RPO');
  backup
    .command('plan')
    .description('Plan when and over which links each backup copy moves so that every RPO is met at the least objective, with a bound')
    .requiredOption('--scenario <name|file>', 'built-in scenario name or scenario file')
    .requiredOption('--datasets <file>', 'datasets file (JSON, docs/backup.md)')
    .requiredOption('--policies <file>', 'backup policies file (JSON, docs/backup.md)')
    .option('--objective <objective>', 'cost | carbon | green | a mix such as cost=1,carbon=0.2', 'cost')
    .option('--jobs-plan <file>', "a batch plan (kumul plan --out) whose input transfers use the links too (made without the backups' reservation)")
    .option('--jobs <file>', 'a jobs file (CSV, docs/jobs-format.md) planned together with the backups: reservation, batch on what it leaves, copies on what the jobs leave')
    .option('--jobs-out <file>', 'with --jobs: where to write the batch plan JSON')
    .option('--jobs-policy <name>', 'with --jobs: optimize | asap-origin | asap-any', 'optimize')
    .option('--start <iso>', "start of the horizon (default: the scenario's)")
    .option('--slots <n>', "number of slots (default: the scenario's)")
    .option('--slot-minutes <m>', 'slot length in minutes')
    .requiredOption('--out <file>', 'where to write the backup plan JSON')
    .action(runBackupPlan);
}

async function runBackupPlan(options: BackupPlanOptions): Promise<void> {
  const objective = userInput(() => {
    const parsed = parseObjective(options.objective, BACKUP_SCORES);
    if ('error' in parsed) throw new Error(parsed.error);
    return parsed;
  });
  const period = {
    start: options.start,
    slots: options.slots === undefined ? undefined : positiveInteger('--slots', options.slots),
    slotMinutes: options.slotMinutes === undefined ? undefined : positiveInteger('--slot-minutes', options.slotMinutes),
  };
  const scenario = userInput(() => loadScenario(options.scenario, period));
  const datasets = userInput(() => loadBackupInput({ datasetsFile: options.datasets, policiesFile: options.policies }, scenario));
  userInput(() => {
    if (options.jobs !== undefined && options.jobsPlan !== undefined) throw new Error('--jobs and --jobs-plan: give one (--jobs plans the batch around the backups; --jobs-plan takes a batch plan made without them)');
    if (options.jobs !== undefined && options.jobsOut === undefined) throw new Error('--jobs-out: required with --jobs (where the batch plan is written)');
    if (options.jobs === undefined && options.jobsOut !== undefined) throw new Error('--jobs-out: only with --jobs');
  });
  const jobsPolicy = userInput(() => policyFrom(options.jobsPolicy));
  const jobs = options.jobs === undefined ? null : await readJobsFile(options.jobs, { siteIds: scenario.network.sites.map((s) => s.id) });
  let jobTransfers: FixedTransfer[] = options.jobsPlan === undefined ? [] : userInput(() => loadJobTransfers(options.jobsPlan!, scenario));
  const solver = await loadHighsSolver();
  const started = performance.now();
  const signals = Object.fromEntries(Object.entries(scenario.signals).map(([id, pair]) => [id, pair.forecast]));
  const request = { network: scenario.network, grid: scenario.grid, signals, datasets };
  // Joint: what backups must hold, batch on what that leaves, then the copies on what the jobs leave.
  const linkReserveGB = jobs ? backupReservation(request, { solver }) : undefined;
  const jobsPlan = jobs ? planJobs({ scenario, jobs, objective: userInput(() => objectiveFrom(options.objective)), policy: jobsPolicy, solver, linkReserveGB }) : null;
  if (jobsPlan) jobTransfers = jobsPlan.jobs.flatMap((j) => (j.transfer ? [fixedTransferOf(j.transfer)] : []));
  const result = planBackups({ ...request, jobTransfers, objective, ...(linkReserveGB ? { linkReserveGB } : {}) }, { solver });
  const seconds = (performance.now() - started) / 1000;
  if (jobsPlan) writeTextAtomically(options.jobsOut!, JSON.stringify(jobsPlan, null, 1) + '\n');
  writeTextAtomically(options.out, JSON.stringify(backupPlanDocument(result, scenario.grid, objective.name), null, 1) + '\n');
  const t = result.totals;
  const lines = [
    ...(jobsPlan ? [`planned ${jobsPlan.totals.jobsPlaced} jobs (${jobsPlan.totals.jobsUnplaced} unplaced) on what the backups' reservation leaves of the links; wrote ${options.jobsOut}`] : []),
    `planned ${t.datasetsPlanned} datasets (${t.datasetsUnplaced} unplaced) in ${seconds.toFixed(2)} s; RPO met for ${t.datasetsRpoMet}`,
    `moved ${t.backupGB.toFixed(1)} GB of backups beside ${t.jobGB.toFixed(1)} GB of job input: ${t.energyKWh.toFixed(2)} kWh, ${t.costYuan.toFixed(2)} yuan, ${t.carbonKg.toFixed(2)} kg CO2`,
    result.bound
      ? `bound: ${result.bound.objective} ≥ ${result.bound.value.toFixed(4)} against the plan's ${result.bound.planValue.toFixed(4)}: gap ${result.bound.gapPct.toFixed(2)} % (${result.bound.method})`
      : 'bound: none (some RPO cannot be met; see unmet in the plan)',
    ...result.unplaced.map((u) => `unplaced ${u.id}: ${u.reason}`),
    ...result.unmet.map((u) => `unmet: ${u.gb.toFixed(1)} GB for ${u.target} (datasets ${u.datasets.join(', ')})`),
    `wrote ${options.out}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
