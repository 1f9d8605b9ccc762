/**
 * ISO 8601 instants as written in Kumul's files: parsed strictly (an explicit `Z` or offset is required,
 * so a file never depends on the reader's time zone) and written in UTC. Used by the jobs file and the CLI.
 */

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)$/;

const MS_PER_DAY = 86_400_000;

/** Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Epoch milliseconds of an ISO 8601 instant such as `2026-06-01T03:00Z`, `2026-06-01T11:00:00+08:00`
 * or `2026-06-01T03:00:00.250Z`; null when the text is not one (wrong shape, no zone, or a field out of range).
 * Fractions of a millisecond are truncated.
 */
export function parseInstantMs(text: string): number | null {
  const m = INSTANT.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMin = 0;
  if (m[8] === undefined) {
    const offHour = Number(m[10]);
    const offMinute = m[11] === undefined ? 0 : Number(m[11]);
    if (offHour > 23 || offMinute > 59) return null;
    offsetMin = (m[9] === '-' ? -1 : 1) * (offHour * 60 + offMinute);
  }
  const localMs = daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
  return localMs - offsetMin * 60_000;
}

/** `2026-06-01T03:00:00Z` (milliseconds only when not zero): the form every Kumul file writes. */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
