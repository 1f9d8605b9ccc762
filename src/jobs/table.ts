/**
 * A CSV file read as a table with a named header: rows whose fields are looked up and parsed by column name,
 * each failure recorded as an issue naming the line and column. The jobs file and the trace importers read through it.
 */
import { readCsv, type CsvField } from './csv.ts';
import { FieldError, type IssueCollector } from './errors.ts';

export interface HeaderRule {
  columns: readonly string[];
  /** true: the header must be exactly `columns`, in order; false: it must contain them, in any order, and may have more. */
  exact: boolean;
}

export class TableRow {
  constructor(
    readonly line: number,
    private readonly fields: CsvField[],
    private readonly index: ReadonlyMap<string, number>,
    private readonly issues: IssueCollector,
  ) {}

  text(column: string): string {
    return this.fields[this.columnIndex(column)].value;
  }

  /** Line the column's field starts on (later than `line` after a quoted line break). */
  lineOf(column: string): number {
    return this.fields[this.columnIndex(column)].line;
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

/** The data rows of `text` (header checked by `rule`); malformed lines and a bad header go to `issues`. */
export function readTable(text: string, rule: HeaderRule, issues: IssueCollector): TableRow[] {
  const [header, ...records] = readCsv(text);
  const expected = rule.columns.join(',');
  if (header === undefined) {
    issues.add({ line: 1, reason: `the file is empty; the first line must be the header ${expected}` });
    return [];
  }
  if (header.syntaxError !== undefined) {
    issues.add({ line: header.line, reason: header.syntaxError });
    return [];
  }
  const names = header.fields.map((f) => f.value);
  const headerIssue = checkHeader(names, rule);
  if (headerIssue !== null) {
    issues.add({ line: header.line, reason: `${headerIssue}; the header must be ${rule.exact ? '' : 'a superset of '}${expected}` });
    return [];
  }
  const index = new Map(names.map((name, i) => [name, i]));
  const rows: TableRow[] = [];
  for (const record of records) {
    if (record.syntaxError !== undefined) {
      issues.add({ line: record.line, reason: record.syntaxError });
    } else if (record.fields.length !== names.length) {
      issues.add({ line: record.line, reason: `has ${record.fields.length} fields, expected ${names.length} (${names.join(',')})` });
    } else {
      rows.push(new TableRow(record.line, record.fields, index, issues));
    }
  }
  return rows;
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
