/**
 * Reading a large jobs file (issue 15): a generated file of `rows` jobs (default 200,000, CRLF, ~18 MB) read by
 * parseJobsCsv streamed from the file and from its text read whole, each in a fresh process so that its peak memory is
 * its own. Prints time and peak resident memory per way; docs/libraries.md quotes it.
 *   node --import tsx bench/jobs-file.ts [rows]
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JOBS_CSV_COLUMNS, parseJobsCsv } from '../src/jobs/jobs-file.ts';

const [mode, file] = process.argv.slice(2);
if (mode === 'stream' || mode === 'text') {
  const started = performance.now();
  const jobs = await parseJobsCsv(mode === 'stream' ? createReadStream(file) : readFileSync(file, 'utf8'), file);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${mode === 'stream' ? 'streamed from the file' : 'from its text, read whole'}: ${jobs.length.toLocaleString('en-US')} jobs in ${seconds.toFixed(2)} s, peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
} else {
  const rows = Number(mode ?? 200_000);
  const path = join(mkdtempSync(join(tmpdir(), 'kumul-bench-')), 'jobs.csv');
  const lines = Array.from({ length: rows }, (_, i) => `j${i},t${i % 12},training,ai,8,7200,2026-06-01T03:00Z,2026-06-02T03:00Z,hami,50,true,hami|beijing\r\n`);
  writeFileSync(path, `${JOBS_CSV_COLUMNS.join(',')}\r\n${lines.join('')}`);
  console.log(`a jobs file of ${rows.toLocaleString('en-US')} rows, ${(readFileSync(path).length / 1e6).toFixed(1)} MB`);
  for (const way of ['stream', 'text']) {
    process.stdout.write(execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), way, path], { encoding: 'utf8' }));
  }
}
