/** `kumul simulate` as a user runs it: the options of the space-and-time experiments and of noisy forecasts (docs/space-and-time.md, docs/temporal-shifting.md). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/kumul.js', import.meta.url));
const kumul = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'kumul-simulate-'));
const JOBS = join(dir, 'de.csv');
const DAYS = ['--from', '2020-06-01T00:00Z', '--to', '2020-06-04T00:00Z'];
const simulate = (report: string, ...args: string[]) =>
  kumul('simulate', '--scenario', 'europe-2020', '--jobs', JOBS, '--policy', 'optimize', '--objective', 'carbon', '--compare', 'asap-origin', ...DAYS, '--report', join(dir, report), ...args);
const reportOf = (name: string) => JSON.parse(readFileSync(join(dir, name, 'report.json'), 'utf8'));

describe('kumul simulate on europe-2020', () => {
  const made = kumul('jobs', 'recurring', '--site', 'de', '--at', '01:00', '--duration', '30m', '--units', '64', '--input-gb', '1', '--from', '2020-06-01', '--to', '2020-06-03', '--out', JOBS);

  it('--sites origin keeps optimize at each job\'s origin and says so in the report', () => {
    expect(made.status, made.stderr).toBe(0);
    const r = simulate('origin', '--shift-hours', '4', '--sites', 'origin');
    expect(r.status, r.stderr).toBe(0);
    const report = reportOf('origin');
    expect(report.optimizeSites).toBe('origin');
    expect(report.policies.map((p: { sites: { site: string; energyKWh: number }[] }) => p.sites.filter((s) => s.energyKWh > 0).map((s) => s.site))).toEqual([['de'], ['de']]);
    const anywhere = simulate('any', '--shift-hours', '4');
    expect(anywhere.status, anywhere.stderr).toBe(0);
    expect(reportOf('any').optimizeSites).toBe('any');
    expect(reportOf('any').policies[0].totals.carbonKg).toBeLessThan(report.policies[0].totals.carbonKg);
  });

  it('--forecast-smoothing-minutes defaults to 12 min per % of --forecast-error, and to 0 without it', () => {
    for (const [name, args, minutes] of [
      ['auto5', ['--forecast-error', '5'], 60],
      ['off5', ['--forecast-error', '5', '--forecast-smoothing-minutes', '0'], 0],
      ['own', [], 0],
      ['set', ['--forecast-smoothing-minutes', '90'], 90],
    ] as const) {
      const r = simulate(name, '--shift-hours', '2', ...args);
      expect(r.status, r.stderr).toBe(0);
      expect(reportOf(name).forecastSmoothingMinutes, name).toBe(minutes);
    }
  }, 180_000);

  it('rejects an unknown --sites with exit status 2', () => {
    const r = simulate('bad', '--sites', 'elsewhere');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("kumul: --sites: must be any or origin, got 'elsewhere'");
  });
});

describe('kumul simulate on hami with services and backups', () => {
  const HAMI = join(dir, 'hami.csv');
  const made = kumul('jobs', 'recurring', '--site', 'beijing', '--at', '01:00', '--duration', '2h', '--units', '16', '--pool-class', 'ai', '--interruptible', '--input-gb', '50', '--from', '2026-06-01', '--to', '2026-06-02', '--out', HAMI);
  const hami = (report: string, ...args: string[]) =>
    kumul('simulate', '--scenario', 'hami', '--jobs', HAMI, '--from', '2026-06-01T00:00Z', '--to', '2026-06-01T12:00Z', '--horizon-hours', '12', '--objective', 'carbon', '--report', join(dir, report), ...args);

  it('runs services, batch and backups together and reports them in report.json and report.html', () => {
    expect(made.status, made.stderr).toBe(0);
    const r = hami(
      'hami',
      '--services', 'datasets/services/hami-services.json',
      '--demand', 'datasets/services/hami-demand-week.json',
      '--datasets', 'datasets/backup/hami-datasets.json',
      '--policies', 'datasets/backup/hami-policies.json',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/optimize services: [\d.]+ % of requests within the objective/);
    expect(r.stdout).toMatch(/nearest-site baseline services: /);
    expect(r.stdout).toMatch(/optimize backups: \d+ of \d+ datasets within their RPO/);
    const report = reportOf('hami');
    expect(report.services.baseline.placement).toBe('nearest');
    expect(report.services.actual).toMatch(/hourly-2008-2009\.csv.*conv\.csv.*seed 1/);
    expect(report.policies[0].services.regions.map((x: { region: string }) => x.region)).toContain('shanghai');
    expect(report.policies[0].backup.datasets.length).toBeGreaterThan(0);
    // The regions are charged the services' whole cost and carbon between them.
    const services = report.policies[0].services;
    const sum = (key: string) => services.regions.reduce((a: number, r: Record<string, number>) => a + r[key], 0);
    expect(sum('costYuan')).toBeCloseTo(services.totals.costYuan, 6);
    expect(sum('carbonKg')).toBeCloseTo(services.totals.carbonKg, 6);
    const html = readFileSync(join(dir, 'hami', 'report.html'), 'utf8');
    expect(html).toContain('Services: objective attainment per region');
    expect(html).toContain('RPO compliance per dataset');
  }, 180_000);

  it('rejects --services without --demand, --datasets without --policies, and demand that does not cover the period', () => {
    const a = hami('bad1', '--services', 'datasets/services/hami-services.json');
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('kumul: --services and --demand go together');
    const b = hami('bad2', '--datasets', 'datasets/backup/hami-datasets.json');
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('kumul: --datasets and --policies go together');
    // A period the demand does not cover: the file, the field and the reason.
    const c = kumul('simulate', '--scenario', 'hami', '--jobs', HAMI, '--from', '2026-06-07T00:00Z', '--to', '2026-06-09T00:00Z', '--report', join(dir, 'bad3'),
      '--services', 'datasets/services/hami-services.json', '--demand', 'datasets/services/hami-demand-week.json');
    expect(c.status).toBe(2);
    expect(c.stderr).toContain('kumul: datasets/services/hami-demand-week.json: start: the demand covers 2026-06-01T00:00:00.000Z to 2026-06-08T00:00:00.000Z');
  }, 180_000);
});
