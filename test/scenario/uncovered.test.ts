/**
 * Resolution with `uncovered: 'missing'` (what `kumul serve` asks for): slots the data does not cover are NaN instead
 * of the "no data covers" error the CLI keeps; covered slots are exactly what the strict resolution gives; every other
 * problem still throws.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { resolveScenarioDocument, scenarioToExportJson, loadScenario } from '../../src/scenario/index.ts';
import { TINY, tinyVariant } from './helpers.ts';

const tiny = () => JSON.parse(readFileSync(TINY, 'utf8'));
const HOUR = 3_600_000;

describe("resolution with uncovered: 'missing'", () => {
  it('gives NaN where the data ends, the strict values where it covers, and the strict resolution still throws', () => {
    // The solar CSV covers 2026-03-01 00:00Z to 03:00Z; six hourly slots reach past it.
    const period = { start: '2026-03-01T00:00Z', slots: 6 };
    expect(() => resolveScenarioDocument(tiny(), dirname(TINY), period)).toThrow(/no data covers 2026-03-01T03:00Z/);
    const lenient = resolveScenarioDocument(tiny(), dirname(TINY), period, undefined, { uncovered: 'missing' });
    const strict = resolveScenarioDocument(tiny(), dirname(TINY), { start: '2026-03-01T00:00Z', slots: 3 });
    const east = lenient.signals.east.actual.renewableKW;
    expect(east.slice(0, 3)).toEqual(strict.signals.east.actual.renewableKW);
    expect(east.slice(3).every(Number.isNaN)).toBe(true);
    // A sum of sources is missing where any of them is; the noise forecast of a missing actual is missing too.
    expect(lenient.signals.west.actual.renewableKW.slice(3).every(Number.isNaN)).toBe(true);
    expect(lenient.signals.west.forecast.renewableKW.slice(3).every(Number.isNaN)).toBe(true);
    expect(lenient.signals.west.forecast.renewableKW.slice(0, 3)).toEqual(strict.signals.west.forecast.renewableKW);
    // Sources that never end (a tariff, a constant, repeat-year data) are unchanged.
    expect(lenient.signals.east.actual.priceYuanPerKWh.every(Number.isFinite)).toBe(true);
    expect(lenient.signals.west.actual.priceYuanPerKWh).toEqual(new Array(6).fill(0.3));
  });

  it('still throws for problems other than coverage', () => {
    const file = tinyVariant((doc) => (doc.sites[0].signals.carbonGPerKWh.actual.valueColumn = 'nope'));
    expect(() => resolveScenarioDocument(JSON.parse(readFileSync(file, 'utf8')), dirname(file), { slots: 3 }, undefined, { uncovered: 'missing' })).toThrow(/CSV column 'nope' not found/);
  });

  it('reads an export document outside its grid as missing', () => {
    const exported = scenarioToExportJson(loadScenario(TINY));
    const start = new Date(Date.parse('2026-03-01T00:00Z') - HOUR).toISOString();
    expect(() => resolveScenarioDocument(exported, '.', { start, slots: 4 })).toThrow(/not a window of the export/);
    const s = resolveScenarioDocument(exported, '.', { start, slots: 4 }, undefined, { uncovered: 'missing' });
    const price = s.signals.west.actual.priceYuanPerKWh;
    expect(Number.isNaN(price[0]) && price[1] === 0.3 && price[2] === 0.3 && Number.isNaN(price[3])).toBe(true);
  });
});
