/**
 * Recurring jobs: one job requested every day (or every `everyMs`) at a local time of day, as in
 * temporal-shifting studies of periodic work such as nightly builds or backups
 * (docs/temporal-shifting.md). `kumul jobs recurring` writes them with `formatJobsCsv`.
 */
import type { Job, JobClass, PoolClass } from '../core/model/types.ts';
import { FieldError } from './errors.ts';
import { quoted } from './fields.ts';
import { formatInstant, parseInstantMs } from './instant.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Default deadline: release + duration + this, so a shift of up to 24 h either way is never cut by the deadline. */
export const DEFAULT_DEADLINE_MARGIN_MS = DAY_MS;
/** Most jobs one spec may make (a year of one job a minute). */
export const MAX_RECURRING_JOBS = 527_040;

/** What to generate; each field names the `kumul jobs recurring` option that sets it. */
export interface RecurringSpec {
  /** Site the jobs run at and hold their input at (`--site`). */
  site: string;
  /** Local time of day each job is requested at, minutes after midnight (`--at`). */
  atMinutes: number;
  /** Local zone as a fixed offset from UTC, minutes; no daylight saving (`--tz`). */
  offsetMinutes: number;
  /** Jobs are requested in [fromMs, toMs) (`--from`, `--to`). */
  fromMs: number;
  toMs: number;
  /** Time between two requests, whole minutes (`--every`). */
  everyMs: number;
  /** Run time of each job (`--duration`). */
  durationS: number;
  /** Deadline = release + this (`--deadline-after`); default: duration + DEFAULT_DEADLINE_MARGIN_MS. */
  deadlineAfterMs?: number;
  units: number;
  poolClass: PoolClass;
  jobClass: JobClass;
  interruptible: boolean;
  inputGb: number;
  tenant: string;
}

/** A spec whose options do not fit together; `option` is the option at fault. */
export class RecurringSpecError extends Error {
  constructor(
    readonly option: string,
    readonly reason: string,
  ) {
    super(`${option}: ${reason}`);
    this.name = 'RecurringSpecError';
  }
}

/**
 * The jobs of `spec`: requested at `atMinutes` local time on the day of `fromMs` (or the first
 * request at or after `fromMs`), then every `everyMs` while before `toMs`. Release = requested time;
 * id `<site>-<local YYYYMMDD>T<HHMM>`; no residency constraint. Throws RecurringSpecError.
 */
export function recurringJobs(spec: RecurringSpec): Job[] {
  const durationMs = spec.durationS * 1000;
  const deadlineAfterMs = spec.deadlineAfterMs ?? durationMs + DEFAULT_DEADLINE_MARGIN_MS;
  if (spec.toMs <= spec.fromMs) throw new RecurringSpecError('--to', `${formatInstant(spec.toMs)} is not after --from (${formatInstant(spec.fromMs)})`);
  if (spec.everyMs <= 0 || spec.everyMs % MINUTE_MS !== 0) throw new RecurringSpecError('--every', `${spec.everyMs / 1000} s is not a positive whole number of minutes`);
  // Equal is "no slack": each job must start at its release.
  if (deadlineAfterMs < durationMs) {
    throw new RecurringSpecError('--deadline-after', `${deadlineAfterMs / 1000} s is shorter than --duration (${spec.durationS} s)`);
  }
  const offsetMs = spec.offsetMinutes * MINUTE_MS;
  const localMidnightMs = Math.floor((spec.fromMs + offsetMs) / DAY_MS) * DAY_MS - offsetMs;
  let firstMs = localMidnightMs + spec.atMinutes * MINUTE_MS;
  if (firstMs < spec.fromMs) firstMs += Math.ceil((spec.fromMs - firstMs) / spec.everyMs) * spec.everyMs;
  const count = Math.max(0, Math.ceil((spec.toMs - firstMs) / spec.everyMs));
  if (count > MAX_RECURRING_JOBS) throw new RecurringSpecError('--every', `makes ${count} jobs between --from and --to; at most ${MAX_RECURRING_JOBS}`);
  return Array.from({ length: count }, (_, k) => {
    const releaseMs = firstMs + k * spec.everyMs;
    const local = new Date(releaseMs + offsetMs).toISOString(); // YYYY-MM-DDTHH:MM in the local zone
    return {
      id: `${spec.site}-${local.slice(0, 10).replaceAll('-', '')}T${local.slice(11, 16).replace(':', '')}`,
      tenant: spec.tenant,
      class: spec.jobClass,
      poolClass: spec.poolClass,
      units: spec.units,
      durationS: spec.durationS,
      releaseMs,
      deadlineMs: releaseMs + deadlineAfterMs,
      origin: spec.site,
      inputGb: spec.inputGb,
      interruptible: spec.interruptible,
      allowedSites: null,
    };
  });
}

// --- option parsers: each returns the value or throws a FieldError with the reason ----------------------

const DURATION = /^(?:\d+(?:\.\d+)?[wdhms])+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)([wdhms])/g;
const UNIT_MS: Record<string, number> = { w: 7 * DAY_MS, d: DAY_MS, h: 3_600_000, m: MINUTE_MS, s: 1000 };

/** Milliseconds of a duration such as `30m`, `1h`, `1h30m`, `1.5h`, `2d`, `1w`, `45s`; must be positive. */
export function durationMs(text: string): number {
  const ms = DURATION.test(text) ? [...text.matchAll(DURATION_PART)].reduce((sum, m) => sum + Number(m[1]) * UNIT_MS[m[2]], 0) : NaN;
  if (!(ms > 0)) throw new FieldError(`${quoted(text)} is not a positive duration (e.g. 30m, 1h, 1h30m, 2d; units w d h m s)`);
  return Math.round(ms);
}

/** Minutes after midnight of a local time `HH:MM` (00:00 to 23:59). */
export function timeOfDayMinutes(text: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new FieldError(`${quoted(text)} is not a time of day HH:MM (00:00 to 23:59)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Minutes east of UTC of a fixed offset: `+01:00`, `-05:00`, `+0530`, `Z` or `UTC`. */
export function utcOffsetMinutes(text: string): number {
  if (text === 'Z' || text === 'UTC') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (!m || Number(m[2]) > 14 || Number(m[3]) > 59) throw new FieldError(`${quoted(text)} is not a fixed UTC offset (e.g. +01:00, -05:00, Z)`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** Epoch ms of a day `YYYY-MM-DD` (its local midnight at `offsetMinutes`) or of an ISO 8601 instant with a zone. */
export function dayOrInstantMs(text: string, offsetMinutes: number): number {
  const isDay = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const ms = isDay ? parseInstantMs(`${text}T00:00Z`) : parseInstantMs(text);
  if (ms === null) throw new FieldError(`${quoted(text)} is not a day YYYY-MM-DD (midnight in --tz) or an ISO 8601 instant with Z or an offset`);
  return isDay ? ms - offsetMinutes * MINUTE_MS : ms;
}
