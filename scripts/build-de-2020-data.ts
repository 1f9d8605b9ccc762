/**
 * Builds the one-site temporal-shifting scenarios `de-2020`, `gb-2020` and `fr-2020`
 * (scenarios/<id>/scenario.json and data/carbon-2020-utc.csv) from the grid carbon intensity of
 * Germany, Great Britain and France in 2020 at 30-min resolution used by Wiesner et al.,
 * "Let's Wait Awhile" (Middleware 2021), shared/data/carbon/ci_2020_30min_de_gb_fr.csv:
 *
 *   node --import tsx scripts/build-de-2020-data.ts [--data DIR] [--out DIR] [--quiet]
 *
 * --data defaults to ../shared/data, --out to scenarios/ (one folder per scenario is written in it;
 * test/scenario/de-2020.test.ts rebuilds into a temp folder and compares with the committed files).
 * The carbon values are copied unchanged; pools and power curves are those of Hami's centre, read
 * from scenarios/hami/scenario.json. How to use them: docs/temporal-shifting.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCsvSeries } from '../src/scenario/csv.ts';
import { formatJson } from '../src/scenario/format-json.ts';
import { loadScenario } from '../src/scenario/load.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const argument = (flag: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
const DATA = resolve(argument('--data') ?? join(ROOT, '../shared/data'));
const OUT = resolve(argument('--out') ?? join(ROOT, 'scenarios'));
const log = process.argv.includes('--quiet') ? () => {} : console.log;

const SOURCE = 'carbon/ci_2020_30min_de_gb_fr.csv';
const CARBON_FILE = 'data/carbon-2020-utc.csv';
/** Forecast noise as in the paper: σ = 5 % of the series' mean; the seed is the data year. */
const NOISE = { sigmaPercentOfMean: 5, seed: 2020 };
/** Placeholder price: constant, so cost figures equal energy in kWh and never favour a slot. */
const PRICE_YUAN_PER_KWH = 1;
const PERIOD = { start: '2020-01-01T00:00Z', slots: 366 * 48, slotMinutes: 30 };

interface Country {
  id: string;
  column: string;
  name: string;
  adjective: string;
  region: string;
  /** Approximate centre of the country, for display only. */
  lat: number;
  lon: number;
}

const COUNTRIES: Country[] = [
  { id: 'de', column: 'germany_gco2_per_kwh', name: 'Germany', adjective: 'German', region: 'Germany', lat: 51.16, lon: 10.45 },
  { id: 'gb', column: 'great_britain_gco2_per_kwh', name: 'Great Britain', adjective: 'British', region: 'Great Britain', lat: 54.0, lon: -2.0 },
  { id: 'fr', column: 'france_gco2_per_kwh', name: 'France', adjective: 'French', region: 'France', lat: 46.6, lon: 2.4 },
];

// --- Hami's pools and power curves, so a core or an accelerator draws the same power everywhere ------
const hamiFile = join(ROOT, 'scenarios/hami/scenario.json');
const hami = JSON.parse(readFileSync(hamiFile, 'utf8')) as {
  powerCurves: Record<string, unknown>;
  sites: { id: string; pools: { class: string; unit: string; units: number; unitsPerNode: number; powerCurve: string }[] }[];
};
const hamiPools = hami.sites[0].pools.filter((p) => p.class === 'general' || p.class === 'ai');
const powerCurves = Object.fromEntries(hamiPools.map((p) => [p.powerCurve, hami.powerCurves[p.powerCurve]]));

const mean = (xs: Iterable<number>) => {
  const values = [...xs];
  return values.reduce((a, b) => a + b, 0) / values.length;
};
const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** One country's column of the source as `time_utc,gco2_per_kwh` rows, values unchanged; fails on a gap. */
function carbonCsv(c: Country): { text: string; values: Float64Array } {
  const s = readCsvSeries(join(DATA, SOURCE), 'time', c.column, 0, { scenarioFile: 'build-de-2020-data', jsonPath: c.column, csvName: SOURCE });
  const rows = Array.from(s.timesMs, (t, k) => {
    if (Number.isNaN(s.values[k])) throw new Error(`${SOURCE}: ${c.column} has no value at ${stamp(t)}`);
    if (k > 0 && t - s.timesMs[k - 1] !== 30 * 60_000) throw new Error(`${SOURCE}: rows ${stamp(s.timesMs[k - 1])} and ${stamp(t)} are not 30 min apart`);
    return `${stamp(t)},${s.values[k]}`;
  });
  return { text: `time_utc,gco2_per_kwh\n${rows.join('\n')}\n`, values: s.values };
}

function assumptions(c: Country, values: Float64Array) {
  const yearValues = values.subarray(0, PERIOD.slots);
  const figures = `mean ${mean(yearValues).toFixed(1)}, min ${Math.min(...yearValues).toFixed(1)}, max ${Math.max(...yearValues).toFixed(1)} gCO2/kWh over 2020`;
  return [
    {
      what: 'Grid carbon intensity',
      value: `${c.name}, 2020, every 30 min (${figures}); source values unchanged, in ${CARBON_FILE}`,
      reasoning:
        "The series of Wiesner et al., \"Let's Wait Awhile\" (Middleware 2021; github.com/dos-group/lets-wait-awhile): ENTSO-E generation by source × IPCC lifecycle emission factors. Using their data lets results be compared with theirs.",
    },
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
    {
      what: 'Location',
      value: `${c.lat}° N, ${c.lon}° E`,
      reasoning: 'Approximate centre of the country, for maps only; the grid series is national.',
    },
  ];
}

for (const c of COUNTRIES) {
  const id = `${c.id}-2020`;
  const dir = join(OUT, id);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const carbon = carbonCsv(c);
  writeFileSync(join(dir, CARBON_FILE), carbon.text);
  const scenario = {
    $schema: '../../docs/scenario.schema.json',
    $comment: 'Generated by scripts/build-de-2020-data.ts from ../shared/data/carbon/ci_2020_30min_de_gb_fr.csv and scenarios/hami; edit those and rerun.',
    version: 1,
    id,
    name: `${c.name} 2020, one site (temporal shifting)`,
    description: `One computing site on the ${c.adjective} grid in 2020, with the 30-min grid carbon intensity of Wiesner et al., "Let's Wait Awhile" (Middleware 2021), for temporal-shifting experiments (docs/temporal-shifting.md). Constant price, no on-site renewables.`,
    period: PERIOD,
    powerCurves,
    sites: [
      {
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
            actual: { source: 'csv', file: CARBON_FILE, timeColumn: 'time_utc', valueColumn: 'gco2_per_kwh', unit: 'gCO2/kWh', timeZone: 'UTC', timeLabel: 'interval-start' },
            forecast: { source: 'actual-plus-noise', ...NOISE },
          },
          renewableKW: { actual: { source: 'constant', value: 0 } },
        },
      },
    ],
    links: [],
    assumptions: assumptions(c, carbon.values),
  };
  writeFileSync(join(dir, 'scenario.json'), formatJson(scenario));

  const loaded = loadScenario(join(dir, 'scenario.json'));
  const { actual, forecast } = loaded.signals[c.id];
  const errors = forecast.carbonGPerKWh.map((f, i) => f - actual.carbonGPerKWh[i]);
  const sd = Math.sqrt(mean(errors.map((e) => e * e)));
  log(
    `${id}: ${loaded.grid.slots} slots of ${loaded.grid.slotMinutes} min; carbon mean ${mean(actual.carbonGPerKWh).toFixed(1)} gCO2/kWh; ` +
      `forecast error sd ${((100 * sd) / mean(actual.carbonGPerKWh)).toFixed(2)} % of the mean`,
  );
}
