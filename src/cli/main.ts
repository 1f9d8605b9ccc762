/** The `kumul` command: one subcommand per file in this folder. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError } from './errors.ts';
import { REGISTRARS } from './registrars.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command();
program
  .name('kumul')
  .description('Green computing-power network: dispatch work to cheap, green electricity')
  .version(version, '-V, --version', 'print the version of kumul')
  // Usage errors (unknown option, missing argument) exit 2 like every other bad input; commander prints them.
  .exitOverride();

const asked = process.argv[2];
const only = REGISTRARS.filter((r) => r.commands.includes(asked));
for (const r of only.length > 0 && asked !== 'completion' ? only : REGISTRARS) (await r.load())(program);

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
