/**
 * Reads CSV files for scenario signals: a header row, then one row per time stamp, through the shared CSV reader
 * (src/csv/read.ts). Signal files are small and the scenario loader is synchronous, so a file is read whole.
 * Parsed tables and series are cached per process (loading `hami` twice parses each file once).
 * Errors name the scenario file, the JSON path of the source, the CSV file and its line.
 */
import { csvRecords } from '../csv/read.ts';
import { fail, readTextFile } from './errors.ts';
import { parseTimeStamp } from './time.ts';

/** Where a CSV is read from, for error messages: the scenario file, the source's JSON path, the CSV as named there. */
export interface CsvWhere {
  scenarioFile: string;
  jsonPath: string;
  csvName: string;
}

interface CsvTable {
  header: string[];
  /** Data rows' fields, each row as wide as the header. */
  rows: string[][];
  /** 1-based line number of each row in the file. */
  lines: number[];
}

/** A numeric column against time: ascending instants, values (NaN where missing), typical spacing. */
export interface CsvSeries {
  timesMs: Float64Array;
  values: Float64Array;
  /** Median spacing between consecutive rows, ms. */
  spacingMs: number;
}

const MISSING = new Set(['', 'na', 'nan', 'null', 'none', '-']);
const tables = new Map<string, CsvTable>();
const timeColumns = new Map<string, { timesMs: Float64Array; spacingMs: number }>();
const series = new Map<string, CsvSeries>();

/** Reads `valueColumn` against `timeColumn` (times without a zone are at `offsetMinutes` from UTC). */
export function readCsvSeries(absPath: string, timeColumn: string, valueColumn: string, offsetMinutes: number, where: CsvWhere): CsvSeries {
  const key = [absPath, timeColumn, valueColumn, offsetMinutes].join('\u0000');
  const cached = series.get(key);
  if (cached) return cached;
  const result = tableSeries(readTable(absPath, where), timeColumn, valueColumn, offsetMinutes, where, absPath);
  series.set(key, result);
  return result;
}

/**
 * The same from CSV text, not cached, with each row's line number: the operator API turns uploaded signal
 * CSVs into inline series this way (src/scenario/series-csv.ts), and reads pushed points (src/api/routes/signals.ts,
 * which allows a single row: `minRows` 1; `spacingMs` is then 0).
 */
export function parseCsvSeries(text: string, timeColumn: string, valueColumn: string, offsetMinutes: number, where: CsvWhere, minRows = 2): CsvSeries & { lines: number[] } {
  const table = parseTable(text, where, minRows);
  return { ...tableSeries(table, timeColumn, valueColumn, offsetMinutes, where, null), lines: table.lines };
}

/** A table's value column against its time column; `cacheKey` (the file) caches the time column, null for none. */
function tableSeries(table: CsvTable, timeColumn: string, valueColumn: string, offsetMinutes: number, where: CsvWhere, cacheKey: string | null): CsvSeries {
  const times = readTimes(cacheKey, table, timeColumn, offsetMinutes, where);
  const column = columnIndex(table, valueColumn, where, 'valueColumn');
  const values = new Float64Array(table.rows.length);
  table.rows.forEach((row, r) => {
    const cell = row[column];
    const value = cell.trim() === '' ? NaN : Number(cell);
    if (Number.isFinite(value)) values[r] = value;
    else if (MISSING.has(cell.trim().toLowerCase())) values[r] = NaN;
    else lineFail(where, table.lines[r], `value '${cell}' in column '${valueColumn}' is not a number`);
  });
  return { timesMs: times.timesMs, values, spacingMs: times.spacingMs };
}

function readTimes(absPath: string | null, table: CsvTable, timeColumn: string, offsetMinutes: number, where: CsvWhere) {
  const key = absPath === null ? null : [absPath, timeColumn, offsetMinutes].join('\u0000');
  const cached = key === null ? undefined : timeColumns.get(key);
  if (cached) return cached;
  const column = columnIndex(table, timeColumn, where, 'timeColumn');
  const timesMs = new Float64Array(table.rows.length);
  table.rows.forEach((row, r) => {
    const cell = row[column];
    const t = parseTimeStamp(cell, offsetMinutes);
    if (t === null) lineFail(where, table.lines[r], `time '${cell}' in column '${timeColumn}' is not a time stamp YYYY-MM-DD HH:MM[:SS][zone]`);
    if (r > 0 && t <= timesMs[r - 1]) lineFail(where, table.lines[r], `time '${cell}' is not after the previous row's; rows must be in ascending time order without repeats`);
    timesMs[r] = t;
  });
  const diffs = timesMs.subarray(1).map((t, i) => t - timesMs[i]).sort();
  const result = { timesMs, spacingMs: diffs.length === 0 ? 0 : diffs[Math.floor(diffs.length / 2)] };
  if (key !== null) timeColumns.set(key, result);
  return result;
}

function columnIndex(table: CsvTable, name: string, where: CsvWhere, field: string): number {
  const index = table.header.indexOf(name);
  if (index < 0)
    fail(where.scenarioFile, `${where.jsonPath}.${field}`, `${where.csvName}: CSV column '${name}' not found; columns are ${table.header.map((h) => `'${h}'`).join(', ')}`);
  return index;
}

function readTable(absPath: string, where: CsvWhere): CsvTable {
  const cached = tables.get(absPath);
  if (cached) return cached;
  const textContent = readTextFile(absPath, (reason) => fail(where.scenarioFile, `${where.jsonPath}.file`, `${where.csvName}: ${reason} (looked for ${absPath})`));
  const table = parseTable(textContent, where);
  tables.set(absPath, table);
  return table;
}

/** The table of `textContent`; a record that is not CSV, or not as wide as the header, fails naming its line. */
function parseTable(textContent: string, where: CsvWhere, minRows = 2): CsvTable {
  const table: CsvTable = { header: [], rows: [], lines: [] };
  let first = true;
  for (const record of csvRecords(textContent)) {
    if (record.syntaxError !== undefined) lineFail(where, record.line, record.syntaxError);
    if (first) table.header = record.fields.map((name) => name.trim());
    else if (record.fields.length !== table.header.length) lineFail(where, record.line, `has ${record.fields.length} fields, the header has ${table.header.length}`);
    else {
      table.rows.push(record.fields);
      table.lines.push(record.line);
    }
    first = false;
  }
  if (table.rows.length < minRows) fail(where.scenarioFile, `${where.jsonPath}.file`, `${where.csvName}: needs a header and at least ${minRows === 1 ? 'one row' : 'two rows'}`);
  return table;
}

function lineFail(where: CsvWhere, line: number, reason: string): never {
  return fail(where.scenarioFile, where.jsonPath, `${where.csvName} line ${line}: ${reason}`);
}
