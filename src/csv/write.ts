/**
 * Writing CSV as RFC 4180 does, for what Kumul hands out as CSV: jobs files (src/jobs/jobs-file.ts) and bills
 * (src/api/bill.ts). The reader (./read.ts) reads it back unchanged.
 */

/**
 * One field as RFC 4180 writes it: quoted when it holds a comma, quote or line break, or begins or ends with white
 * space (the reader trims unquoted fields as JavaScript's trim() does).
 */
function formatCsvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One record, without its line break. */
export function formatCsvRecord(values: readonly string[]): string {
  return values.map(formatCsvField).join(',');
}
