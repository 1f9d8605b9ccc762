/**
 * The invariants the store keeps whoever calls it: id shapes, known enums, finite numbers.
 * The API validates requests with its own schema first; these checks guard the database against bugs
 * and make the store's refusals name the field. Each returns the reason, or null when the value is fine.
 */
import { JOB_CLASSES, POOL_CLASSES, PRECISIONS } from '../core/model/types.ts';
import type { JobSpec, MeteringInput, TenantInput, UnplacedInput } from './port.ts';

/** Tenant, job and metering-key ids: 1-128 characters, letters, digits and `._:-`, starting with a letter or digit. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Executor refs are the executor's (Slurm ids, pod names): any 1-256 printable characters. */
const EXECUTOR_REF_PATTERN = /^[\x21-\x7e]{1,256}$/;

export function checkId(what: string, value: unknown): string | null {
  return typeof value === 'string' && ID_PATTERN.test(value) ? null : `${what} ${JSON.stringify(value)} is not an id (1-128 of A-Z a-z 0-9 . _ : -, starting with a letter or digit)`;
}

export function checkExecutorRef(value: unknown): string | null {
  return typeof value === 'string' && EXECUTOR_REF_PATTERN.test(value) ? null : `executor ref ${JSON.stringify(value)} must be 1-256 printable ASCII characters`;
}

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function positiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

export function checkTenant(tenant: TenantInput): string | null {
  const bad = checkId('tenant id', tenant.id);
  if (bad) return bad;
  if (typeof tenant.name !== 'string' || tenant.name.trim() === '') return `tenant ${tenant.id}: name must be a non-empty string`;
  if (tenant.role !== 'operator' && tenant.role !== 'tenant') return `tenant ${tenant.id}: role must be operator or tenant`;
  const quotas = tenant.maxConcurrentUnits as Record<string, unknown> | null;
  if (typeof quotas !== 'object' || quotas === null) return `tenant ${tenant.id}: maxConcurrentUnits must give ${POOL_CLASSES.join(', ')}`;
  for (const key of Object.keys(quotas)) if (!(POOL_CLASSES as readonly string[]).includes(key)) return `tenant ${tenant.id}: maxConcurrentUnits has unknown pool class ${key}`;
  for (const poolClass of POOL_CLASSES) {
    const limit = quotas[poolClass];
    if (limit !== null && !(Number.isSafeInteger(limit) && (limit as number) >= 0)) return `tenant ${tenant.id}: maxConcurrentUnits.${poolClass} must be a non-negative integer or null`;
  }
  return null;
}

/** Longest job command the store keeps (a script body, not data). */
export const MAX_COMMAND_CHARS = 65_536;

export function checkJobSpec(spec: JobSpec): string | null {
  const bad = checkId('job id', spec.id);
  if (bad) return bad;
  const of = `job ${spec.id}:`;
  if (!(JOB_CLASSES as readonly string[]).includes(spec.class)) return `${of} class must be one of ${JOB_CLASSES.join(', ')}`;
  if (!(POOL_CLASSES as readonly string[]).includes(spec.poolClass)) return `${of} poolClass must be one of ${POOL_CLASSES.join(', ')}`;
  if (!positiveInteger(spec.units)) return `${of} units must be a positive integer`;
  if (!finite(spec.durationS) || spec.durationS <= 0) return `${of} durationS must be a positive number`;
  if (!Number.isSafeInteger(spec.releaseMs) || !Number.isSafeInteger(spec.deadlineMs)) return `${of} releaseMs and deadlineMs must be integer epoch milliseconds`;
  if (spec.deadlineMs < spec.releaseMs) return `${of} deadlineMs is before releaseMs`;
  if (typeof spec.origin !== 'string' || spec.origin === '') return `${of} origin must be a site id`;
  if (!finite(spec.inputGb) || spec.inputGb < 0) return `${of} inputGb must be a non-negative number`;
  if (typeof spec.interruptible !== 'boolean') return `${of} interruptible must be true or false`;
  if (spec.allowedSites !== null && !(Array.isArray(spec.allowedSites) && spec.allowedSites.every((s) => typeof s === 'string' && s !== ''))) {
    return `${of} allowedSites must be null or a list of site ids`;
  }
  if (spec.command !== undefined && spec.command !== null && !(typeof spec.command === 'string' && spec.command.length <= MAX_COMMAND_CHARS)) {
    return `${of} command must be a string of at most ${MAX_COMMAND_CHARS} characters`;
  }
  return null;
}

export function checkMetering(row: MeteringInput): string | null {
  const bad = checkId('metering key', row.key);
  if (bad) return bad;
  const of = `metering ${row.jobId}/${row.key}:`;
  if (typeof row.site !== 'string' || row.site === '' || typeof row.pool !== 'string' || row.pool === '') return `${of} site and pool must be ids`;
  if (!Number.isSafeInteger(row.startMs) || !Number.isSafeInteger(row.endMs) || row.endMs < row.startMs) return `${of} startMs and endMs must be integer milliseconds with endMs ≥ startMs`;
  if (!positiveInteger(row.units)) return `${of} units must be a positive integer`;
  for (const field of ['energyKWh', 'greenKWh', 'carbonKg'] as const) if (!finite(row[field]) || row[field] < 0) return `${of} ${field} must be a non-negative number`;
  if (!finite(row.costYuan)) return `${of} costYuan must be a number`;
  for (const precision of PRECISIONS) {
    const value = row.pflopHours?.[precision];
    if (!finite(value) || value < 0) return `${of} pflopHours.${precision} must be a non-negative number`;
  }
  if (row.baseline !== undefined && row.baseline !== null) {
    for (const field of ['energyKWh', 'greenKWh', 'carbonKg'] as const) if (!finite(row.baseline[field]) || row.baseline[field] < 0) return `${of} baseline.${field} must be a non-negative number`;
    if (!finite(row.baseline.costYuan)) return `${of} baseline.costYuan must be a number`;
  }
  return null;
}

/** At most this many reason lines are kept per job (a summary and one line per site; more sites are cut). */
export const MAX_UNPLACED_REASONS = 64;
/** Longest reason line or code kept. */
export const MAX_UNPLACED_CHARS = 500;

export function checkUnplaced(input: UnplacedInput): string | null {
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '');
  if (!strings(input.codes) || input.codes.length === 0) return 'unplaced.codes must be a non-empty list of non-empty strings';
  if (!strings(input.reasons) || input.reasons.length === 0) return 'unplaced.reasons must be a non-empty list of non-empty strings';
  return null;
}
