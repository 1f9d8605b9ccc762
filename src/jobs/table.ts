/**
 * A CSV file read as a table with a named header: rows whose fields are looked up and parsed by column name,
 * each failure recorded as an issue naming the line and column. The jobs file and the trace importers read through it,
 * a row at a time, so a large file is streamed rather than held whole.
 */
import { csvRecords, fieldLine, type CsvInput, type CsvRecord } from '../csv/read.ts';
import { FieldError, type IssueCollector } from './errors.ts';

export interface HeaderRule {
  columns: readonly string[];
  /** true: the header must be exactly `columns`, in order; false: it must contain them, in any order, and may have more. */
  exact: boolean;
}

export class TableRow {
  constructor(
    private readonly record: CsvRecord,
    private readonly index: ReadonlyMap<string, number>,
    private readonly issues: IssueCollector,
  ) {}

  /** 1-based line the row starts on. */
  get line(): number {
    return this.record.line;
  }

  text(column: string): string {
    return this.record.fields[this.columnIndex(column)];
  }

  /** Line the column's field starts on (later than `line` after a quoted line break). */
  lineOf(column: string): number {
    return fieldLine(this.record, this.columnIndex(column));
  }

  /** The column parsed by `parser`; when it throws a FieldError, records the issue and returns undefined. */
  parse<T>(column: string, parser: (text: string) => T): T | undefined {
    try {
      return parser(this.text(column));
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      this.fail(column, err.message);
      return undefined;
    }
  }

  fail(column: string, reason: string): void {
    this.issues.add({ line: this.lineOf(column), column, reason });
  }

  private columnIndex(column: string): number {
    const i = this.index.get(column);
    if (i === undefined) throw new Error(`bug: column ${column} is not in the header rule`);
    return i;
  }
}

/**
 * The data rows of `input` (header checked by `rule`), as they are read; malformed lines and a bad header go to
 * `issues` (after a bad header nothing more is read).
 */
export async function* readTable(input: CsvInput, rule: HeaderRule, issues: IssueCollector): AsyncGenerator<TableRow> {
  const expected = rule.columns.join(',');
  let names: string[] | null = null;
  let index = new Map<string, number>();
  for await (const record of csvRecords(input)) {
    if (record.syntaxError !== undefined) {
      issues.add({ line: record.line, reason: record.syntaxError });
      if (names === null) return;
    } else if (names === null) {
      names = record.fields;
      const headerIssue = checkHeader(names, rule);
      if (headerIssue !== null) {
        issues.add({ line: record.line, reason: `${headerIssue}; the header must be ${rule.exact ? '' : 'a superset of '}${expected}` });
        return;
      }
      index = new Map(names.map((name, i) => [name, i]));
    } else if (record.fields.length !== names.length) {
      issues.add({ line: record.line, reason: `has ${record.fields.length} fields, expected ${names.length} (${names.join(',')})` });
    } else {
      yield new TableRow(record, index, issues);
    }
  }
  if (names === null) issues.add({ line: 1, reason: `the file is empty; the first line must be the header ${expected}` });
}

function checkHeader(names: string[], rule: HeaderRule): string | null {
  const missing = rule.columns.filter((c) => !names.includes(c));
  if (missing.length > 0) return `column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing`;
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) return `column ${repeated} appears twice`;
  if (rule.exact) {
    const extra = names.filter((c) => !rule.columns.includes(c));
    if (extra.length > 0) return `unexpected column${extra.length > 1 ? 's' : ''} ${extra.join(', ')}`;
    const misplaced = rule.columns.findIndex((c, i) => names[i] !== c);
    if (misplaced >= 0) return `column ${misplaced + 1} is ${names[misplaced]}, expected ${rule.columns[misplaced]}`;
  }
  return null;
}

/** Whether every field of a row parsed (TableRow.parse returns undefined for the ones that did not). */
export function allParsed<T extends object>(values: T): values is { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.values(values).every((v) => v !== undefined);
}
