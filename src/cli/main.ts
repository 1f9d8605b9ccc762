/** The `kumul` command: one subcommand per file in this folder. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerScenarioCommands } from './scenario-command.ts';
import { registerJobsCommands } from './jobs-command.ts';
import { registerPlanCommand } from './plan-command.ts';
import { registerBackupCommands } from './backup-command.ts';
import { registerServicesCommands } from './services-command.ts';
import { registerDemoCommand } from './demo-command.ts';
import { registerSimulateCommand } from './simulate-command.ts';
import { registerServeCommand } from './serve-command.ts';
import { registerClientCommands } from './client-commands.ts';
import { registerProbeCommand } from './probe-command.ts';
import { registerCompletionCommand } from './completion-command.ts';
import { CliError } from './errors.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command();
program
  .name('kumul')
  .description('Green computing-power network: dispatch work to cheap, green electricity')
  .version(version, '-V, --version', 'print the version of kumul')
  // Usage errors (unknown option, missing argument) exit 2 like every other bad input; commander prints them.
  .exitOverride();
registerScenarioCommands(program);
registerJobsCommands(program);
registerPlanCommand(program);
registerBackupCommands(program);
registerServicesCommands(program);
registerSimulateCommand(program);
registerServeCommand(program);
registerClientCommands(program);
registerProbeCommand(program);
registerDemoCommand(program);
registerCompletionCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CliError) {
    process.stderr.write(`kumul: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  throw err;
}
