/** The `kumul` command: one subcommand per file in this folder. */
import { Command } from 'commander';
import { registerScenarioCommands } from './scenario-command.ts';
import { registerJobsCommands } from './jobs-command.ts';
import { registerPlanCommand } from './plan-command.ts';
import { CliError } from './errors.ts';

const program = new Command();
program.name('kumul').description('Green computing-power network: dispatch work to cheap, green electricity');
registerScenarioCommands(program);
registerJobsCommands(program);
registerPlanCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CliError) {
    process.stderr.write(`kumul: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  throw err;
}
