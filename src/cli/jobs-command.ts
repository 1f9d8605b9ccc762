/**
 * `kumul jobs …`: import a public trace into a jobs file, and summarize (and so validate) a jobs file.
 * Format and trace mapping: docs/jobs-format.md. `jobs recurring` writes periodic jobs for
 * temporal-shifting experiments (docs/temporal-shifting.md).
 */
import type { Command } from 'commander';
import { JOB_CLASSES, POOL_CLASSES } from '../core/model/types.ts';
import { DEFAULT_ORIGINS, DEFAULT_START, importAlibabaGpu2023Detailed } from '../jobs/alibaba-gpu-2023.ts';
import { FieldError } from '../jobs/errors.ts';
import { name, nonNegativeNumber, oneOf, positiveInteger, siteId, siteList } from '../jobs/fields.ts';
import { formatInstant, parseInstantMs } from '../jobs/instant.ts';
import { formatJobsCsv } from '../jobs/jobs-file.ts';
import { DEFAULT_DEADLINE_MARGIN_MS, RecurringSpecError, dayOrInstantMs, durationMs, recurringJobs, timeOfDayMinutes, utcOffsetMinutes } from '../jobs/recurring.ts';
import { formatJobStats, summarizeJobs } from '../jobs/stats.ts';
import { parseWeightedSites } from '../jobs/weighted-pick.ts';
import { CliError } from './errors.ts';
import { readJobsFile, readStreamed, writeTextAtomically } from './files.ts';
import { userInput } from './options.ts';

const TRACE_FORMATS = ['alibaba-gpu-2023'] as const;

interface ImportOptions {
  format?: string;
  start: string;
  limit?: string;
  origins: string;
  out?: string;
}

interface RecurringOptions {
  site?: string;
  at?: string;
  tz: string;
  duration?: string;
  from?: string;
  to?: string;
  every: string;
  units: string;
  poolClass: string;
  class: string;
  interruptible?: boolean;
  inputGb: string;
  tenant: string;
  deadlineAfter?: string;
  out?: string;
}

export function registerJobsCommands(program: Command): void {
  const jobs = program.command('jobs').description('jobs files: import traces, summarize and check');

  jobs
    .command('import')
    .description('convert a public cluster trace to a jobs file (CSV on stdout, or --out)')
    .argument('<file>', 'trace file')
    .option('--format <format>', `trace format: ${TRACE_FORMATS.join(', ')}`)
    .option('--start <instant>', 'instant the trace window opens at (ISO 8601 with Z or offset)', DEFAULT_START)
    .option('--limit <n>', 'keep only the first n jobs by release time')
    .option('--origins <sites>', 'origin sites of the input data, `site[:weight]|…` (weight 1 when left out)', DEFAULT_ORIGINS)
    .option('--out <file>', 'write the jobs file here instead of stdout')
    .action((file: string, opts: ImportOptions) => runImport(file, opts));

  jobs
    .command('stats')
    .description('check a jobs file and print its counts, units, durations and release span')
    .argument('<file>', 'jobs file')
    .option('--sites <ids>', 'site ids (`a|b|c`) that origin and allowed_sites must be among')
    .action(async (file: string, opts: { sites?: string }) => {
      const siteIds = opts.sites === undefined ? undefined : (cliValue('--sites', opts.sites, siteList) ?? undefined);
      const parsed = await readJobsFile(file, { siteIds });
      if (parsed.length === 0) throw new CliError(`${file} holds no jobs`);
      process.stdout.write(formatJobStats(summarizeJobs(parsed)));
    });

  jobs
    .command('recurring')
    .description('write a jobs file of jobs requested every day (or --every) at a local time, for temporal-shifting experiments')
    .option('--site <id>', 'site the jobs run at and hold their input at')
    .option('--at <HH:MM>', 'local time of day each job is requested at (its release)')
    .option('--tz <offset>', 'local zone as a fixed UTC offset, e.g. +01:00 (no daylight saving)', 'Z')
    .option('--duration <d>', 'run time of each job, e.g. 30m, 1h, 1h30m')
    .option('--from <day>', 'first day YYYY-MM-DD (local midnight) or an ISO 8601 instant')
    .option('--to <day>', 'end, exclusive: a day YYYY-MM-DD (local midnight) or an ISO 8601 instant')
    .option('--every <d>', 'time between two requests, whole minutes, e.g. 1d, 12h, 1w', '1d')
    .option('--units <n>', 'units each job needs (cores, accelerators or nodes)', '1')
    .option('--pool-class <class>', `pool class: ${POOL_CLASSES.join(', ')}`, 'general')
    .option('--class <class>', `job class: ${JOB_CLASSES.join(', ')}`, 'batch')
    .option('--interruptible', 'jobs may be paused and resumed (default: they run in one piece)')
    .option('--input-gb <gb>', 'input data of each job, GB', '0')
    .option('--tenant <name>', 'tenant of the jobs', 'recurring')
    .option('--deadline-after <d>', 'deadline = release + this (default: duration + 24h)')
    .option('--out <file>', 'write the jobs file here instead of stdout')
    .action((opts: RecurringOptions) => runRecurring(opts));
}

function runRecurring(opts: RecurringOptions): void {
  const required = (option: string, value: string | undefined): string => {
    if (value === undefined) throw new CliError(`jobs recurring: ${option} is required`);
    return value;
  };
  const offsetMinutes = cliValue('--tz', opts.tz, utcOffsetMinutes);
  const spec = {
    site: cliValue('--site', required('--site', opts.site), (text) => siteId(text)),
    atMinutes: cliValue('--at', required('--at', opts.at), timeOfDayMinutes),
    offsetMinutes,
    durationS: cliValue('--duration', required('--duration', opts.duration), durationMs) / 1000,
    fromMs: cliValue('--from', required('--from', opts.from), (text) => dayOrInstantMs(text, offsetMinutes)),
    toMs: cliValue('--to', required('--to', opts.to), (text) => dayOrInstantMs(text, offsetMinutes)),
    everyMs: cliValue('--every', opts.every, durationMs),
    deadlineAfterMs: opts.deadlineAfter === undefined ? undefined : cliValue('--deadline-after', opts.deadlineAfter, durationMs),
    units: cliValue('--units', opts.units, positiveInteger),
    poolClass: cliValue('--pool-class', opts.poolClass, oneOf(POOL_CLASSES)),
    jobClass: cliValue('--class', opts.class, oneOf(JOB_CLASSES)),
    interruptible: opts.interruptible === true,
    inputGb: cliValue('--input-gb', opts.inputGb, nonNegativeNumber),
    tenant: cliValue('--tenant', opts.tenant, name),
  };
  let generated;
  try {
    generated = recurringJobs(spec);
  } catch (err) {
    if (err instanceof RecurringSpecError) throw new CliError(err.message);
    throw err;
  }
  if (generated.length === 0) throw new CliError(`jobs recurring: no job is requested at ${opts.at} between --from and --to`);
  const csv = formatJobsCsv(generated);
  if (opts.out === undefined) process.stdout.write(csv);
  else writeTextAtomically(opts.out, csv);
  const deadline = spec.deadlineAfterMs === undefined ? `release + duration + ${DEFAULT_DEADLINE_MARGIN_MS / 3_600_000}h` : `release + ${opts.deadlineAfter}`;
  process.stderr.write(
    `${generated.length} jobs at ${spec.site}, requested at ${opts.at} ${opts.tz} every ${opts.every} ` +
      `from ${formatInstant(generated[0].releaseMs)} to ${formatInstant(generated[generated.length - 1].releaseMs)}; deadline ${deadline}` +
      `${opts.out === undefined ? '' : `; written to ${opts.out}`}\n`,
  );
}

async function runImport(file: string, opts: ImportOptions): Promise<void> {
  if (opts.format === undefined) throw new CliError(`jobs import: --format is required (${TRACE_FORMATS.join(', ')})`);
  if (!(TRACE_FORMATS as readonly string[]).includes(opts.format)) {
    throw new CliError(`jobs import: unknown --format '${opts.format}' (known: ${TRACE_FORMATS.join(', ')})`);
  }
  const startMs = parseInstantMs(opts.start);
  if (startMs === null) throw new CliError(`--start: '${opts.start}' is not an ISO 8601 instant with Z or an offset (e.g. 2026-06-01T00:00Z)`);
  const limit = opts.limit === undefined ? undefined : cliValue('--limit', opts.limit, positiveInteger);
  const origins = cliValue('--origins', opts.origins, parseWeightedSites);
  const result = await userInput(() => readStreamed(file, (input) => importAlibabaGpu2023Detailed(input, file, { startMs, limit, origins })));
  const csv = formatJobsCsv(result.jobs);
  if (opts.out === undefined) process.stdout.write(csv);
  else writeTextAtomically(opts.out, csv);
  const { neverScheduled, noRunTimeInWindow } = result.dropped;
  process.stderr.write(
    `${file}: ${result.pods} pods → ${result.jobsBeforeLimit} jobs (dropped ${neverScheduled} never scheduled, ` +
      `${noRunTimeInWindow} without run time in the window)` +
      `${limit !== undefined && limit < result.jobsBeforeLimit ? `; kept the first ${limit}` : ''}` +
      `${opts.out === undefined ? '' : `; written to ${opts.out}`}\n`,
  );
  const shared = result.sharedGpu;
  if (shared.jobs > 0) {
    process.stderr.write(
      `${shared.jobs} jobs share a GPU in the trace and take a whole one here: ` +
        `${Math.round(shared.gpuHoursAsWhole)} GPU-hours instead of the ${Math.round(shared.gpuHoursRequested)} requested\n`,
    );
  }
}

/** The value of a command-line option parsed by a field parser; a CliError naming the option when it is bad. */
function cliValue<T>(option: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof FieldError) throw new CliError(`${option}: ${err.message}`);
    throw err;
  }
}
