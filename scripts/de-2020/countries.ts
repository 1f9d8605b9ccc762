/**
 * What the 2020 grid scenarios share: the countries of Wiesner et al., "Let's Wait Awhile" (Middleware 2021), their
 * 30-min carbon series (shared/data/carbon/ci_2020_30min_de_gb_fr.csv), Hami's pools and power curves, the period,
 * and the assumptions every one of those sites makes. Imported by scripts/build-de-2020-data.ts (one site per
 * scenario: de-2020, gb-2020, fr-2020) and scripts/build-europe-2020-data.ts (the three together: europe-2020).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCsvSeries } from '../../src/scenario/csv.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SOURCE = 'carbon/ci_2020_30min_de_gb_fr.csv';
/** Each one-site scenario's carbon file, relative to its scenario.json. */
export const CARBON_FILE = 'data/carbon-2020-utc.csv';
/** Forecast noise as in the paper: σ = 5 % of the series' mean; the seed is the data year. */
export const NOISE = { sigmaPercentOfMean: 5, seed: 2020 };
/** Placeholder price: constant, so cost figures equal energy in kWh and never favour a slot. */
export const PRICE_YUAN_PER_KWH = 1;
export const PERIOD = { start: '2020-01-01T00:00Z', slots: 366 * 48, slotMinutes: 30 };

export interface Country {
  id: string;
  column: string;
  name: string;
  adjective: string;
  region: string;
  /** Approximate centre of the country, for display only. */
  lat: number;
  lon: number;
}

export const COUNTRIES: Country[] = [
  { id: 'de', column: 'germany_gco2_per_kwh', name: 'Germany', adjective: 'German', region: 'Germany', lat: 51.16, lon: 10.45 },
  { id: 'gb', column: 'great_britain_gco2_per_kwh', name: 'Great Britain', adjective: 'British', region: 'Great Britain', lat: 54.0, lon: -2.0 },
  { id: 'fr', column: 'france_gco2_per_kwh', name: 'France', adjective: 'French', region: 'France', lat: 46.6, lon: 2.4 },
];

/** `--data DIR` (default ../shared/data), `--out DIR` (default scenarios/) and `--quiet`, as both build scripts take them. */
export function buildArguments(): { data: string; out: string; log: (line: string) => void } {
  const argument = (flag: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
  return {
    data: resolve(argument('--data') ?? join(ROOT, '../shared/data')),
    out: resolve(argument('--out') ?? join(ROOT, 'scenarios')),
    log: process.argv.includes('--quiet') ? () => {} : console.log,
  };
}

// --- Hami's pools and power curves, so a core or an accelerator draws the same power everywhere ------
const hami = JSON.parse(readFileSync(join(ROOT, 'scenarios/hami/scenario.json'), 'utf8')) as {
  powerCurves: Record<string, unknown>;
  sites: { id: string; pools: { class: string; unit: string; units: number; unitsPerNode: number; powerCurve: string }[] }[];
};
export const hamiPools = hami.sites[0].pools.filter((p) => p.class === 'general' || p.class === 'ai');
export const powerCurves = Object.fromEntries(hamiPools.map((p) => [p.powerCurve, hami.powerCurves[p.powerCurve]]));

export const mean = (xs: Iterable<number>) => {
  const values = [...xs];
  return values.reduce((a, b) => a + b, 0) / values.length;
};
const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** One country's column of the source as `time_utc,gco2_per_kwh` rows, values unchanged; fails on a gap. */
export function carbonCsv(dataDir: string, c: Country): { text: string; values: Float64Array } {
  const s = readCsvSeries(join(dataDir, SOURCE), 'time', c.column, 0, { scenarioFile: 'build-de-2020-data', jsonPath: c.column, csvName: SOURCE });
  const rows = Array.from(s.timesMs, (t, k) => {
    if (Number.isNaN(s.values[k])) throw new Error(`${SOURCE}: ${c.column} has no value at ${stamp(t)}`);
    if (k > 0 && t - s.timesMs[k - 1] !== 30 * 60_000) throw new Error(`${SOURCE}: rows ${stamp(s.timesMs[k - 1])} and ${stamp(t)} are not 30 min apart`);
    return `${stamp(t)},${s.values[k]}`;
  });
  return { text: `time_utc,gco2_per_kwh\n${rows.join('\n')}\n`, values: s.values };
}

/** Mean, min and max of the carbon values over the default period (the year 2020), for the assumptions. */
export function carbonFigures(values: Float64Array): string {
  const yearValues = values.subarray(0, PERIOD.slots);
  return `mean ${mean(yearValues).toFixed(1)}, min ${Math.min(...yearValues).toFixed(1)}, max ${Math.max(...yearValues).toFixed(1)} gCO2/kWh over 2020`;
}

/** The site of `c`, its carbon read from `carbonFile` (relative to the scenario file). */
export function countrySite(c: Country, carbonFile: string) {
  return {
    id: c.id,
    name: `Computing site in ${c.name}`,
    region: c.region,
    lat: c.lat,
    lon: c.lon,
    pue: 1,
    renewable: { priceYuanPerKWh: 0, carbonGPerKWh: 0 },
    pools: hamiPools,
    signals: {
      priceYuanPerKWh: { actual: { source: 'constant', value: PRICE_YUAN_PER_KWH } },
      carbonGPerKWh: {
        actual: { source: 'csv', file: carbonFile, timeColumn: 'time_utc', valueColumn: 'gco2_per_kwh', unit: 'gCO2/kWh', timeZone: 'UTC', timeLabel: 'interval-start' },
        forecast: { source: 'actual-plus-noise', ...NOISE },
      },
      renewableKW: { actual: { source: 'constant', value: 0 } },
    },
  };
}

export const PAPER_SERIES_REASONING =
  "The series of Wiesner et al., \"Let's Wait Awhile\" (Middleware 2021; github.com/dos-group/lets-wait-awhile): ENTSO-E generation by source × IPCC lifecycle emission factors. Using their data lets results be compared with theirs.";

/** The assumptions after the carbon series itself, the same for every site built from the paper's data. */
export function sharedAssumptions(location: { value: string; reasoning: string }) {
  return [
    {
      what: 'Time of the carbon values',
      value: 'UTC; each row is the mean of the 30 minutes that start at its time (interval-start)',
      reasoning:
        'The shared data set gives its times in UTC (the upstream files carry no zone); ENTSO-E and pandas resampling label an interval by its start. For Germany its daily solar dip agrees with an hourly UTC series of the same grid (shared/data/carbon/ci_2020_2021_hourly_de_with_mix.csv) to within 30 minutes.',
    },
    {
      what: 'Carbon forecasts',
      value: `actual + Gaussian noise, σ = ${NOISE.sigmaPercentOfMean} % of the mean of the loaded period, independent per slot, seed ${NOISE.seed}`,
      reasoning:
        "The paper's forecast model (5 % and 10 % of the mean). `kumul simulate --forecast-error X --seed N` replaces it by the same model with σ = X %; noise can push a forecast below the actual minimum, and is clipped at 0.",
    },
    {
      what: 'Electricity price',
      value: `constant ${PRICE_YUAN_PER_KWH} yuan/kWh (a placeholder, not a tariff)`,
      reasoning: 'The experiment is about carbon. A constant price favours no time, and with 1 yuan/kWh a cost figure reads as energy in kWh.',
    },
    {
      what: 'Renewable power on site',
      value: 'none (0 kW)',
      reasoning: "The grid series already reflects the grid's wind, solar and hydro; on-site renewables would count them twice.",
    },
    {
      what: 'Pools',
      value: hamiPools.map((p) => `${p.class}: ${p.units} ${p.unit}s (${p.units / p.unitsPerNode} × ${p.unitsPerNode}), power curve '${p.powerCurve}'`).join('; '),
      reasoning:
        "Copied from Hami's centre (scenarios/hami) so a core or accelerator draws the same power in every scenario. Far more than recurring jobs need: capacity does not bind, as in the paper's single-data-centre model, and the saving in % does not depend on the power drawn.",
    },
    {
      what: 'PUE',
      value: '1.0',
      reasoning: 'Emissions are then IT energy × grid intensity, as in the paper. Any constant PUE scales every policy alike and leaves the saving in % unchanged.',
    },
    {
      what: 'Default period',
      value: `2020-01-01T00:00Z, ${PERIOD.slots} slots of ${PERIOD.slotMinutes} min (the whole leap year 2020)`,
      reasoning:
        'The resolution of the data and of the paper: a 30-min slot is one row. 60-min slots also load (8,784 for the year; give the count too, as the default one is of 30-min slots), each the mean of two rows; they plan faster but blur the half-hour structure. Data covers 2020-01-01T00:00Z to 2021-01-01T00:30Z; other times fail with "no data covers".',
    },
    { what: 'Location', ...location },
  ];
}
