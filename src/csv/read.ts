/**
 * CSV records with the line each starts on, read by csv-parse (RFC 4180: quoted fields with commas, quotes and line
 * breaks; CRLF, LF or CR line ends, mixed too; a UTF-8 byte-order mark; white space around unquoted fields trimmed as
 * String.trim() does; blank lines skipped but counted). The one CSV reader of Kumul: the jobs file and trace importers stream files through
 * it (src/jobs/table.ts), the scenario's signal CSVs and the API's CSV bodies pass their text (src/scenario/csv.ts).
 *
 * A record csv-parse cannot read becomes a record with `syntaxError` (in Kumul's words, naming the line). After a stray
 * quote in an unquoted field reading goes on with the next line, so one pass reports every such line; after a bad closing
 * quote or an unclosed one csv-parse cannot tell where the record ends, so that record is the last one read.
 */
import { pipeline, type Readable } from 'node:stream';
import { parse as parseStream, type CsvError, type InfoRecord, type Options } from 'csv-parse';
import { parse as parseText } from 'csv-parse/sync';

export interface CsvRecord {
  /** 1-based line the record starts on. */
  line: number;
  /** Its fields, unquoted; empty when `syntaxError` is set. */
  fields: string[];
  /** Why the record could not be read. */
  syntaxError?: string;
}

/** CSV text in hand (a request body, a small file read whole) or a stream of it (a large file). */
export type CsvInput = string | Readable;

/**
 * The records of `input` in file order: read at once from text, streamed from a stream (a file is never held whole).
 * Iterate with `for await`, which takes both.
 */
export function csvRecords(input: string): Iterable<CsvRecord>;
export function csvRecords(input: CsvInput): Iterable<CsvRecord> | AsyncIterable<CsvRecord>;
export function csvRecords(input: CsvInput): Iterable<CsvRecord> | AsyncIterable<CsvRecord> {
  const positions = new Positions();
  if (typeof input === 'string') return positions.flatten(parseText(input, positions.options) as unknown as Parsed[]);
  // pipeline, not pipe: a read error (a missing file) ends the iteration with that error.
  return positions.flattenAsync(pipeline(input, parseStream(positions.options), () => {}));
}

/** Line the field `index` of `record` starts on: later than the record's after quoted line breaks in earlier fields. */
export function fieldLine(record: CsvRecord, index: number): number {
  let line = record.line;
  for (let i = 0; i < index; i++) line += lineBreaks(record.fields[i]);
  return line;
}

/** What the parser hands on: a record, or the records unreadable before it followed by it. */
type Parsed = CsvRecord | CsvRecord[];

/** Longest record read; no CSV Kumul reads comes near it (a jobs row is about 100 characters). */
const MAX_RECORD_CHARS = 1 << 20;

const AFTER_CLOSING_QUOTE = 'unexpected text after a closing quote (a quote inside a quoted field is written "")';

/** Kumul's words for csv-parse's error codes (an unclosed quote's reason also names the line it opened on). */
const REASONS: Partial<Record<string, string>> = {
  CSV_MAX_RECORD_SIZE: `a record longer than ${MAX_RECORD_CHARS} characters (is a quote not closed?)`,
  CSV_INVALID_CLOSING_QUOTE: AFTER_CLOSING_QUOTE,
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: AFTER_CLOSING_QUOTE,
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field (quote the whole field and write the quote as "")',
};

/**
 * The state of one read (csvRecords makes one per input): turns csv-parse's positions into record lines. csv-parse
 * counts lines up to where it is (`lines`), but counts a CRLF inside a quoted field as two; this class keeps the count
 * of those so far (`extraLines`) and takes it off. The raw text of a record csv-parse gives up on (option `raw`) says
 * where it started and where an unclosed quote opened.
 */
class Positions {
  private extraLines = 0;
  /** Unreadable records met since the last record handed on. */
  private pending: CsvRecord[] = [];
  /** Raw text of the unreadable record being read, until the next record starts (a record can fail more than once). */
  private failing: string | null = null;
  /** Set by an error csv-parse cannot read past; records after it are dropped. */
  private stopped = false;

  readonly options: Options = {
    bom: true,
    trim: true,
    raw: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    // Bounds what an unclosed quote makes csv-parse hold (the rest of the file in one field).
    max_record_size: MAX_RECORD_CHARS,
    skip_records_with_error: true,
    // With `raw`, csv-parse hands on { record, raw }; what this returns is what the parser yields (typed as records).
    on_record: ((parsed: { record: string[] }, context: InfoRecord) => this.record(parsed.record, context)) as unknown as Options['on_record'],
    on_skip: (err, raw) => this.skip(err as CsvError, raw ?? ''),
  };

  *flatten(parsed: Iterable<Parsed>): Iterable<CsvRecord> {
    for (const p of parsed) yield* Array.isArray(p) ? p : [p];
    yield* this.pending.splice(0);
  }

  async *flattenAsync(parsed: AsyncIterable<Parsed>): AsyncIterable<CsvRecord> {
    for await (const p of parsed) yield* Array.isArray(p) ? p : [p];
    yield* this.pending.splice(0);
  }

  /** A record read: null for a blank line (not handed on). */
  private record(fields: string[], context: InfoRecord): Parsed | null {
    if (this.stopped) return this.pending.length === 0 ? null : this.pending.splice(0);
    this.endFailing();
    // csv-parse's `lines` is the line the record ends on, counted its way.
    let breaks = 0;
    let crlfs = 0;
    for (const field of fields) {
      breaks += lineBreaks(field);
      crlfs += crlfCount(field);
    }
    const line = context.lines - breaks - crlfs - this.extraLines;
    this.extraLines += crlfs;
    if (fields.length === 1 && fields[0] === '' && !(context.raw ?? '').includes('"')) return null;
    const record: CsvRecord = { line, fields };
    if (this.pending.length === 0) return record;
    return [...this.pending.splice(0), record];
  }

  /** A record csv-parse gave up on at `err.lines`; `raw` is its text up to the character at fault. */
  private skip(err: CsvError, raw: string): undefined {
    if (this.stopped) return undefined;
    // The same record failing again further on (an unclosed quote after a bad closing quote) keeps its first reason.
    if (this.failing !== null && raw.length > this.failing.length && raw.startsWith(this.failing)) {
      this.failing = raw;
      return undefined;
    }
    this.endFailing();
    this.failing = raw;
    const before = raw.slice(0, -1);
    const line = (err.lines as number) - lineBreaks(before) - crlfCount(before) - this.extraLines;
    const reason = err.code === 'CSV_QUOTE_NOT_CLOSED' ? `quoted field opened on line ${line + lineBreaks(raw.slice(0, openingQuote(raw)))} is not closed` : (REASONS[err.code] ?? err.message);
    this.pending.push({ line, fields: [], syntaxError: reason });
    this.stopped = err.code !== 'INVALID_OPENING_QUOTE';
    return undefined;
  }

  private endFailing(): void {
    if (this.failing !== null) this.extraLines += crlfCount(this.failing);
    this.failing = null;
  }
}

/**
 * Index in `raw` of the quote that opened the field still open at its end. Inside that field quotes come in pairs
 * (`""`), so it is the first quote of the last run of an odd number of quotes.
 */
function openingQuote(raw: string): number {
  let end = raw.length;
  for (;;) {
    const last = raw.lastIndexOf('"', end - 1);
    if (last < 0) return 0;
    let first = last;
    while (first > 0 && raw[first - 1] === '"') first--;
    if ((last - first) % 2 === 0) return first;
    end = first;
  }
}

/** Line breaks (CRLF, LF or CR) in `text`. */
function lineBreaks(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1)) if (text[i + 1] !== '\n') n++;
  return n;
}

/** CRLFs in `text` (csv-parse counts each inside a quoted field as two lines). */
function crlfCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\r\n'); i >= 0; i = text.indexOf('\r\n', i + 2)) n++;
  return n;
}
