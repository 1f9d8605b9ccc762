/** The built-in one-site scenarios de-2020, gb-2020 and fr-2020 (temporal shifting; scripts/build-de-2020-data.ts). */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinScenarioNames, loadScenario } from '../../src/scenario/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHARED_DATA = join(ROOT, '../shared/data');
const SCENARIOS = ['de-2020', 'gb-2020', 'fr-2020'];
const HALF_HOUR = 1_800_000;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Carbon intensity in `scenario` (30-min grid from `start`) of the slot starting at `at`. */
function carbonAt(name: string, at: string, slotMinutes = 30): number {
  return loadScenario(name, { start: at, slots: 1, slotMinutes }).signals[name.slice(0, 2)].actual.carbonGPerKWh[0];
}

describe('built-in scenario de-2020', () => {
  const year = loadScenario('de-2020');
  const { actual, forecast } = year.signals.de;

  it('is listed with gb-2020 and fr-2020, each one site with a general and an ai pool', () => {
    expect(builtinScenarioNames()).toEqual(expect.arrayContaining(SCENARIOS));
    for (const name of SCENARIOS) {
      const s = loadScenario(name, { slots: 48 });
      expect(s.network.sites.map((site) => [site.id, site.pue, site.pools.map((p) => p.class).sort()])).toEqual([[name.slice(0, 2), 1, ['ai', 'general']]]);
      expect(s.network.links).toEqual([]);
    }
  });

  it('covers the whole leap year 2020 in 30-min slots by default', () => {
    expect(year.grid).toEqual({ startMs: Date.UTC(2020, 0, 1), slots: 17_568, slotMinutes: 30 });
    expect(actual.carbonGPerKWh).toHaveLength(17_568);
  });

  it('has a constant price and no on-site renewables; only carbon varies', () => {
    expect(new Set(actual.priceYuanPerKWh)).toEqual(new Set([1]));
    expect(new Set(actual.renewableKW)).toEqual(new Set([0]));
    expect(forecast.priceYuanPerKWh).toEqual(actual.priceYuanPerKWh);
    expect(forecast.renewableKW).toEqual(actual.renewableKW);
  });

  it('copies the carbon intensity of the source (ci_2020_30min_de_gb_fr.csv) at known instants', () => {
    // source rows: 2020-01-01 00:00 353.3199 · 2020-06-15 12:00 354.9354 · 12:30 355.2730 · 2020-12-31 23:30 426.4583
    expect(actual.carbonGPerKWh[0]).toBe(353.3199);
    expect(actual.carbonGPerKWh[(Date.UTC(2020, 5, 15, 12) - Date.UTC(2020, 0, 1)) / HALF_HOUR]).toBe(354.9354);
    expect(actual.carbonGPerKWh[17_567]).toBe(426.4583);
    expect(carbonAt('de-2020', '2020-06-15T14:00+02:00')).toBe(354.9354);
    expect(carbonAt('gb-2020', '2020-06-15T12:00Z')).toBe(258.6223);
    expect(carbonAt('fr-2020', '2020-06-15T12:00Z')).toBe(55.0353);
    // the annual mean, as stated in the scenario's assumptions
    expect(mean(actual.carbonGPerKWh)).toBeCloseTo(313.39, 2);
  });

  it('loads other periods: a 30-min day, a 60-min week, the 60-min year (each hour the mean of its two half-hours)', () => {
    const day = loadScenario('de-2020', { start: '2020-06-15T00:00Z', slots: 48 });
    expect(day.signals.de.actual.carbonGPerKWh[24]).toBe(354.9354);
    const week = loadScenario('de-2020', { start: '2020-06-15T00:00Z', slots: 168, slotMinutes: 60 });
    expect(week.signals.de.actual.carbonGPerKWh[12]).toBeCloseTo((354.9354 + 355.273) / 2, 9);
    const hourly = loadScenario('de-2020', { slotMinutes: 60, slots: 8784 });
    const pairs = Array.from({ length: 8784 }, (_, h) => (actual.carbonGPerKWh[2 * h] + actual.carbonGPerKWh[2 * h + 1]) / 2);
    hourly.signals.de.actual.carbonGPerKWh.forEach((v, h) => expect(v).toBeCloseTo(pairs[h], 9));
  });

  it('has data to 2021-01-01T00:30Z and no further', () => {
    expect(carbonAt('de-2020', '2021-01-01T00:00Z')).toBe(424.3699);
    expect(() => loadScenario('de-2020', { start: '2021-01-01T01:00Z', slots: 1 })).toThrow(/no data covers 2021-01-01T01:00Z/);
  });

  it('makes forecasts the actual plus noise of σ = 5 % of the mean over the year', () => {
    const errors = forecast.carbonGPerKWh.map((f, i) => f - actual.carbonGPerKWh[i]);
    const sigma = 0.05 * mean(actual.carbonGPerKWh);
    const sd = Math.sqrt(mean(errors.map((e) => e * e)));
    expect(Math.abs(mean(errors))).toBeLessThan(0.03 * sigma); // 17,568 draws: standard error 0.75 % of σ
    expect(sd / sigma).toBeGreaterThan(0.97);
    expect(sd / sigma).toBeLessThan(1.03);
    expect(errors.filter((e) => Math.abs(e) > 2 * sigma).length / errors.length).toBeCloseTo(0.0455, 2); // a Gaussian tail
  });

  it('gives the same forecast for the same seed and period, and another for another seed', () => {
    expect(loadScenario('de-2020').signals.de.forecast.carbonGPerKWh).toEqual(forecast.carbonGPerKWh);
    const doc = JSON.parse(readFileSync(join(ROOT, 'scenarios/de-2020/scenario.json'), 'utf8'));
    expect(doc.sites[0].signals.carbonGPerKWh.forecast).toEqual({ source: 'actual-plus-noise', sigmaPercentOfMean: 5, seed: 2020 });
    const dir = mkdtempSync(join(tmpdir(), 'kumul-de-2020-seed-'));
    cpSync(join(ROOT, 'scenarios/de-2020/data'), join(dir, 'data'), { recursive: true });
    doc.sites[0].signals.carbonGPerKWh.forecast.seed = 1;
    writeFileSync(join(dir, 'scenario.json'), JSON.stringify(doc));
    const other = loadScenario(join(dir, 'scenario.json'), { slots: 48 }).signals.de;
    expect(other.actual.carbonGPerKWh).toEqual(actual.carbonGPerKWh.slice(0, 48));
    expect(other.forecast.carbonGPerKWh).not.toEqual(forecast.carbonGPerKWh.slice(0, 48));
  });

  it('states every assumption in docs/temporal-shifting.md', () => {
    const docs = readFileSync(join(ROOT, 'docs/temporal-shifting.md'), 'utf8');
    for (const a of year.assumptions) expect(docs, a.what).toContain(a.what);
  });

  it.skipIf(!existsSync(SHARED_DATA))('equals what scripts/build-de-2020-data.ts builds from the shared data', () => {
    const out = mkdtempSync(join(tmpdir(), 'kumul-de-2020-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/build-de-2020-data.ts'), '--out', out, '--quiet'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    for (const name of SCENARIOS) {
      for (const file of ['scenario.json', 'data/carbon-2020-utc.csv']) {
        expect(readFileSync(join(out, name, file), 'utf8'), `${name}/${file}`).toBe(readFileSync(join(ROOT, 'scenarios', name, file), 'utf8'));
      }
    }
  });
});
