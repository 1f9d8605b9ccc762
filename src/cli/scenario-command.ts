/**
 * `kumul scenario list | export | assumptions`: built-in scenarios, the resolved scenario as one
 * JSON document (docs/scenario-format.md, "The export document"), and its stated assumptions.
 * Bad input prints `kumul: <message>` and exits 2 (CliError).
 */
import type { Command } from 'commander';
import { CliError } from './errors.ts';
import { ScenarioError, builtinScenarioNames, formatJson, loadScenario, scenarioToExportJson, type PeriodRequest } from '../scenario/index.ts';
import type { Scenario } from '../core/model/types.ts';

interface PeriodOptions {
  start?: string;
  slots?: string;
  slotMinutes?: string;
}

export function registerScenarioCommands(program: Command): void {
  const scenario = program
    .command('scenario')
    .description('Scenarios: sites, pools, links and energy signals on a time grid')
    .configureOutput({ outputError: () => {} })
    .exitOverride((err) => {
      // Help was printed (asked for: status 0; shown for a missing subcommand: bad input, 2).
      if (err.exitCode === 0 || err.code === 'commander.help') process.exit(err.exitCode === 0 ? 0 : 2);
      throw new CliError(err.message.replace(/^error: /, ''));
    });

  scenario
    .command('list')
    .description('List the built-in scenarios')
    .action(() => {
      for (const name of builtinScenarioNames()) {
        const s = load(name, {});
        process.stdout.write(`${name}\t${s.name}\t${s.network.sites.length} sites, ${s.grid.slots} slots of ${s.grid.slotMinutes} min from ${new Date(s.grid.startMs).toISOString()}\n`);
      }
    });

  withPeriodOptions(scenario.command('export').argument('<scenario>', 'built-in scenario name or path to a scenario file'))
    .description('Print the scenario resolved onto a time grid as one JSON document')
    .action((name: string, options: PeriodOptions) => {
      process.stdout.write(formatJson(scenarioToExportJson(load(name, options))));
    });

  withPeriodOptions(scenario.command('assumptions').argument('<scenario>', 'built-in scenario name or path to a scenario file'))
    .description("Print the scenario's stated assumptions")
    .action((name: string, options: PeriodOptions) => {
      const s = load(name, options);
      const text = s.assumptions.map((a, i) => `${i + 1}. ${a.what}\n   value: ${a.value}\n   why:   ${a.reasoning}\n`).join('\n');
      process.stdout.write(text || 'no assumptions stated\n');
    });
}

function withPeriodOptions(command: Command): Command {
  return command
    .option('--start <iso>', 'start of the first slot, ISO 8601 with zone (default: the scenario period)')
    .option('--slots <n>', 'number of slots')
    .option('--slot-minutes <m>', 'slot length in minutes');
}

/** Loads a scenario for a command; bad options and invalid scenarios become CliErrors. */
function load(name: string, options: PeriodOptions): Scenario {
  const period: PeriodRequest = {
    start: options.start,
    slots: positiveInteger('--slots', options.slots),
    slotMinutes: positiveInteger('--slot-minutes', options.slotMinutes),
  };
  try {
    return loadScenario(name, period);
  } catch (err) {
    if (err instanceof ScenarioError) throw new CliError(err.message);
    throw err;
  }
}

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new CliError(`${flag} must be a positive integer, got '${value}'`);
  return Number(value);
}
