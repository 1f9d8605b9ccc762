import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importAlibabaGpu2023 } from '../../src/jobs/alibaba-gpu-2023.ts';
import { formatJobsCsv } from '../../src/jobs/jobs-file.ts';

const TRACE = fileURLToPath(new URL('../../datasets/alibaba-gpu-2023/pods.csv', import.meta.url));
const KUMUL = fileURLToPath(new URL('../../bin/kumul.js', import.meta.url));

function kumul(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [KUMUL, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kumul jobs import', () => {
  it('writes the jobs file to stdout and a summary to stderr', async () => {
    const r = kumul('jobs', 'import', '--format', 'alibaba-gpu-2023', TRACE, '--limit', '20', '--start', '2026-07-01T00:00+08:00');
    expect(r.status).toBe(0);
    const expected = await importAlibabaGpu2023(readFileSync(TRACE, 'utf8'), TRACE, { startMs: Date.UTC(2026, 5, 30, 16), limit: 20 });
    expect(r.stdout).toBe(formatJobsCsv(expected));
    expect(r.stderr).toContain(`${TRACE}: 8152 pods → 7254 jobs (dropped 897 never scheduled, 1 without run time in the window); kept the first 20\n`);
  });

  it('writes --out, which `kumul jobs stats` reads back', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kumul-jobs-')), 'jobs.csv');
    const r = kumul('jobs', 'import', '--format', 'alibaba-gpu-2023', TRACE, '--origins', 'hami:1|beijing:3', '--out', out);
    expect([r.status, r.stdout]).toEqual([0, '']);
    const stats = kumul('jobs', 'stats', out, '--sites', 'hami|beijing');
    expect(stats.status).toBe(0);
    expect(stats.stdout).toContain('jobs: 7254\n');
    expect(stats.stdout).toContain('interruptible: 2957 (40.8 %)\n');
    expect(stats.stdout).toContain('duration_s: p10 73, median 616, p90 7748,');
  });

  it.each([
    [['--format', 'philly', TRACE], "kumul: jobs import: unknown --format 'philly' (known: alibaba-gpu-2023)"],
    [[TRACE], 'kumul: jobs import: --format is required (alibaba-gpu-2023)'],
    [['--format', 'alibaba-gpu-2023', TRACE, '--limit', '0'], "kumul: --limit: '0' is not a positive integer"],
    [['--format', 'alibaba-gpu-2023', TRACE, '--start', '2026-06-01'], "kumul: --start: '2026-06-01' is not an ISO 8601 instant"],
    [['--format', 'alibaba-gpu-2023', TRACE, '--origins', 'hami:0|x'], "kumul: --origins: weight of hami ('0') is not a positive number"],
    [['--format', 'alibaba-gpu-2023', 'no-such.csv'], 'kumul: cannot read no-such.csv: no such file or directory'],
  ])('fails with exit 2 and a one-line reason: %j', (args, message) => {
    const r = kumul('jobs', 'import', ...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('names file, line and column of bad trace input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumul-jobs-'));
    const bad = join(dir, 'pods.csv');
    const lines = readFileSync(TRACE, 'utf8').split('\n').slice(0, 6);
    lines[4] = lines[4].replace(',LS,', ',XX,');
    writeFileSync(bad, lines.join('\n'));
    const r = kumul('jobs', 'import', '--format', 'alibaba-gpu-2023', bad, '--out', join(dir, 'out.csv'));
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`kumul: ${bad} line 5, column qos: 'XX' is not one of LS|BE|Burstable|Guaranteed\n`);
    expect(existsSync(join(dir, 'out.csv'))).toBe(false);
  });
});

describe('kumul jobs stats', () => {
  it('reports errors of a bad jobs file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kumul-jobs-')), 'jobs.csv');
    writeFileSync(file, 'id,tenant\n');
    const r = kumul('jobs', 'stats', file);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`kumul: ${file} line 1: columns class, pool_class,`);
  });
});
