/** Bad scenario input: every kind of error names the file, the JSON path (or CSV line) and the reason. */
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError, loadScenario } from '../../src/scenario/index.ts';
import { type Json, tinyVariant } from './helpers.ts';

interface Case {
  name: string;
  mutate?: (doc: Json) => void;
  files?: Record<string, string>;
  period?: Parameters<typeof loadScenario>[1];
  /** Substrings the message must contain (besides the file name). */
  expected: string[];
}

const east = (doc: Json) => doc.sites[0];
const carbonCsv = (doc: Json) => east(doc).signals.carbonGPerKWh.actual;
const CARBON_CSV = 'time,gco2_per_kwh,other\n2020-03-01 00:00,10,1\n2020-03-01 01:00,20,1\n';

const cases: Case[] = [
  { name: 'units not a positive integer', mutate: (d) => (east(d).pools[0].units = 0), expected: ['sites[0].pools[0].units: must be a positive integer'] },
  { name: 'units fractional', mutate: (d) => (east(d).pools[0].units = 1.5), expected: ['sites[0].pools[0].units: must be a positive integer'] },
  { name: 'units not whole nodes', mutate: (d) => (east(d).pools[0].units = 100), expected: ['sites[0].pools[0].units: must be a whole number of nodes: 100 is not a multiple of unitsPerNode 64'] },
  { name: 'unknown site in a link', mutate: (d) => (d.links[0].to = 'xian'), expected: ["links[0].to: unknown site 'xian' in links[0].to; sites are east, west"] },
  { name: 'link to itself', mutate: (d) => (d.links[0].to = 'east'), expected: ["links[0].to: a link must join two different sites; links[0] goes from 'east' to itself"] },
  { name: 'duplicate link', mutate: (d) => d.links.push({ ...d.links[0], from: 'west', to: 'east' }), expected: ["links[1]: duplicate link between 'west' and 'east' (also links[0]"] },
  { name: 'duplicate site id', mutate: (d) => (d.sites[1].id = 'east'), expected: ["sites[1].id: duplicate site id 'east' (also sites[0].id)"] },
  { name: 'two pools of one class at a site', mutate: (d) => east(d).pools.push({ ...east(d).pools[0], id: 'east-more' }), expected: ["sites[0].pools[1].class: site 'east' already has a pool of class 'general' (pools[0])"] },
  { name: 'duplicate pool id', mutate: (d) => (east(d).pools[0].id = 'west-gpu'), expected: ["sites[1].pools[0].id: duplicate pool id 'west-gpu' (also sites[0].pools[0])"] },
  { name: 'node pool with several units per node', mutate: (d) => Object.assign(east(d).pools[0], { unit: 'node', units: 4, unitsPerNode: 2 }), expected: ['sites[0].pools[0].unitsPerNode: must be 1 when unit is node'] },
  { name: 'power curve not starting at load 0', mutate: (d) => (d.sites[1].pools[0].powerCurve[0].load = 0.1), expected: ['sites[1].pools[0].powerCurve[0].load: the power curve must start at load 0'] },
  { name: 'power curve loads not ascending', mutate: (d) => (d.sites[1].pools[0].powerCurve[1].load = 0), expected: ['sites[1].pools[0].powerCurve[1].load: loads must ascend; 0 follows 0'] },
  { name: 'power curve not ending at load 1', mutate: (d) => (d.sites[1].pools[0].powerCurve[2].load = 0.9), expected: ['sites[1].pools[0].powerCurve[2].load: the power curve must end at load 1'] },
  { name: 'power falling with load', mutate: (d) => (d.sites[1].pools[0].powerCurve[2].powerW = 500), expected: ['sites[1].pools[0].powerCurve[2].powerW: power must not fall as load rises; 500 W follows 800 W'] },
  { name: 'load above 1', mutate: (d) => (d.sites[1].pools[0].powerCurve[1].load = 1.5), expected: ['sites[1].pools[0].powerCurve[1].load: must be a number from 0 to 1'] },
  { name: 'unknown power curve name', mutate: (d) => (east(d).pools[0].powerCurve = 'h100'), expected: ["sites[0].pools[0].powerCurve: unknown power curve 'h100'; powerCurves has server"] },
  { name: 'unknown field', mutate: (d) => (east(d).colour = 'red'), expected: ['sites[0].colour: unknown field'] },
  { name: 'unknown field in a source', mutate: (d) => (carbonCsv(d).column = 'x'), expected: ['sites[0].signals.carbonGPerKWh.actual.column: unknown field'] },
  { name: 'missing field', mutate: (d) => delete east(d).pue, expected: ['sites[0].pue: is required'] },
  { name: 'PUE below 1', mutate: (d) => (east(d).pue = 0.9), expected: ['sites[0].pue: must be a number from 1 to 5'] },
  { name: 'bad id', mutate: (d) => (east(d).id = 'East Site'), expected: ["sites[0].id: must be lower-case letters, digits and '-'"] },
  { name: 'unknown pool class', mutate: (d) => (east(d).pools[0].class = 'quantum'), expected: ['sites[0].pools[0].class: must be one of ai, general, hpc'] },
  { name: 'wrong version', mutate: (d) => (d.version = 2), expected: ['version: must be 1 (the format version this program reads)'] },
  { name: 'period start without a zone', mutate: (d) => (d.period.start = '2026-03-01T00:00'), expected: ['period.start: must be an ISO 8601 instant with a time zone'] },
  { name: 'bad requested period', period: { slots: -3 }, expected: ['requested period.slots: must be a positive integer'] },
  { name: 'unknown source kind', mutate: (d) => (carbonCsv(d).source = 'api'), expected: ["sites[0].signals.carbonGPerKWh.actual.source: source must be 'csv', 'constant'"] },
  { name: 'time-of-use outside price', mutate: (d) => (east(d).signals.carbonGPerKWh.actual = east(d).signals.priceYuanPerKWh.actual), expected: ['sites[0].signals.carbonGPerKWh.actual.source: ', 'time-of-use is for priceYuanPerKWh only'] },
  { name: 'unit not of the signal', mutate: (d) => (carbonCsv(d).unit = 'MW'), expected: ['sites[0].signals.carbonGPerKWh.actual.unit: must be one of gCO2/kWh, kgCO2/MWh, kgCO2/kWh'] },
  { name: 'fraction-of-peak without scale', mutate: (d) => delete d.sites[1].signals.renewableKW.actual[1].scale, expected: ['sites[1].signals.renewableKW.actual[1].scale: is required when unit is fraction-of-peak'] },
  { name: 'bad time zone', mutate: (d) => (carbonCsv(d).timeZone = 'Asia/Shanghai'), expected: ["sites[0].signals.carbonGPerKWh.actual.timeZone: must be 'UTC' or a fixed offset such as '+08:00'"] },
  { name: 'time-of-use gap', mutate: (d) => (east(d).signals.priceYuanPerKWh.actual.periods[1].from = '09:00'), expected: ['sites[0].signals.priceYuanPerKWh.actual.periods[1].from: periods must cover the day in order without gaps or overlaps; expected 08:00, found 09:00'] },
  { name: 'time-of-use not ending at 24:00', mutate: (d) => (east(d).signals.priceYuanPerKWh.actual.periods[2].to = '23:00'), expected: ['sites[0].signals.priceYuanPerKWh.actual.periods[2].to: the last period must end at 24:00'] },
  { name: 'time-of-use unknown tier', mutate: (d) => (east(d).signals.priceYuanPerKWh.actual.periods[0].tier = 'night'), expected: ["sites[0].signals.priceYuanPerKWh.actual.periods[0].tier: unknown tier 'night'; tiers are valley, peak, flat"] },
  { name: 'CSV column not found', mutate: (d) => (carbonCsv(d).valueColumn = 'foo'), expected: ["sites[0].signals.carbonGPerKWh.actual.valueColumn: data/carbon-hourly-utc.csv: CSV column 'foo' not found; columns are 'time', 'gco2_per_kwh', 'other'"] },
  { name: 'CSV file not found', mutate: (d) => (carbonCsv(d).file = 'data/nope.csv'), expected: ['sites[0].signals.carbonGPerKWh.actual.file: data/nope.csv: file not found'] },
  { name: 'CSV value not a number', files: { 'data/carbon-hourly-utc.csv': `${CARBON_CSV}2020-03-01 02:00,abc,1\n` }, expected: ["sites[0].signals.carbonGPerKWh.actual: data/carbon-hourly-utc.csv line 4: value 'abc' in column 'gco2_per_kwh' is not a number"] },
  { name: 'CSV bad time stamp', files: { 'data/carbon-hourly-utc.csv': `${CARBON_CSV}2020-03-01 25:00,30,1\n` }, expected: ["data/carbon-hourly-utc.csv line 4: time '2020-03-01 25:00' in column 'time' is not a time stamp"] },
  { name: 'CSV times not ascending', files: { 'data/carbon-hourly-utc.csv': `${CARBON_CSV}2020-03-01 01:00,30,1\n` }, expected: ["data/carbon-hourly-utc.csv line 4: time '2020-03-01 01:00' is not after the previous row's"] },
  { name: 'CSV row with missing fields', files: { 'data/carbon-hourly-utc.csv': `${CARBON_CSV}2020-03-01 02:00,30\n` }, expected: ['data/carbon-hourly-utc.csv line 4: has 2 fields, the header has 3'] },
  { name: 'no data for the period', period: { start: '2026-03-01T10:00Z' }, expected: ['sites[0].signals.carbonGPerKWh.actual: data/carbon-hourly-utc.csv: no data covers 2026-03-01T10:00Z (mapped to 2020-03-01T10:00Z; the data runs from 2020-03-01T00:00Z to 2020-03-01T08:00Z)'] },
  { name: 'gap in the data', files: { 'data/carbon-hourly-utc.csv': `${CARBON_CSV}2020-03-01 02:00,,1\n2020-03-01 03:00,,1\n2020-03-01 04:00,50,1\n` }, period: { start: '2026-03-01T02:00Z', slots: 1 }, expected: ['no data covers 2026-03-01T02:00Z (the data has no values from 2020-03-01T01:30Z to 2020-03-01T04:30Z)'] },
  { name: 'invalid JSON', mutate: () => {}, files: { 'scenario.json': '{\n  "version": 1,\n  "id": "x",,\n}' }, expected: ['not valid JSON', 'line 3'] },
];

describe('bad scenario input gives a ScenarioError naming file, path and reason', () => {
  it.each(cases)('$name', ({ mutate, files, period, expected }) => {
    const file = tinyVariant(mutate ?? (() => {}), files);
    let error: unknown;
    try {
      loadScenario(file, period);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    const message = (error as ScenarioError).message;
    expect(message).toContain(`${basename(dirname(file))}/scenario.json: `);
    for (const part of expected) expect(message).toContain(part);
  });

  it('reports several problems at once, one per line', () => {
    const file = tinyVariant((d) => {
      east(d).pools[0].units = -1;
      d.sites[1].pue = 'high';
    });
    const lines = (() => {
      try {
        loadScenario(file);
      } catch (err) {
        return (err as Error).message.split('\n');
      }
      return [];
    })();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/scenario\.json: sites\[0\]\.pools\[0\]\.units: must be a positive integer$/);
    expect(lines[1]).toMatch(/scenario\.json: sites\[1\]\.pue: must be a number from 1 to 5$/);
  });

  it('an unknown built-in name lists the built-in scenarios', () => {
    expect(() => loadScenario('atlantis')).toThrow("atlantis: unknown scenario 'atlantis'; built-in scenarios are de-2020, europe-2020, fr-2020, gb-2020, hami");
  });

  it('a missing file is named', () => {
    expect(() => loadScenario('/nonexistent/scenario.json')).toThrow('/nonexistent/scenario.json: file not found');
  });
});
