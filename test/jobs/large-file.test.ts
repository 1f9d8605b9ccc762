/** Large jobs files are streamed: read from a file a chunk at a time, rows handed on while the rest is still unread. */
import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { IssueCollector } from '../../src/jobs/errors.ts';
import { JOBS_CSV_COLUMNS, parseJobsCsv } from '../../src/jobs/jobs-file.ts';
import { readTable } from '../../src/jobs/table.ts';

const ROWS = 200_000;
const HEADER = `${JOBS_CSV_COLUMNS.join(',')}\r\n`;

/** Row `i` of a large file, CRLF line ends; every 1000th row's tenant field is `quotedTenant`. */
function row(i: number, quotedTenant: string): string {
  const tenant = i % 1000 === 0 ? quotedTenant : 'lab';
  return `j${i},${tenant},training,ai,8,7200,2026-06-01T03:00Z,2026-06-02T03:00Z,hami,50,true,hami|beijing\r\n`;
}

describe('a jobs file of 200,000 rows', () => {
  it('is read from a file stream, every job in order', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kumul-large-')), 'jobs.csv');
    writeFileSync(file, HEADER + Array.from({ length: ROWS }, (_, i) => row(i, '"lab, ""b"""')).join(''));
    const jobs = await parseJobsCsv(createReadStream(file), file);
    expect(jobs).toHaveLength(ROWS);
    expect([jobs[0].id, jobs[ROWS - 1].id, jobs[1000].tenant]).toEqual(['j0', `j${ROWS - 1}`, 'lab, "b"']);
  });

  it('hands on rows while the stream is still being read, and names the right line at its end', async () => {
    const CHUNK_ROWS = 1000;
    let producedRows = 0;
    async function* chunks() {
      yield HEADER;
      for (let c = 0; c < ROWS / CHUNK_ROWS; c++) {
        producedRows += CHUNK_ROWS;
        // A quoted line break: that row takes two lines.
        yield Array.from({ length: CHUNK_ROWS }, (_, k) => row(c * CHUNK_ROWS + k, '"lab\r\nb"')).join('');
      }
      yield 'bad,lab\r\n';
    }
    const issues = new IssueCollector('jobs.csv');
    let readRows = 0;
    let maxUnreadRows = 0;
    for await (const tableRow of readTable(Readable.from(chunks()), { columns: JOBS_CSV_COLUMNS, exact: true }, issues)) {
      readRows++;
      maxUnreadRows = Math.max(maxUnreadRows, producedRows - readRows);
      expect(tableRow.text('id')).toBe(`j${readRows - 1}`);
    }
    expect(readRows).toBe(ROWS);
    // Only what the streams buffer is ahead of the reader: far less than the file.
    expect(maxUnreadRows).toBeLessThan(ROWS / 10);
    // The header, ROWS rows, one more line for each of the ROWS / 1000 quoted line breaks, then the bad row.
    expect(() => issues.throwIfAny()).toThrow(`jobs.csv line ${ROWS + ROWS / 1000 + 2}: has 2 fields, expected 12`);
  });
});
