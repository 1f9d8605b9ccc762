/**
 * `kumul backup plan`: when and over which links each backup version moves so that every dataset meets its
 * RPO at the least cost or carbon (src/core/backup/planner.ts), with its bound; writes the plan document
 * (docs/backup.md, "The plan") and prints a summary. Bad input prints `kumul: <message>` and exits 2.
 */
import type { Command } from 'commander';
import { loadScenario } from '../scenario/index.ts';
import { loadHighsSolver } from '../solver/highs.ts';
import { parseObjective } from '../core/dispatch/objective.ts';
import { BACKUP_SCORES, planBackups } from '../core/backup/planner.ts';
import { loadBackupInput, loadJobTransfers } from '../backup/load.ts';
import { backupPlanDocument } from '../backup/plan-document.ts';
import { writeTextAtomically } from './files.ts';
import { positiveInteger, userInput } from './options.ts';

interface BackupPlanOptions {
  scenario: string;
  datasets: string;
  policies: string;
  objective: string;
  jobsPlan?: string;
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
    .option('--jobs-plan <file>', "a batch plan (kumul plan --out) whose input transfers use the links too")
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
  const jobTransfers = options.jobsPlan === undefined ? [] : userInput(() => loadJobTransfers(options.jobsPlan!, scenario));
  const solver = await loadHighsSolver();
  const started = performance.now();
  const signals = Object.fromEntries(Object.entries(scenario.signals).map(([id, pair]) => [id, pair.forecast]));
  const result = planBackups({ network: scenario.network, grid: scenario.grid, signals, datasets, jobTransfers, objective }, { solver });
  const seconds = (performance.now() - started) / 1000;
  writeTextAtomically(options.out, JSON.stringify(backupPlanDocument(result, scenario.grid, objective.name), null, 1) + '\n');
  const t = result.totals;
  const lines = [
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
