import { describe, expect, it } from 'vitest';
import { formatCsvRecord, readCsv } from '../../src/jobs/csv.ts';

/** Records as [line, values] pairs, or [line, syntax error]. */
function read(text: string): [number, string[] | string][] {
  return readCsv(text).map((r) => [r.line, r.syntaxError ?? r.fields.map((f) => f.value)]);
}

describe('readCsv (RFC 4180)', () => {
  const cases: { name: string; text: string; expected: [number, string[] | string][] }[] = [
    { name: 'LF', text: 'a,b\n1,2\n', expected: [[1, ['a', 'b']], [2, ['1', '2']]] },
    { name: 'CRLF, no final newline', text: 'a,b\r\n1,2', expected: [[1, ['a', 'b']], [2, ['1', '2']]] },
    { name: 'lone CR', text: 'a\r1\r', expected: [[1, ['a']], [2, ['1']]] },
    { name: 'blank lines skipped, lines still counted', text: '\na\n\n \n1\n', expected: [[2, ['a']], [5, ['1']]] },
    { name: 'empty fields', text: ',,\n', expected: [[1, ['', '', '']]] },
    { name: 'a quoted empty field is a record', text: '""\n', expected: [[1, ['']]] },
    { name: 'quoted comma, quote and line break', text: '"a,b","say ""hi""","x\r\ny"\nz', expected: [[1, ['a,b', 'say "hi"', 'x\r\ny']], [3, ['z']]] },
    { name: 'spaces around fields trimmed, kept inside quotes', text: ' a , " b " \n', expected: [[1, ['a', ' b ']]] },
    { name: 'byte-order mark', text: '\uFEFFa\n', expected: [[1, ['a']]] },
    { name: 'unclosed quote', text: 'a\n"b\nc\n', expected: [[1, ['a']], [2, 'quoted field opened on line 2 is not closed']] },
    { name: 'text after closing quote', text: '"a"b,c\nd\n', expected: [[1, 'unexpected text after a closing quote (a quote inside a quoted field is written "")'], [2, ['d']]] },
    { name: 'quote in unquoted field', text: 'a"b\nd\n', expected: [[1, 'a quote inside an unquoted field (quote the whole field and write the quote as "")'], [2, ['d']]] },
  ];
  it.each(cases)('$name', ({ text, expected }) => {
    expect(read(text)).toEqual(expected);
  });

  it('gives each field the line it starts on', () => {
    expect(readCsv('"a\nb",c\n')[0].fields.map((f) => f.line)).toEqual([1, 2]);
  });
});

describe('formatCsvRecord', () => {
  it('quotes only what needs quoting, and reads back', () => {
    const values = ['plain', 'a,b', 'say "hi"', 'x\ny', ' lead', 'trail\t', '', 'a|b'];
    const line = formatCsvRecord(values);
    expect(line).toBe('plain,"a,b","say ""hi""","x\ny"," lead","trail\t",,a|b');
    expect(readCsv(line)[0].fields.map((f) => f.value)).toEqual(values);
  });
});
