/**
 * A small RFC 4180 CSV reader and writer, shared by the jobs file and the trace importers.
 * The reader keeps the line each field starts on, so errors can name it; it accepts CRLF or LF,
 * a UTF-8 byte-order mark, a missing or present final newline, and skips blank lines.
 */

export interface CsvField {
  value: string;
  /** 1-based line the field starts on. */
  line: number;
}

export interface CsvRecord {
  /** 1-based line the record starts on. */
  line: number;
  fields: CsvField[];
  /** Why the record is malformed (its fields are then incomplete). */
  syntaxError?: string;
}

/** Splits CSV text into records of fields, in file order; unquoted fields are trimmed of surrounding spaces and tabs. */
export function readCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;

  while (i < n) {
    const recordLine = line;
    const fields: CsvField[] = [];
    let anyQuoted = false;
    let issue: string | null = null;
    // Read the fields of one record; stop at the end of line (outside quotes) or of text.
    for (;;) {
      const fieldLine = line;
      let value = '';
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      if (text[i] === '"') {
        anyQuoted = true;
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n') line++;
          value += c;
          i++;
        }
        if (!closed) {
          issue = `quoted field opened on line ${fieldLine} is not closed`;
          break;
        }
        while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          issue = 'unexpected text after a closing quote (a quote inside a quoted field is written "")';
          break;
        }
      } else {
        const start = i;
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') i++;
        value = text.slice(start, i).replace(/[ \t]+$/, '');
        if (value.includes('"')) {
          issue = 'a quote inside an unquoted field (quote the whole field and write the quote as "")';
          break;
        }
      }
      fields.push({ value, line: fieldLine });
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (issue !== null) {
      records.push({ line: recordLine, fields, syntaxError: issue });
      while (i < n && text[i] !== '\n') i++;
    }
    // Consume the line break (CRLF, LF or a lone CR).
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    const blank = fields.length === 1 && fields[0].value === '' && !anyQuoted;
    if (issue === null && !blank) records.push({ line: recordLine, fields });
  }
  return records;
}

/** One field as RFC 4180 writes it: quoted when it holds a comma, quote, line break or surrounding space. */
export function formatCsvField(value: string): string {
  return /[",\r\n]|^[ \t]|[ \t]$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One record, without its line break. */
export function formatCsvRecord(values: readonly string[]): string {
  return values.map(formatCsvField).join(',');
}
