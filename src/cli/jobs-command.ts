/**
 * `kumul jobs …`: import a public trace into a jobs file, and summarize (and so validate) a jobs file.
 * Format and trace mapping: docs/jobs-format.md.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_ORIGINS, DEFAULT_START, importAlibabaGpu2023Detailed } from '../jobs/alibaba-gpu-2023.ts';
import { FieldError, JobsFileError } from '../jobs/errors.ts';
import { positiveInteger, siteList } from '../jobs/fields.ts';
import { parseInstantMs } from '../jobs/instant.ts';
import { formatJobsCsv, parseJobsCsv } from '../jobs/jobs-file.ts';
import { formatJobStats, summarizeJobs } from '../jobs/stats.ts';
import { parseWeightedSites } from '../jobs/weighted-pick.ts';
import { CliError } from './errors.ts';

const TRACE_FORMATS = ['alibaba-gpu-2023'] as const;

interface ImportOptions {
  format?: string;
  start: string;
  limit?: string;
  origins: string;
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
    .action((file: string, opts: { sites?: string }) => {
      const siteIds = opts.sites === undefined ? undefined : (cliValue('--sites', opts.sites, siteList) ?? undefined);
      const parsed = fromFileErrors(() => parseJobsCsv(readText(file), file, { siteIds }));
      if (parsed.length === 0) throw new CliError(`${file} holds no jobs`);
      process.stdout.write(formatJobStats(summarizeJobs(parsed)));
    });
}

function runImport(file: string, opts: ImportOptions): void {
  if (opts.format === undefined) throw new CliError(`jobs import: --format is required (${TRACE_FORMATS.join(', ')})`);
  if (!(TRACE_FORMATS as readonly string[]).includes(opts.format)) {
    throw new CliError(`jobs import: unknown --format '${opts.format}' (known: ${TRACE_FORMATS.join(', ')})`);
  }
  const startMs = parseInstantMs(opts.start);
  if (startMs === null) throw new CliError(`--start: '${opts.start}' is not an ISO 8601 instant with Z or an offset (e.g. 2026-06-01T00:00Z)`);
  const limit = opts.limit === undefined ? undefined : cliValue('--limit', opts.limit, positiveInteger);
  const origins = cliValue('--origins', opts.origins, parseWeightedSites);
  const result = fromFileErrors(() => importAlibabaGpu2023Detailed(readText(file), file, { startMs, limit, origins }));
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

function fromFileErrors<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof JobsFileError) throw new CliError(err.message);
    throw err;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${describeFsError(err)}`);
  }
}

/** Writes through a temporary file and a rename, so `file` is never left half-written. */
function writeTextAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (err) {
    throw new CliError(`cannot write ${file}: ${describeFsError(err)}`);
  }
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}
