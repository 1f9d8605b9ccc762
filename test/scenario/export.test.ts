/** The export document: shape, round trip through a file, windows of an export, validation. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExportSchema } from '../../src/scenario/export.ts';
import { formatJson, loadScenario, scenarioFromExportJson, scenarioToExportJson } from '../../src/scenario/index.ts';
import { TINY } from './helpers.ts';

function writeTemp(name: string, content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kumul-export-')), name);
  writeFileSync(file, content);
  return file;
}

describe('scenario export', () => {
  const hami = loadScenario('hami', { slots: 48 });
  const exported = scenarioToExportJson(hami);

  it('has the documented top-level fields', () => {
    expect(Object.keys(exported)).toEqual(['format', 'version', 'id', 'name', 'description', 'start', 'slotMinutes', 'slots', 'sites', 'links', 'userRegions', 'signals', 'assumptions']);
    expect(exported).toMatchObject({ format: 'kumul-scenario-export', version: 1, id: 'hami', start: '2026-06-01T00:00Z', slotMinutes: 60, slots: 48 });
    expect(Object.keys(exported.sites[0])).toEqual(['id', 'name', 'region', 'lat', 'lon', 'pue', 'renewable', 'pools']);
    expect(Object.keys(exported.signals)).toEqual(hami.network.sites.map((s) => s.id));
    expect(exported.signals.hami.forecast.renewableKW).toHaveLength(48);
    expect(exported.assumptions.length).toBeGreaterThan(10);
    expect(ExportSchema.safeParse(exported).success).toBe(true);
  });

  it('round-trips: an exported file loads back to the same scenario', () => {
    const file = writeTemp('hami-export.json', formatJson(exported));
    expect(loadScenario(file)).toEqual(hami);
    expect(scenarioFromExportJson(JSON.parse(JSON.stringify(exported)))).toEqual(hami);
  });

  it('serves a window of an export with the same slot length', () => {
    const file = writeTemp('hami-export.json', formatJson(exported));
    const window = loadScenario(file, { start: '2026-06-01T12:00Z', slots: 24 });
    expect(window.grid).toEqual({ startMs: Date.parse('2026-06-01T12:00Z'), slots: 24, slotMinutes: 60 });
    expect(window.signals.hami.forecast.renewableKW).toEqual(hami.signals.hami.forecast.renewableKW.slice(12, 36));
    expect(window.signals.beijing.actual.priceYuanPerKWh).toEqual(loadScenario('hami', { start: '2026-06-01T12:00Z', slots: 24 }).signals.beijing.actual.priceYuanPerKWh);
    expect(() => loadScenario(file, { slotMinutes: 15 })).toThrow('requested period.slotMinutes: must be 60 for an export document');
    expect(() => loadScenario(file, { start: '2026-06-02T12:00Z', slots: 24 })).toThrow('is not a window of the export');
  });

  it('round-trips the tiny fixture, whose pools state their own curves and ids', () => {
    const tiny = loadScenario(TINY);
    expect(scenarioFromExportJson(JSON.parse(JSON.stringify(scenarioToExportJson(tiny))))).toEqual(tiny);
    expect(tiny.network.sites[0].pools[0].id).toBe('east-general');
    expect(tiny.network.sites[1].pools[0].id).toBe('west-gpu');
  });

  it.each([
    ['a signal array of the wrong length', (d: any) => d.signals.hami.actual.renewableKW.pop(), 'signals.hami.actual.renewableKW: has 47 values; slots is 48'],
    ['signals of an unknown site', (d: any) => (d.signals.xian = d.signals.hami), "signals.xian: unknown site 'xian'"],
    ['a site without signals', (d: any) => delete d.signals.beijing, 'signals.beijing: is required'],
    ['a negative renewable value', (d: any) => (d.signals.hami.actual.renewableKW[3] = -1), 'signals.hami.actual.renewableKW[3]: must be a number ≥ 0'],
    ['an unknown field', (d: any) => (d.extra = 1), 'extra: unknown field'],
    ['a link to an unknown site', (d: any) => (d.links[0].to = 'xian'), "links[0].to: unknown site 'xian'"],
  ])('rejects an export with %s', (_name, mutate, expected) => {
    const doc = JSON.parse(JSON.stringify(exported));
    mutate(doc);
    const file = writeTemp('bad-export.json', JSON.stringify(doc));
    expect(() => loadScenario(file)).toThrow(`bad-export.json: ${expected}`);
  });
});
