/**
 * Reading the backup files (datasets, policies, storage endpoints) and the batch plan's transfers into the
 * core's model, checked against a scenario. Called by `kumul backup plan` and the tests; every problem is a
 * BackupInputError whose lines read `<file>: <JSON path>: <reason>`, like a scenario's.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { Scenario, TimeGrid } from '../core/model/types.ts';
import type { BackupDataset, BackupPolicy, FixedTransfer } from '../core/backup/model.ts';
import { rpoProblem } from '../core/backup/model.ts';
import { displayPath, formatJsonPath, readTextFile, type ScenarioIssue } from '../scenario/errors.ts';
import { issuesFromZod } from '../scenario/issues.ts';
import { parseClockMinutes, parseIsoInstant, timeZoneOffsetMinutes } from '../scenario/time.ts';
import { DatasetsFileSchema, EndpointsFileSchema, PoliciesFileSchema, type DatasetInput, type DatasetsFile, type PoliciesFile, type PolicyInput } from './schema.ts';

const MAX_LISTED_ISSUES = 20;

/** A backup input file is invalid: each issue names the field and the reason. */
export class BackupInputError extends Error {
  readonly code = 'invalid_backup_input';
  readonly httpStatus = 400;
  readonly file: string;

  constructor(
    file: string,
    readonly issues: ScenarioIssue[],
  ) {
    const shown = displayPath(file);
    const lines = issues.slice(0, MAX_LISTED_ISSUES).map((i) => [shown, i.path, i.reason].filter((s) => s !== '').join(': '));
    if (issues.length > MAX_LISTED_ISSUES) lines.push(`${shown}: … and ${issues.length - MAX_LISTED_ISSUES} more problems`);
    super(lines.join('\n'));
    this.name = 'BackupInputError';
    this.file = shown;
  }
}

/** Parses a JSON file against a schema; throws a BackupInputError naming every bad field. */
function readJson<T>(file: string, schema: z.ZodType<T>): T {
  const fail = (reason: string): never => {
    throw new BackupInputError(file, [{ path: '', reason }]);
  };
  const textContent = readTextFile(file, fail);
  let json: unknown;
  try {
    json = JSON.parse(textContent);
  } catch (err) {
    return fail(`not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new BackupInputError(file, issuesFromZod(parsed.error));
  return parsed.data;
}

export interface BackupFiles {
  datasetsFile: string;
  policiesFile: string;
}

/** The datasets with their policies, checked against the scenario's sites and grid. */
export function loadBackupInput(files: BackupFiles, scenario: Scenario): BackupDataset[] {
  const policiesDoc = readJson(files.policiesFile, PoliciesFileSchema);
  const datasetsDoc = readJson(files.datasetsFile, DatasetsFileSchema);
  const policies = policiesFrom(files.policiesFile, policiesDoc, scenario);
  return datasetsFrom(files.datasetsFile, datasetsDoc, policies, scenario);
}

/** What the backup checks read of a scenario: its sites and the plan's grid. */
export type BackupGround = Pick<Scenario, 'network' | 'grid'>;
/** Formats the JSON path of a field of the item checked (a file's `policies[2].rpoHours`, a request's `rpoHours`). */
export type FieldAt = (...path: (string | number)[]) => string;

function policiesFrom(file: string, doc: PoliciesFile, scenario: BackupGround): Map<string, BackupPolicy> {
  const issues: ScenarioIssue[] = [];
  const policies = new Map<string, BackupPolicy>();
  doc.policies.forEach((p, i) => {
    const at: FieldAt = (...path) => formatJsonPath(['policies', i, ...path]);
    if (policies.has(p.id)) issues.push({ path: at('id'), reason: `duplicate policy id '${p.id}'` });
    const checked = policyFrom(p, at, scenario);
    issues.push(...checked.issues);
    policies.set(p.id, checked.policy);
  });
  if (issues.length > 0) throw new BackupInputError(file, issues);
  return policies;
}

/**
 * One policy (schema-checked) as the core's, with what is wrong with it against the scenario: unknown target sites,
 * an RPO the grid cannot plan. Called for each policy of a file, and by POST /v1/backup/policies.
 */
export function policyFrom(p: PolicyInput, at: FieldAt, scenario: BackupGround): { policy: BackupPolicy; issues: ScenarioIssue[] } {
  const sites = new Set(scenario.network.sites.map((s) => s.id));
  const issues: ScenarioIssue[] = [];
  p.targets?.forEach((t, k) => {
    if (!sites.has(t)) issues.push({ path: at('targets', k), reason: `unknown site '${t}'; sites are ${[...sites].join(', ')}` });
  });
  const window = p.window ? { fromMin: parseClockMinutes(p.window.from)!, toMin: parseClockMinutes(p.window.to)!, offsetMin: timeZoneOffsetMinutes(p.window.timeZone) } : null;
  const policy: BackupPolicy = { id: p.id, candidates: p.targets ?? null, replicas: p.replicas, rpoHours: p.rpoHours, retainVersions: p.retainVersions, window };
  const short = rpoProblem(policy, scenario.grid);
  if (short) issues.push({ path: at('rpoHours'), reason: short });
  return { policy, issues };
}

function datasetsFrom(file: string, doc: DatasetsFile, policies: Map<string, BackupPolicy>, scenario: BackupGround): BackupDataset[] {
  const issues: ScenarioIssue[] = [];
  const seen = new Set<string>();
  const datasets: BackupDataset[] = [];
  doc.datasets.forEach((d, i) => {
    const at: FieldAt = (...path) => formatJsonPath(['datasets', i, ...path]);
    if (seen.has(d.id)) issues.push({ path: at('id'), reason: `duplicate dataset id '${d.id}'` });
    seen.add(d.id);
    const checked = datasetFrom(d, d.tenant, at, policies, scenario);
    issues.push(...checked.issues);
    if (checked.dataset && checked.issues.length === 0) datasets.push(checked.dataset);
  });
  if (issues.length > 0) throw new BackupInputError(file, issues);
  return datasets;
}

/**
 * One dataset (schema-checked) of `tenant` as the core's, with what is wrong with it against its policies and the
 * scenario: an unknown origin, policy or seeded site, a policy wanting more replicas than there are sites, a change
 * series that does not cover the grid. Called for each dataset of a file, and by POST /v1/backup/datasets (and the
 * service's backup loop at each cycle, over its horizon).
 */
export function datasetFrom(d: DatasetInput, tenant: string, at: FieldAt, policies: ReadonlyMap<string, BackupPolicy>, scenario: BackupGround): { dataset: BackupDataset | null; issues: ScenarioIssue[] } {
  const sites = new Map(scenario.network.sites.map((s) => [s.id, s]));
  const issues: ScenarioIssue[] = [];
  const origin = sites.get(d.origin);
  if (!origin) issues.push({ path: at('origin'), reason: `unknown site '${d.origin}'; sites are ${[...sites.keys()].join(', ')}` });
  const policy = policies.get(d.policy);
  if (!policy) issues.push({ path: at('policy'), reason: `unknown policy '${d.policy}'; policies are ${[...policies.keys()].join(', ') || 'none'}` });
  d.seeded?.forEach((s, k) => {
    if (!sites.has(s)) issues.push({ path: at('seeded', k), reason: `unknown site '${s}'` });
  });
  if (origin && policy) {
    const candidates = (policy.candidates ?? scenario.network.sites.filter((s) => s.region !== origin.region).map((s) => s.id)).filter((s) => s !== origin.id);
    if (policy.candidates?.includes(origin.id)) issues.push({ path: at('policy'), reason: `policy '${policy.id}' targets '${origin.id}', the dataset's own origin` });
    else if (candidates.length < policy.replicas)
      issues.push({ path: at('policy'), reason: `policy '${policy.id}' wants ${policy.replicas} replicas but only ${candidates.length} sites are outside ${origin.region} (${candidates.join(', ') || 'none'})` });
  }
  let changeGBPerSlot: number[] = [];
  if (d.changeSeries) {
    const resolved = resolveChangeSeries(d.changeSeries, scenario.grid);
    if (typeof resolved === 'string') issues.push({ path: at('changeSeries'), reason: resolved });
    else changeGBPerSlot = resolved;
  } else {
    changeGBPerSlot = new Array<number>(scenario.grid.slots).fill(((d.dailyChangeGB ?? 0) * scenario.grid.slotMinutes) / 1440);
  }
  if (issues.length > 0 || !policy) return { dataset: null, issues };
  return { dataset: { id: d.id, tenant, origin: d.origin, sizeGB: d.sizeGB, changeGBPerSlot, prefix: d.prefix, seeded: d.seeded ?? [], policy }, issues };
}

/** GB changed in each slot of the grid: each step's GB shared out by the part of it a slot covers; the series must cover the grid. */
function resolveChangeSeries(series: { start: string; stepMinutes: number; gb: number[] }, grid: TimeGrid): number[] | string {
  const startMs = parseIsoInstant(series.start)!;
  const stepMs = series.stepMinutes * 60_000;
  const endMs = startMs + series.gb.length * stepMs;
  const slotMs = grid.slotMinutes * 60_000;
  const gridEndMs = grid.startMs + grid.slots * slotMs;
  if (startMs > grid.startMs || endMs < gridEndMs)
    return `covers ${new Date(startMs).toISOString()} to ${new Date(endMs).toISOString()}; the plan runs from ${new Date(grid.startMs).toISOString()} to ${new Date(gridEndMs).toISOString()}`;
  const out = new Array<number>(grid.slots).fill(0);
  for (let t = 0; t < grid.slots; t++) {
    const a = grid.startMs + t * slotMs;
    const b = a + slotMs;
    for (let k = Math.floor((a - startMs) / stepMs); k < series.gb.length && startMs + k * stepMs < b; k++) {
      const overlap = Math.min(b, startMs + (k + 1) * stepMs) - Math.max(a, startMs + k * stepMs);
      if (overlap > 0) out[t] += (series.gb[k] * overlap) / stepMs;
    }
  }
  return out;
}

/** A site's storage: an rclone remote and a path on it. */
export interface StorageEndpoint {
  remote: string;
  path: string;
}

export interface Endpoints {
  /** The endpoints file (for errors). */
  file: string;
  /** Absolute path of the rclone config file. */
  rcloneConfig: string;
  sites: Map<string, StorageEndpoint>;
}

/** The storage endpoints file; `siteIds`, when given, are the sites it may name. */
export function loadEndpoints(file: string, siteIds?: readonly string[]): Endpoints {
  const doc = readJson(file, EndpointsFileSchema);
  const endpoints = { file, rcloneConfig: resolve(dirname(file), doc.rcloneConfig), sites: new Map(Object.entries(doc.sites)) };
  if (siteIds) checkEndpointSites(endpoints, siteIds);
  return endpoints;
}

/** Throws a BackupInputError naming each site of the endpoints that `siteIds` does not have (`kumul serve` checks them against its network). */
export function checkEndpointSites(endpoints: Endpoints, siteIds: readonly string[]): void {
  const issues = [...endpoints.sites.keys()]
    .filter((id) => !siteIds.includes(id))
    .map((id) => ({ path: formatJsonPath(['sites', id]), reason: `unknown site '${id}'; sites are ${siteIds.join(', ')}` }));
  if (issues.length > 0) throw new BackupInputError(endpoints.file, issues);
}

const JobsPlanTransfers = z.object({
  jobs: z.array(
    z.object({
      transfer: z
        .object({
          route: z.array(z.string()).min(2),
          gb: z.number().nonnegative(),
          start: z.string(),
          end: z.string(),
          segments: z.array(z.object({ start: z.string(), end: z.string(), gb: z.number().nonnegative() })).optional(),
        })
        .nullable(),
    }),
  ),
});

/** The input transfers of a batch plan (docs/plan-format.md): fixed use of the links they cross. */
export function loadJobTransfers(file: string, scenario: Scenario): FixedTransfer[] {
  const doc = readJson(file, JobsPlanTransfers);
  const sites = new Set(scenario.network.sites.map((s) => s.id));
  const issues: ScenarioIssue[] = [];
  const out: FixedTransfer[] = [];
  doc.jobs.forEach((job, i) => {
    const tr = job.transfer;
    if (!tr) return;
    const at = (field: string) => formatJsonPath(['jobs', i, 'transfer', field]);
    const startMs = parseIsoInstant(tr.start);
    const endMs = parseIsoInstant(tr.end);
    if (startMs === null) issues.push({ path: at('start'), reason: 'must be an ISO 8601 instant' });
    if (endMs === null) issues.push({ path: at('end'), reason: 'must be an ISO 8601 instant' });
    tr.route.forEach((s, k) => {
      if (!sites.has(s)) issues.push({ path: formatJsonPath(['jobs', i, 'transfer', 'route', k]), reason: `unknown site '${s}'` });
    });
    const segments = (tr.segments ?? []).map((seg, k) => {
      const from = parseIsoInstant(seg.start);
      const to = parseIsoInstant(seg.end);
      if (from === null) issues.push({ path: formatJsonPath(['jobs', i, 'transfer', 'segments', k, 'start']), reason: 'must be an ISO 8601 instant' });
      if (to === null) issues.push({ path: formatJsonPath(['jobs', i, 'transfer', 'segments', k, 'end']), reason: 'must be an ISO 8601 instant' });
      return { startMs: from ?? 0, endMs: to ?? 0, gb: seg.gb };
    });
    if (startMs !== null && endMs !== null) out.push({ route: tr.route, gb: tr.gb, startMs, endMs, ...(segments.length > 0 ? { segments } : {}) });
  });
  if (issues.length > 0) throw new BackupInputError(file, issues);
  return out;
}
