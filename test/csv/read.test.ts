import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { csvRecords, fieldLine, type CsvInput } from '../../src/csv/read.ts';
import { formatCsvRecord } from '../../src/csv/write.ts';

/** Records as [line, values] pairs, or [line, syntax error]. */
async function read(input: CsvInput): Promise<[number, string[] | string][]> {
  const out: [number, string[] | string][] = [];
  for await (const r of csvRecords(input)) out.push([r.line, r.syntaxError ?? r.fields]);
  return out;
}

/** `text` as a stream of one byte at a time: every line end, quote and UTF-8 character split across chunks. */
function byteStream(text: string): Readable {
  return Readable.from([...Buffer.from(text)].map((byte) => Buffer.from([byte])));
}

const QUOTE_IN_FIELD = 'a quote inside an unquoted field (quote the whole field and write the quote as "")';
const AFTER_CLOSING = 'unexpected text after a closing quote (a quote inside a quoted field is written "")';

describe('csvRecords (csv-parse, RFC 4180) with the line of each record', () => {
  const cases: { name: string; text: string; expected: [number, string[] | string][] }[] = [
    { name: 'LF', text: 'a,b\n1,2\n', expected: [[1, ['a', 'b']], [2, ['1', '2']]] },
    { name: 'CRLF, no final newline', text: 'a,b\r\n1,2', expected: [[1, ['a', 'b']], [2, ['1', '2']]] },
    { name: 'lone CR', text: 'a\r1\r', expected: [[1, ['a']], [2, ['1']]] },
    { name: 'mixed line ends', text: 'a\nb\r\nc\rd', expected: [[1, ['a']], [2, ['b']], [3, ['c']], [4, ['d']]] },
    { name: 'blank lines skipped, lines still counted', text: '\na\n\n \r\n\t\n1\n', expected: [[2, ['a']], [6, ['1']]] },
    { name: 'empty fields', text: ',,\n', expected: [[1, ['', '', '']]] },
    { name: 'a quoted empty field is a record', text: '""\n', expected: [[1, ['']]] },
    { name: 'quoted comma, quote and line break', text: '"a,b","say ""hi""","x\r\ny"\nz', expected: [[1, ['a,b', 'say "hi"', 'x\r\ny']], [3, ['z']]] },
    { name: 'CRLF inside quotes counts as one line', text: 'a\r\n"x\r\ny\r\nz",b\r\nc\r\n', expected: [[1, ['a']], [2, ['x\r\ny\r\nz', 'b']], [5, ['c']]] },
    { name: 'spaces around fields trimmed, kept inside quotes', text: ' a , " b " \n', expected: [[1, ['a', ' b ']]] },
    { name: 'byte-order mark', text: '\uFEFFa\n', expected: [[1, ['a']]] },
    { name: 'UTF-8', text: 'Ürümqi,"哈密\n伊吾"\n€\n', expected: [[1, ['Ürümqi', '哈密\n伊吾']], [3, ['€']]] },
    { name: 'unclosed quote', text: 'a\n"b\nc\n', expected: [[1, ['a']], [2, 'quoted field opened on line 2 is not closed']] },
    { name: 'unclosed quote in a later field', text: 'a,"b\nc",d,"e\nf""g\n', expected: [[1, 'quoted field opened on line 2 is not closed']] },
    { name: 'quote in unquoted field: reading goes on', text: 'a"b\nd\ne"f\n"g\r\nh"\r\n', expected: [[1, QUOTE_IN_FIELD], [2, ['d']], [3, QUOTE_IN_FIELD], [4, ['g\r\nh']]] },
    { name: 'text after closing quote: the last record read', text: 'x\n"a"b,c\nd\n', expected: [[1, ['x']], [2, AFTER_CLOSING]] },
    { name: 'text after closing quote and a space', text: 'x\n"a" b,c\nd\n', expected: [[1, ['x']], [2, AFTER_CLOSING]] },
  ];
  it.each(cases)('$name', async ({ text, expected }) => {
    expect(await read(text)).toEqual(expected);
  });

  it.each(cases)('$name, streamed a byte at a time', async ({ text, expected }) => {
    expect(await read(byteStream(text))).toEqual(expected);
  });

  it('gives each field the line it starts on', () => {
    const [record] = csvRecords('"a\nb",c,"d\r\n\r\ne",f\n');
    expect(record.fields.map((_, i) => fieldLine(record, i))).toEqual([1, 2, 2, 4]);
  });

  it('ends with the error of a stream that cannot be read', async () => {
    await expect(read(Readable.from((async function* () { yield 'a\n'; throw new Error('disk gone'); })()))).rejects.toThrow('disk gone');
  });
});

describe('formatCsvRecord', () => {
  it('quotes only what needs quoting, and reads back', () => {
    const values = ['plain', 'a,b', 'say "hi"', 'x\ny', ' lead', 'trail\t', '', 'a|b'];
    const line = formatCsvRecord(values);
    expect(line).toBe('plain,"a,b","say ""hi""","x\ny"," lead","trail\t",,a|b');
    expect([...csvRecords(line)][0].fields).toEqual(values);
  });
});
