/**
 * Time helpers for scenario files: ISO instants, fixed-offset time zones, CSV time stamps,
 * and the mapping of a requested instant onto a data set's own years or days.
 */

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** Accepted time zones: `UTC` or a fixed offset `+08:00` / `-05:30` (no daylight saving). */
export const TIME_ZONE_PATTERN = /^(UTC|Z|[+-](?:0\d|1[0-4]):[0-5]\d)$/;

/** Offset of a time zone from UTC in minutes (`+08:00` → 480). The zone must match TIME_ZONE_PATTERN. */
export function timeZoneOffsetMinutes(zone: string): number {
  if (zone === 'UTC' || zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
}

const STAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses a time stamp `YYYY-MM-DD[ T]HH:MM[:SS[.fff]][Z|±HH:MM]` (or a date alone) to epoch ms.
 * Without a zone in the text, `defaultOffsetMinutes` applies. Returns null if it is not a valid stamp.
 */
export function parseTimeStamp(text: string, defaultOffsetMinutes: number): number | null {
  const fast = parsePlainStamp(text);
  if (fast !== undefined) return fast === null ? null : fast - defaultOffsetMinutes * MINUTE_MS;
  const m = STAMP.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, Math.round(Number(`0.${frac || '0'}`) * 1000));
  const check = new Date(ms);
  if (check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d || +h > 23 || +mi > 59 || +s > 59) return null;
  const offset = zone === undefined ? defaultOffsetMinutes : zoneOffsetOfStamp(zone);
  return ms - offset * MINUTE_MS;
}

/**
 * Fast path for the common `YYYY-MM-DD HH:MM[:SS]` without a zone (CSV files have thousands of rows):
 * the wall-clock time as if UTC, null if invalid, undefined if the text has another shape.
 */
function parsePlainStamp(s: string): number | null | undefined {
  const length = s.length;
  if ((length !== 16 && length !== 19) || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58) return undefined;
  const sep = s.charCodeAt(10);
  if ((sep !== 32 && sep !== 84) || (length === 19 && s.charCodeAt(16) !== 58)) return undefined;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 7);
  const d = digits(s, 8, 10);
  const h = digits(s, 11, 13);
  const mi = digits(s, 14, 16);
  const sec = length === 19 ? digits(s, 17, 19) : 0;
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h <= 23 && mi <= 59 && sec <= 59)) return null;
  return Date.UTC(y, mo - 1, d, h, mi, sec);
}

/** The decimal number in s[from, to), NaN if a character is not a digit. */
function digits(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1];
}

function zoneOffsetOfStamp(zone: string): number {
  if (zone === 'Z' || zone === 'UTC') return 0;
  const digits = zone.replace(':', '');
  const sign = digits.startsWith('-') ? -1 : 1;
  return sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
}

/** Parses an ISO 8601 instant that names its zone (`2026-06-01T00:00Z`, `…+08:00`); null otherwise. */
export function parseIsoInstant(text: string): number | null {
  if (!/T\d{2}:\d{2}.*(Z|[+-]\d{2}:\d{2})$/.test(text)) return null;
  return parseTimeStamp(text, 0);
}

/** Formats an instant as ISO UTC, dropping zero seconds: `2026-03-01T00:00Z`. Used in messages and exports. */
export function formatIsoMinute(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith(':00.000Z') ? `${iso.slice(0, 16)}Z` : iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

/**
 * How requested instants map onto a data set's time line, in the data's own time zone:
 * `exact` (no mapping), `repeat-year` (same month, day and time in `dataYear`; 29 February
 * becomes 28 February when `dataYear` is not a leap year), `repeat-day` (same time of day on `dataDay`).
 */
export type TimeMapping =
  | { kind: 'exact' }
  | { kind: 'repeat-year'; dataYear: number }
  | { kind: 'repeat-day'; dataDay: string };

/** Maps a requested instant onto the data's time line; `offsetMinutes` is the data's time zone. */
export function mapInstant(ms: number, mapping: TimeMapping, offsetMinutes: number): number {
  if (mapping.kind === 'exact') return ms;
  const local = new Date(ms + offsetMinutes * MINUTE_MS);
  const timeOfDayMs = local.getTime() - Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
  let dayMs: number;
  if (mapping.kind === 'repeat-year') {
    const month = local.getUTCMonth();
    let day = local.getUTCDate();
    if (month === 1 && day === 29 && !isLeapYear(mapping.dataYear)) day = 28;
    dayMs = Date.UTC(mapping.dataYear, month, day);
  } else {
    dayMs = Date.parse(`${mapping.dataDay}T00:00:00Z`);
  }
  return dayMs + timeOfDayMs - offsetMinutes * MINUTE_MS;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Parses `HH:MM` (00:00 to 24:00) to minutes of the day; null if malformed. */
export function parseClockMinutes(text: string): number | null {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return Number(m[2]) < 60 && minutes <= 1440 ? minutes : null;
}
