/**
 * `kumul simulate`: run policies on simulated time over a scenario and a jobs file (src/sim), and
 * write `report.json` (deterministic) and a self-contained `report.html`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { Scenario } from '../core/model/types.ts';
import { loadScenario, ScenarioError } from '../scenario/index.ts';
import { actualPlusNoise } from '../scenario/resolve.ts';
import { objectiveFrom, policyFrom } from '../planning/plan-jobs.ts';
import { simulate, type SimOutcome, type SimulationInput } from '../sim/engine.ts';
import { simulateWithServices, type ServicesOutcome } from '../sim/services.ts';
import { simulateBackups, simulatedReservation, type BackupSimInput } from '../sim/backup.ts';
import { loadBackupInput } from '../backup/load.ts';
import { BACKUP_SCORES } from '../core/backup/planner.ts';
import { actualDemandFromTraces, DEFAULT_BURST_TRACE, DEFAULT_ERROR_TRACE } from '../services/actual-demand.ts';
import { demandFromJson, readServicesFile } from '../services/files.ts';
import { readScenarioJson } from '../scenario/index.ts';
import { loadHighsSolver } from '../solver/highs.ts';
import { builtinRegistry, type PolicyName } from '../core/dispatch/plugins/index.ts';
import type { Objective } from '../core/dispatch/objective.ts';
import { SMOOTHING_MINUTES_PER_ERROR_PCT } from '../core/dispatch/forecast-smoothing.ts';
import { buildReport } from '../sim/summarize.ts';
import { renderReportHtml } from '../sim/report-html.ts';
import { CliError } from './errors.ts';
import { readJobsFile, writeTextAtomically } from './files.ts';
import { instant, numberAtLeast, powerPolicy, userInput } from './options.ts';

interface SimulateOptions {
  scenario: string;
  jobs: string;
  policy: string;
  compare?: string;
  objective: string;
  from?: string;
  to?: string;
  slotMinutes?: string;
  replanMinutes: string;
  horizonHours: string;
  forecastError?: string;
  seed: string;
  shiftHours: string;
  sites: string;
  power: string;
  reserve: string;
  forecastSmoothingMinutes: string;
  report: string;
  services?: string;
  demand?: string;
  burstTrace?: string;
  errorTrace?: string;
  datasets?: string;
  policies?: string;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('Run policies on simulated time (forecasts to plan, actuals to account) and write report.json and report.html')
    .requiredOption('--scenario <name|file>', 'built-in scenario name or scenario file')
    .requiredOption('--jobs <file>', 'jobs file (CSV, docs/jobs-format.md)')
    .option('--policy <name>', 'optimize | asap-origin | asap-any', 'optimize')
    .option('--compare <names>', 'other policies to run and compare, comma-separated (e.g. asap-origin,asap-any)')
    .option('--objective <objective>', 'cost | carbon | green | a mix such as cost=1,carbon=0.2', 'cost')
    .option('--from <iso>', 'start of the simulated period (default: the scenario period)')
    .option('--to <iso>', 'end of the simulated period (default: the scenario period)')
    .option('--slot-minutes <m>', 'slot length in minutes (default: the scenario\'s)')
    .option('--replan-minutes <m>', 'minutes between dispatch cycles', '60')
    .option('--horizon-hours <h>', 'hours each dispatch cycle looks ahead at least (further when a waiting job\'s deadline is later)', '48')
    .option('--forecast-error <pct>', 'forecasts = actuals + seeded Gaussian noise with σ = pct % of the mean (carbon and renewables; tariffs are known)')
    .option('--seed <n>', 'seed of the forecast noise', '1')
    .option(
      '--forecast-smoothing-minutes <m>',
      `plan on carbon and renewable forecasts averaged over ± m minutes around each slot; auto: ${SMOOTHING_MINUTES_PER_ERROR_PCT} × --forecast-error (0 without it)`,
      'auto',
    )
    .option('--shift-hours <h>', 'temporal shifting: jobs may move ± h hours around their requested start (the release)', '0')
    .option('--power <policy>', "idle nodes when planning: always-on, or sleep (cycles pack work so that idle nodes sleep; the report gives idle energy both ways)", 'always-on')
    .option('--reserve <share>', "under --power sleep: share of each pool's nodes kept awake for urgent work (also the report's asleep figure)", '0.1')
    .option('--sites <where>', 'where optimize may run a job: any | origin (temporal shifting alone); baselines keep their own', 'any')
    .option('--services <file>', 'inference services (docs/services.md) run with the jobs: placed first on the forecast demand, batch fills the rest; needs --demand')
    .option('--demand <file>', 'the forecast demand of the services (a demand file, kumul demand import); actual demand adds the error and bursts of real traces')
    .option('--burst-trace <file>', 'LLM request trace whose tokens per minute give the bursts within a slot (default: the shipped datasets/azure-llm-2023/conv.csv)')
    .option('--error-trace <file>', 'hourly trace whose week-ahead errors give the error of each slot\'s mean (default: the shipped datasets/wikipedia-pagecounts/hourly-2008-2009.csv)')
    .option('--datasets <file>', 'backup datasets (docs/backup.md): planned on the link capacity the jobs\' input transfers leave; needs --policies')
    .option('--policies <file>', 'backup policies of those datasets')
    .requiredOption('--report <dir>', 'directory to write report.json and report.html into')
    .action(runSimulate);
}

async function runSimulate(o: SimulateOptions): Promise<void> {
  if (Boolean(o.services) !== Boolean(o.demand)) throw new CliError('--services and --demand go together: the services and their forecast demand');
  if (Boolean(o.datasets) !== Boolean(o.policies)) throw new CliError('--datasets and --policies go together: the backup datasets and their policies');
  const objective = userInput(() => objectiveFrom(o.objective));
  const policies = [o.policy, ...(o.compare ? o.compare.split(',').map((p) => p.trim()) : [])].map((p) => userInput(() => policyFrom(p)));
  if (new Set(policies).size !== policies.length) throw new CliError('--compare: a policy is listed twice');
  const replanMinutes = numberAtLeast('--replan-minutes', o.replanMinutes, 0, true);
  const horizonHours = numberAtLeast('--horizon-hours', o.horizonHours, 0, true);
  const shiftHours = numberAtLeast('--shift-hours', o.shiftHours, 0);
  const seed = numberAtLeast('--seed', o.seed, 0);
  if (o.sites !== 'any' && o.sites !== 'origin') throw new CliError(`--sites: must be any or origin, got '${o.sites}'`);
  const optimizeSites = o.sites;
  const power = powerPolicy(o.power, o.reserve);
  const forecastErrorPct = o.forecastError === undefined ? null : numberAtLeast('--forecast-error', o.forecastError, 0);
  const forecastSmoothingMinutes =
    o.forecastSmoothingMinutes === 'auto' ? SMOOTHING_MINUTES_PER_ERROR_PCT * (forecastErrorPct ?? 0) : numberAtLeast('--forecast-smoothing-minutes', o.forecastSmoothingMinutes, 0);
  const slotMinutesOption = o.slotMinutes === undefined ? undefined : numberAtLeast('--slot-minutes', o.slotMinutes, 0, true);

  // The scenario's own period gives the defaults (its end is kept when --slot-minutes changes the slots).
  const defaults = userInput(() => loadScenario(o.scenario));
  const slotMinutes = slotMinutesOption ?? defaults.grid.slotMinutes;
  const slotMs = slotMinutes * 60_000;
  const fromMs = o.from === undefined ? defaults.grid.startMs : instant('--from', o.from);
  const toMs = o.to === undefined ? defaults.grid.startMs + defaults.grid.slots * defaults.grid.slotMinutes * 60_000 : instant('--to', o.to);
  if (toMs <= fromMs) throw new CliError(`--to must be after --from`);
  if (fromMs % slotMs !== 0) throw new CliError(`--from: must fall on a slot boundary (${slotMinutes}-minute slots)`);
  if ((replanMinutes * 60_000) % slotMs !== 0) throw new CliError(`--replan-minutes: must be a multiple of the slot length (${slotMinutes} min)`);
  const horizonSlots = Math.max(1, Math.round((horizonHours * 3_600_000) / slotMs));
  const periodSlots = Math.ceil((toMs - fromMs) / slotMs);
  const jobs = (await readJobsFile(o.jobs, { siteIds: defaults.network.sites.map((s) => s.id) })).filter((j) => j.releaseMs >= fromMs && j.releaseMs < toMs);
  // Cycles look ahead to every waiting job's deadline: the signals reach the latest one (shifting windows included).
  const latestEndMs = jobs.reduce((ms, j) => Math.max(ms, j.deadlineMs + shiftHours * 3_600_000), toMs);
  const lookAheadSlots = Math.max(horizonSlots, Math.ceil((latestEndMs - toMs) / slotMs));
  let scenario = userInput(() => loadWithLookAhead(o.scenario, fromMs, periodSlots, [lookAheadSlots, horizonSlots], slotMinutes));
  if (forecastErrorPct !== null) scenario = withForecastError(scenario, forecastErrorPct, seed);

  const services = o.services || o.demand ? await servicesInput(o, scenario, periodSlots, objective, seed) : null;
  // Backups hold their share of the links before any job moves input (docs/backup.md, "Backups and batch share the links").
  const backupInput = o.datasets || o.policies ? await backupsInput(o, scenario, periodSlots, objective) : null;
  const linkReserveGB = backupInput ? simulatedReservation(backupInput) : undefined;
  const outcomes: SimOutcome[] = [];
  const servicesOutcomes: ServicesOutcome[] = [];
  const runOne = (policy: PolicyName, label: string, routing: 'objective' | 'nearest'): SimOutcome => {
    const bar = new cliProgress.SingleBar({ format: `simulating ${label} {bar} {percentage}%`, stream: process.stderr }, cliProgress.Presets.shades_classic);
    bar.start(100, 0);
    const sim: SimulationInput = { scenario, jobs, policy, objective, fromMs, toMs, replanMinutes, horizonSlots, shiftHours, optimizeSites, forecastSmoothingMinutes, power, ...(linkReserveGB ? { linkReserveGB } : {}), onProgress: (done: number, total: number) => bar.update(Math.floor((100 * done) / total)) };
    let outcome: SimOutcome;
    if (services) {
      const run = simulateWithServices(sim, { ...services, routing });
      servicesOutcomes.push(run.services);
      outcome = run.outcome;
    } else outcome = simulate(sim);
    bar.update(100);
    bar.stop();
    return outcome;
  };
  for (const policy of policies) outcomes.push(runOne(policy, policy, 'objective'));
  const baseline = services ? { outcome: runOne(policies[0], `${policies[0]} with services at the nearest sites (baseline)`, 'nearest'), services: servicesOutcomes.pop()! } : null;
  const backups = backupInput ? outcomes.map((outcome) => simulateBackups(backupInput, outcome, linkReserveGB)) : undefined;
  const report = buildReport({
    backups,
    power,
    scenario,
    fromMs,
    toMs,
    replanMinutes,
    forecastErrorPct,
    seed,
    shiftHours,
    optimizeSites,
    forecastSmoothingMinutes,
    objective: objective.name,
    outcomes,
    ...(services && baseline ? { services: { forecast: services.forecastSource, actual: services.actual.source, outcomes: servicesOutcomes, baseline } } : {}),
  });
  mkdirSync(o.report, { recursive: true });
  writeTextAtomically(join(o.report, 'report.json'), JSON.stringify(report, null, 1) + '\n');
  writeTextAtomically(join(o.report, 'report.html'), renderReportHtml(report));
  for (const p of report.policies) {
    process.stdout.write(
      `${p.policy}: ${p.jobs.completed} completed, ${p.jobs.missed} missed, ${p.jobs.unfinished} unfinished; energy ${figure(p.totals.energyKWh)} kWh (green ${(100 * p.totals.greenShare).toFixed(1)} %), cost ${figure(p.totals.costYuan)} yuan, carbon ${figure(p.totals.carbonKg)} kg\n` +
        `  idle (operator): ${figure(p.idle.alwaysOn.energyKWh)} kWh with every node on, ${figure(p.idle.asleep.energyKWh)} kWh with idle nodes asleep (cost ${figure(p.idle.alwaysOn.costYuan)} → ${figure(p.idle.asleep.costYuan)} yuan, carbon ${figure(p.idle.alwaysOn.carbonKg)} → ${figure(p.idle.asleep.carbonKg)} kg)\n`,
    );
  }
  if (report.services) {
    const b = report.services.baseline;
    for (const p of report.policies) {
      const s = p.services!;
      process.stdout.write(
        `${p.policy} services: ${s.totals.attainmentPct.toFixed(2)} % of requests within the objective; cost ${figure(s.totals.costYuan)} yuan, carbon ${figure(s.totals.carbonKg)} kg, green ${(100 * s.totals.greenShare).toFixed(1)} %; ${s.preemptions.count} batch runs pre-empted (${s.preemptions.jobs} jobs)\n`,
      );
    }
    process.stdout.write(
      `nearest-site baseline services: ${b.totals.attainmentPct.toFixed(2)} % within the objective; cost ${figure(b.totals.costYuan)} yuan, carbon ${figure(b.totals.carbonKg)} kg, green ${(100 * b.totals.greenShare).toFixed(1)} %; ${b.preemptions.count} batch runs pre-empted\n`,
    );
  }
  for (const p of report.policies) {
    if (!p.backup) continue;
    const t = p.backup.totals;
    process.stdout.write(
      `${p.policy} backups: ${t.datasetsWithinRpo} of ${p.backup.datasets.length} datasets within their RPO all the time (worst ${Math.min(100, ...p.backup.datasets.map((d) => d.withinRpoPct)).toFixed(1)} % of the period); ${figure(t.backupGB)} GB of backups and ${figure(t.jobGB)} GB of job input over the links; cost ${figure(t.costYuan)} yuan, carbon ${figure(t.carbonKg)} kg\n`,
    );
  }
  for (const s of report.savings.filter((s) => s.policy === policies[0])) {
    process.stdout.write(`${s.policy} versus ${s.versus} (jobs both completed): cost ${signed(s.costPct)} %, carbon ${signed(s.carbonPct)} %, green share ${signed(s.greenSharePts)} points\n`);
  }
  process.stdout.write(`wrote ${join(o.report, 'report.json')} and report.html\n`);
}

/** The backup datasets and policies on the period, for the reservation and each run's backups (src/sim/backup.ts); a clear error for bad files. */
async function backupsInput(o: SimulateOptions, scenario: Scenario, periodSlots: number, objective: Objective): Promise<BackupSimInput> {
  if (!o.datasets || !o.policies) throw new CliError('--datasets and --policies go together: the backup datasets and their policies');
  const unknown = Object.keys(objective.weights).filter((name) => !(BACKUP_SCORES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new CliError(`--objective: backups understand ${BACKUP_SCORES.join(', ')}; '${unknown.join(', ')}' is not one of them`);
  const period = { ...scenario, grid: { ...scenario.grid, slots: periodSlots } };
  const datasets = userInput(() => loadBackupInput({ datasetsFile: o.datasets!, policiesFile: o.policies! }, period));
  const solver = await loadHighsSolver();
  return { scenario, periodSlots, datasets, objective, solver };
}

/** The services, their forecast demand on the period, and the actual demand from the traces; a clear error for bad files. */
async function servicesInput(o: SimulateOptions, scenario: Scenario, periodSlots: number, objective: Objective, seed: number) {
  if (!o.services || !o.demand) throw new CliError('--services and --demand go together: the services and their forecast demand');
  if (!scenario.userRegions?.length) throw new CliError(`scenario '${scenario.id}' has no userRegions: services need the regions their users are in (docs/scenario-format.md)`);
  const period = { ...scenario, grid: { ...scenario.grid, slots: periodSlots } };
  const specs = userInput(() => readServicesFile(o.services!, period));
  const demandJson = userInput(() => readScenarioJson(o.demand!)) as { source?: unknown };
  const forecast = userInput(() => demandFromJson(demandJson, period, specs, o.demand!));
  const actual = userInput(() => actualDemandFromTraces({ services: specs.map((s) => s.id), slots: periodSlots, slotMinutes: scenario.grid.slotMinutes, seed, burstTrace: o.burstTrace ?? DEFAULT_BURST_TRACE, errorTrace: o.errorTrace ?? DEFAULT_ERROR_TRACE }));
  const registry = builtinRegistry();
  return {
    periodSlots,
    services: specs,
    forecast,
    actual,
    forecastSource: `${o.demand}${typeof demandJson.source === 'string' ? ` (${demandJson.source})` : ''}`,
    solver: await loadHighsSolver(),
    scores: Object.entries(objective.weights).map(([name, weight]) => ({ plugin: registry.score(name), weight })),
    objectiveName: objective.name,
  };
}

/**
 * The scenario over the period plus the longest look-ahead its data covers, of those asked for (longest
 * first); where its data ends with the period (a scenario of one year, say), the last cycles look ahead
 * only as far as the data goes.
 */
function loadWithLookAhead(name: string, fromMs: number, periodSlots: number, lookAheads: number[], slotMinutes: number): Scenario {
  const start = new Date(fromMs).toISOString();
  for (const lookAhead of lookAheads) {
    try {
      return loadScenario(name, { start, slots: periodSlots + lookAhead, slotMinutes });
    } catch (err) {
      if (!(err instanceof ScenarioError) || !/no data covers/.test(err.message)) throw err;
    }
  }
  return loadScenario(name, { start, slots: periodSlots, slotMinutes });
}

/** Forecasts replaced by actuals plus seeded noise (carbon and renewables); prices stay as published. */
function withForecastError(scenario: Scenario, pct: number, seed: number): Scenario {
  const signals = Object.fromEntries(
    Object.entries(scenario.signals).map(([siteId, pair]) => {
      const noisy = (name: 'carbonGPerKWh' | 'renewableKW') => actualPlusNoise(pair.actual[name], pct, seed, siteId, name, scenario.grid).map((v) => Math.max(0, v));
      return [siteId, { actual: pair.actual, forecast: { priceYuanPerKWh: pair.actual.priceYuanPerKWh, carbonGPerKWh: noisy('carbonGPerKWh'), renewableKW: noisy('renewableKW') } }];
    }),
  );
  return { ...scenario, signals };
}

/** Whole numbers for large figures, three significant digits for small ones. */
function figure(x: number): string {
  return Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3);
}

function signed(x: number): string {
  return `${x > 0 ? '+' : ''}${x.toFixed(1)}`;
}
