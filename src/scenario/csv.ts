/**
 * Reads CSV files for scenario signals: a header row, then one row per time stamp.
 * Parsed tables and series are cached per process (loading `hami` twice parses each file once).
 * Errors name the scenario file, the JSON path of the source, the CSV file and its line.
 */
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
  /** Data lines as in the file (line ends removed); cells are split out per column on demand. */
  rows: string[];
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
  forEachField(table, column, where, (text, from, to, r) => {
    const value = parseDecimal(text, from, to);
    if (!Number.isNaN(value)) values[r] = value;
    else {
      const cell = text.slice(from, to);
      const general = cell.trim() === '' ? NaN : Number(cell);
      if (Number.isFinite(general)) values[r] = general;
      else if (MISSING.has(cell.trim().toLowerCase())) values[r] = NaN;
      else lineFail(where, table.lines[r], `value '${cell}' in column '${valueColumn}' is not a number`);
    }
  });
  return { timesMs: times.timesMs, values, spacingMs: times.spacingMs };
}

function readTimes(absPath: string | null, table: CsvTable, timeColumn: string, offsetMinutes: number, where: CsvWhere) {
  const key = absPath === null ? null : [absPath, timeColumn, offsetMinutes].join('\u0000');
  const cached = key === null ? undefined : timeColumns.get(key);
  if (cached) return cached;
  const column = columnIndex(table, timeColumn, where, 'timeColumn');
  const timesMs = new Float64Array(table.rows.length);
  forEachField(table, column, where, (text, from, to, r) => {
    const cell = from === 0 && to === text.length ? text : text.slice(from, to);
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

function parseTable(textContent: string, where: CsvWhere, minRows = 2): CsvTable {
  const table: CsvTable = { header: [], rows: [], lines: [] };
  const lines = textContent.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (line.trim() === '') continue;
    if (table.header.length === 0) table.header = splitCsvLine(line, where, i + 1).map((c) => c.trim());
    else {
      table.rows.push(line);
      table.lines.push(i + 1);
    }
  }
  if (table.rows.length < minRows) fail(where.scenarioFile, `${where.jsonPath}.file`, `${where.csvName}: needs a header and at least ${minRows === 1 ? 'one row' : 'two rows'}`);
  return table;
}

/**
 * Calls `visit(text, from, to, row)` with the bounds of field `index` in every row, without copying
 * the field (files have thousands of rows); checks each row has as many fields as the header.
 */
function forEachField(table: CsvTable, index: number, where: CsvWhere, visit: (text: string, from: number, to: number, row: number) => void): void {
  const width = table.header.length;
  table.rows.forEach((row, r) => {
    if (row.includes('"')) {
      const cells = splitCsvLine(row, where, table.lines[r]);
      if (cells.length !== width) lineFail(where, table.lines[r], `has ${cells.length} fields, the header has ${width}`);
      visit(cells[index], 0, cells[index].length, r);
      return;
    }
    let count = 1;
    let start = 0;
    let from = -1;
    let to = -1;
    for (let comma = row.indexOf(','); ; comma = row.indexOf(',', comma + 1)) {
      if (count - 1 === index) {
        from = start;
        to = comma < 0 ? row.length : comma;
      }
      if (comma < 0) break;
      count++;
      start = comma + 1;
    }
    if (count !== width) lineFail(where, table.lines[r], `has ${count} fields, the header has ${width}`);
    visit(row, from, to, r);
  });
}

/**
 * A plain decimal (`-12.345`) in text[from, to) without copying it; NaN for anything else
 * (exponents, spaces, empty), which the caller parses the general way. Exact like Number():
 * one correctly rounded division of integers below 2^53.
 */
export function parseDecimal(text: string, from: number, to: number): number {
  let i = from;
  const negative = text.charCodeAt(i) === 45;
  if (negative) i++;
  let mantissa = 0;
  let digits = 0;
  let scale = 1;
  let point = false;
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 && !point) point = true;
    else if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (point) scale *= 10;
    } else return NaN;
  }
  if (digits === 0 || digits > 15) return NaN;
  const value = mantissa / scale;
  return negative ? -value : value;
}

/** Splits one CSV line; double quotes enclose fields with commas ("" is a quote). */
function splitCsvLine(line: string, where: CsvWhere, lineNumber: number): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  if (quoted) lineFail(where, lineNumber, 'unterminated quoted field');
  cells.push(cell);
  return cells;
}

function lineFail(where: CsvWhere, line: number, reason: string): never {
  return fail(where.scenarioFile, where.jsonPath, `${where.csvName} line ${line}: ${reason}`);
}
