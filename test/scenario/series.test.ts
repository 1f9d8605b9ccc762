/**
 * Scenario documents held in memory (as `kumul serve` keeps them in its store): `resolveScenarioDocument`
 * resolves like `loadScenario`, an inline `series` source resolves like the same values in a CSV file, and
 * `seriesFromCsv` turns an uploaded `time,value` CSV into one, naming the CSV line of any problem.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ScenarioError, loadScenario, resolveScenarioDocument } from '../../src/scenario/index.ts';
import { seriesFromCsv } from '../../src/scenario/series-csv.ts';
import { TINY, TINY_DIR, tinyJson } from './helpers.ts';

const CARBON_CSV = readFileSync(`${TINY_DIR}/data/carbon-hourly-utc.csv`, 'utf8');

describe('scenario documents', () => {
  it('resolveScenarioDocument(doc, baseDir) equals loadScenario of the file, on any period', () => {
    const period = { start: '2026-03-01T00:00Z', slots: 4, slotMinutes: 30 };
    expect(resolveScenarioDocument(tinyJson(), TINY_DIR, period)).toEqual(loadScenario(TINY, period));
  });

  it('an inline series resolves like the same values read from a CSV file (docs: 15-minute grid example)', () => {
    const doc = tinyJson();
    const [, ...rows] = CARBON_CSV.trim().split('\n');
    const upload = ['time,value', ...rows.map((r) => r.split(',')).map(([time, value]) => `${time.replace('2020', '2026').replace(' ', 'T')}Z,${value}`)].join('\n');
    doc.sites[0].signals.carbonGPerKWh.actual = seriesFromCsv(upload, 'gCO2/kWh');
    expect(doc.sites[0].signals.carbonGPerKWh.actual).toMatchObject({ source: 'series', start: '2026-03-01T00:00Z', stepMinutes: 60, unit: 'gCO2/kWh' });
    const period = { start: '2026-03-01T00:00Z', slots: 8, slotMinutes: 15 };
    const expected = [10, 10, 10, 13.75, 16.25, 18.75, 20, 23.75];
    expect(resolveScenarioDocument(doc, TINY_DIR, period).signals.east.actual.carbonGPerKWh).toEqual(expected);
    expect(loadScenario(TINY, period).signals.east.actual.carbonGPerKWh).toEqual(expected);
  });

  it('a series with a missing value (null) interpolates over it (at the slot middle); one with too few values is refused by the schema', () => {
    const doc = tinyJson();
    doc.sites[1].signals.priceYuanPerKWh.actual = { source: 'series', start: '2026-03-01T00:00Z', stepMinutes: 60, values: [0.1, null, 0.3], unit: 'yuan/kWh', timeLabel: 'instant' };
    expect(resolveScenarioDocument(doc, TINY_DIR, { slots: 3 }).signals.west.actual.priceYuanPerKWh).toEqual([0.1, 0.25, 0.3]);
    doc.sites[1].signals.priceYuanPerKWh.actual.values = [1];
    expect(() => resolveScenarioDocument(doc, TINY_DIR, { slots: 3 }, 'doc')).toThrow('doc: sites[1].signals.priceYuanPerKWh.actual.values: must have at least two values');
  });

  it('seriesFromCsv names the CSV line of a bad value, an uneven step or a bad time', () => {
    const problem = (csv: string) => {
      try {
        seriesFromCsv(csv, 'kW');
      } catch (err) {
        return (err as ScenarioError).issues[0].reason;
      }
      return 'no error';
    };
    expect(problem('time,value\n2026-06-01T00:00Z,1\n2026-06-01T01:00Z,abc\n')).toBe("CSV line 3: value 'abc' in column 'value' is not a number");
    expect(problem('time,value\n2026-06-01T00:00Z,1\n2026-06-01T01:00Z,2\n2026-06-01T03:00Z,2\n')).toBe('CSV line 4: rows must be evenly spaced (60 min, as between the first two rows)');
    expect(problem('time,value\n2026-06-01T00:00Z,1\nyesterday,2\n')).toMatch(/^CSV line 3: time 'yesterday'/);
    expect(problem('when,value\n2026-06-01T00:00Z,1\n2026-06-01T01:00Z,2\n')).toMatch(/CSV column 'time' not found/);
  });
});
