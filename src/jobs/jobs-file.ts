/**
 * The jobs file: one job per CSV row, the way tenants and planners hand work to Kumul
 * (`kumul plan`, the simulator, `kumul jobs import` output). Format: docs/jobs-format.md.
 */
import { JOB_CLASSES, POOL_CLASSES, type Job } from '../core/model/types.ts';
import { formatCsvRecord } from '../csv/write.ts';
import type { CsvInput } from '../csv/read.ts';
import { IssueCollector } from './errors.ts';
import * as field from './fields.ts';
import { formatInstant } from './instant.ts';
import { allParsed, readTable, type TableRow } from './table.ts';

export const JOBS_CSV_COLUMNS = [
  'id',
  'tenant',
  'class',
  'pool_class',
  'units',
  'duration_s',
  'release',
  'deadline',
  'origin',
  'input_gb',
  'interruptible',
  'allowed_sites',
] as const;

/** Deadline of a job whose deadline field is empty: its release plus this. */
export const DEFAULT_DEADLINE_AFTER_RELEASE_MS = 7 * 86_400_000;

export interface ParseJobsOptions {
  /** Sites of the scenario; when given, origin and allowed sites must be among them. */
  siteIds?: string[];
}

/**
 * The jobs of a jobs file, given as text or streamed (`kumul plan`, `simulate`, `jobs stats|submit` stream the file);
 * `file` names it in error messages. Rejects with a JobsFileError listing every problem found (the first 20, and a
 * count of the rest).
 */
export async function parseJobsCsv(input: CsvInput, file: string, opts: ParseJobsOptions = {}): Promise<Job[]> {
  const issues = new IssueCollector(file);
  const firstLineOfId = new Map<string, number>();
  const jobs: Job[] = [];
  for await (const row of readTable(input, { columns: JOBS_CSV_COLUMNS, exact: true }, issues)) {
    const job = parseJobRow(row, opts.siteIds);
    if (job === null) continue;
    const earlier = firstLineOfId.get(job.id);
    if (earlier !== undefined) row.fail('id', `${field.quoted(job.id)} is already the id of the job on line ${earlier}`);
    else firstLineOfId.set(job.id, row.line);
    jobs.push(job);
  }
  issues.throwIfAny();
  return jobs;
}

/** The job of one row, or null when a field is bad (the row has recorded why). */
function parseJobRow(row: TableRow, siteIds: string[] | undefined): Job | null {
  const releaseMs = row.parse('release', field.instantMs);
  const durationS = row.parse('duration_s', field.positiveNumber);
  const values = {
    id: row.parse('id', field.name),
    tenant: row.parse('tenant', field.name),
    class: row.parse('class', field.oneOf(JOB_CLASSES)),
    poolClass: row.parse('pool_class', field.oneOf(POOL_CLASSES)),
    units: row.parse('units', field.positiveInteger),
    durationS,
    releaseMs,
    deadlineMs: row.parse('deadline', (text) =>
      text === '' ? (releaseMs ?? 0) + DEFAULT_DEADLINE_AFTER_RELEASE_MS : field.instantMs(text),
    ),
    origin: row.parse('origin', (text) => field.siteId(text, siteIds)),
    inputGb: row.parse('input_gb', field.nonNegativeNumber),
    interruptible: row.parse('interruptible', field.boolean),
    allowedSites: row.parse('allowed_sites', (text) => field.siteList(text, siteIds)),
  };
  if (!allParsed(values)) return null;
  const earliestEndMs = values.releaseMs + values.durationS * 1000;
  // Equal is "no slack": the job must start at its release.
  if (values.deadlineMs < earliestEndMs) {
    row.fail(
      'deadline',
      `${formatInstant(values.deadlineMs)} is before release + duration (${formatInstant(Math.ceil(earliestEndMs))})`,
    );
    return null;
  }
  return values;
}

/** The jobs file of `jobs` (header, one row per job, LF line ends, final newline); `parseJobsCsv` reads it back unchanged. */
export function formatJobsCsv(jobs: Job[]): string {
  const rows = jobs.map((job) =>
    formatCsvRecord([
      job.id,
      job.tenant,
      job.class,
      job.poolClass,
      String(job.units),
      String(job.durationS),
      formatInstant(job.releaseMs),
      formatInstant(job.deadlineMs),
      job.origin,
      String(job.inputGb),
      String(job.interruptible),
      job.allowedSites === null ? '' : job.allowedSites.join('|'),
    ]),
  );
  return [JOBS_CSV_COLUMNS.join(','), ...rows].map((line) => `${line}\n`).join('');
}
