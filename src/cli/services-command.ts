/**
 * `kumul services plan` and `kumul demand import | token-mix` (docs/services.md): place inference services with a
 * bound and write the plan; make a demand file from the real traces; the token mix of an LLM request trace.
 * Bad input prints `kumul: <message>` and exits 2 (CliError).
 */
import type { Command } from 'commander';
import { loadScenario, readScenarioJson } from '../scenario/index.ts';
import { loadHighsSolver } from '../solver/highs.ts';
import { builtinRegistry } from '../core/dispatch/plugins/index.ts';
import { servicesPlan, type ServicesPlan } from '../core/services/plan.ts';
import { demandFromJson, readServicesFile, type DemandFile } from '../services/files.ts';
import { committedFromBatchPlan } from '../services/committed.ts';
import { importDemand, readWikipediaTrace, tokenMixOf } from '../services/demand-import.ts';
import { objectiveFrom } from '../planning/plan-jobs.ts';
import { CliError } from './errors.ts';
import { readText, writeTextAtomically } from './files.ts';
import { instant, numberAtLeast, positiveInteger, userInput } from './options.ts';

interface PlanOptions {
  scenario: string;
  services: string;
  demand: string;
  objective: string;
  start?: string;
  slots?: string;
  batchPlan?: string;
  exact?: boolean;
  out: string;
}

interface ImportOptions {
  trace: string;
  scenario: string;
  services?: string;
  peakRps: string;
  start: string;
  slots: string;
  slotMinutes: string;
  traceUtcOffset: string;
  traceFrom: string;
  out: string;
}

export function registerServicesCommands(program: Command): void {
  const services = program.command('services').description('Inference services: replicas per site and routing of user regions within a latency objective');
  services
    .command('plan')
    .description('Place services per slot (replicas per site, routing weights) at the least cost or carbon, with a bound on how far from optimal')
    .requiredOption('--scenario <name|file>', 'built-in scenario name or scenario file (with userRegions)')
    .requiredOption('--services <file>', 'services file (JSON, docs/services.md)')
    .requiredOption('--demand <file>', 'demand file (JSON, docs/services.md; kumul demand import makes one)')
    .option('--objective <objective>', 'cost | carbon | green | a mix such as cost=1,carbon=0.2', 'cost')
    .option('--start <iso>', "start of the plan (default: the demand file's start)")
    .option('--slots <n>', "number of slots (default: the demand file's)")
    .option('--batch-plan <file>', 'a batch plan (kumul plan) whose runs keep their units and energy')
    .option('--exact', 'solve the whole horizon as one MIP (small instances)')
    .requiredOption('--out <file>', 'where to write the services plan JSON')
    .action(runServicesPlan);

  const demand = program.command('demand').description('Demand of inference services per user region and slot');
  demand
    .command('import')
    .description('Make a demand file from the hourly Wikipedia trace: its daily and weekly shape at each region\'s local time, scaled to a peak')
    .requiredOption('--trace <file>', 'hourly requests CSV (period_end_utc,requests), e.g. datasets/wikipedia-pagecounts/hourly-2008-2009.csv')
    .requiredOption('--scenario <name|file>', 'scenario whose userRegions get demand')
    .option('--services <file>', 'services file: one series per service and region')
    .requiredOption('--peak-rps <rps>', 'peak requests/s over all regions: one number for every service, or service=rps,…')
    .requiredOption('--start <iso>', 'start of the first slot')
    .requiredOption('--slots <n>', 'number of slots')
    .option('--slot-minutes <m>', 'slot length in minutes', '60')
    .option('--trace-utc-offset <hours>', "offset of the trace's audience: its hour of day is read as local time there", '0')
    .option('--trace-from <date>', 'first trace day the demand may map to (weekdays kept)', '2009-03-01')
    .requiredOption('--out <file>', 'where to write the demand JSON')
    .action(runDemandImport);
  demand
    .command('token-mix')
    .argument('<file>', 'an Azure LLM request trace CSV (TIMESTAMP,ContextTokens,GeneratedTokens)')
    .description('Print the mean input and output tokens per request of a trace, for a service throughput in tokens/s')
    .action((file: string) => {
      process.stdout.write(`${JSON.stringify(userInput(() => tokenMixOf(readText(file), file)))}\n`);
    });
}

async function runServicesPlan(options: PlanOptions): Promise<void> {
  const objective = userInput(() => objectiveFrom(options.objective));
  const demandJson = userInput(() => readScenarioJson(options.demand)) as Partial<DemandFile>;
  const demandSlots = Array.isArray(demandJson.series) && Array.isArray(demandJson.series[0]?.requestsPerS) ? demandJson.series[0].requestsPerS.length : undefined;
  const period = {
    start: options.start ?? (typeof demandJson.start === 'string' ? demandJson.start : undefined),
    slots: options.slots !== undefined ? positiveInteger('--slots', options.slots) : demandSlots,
    slotMinutes: typeof demandJson.slotMinutes === 'number' ? demandJson.slotMinutes : undefined,
  };
  const scenario = userInput(() => loadScenario(options.scenario, period));
  if (!scenario.userRegions?.length) throw new CliError(`scenario '${scenario.id}' has no userRegions: services need the regions their users are in (docs/scenario-format.md)`);
  const specs = userInput(() => readServicesFile(options.services, scenario));
  const demand = userInput(() => demandFromJson(demandJson, scenario, specs, options.demand));
  const batch = options.batchPlan ? userInput(() => committedFromBatchPlan(readScenarioJson(options.batchPlan!), scenario, options.batchPlan!)) : [];
  const solver = await loadHighsSolver();
  const registry = builtinRegistry();
  const started = performance.now();
  const plan = servicesPlan(
    {
      network: scenario.network,
      grid: scenario.grid,
      signals: Object.fromEntries(Object.entries(scenario.signals).map(([id, pair]) => [id, pair.forecast])),
      userRegions: scenario.userRegions,
      services: specs,
      demand,
      committed: batch,
    },
    { solver, scores: Object.entries(objective.weights).map(([name, weight]) => ({ plugin: registry.score(name), weight })), objectiveName: objective.name, scenarioId: scenario.id, exact: options.exact },
  );
  const seconds = (performance.now() - started) / 1000;
  writeTextAtomically(options.out, `${JSON.stringify(plan, null, 1)}\n`);
  process.stdout.write(servicesSummary(plan, seconds, options.out));
}

/** The summary `kumul services plan` prints. */
export function servicesSummary(plan: ServicesPlan, seconds: number, out: string): string {
  const t = plan.totals;
  const lines = [
    `services plan: ${plan.services.length} services, ${Object.keys(plan.roundTripsMs).length} user regions, ${plan.slots} slots of ${plan.slotMinutes} min from ${plan.start} (${seconds.toFixed(2)} s)`,
    `requests ${Math.round(t.requests).toLocaleString('en-US')}, served within objective ${t.attainmentPct.toFixed(3)} %, unserved ${Math.round(t.unservedRequests).toLocaleString('en-US')}`,
    `replica-hours ${t.replicaHours.toFixed(0)}, cold starts ${t.coldStarts} (${t.warmUpKWh.toFixed(2)} kWh)`,
    `energy ${t.energyKWh.toFixed(1)} kWh, green ${t.energyKWh > 0 ? ((t.greenKWh / t.energyKWh) * 100).toFixed(1) : '0.0'} %, cost ${t.costYuan.toFixed(2)} yuan, carbon ${t.carbonKg.toFixed(2)} kg`,
    `bound (${plan.bound.objective}): ${plan.bound.value.toPrecision(6)} ≤ plan ${plan.bound.planValue.toPrecision(6)}, gap ${plan.bound.gapPct.toFixed(2)} % — ${plan.bound.method}`,
    ...plan.warnings.map((w) => `warning: ${w}`),
    `wrote ${out}`,
  ];
  return `${lines.join('\n')}\n`;
}

function runDemandImport(options: ImportOptions): void {
  const scenario = userInput(() => loadScenario(options.scenario));
  if (!scenario.userRegions?.length) throw new CliError(`scenario '${scenario.id}' has no userRegions to give demand to`);
  const serviceIds = options.services ? userInput(() => readServicesFile(options.services!, scenario)).map((s) => s.id) : null;
  const peakRps = peaks(options.peakRps, serviceIds);
  const traceFromMs = Date.parse(`${options.traceFrom}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.traceFrom) || Number.isNaN(traceFromMs)) throw new CliError(`--trace-from: '${options.traceFrom}' must be a date YYYY-MM-DD`);
  const trace = userInput(() => readWikipediaTrace(readText(options.trace), options.trace));
  const file = userInput(() =>
    importDemand({
      trace,
      traceName: options.trace.split('/').pop()!,
      traceUtcOffsetH: numberAtLeast('--trace-utc-offset', options.traceUtcOffset, -14),
      traceFromMs,
      regions: scenario.userRegions!,
      peakRps,
      startMs: instant('--start', options.start),
      slots: positiveInteger('--slots', options.slots),
      slotMinutes: positiveInteger('--slot-minutes', options.slotMinutes),
    }),
  );
  writeTextAtomically(options.out, `${JSON.stringify(file)}\n`);
  process.stdout.write(`wrote ${options.out}: ${file.series.length} series (${Object.keys(peakRps).length} services × ${scenario.userRegions.length} regions), ${options.slots} slots\n`);
}

/** `--peak-rps`: `2000` for every service of the services file, or `chat=2000,code=500`. */
function peaks(text: string, serviceIds: string[] | null): Record<string, number> {
  if (!text.includes('=')) {
    const rps = numberAtLeast('--peak-rps', text, 0, true);
    if (serviceIds === null) throw new CliError('--peak-rps: a single number needs --services (whose services get it); or give service=rps,…');
    return Object.fromEntries(serviceIds.map((id) => [id, rps]));
  }
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [id, value] = part.split('=').map((s) => s.trim());
    if (serviceIds !== null && !serviceIds.includes(id)) throw new CliError(`--peak-rps: unknown service '${id}'; the services file has ${serviceIds.join(', ')}`);
    out[id] = numberAtLeast(`--peak-rps ${id}`, value ?? '', 0, true);
  }
  return out;
}
