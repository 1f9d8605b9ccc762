/**
 * Builds the built-in `hami` scenario (scenarios/hami/scenario.json and its data/*.csv) from the
 * facts and assumptions in scripts/hami/facts.ts and the shared data sets:
 *
 *   node --import tsx scripts/build-hami-data.ts [--data DIR] [--out DIR] [--quiet]
 *
 * --data defaults to ../shared/data, --out to scenarios/hami (test/scenario/schema-files.test.ts
 * rebuilds into a temp folder and compares with the committed files).
 *
 * Derived data: normalised solar shapes of three Chinese PV plants (2020, Beijing time), normalised
 * wind shapes (GB onshore, Germany, California ISO; 2020, UTC; foreign shapes), and a modelled grid
 * carbon intensity per site. Also calibrates the power curves from the measured accelerator and
 * computes link latencies from great-circle distances. Prints a summary of the resulting scenario.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCsvSeries } from '../src/scenario/csv.ts';
import { formatJson } from '../src/scenario/format-json.ts';
import { loadScenario } from '../src/scenario/load.ts';
import { powerAtLoadW } from '../src/core/model/power.ts';
import type { PowerPoint } from '../src/core/model/types.ts';
import { CITIES, CITY_ACCESS, LIFECYCLE_G_PER_KWH, LINKS, LINK_TERMS, NETWORK, NOISE, PERIOD, SERVERS, SITES, TARIFFS, type SiteFacts, type SolarColumn, type WindColumn } from './hami/facts.ts';
import { assumptions, type Derived } from './hami/assumptions.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const argument = (flag: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
const DATA = resolve(argument('--data') ?? join(ROOT, '../shared/data'));
const OUT = resolve(argument('--out') ?? join(ROOT, 'scenarios/hami'));
const log = process.argv.includes('--quiet') ? () => {} : console.log;
const HOUR_MS = 3_600_000;
const YEAR = PERIOD.dataYear;
const BJT_OFFSET_MIN = 480;

const SOLAR_FILE = 'data/solar-2020-bjt.csv';
const WIND_FILE = 'data/wind-2020-utc.csv';
const CARBON_FILE = 'data/grid-carbon-2020-utc.csv';

/** One column of a shared CSV as a map from hour start (epoch ms) to the mean of its samples. */
function hourlyMeans(file: string, timeColumn: string, valueColumn: string, offsetMinutes: number): Map<number, number> {
  const s = readCsvSeries(join(DATA, file), timeColumn, valueColumn, offsetMinutes, { scenarioFile: 'build-hami-data', jsonPath: valueColumn, csvName: file });
  const sums = new Map<number, [number, number]>();
  s.timesMs.forEach((t, k) => {
    if (Number.isNaN(s.values[k])) return;
    const hour = Math.floor(t / HOUR_MS) * HOUR_MS;
    const acc = sums.get(hour) ?? [0, 0];
    acc[0] += s.values[k];
    acc[1] += 1;
    sums.set(hour, acc);
  });
  return new Map([...sums].map(([h, [sum, n]]) => [h, sum / n]));
}

/** Values for every hour of the data year starting at `fromMs`; fails on a missing hour. */
function yearOfHours(means: Map<number, number>, fromMs: number, what: string): number[] {
  const hours = (Date.UTC(YEAR + 1, 0, 1) - Date.UTC(YEAR, 0, 1)) / HOUR_MS;
  return Array.from({ length: hours }, (_, i) => {
    const v = means.get(fromMs + i * HOUR_MS);
    if (v === undefined) throw new Error(`${what}: no data for ${new Date(fromMs + i * HOUR_MS).toISOString()}`);
    return v;
  });
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const clip01 = (v: number) => Math.min(1, Math.max(0, v));

function csvText(header: string[], times: string[], columns: number[][], digits: number): string {
  const lines = times.map((t, i) => [t, ...columns.map((c) => String(round(c[i], digits)))].join(','));
  return `${header.join(',')}\n${lines.join('\n')}\n`;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

// --- solar: three Chinese PV plants, fraction of nameplate, Beijing time ---------------------------
const SOLAR_SOURCE = 'renewables/china_state_grid_solar_4sites_hourly_mw.csv';
const PLANTS: Record<SolarColumn, { column: string; mw: number }> = {
  plant1_50mw: { column: 'site1_50MW_mean_mw', mw: 50 },
  plant2_130mw: { column: 'site2_130MW_mean_mw', mw: 130 },
  plant5_110mw: { column: 'site5_110MW_mean_mw', mw: 110 },
};
const bjtYearStart = Date.UTC(YEAR, 0, 1) - BJT_OFFSET_MIN * 60_000;
const solar = Object.fromEntries(
  Object.entries(PLANTS).map(([name, p]) => [name, yearOfHours(hourlyMeans(SOLAR_SOURCE, 'time_hour_start', p.column, BJT_OFFSET_MIN), bjtYearStart, p.column).map((mw) => clip01(mw / p.mw))]),
) as Record<SolarColumn, number[]>;
const hoursInYear = solar.plant1_50mw.length;

/** Longitude of a plant from its energy-weighted solar noon (Beijing time is the mean solar time of 120° E). */
const plantLon = Object.fromEntries(
  Object.entries(solar).map(([name, values]) => {
    const noonBjt = values.reduce((acc, v, k) => acc + v * ((k % 24) + 0.5), 0) / values.reduce((a, b) => a + b, 0);
    return [name, 120 - (noonBjt - 12) * 15];
  }),
) as Record<SolarColumn, number>;

// --- wind: foreign shapes, fraction of the year's highest hourly mean, UTC --------------------------
const utcYearStart = Date.UTC(YEAR, 0, 1);
const windRaw: Record<WindColumn, number[]> = {
  gb_onshore: yearOfHours(hourlyMeans('renewables/gb_generation_mix_2020.csv', '', 'Wind Onshore', 0), utcYearStart, 'GB onshore wind'),
  de_wind: yearOfHours(hourlyMeans('carbon/ci_2020_2021_hourly_de_with_mix.csv', 'UTC time', 'wind', 0), utcYearStart, 'DE wind'),
  caiso_wind: yearOfHours(hourlyMeans('carbon/ci_2020_hourly_caiso_with_mix.csv', 'utc_time', 'wind', 0), utcYearStart, 'CAISO wind'),
};
const wind = Object.fromEntries(Object.entries(windRaw).map(([k, xs]) => [k, xs.map((v) => v / Math.max(...xs))])) as Record<WindColumn, number[]>;

// --- per site: solar shift, grid carbon model, renewable lifecycle carbon ---------------------------
/** Minutes to move a plant's solar shape so its solar noon matches the site's longitude (4 min per degree). */
const shiftMinutes = (site: SiteFacts) => (site.solar ? Math.round((plantLon[site.solar.column] - site.lon) * 4) : 0);

/** Solar shape of a site on UTC hours, moved by its shift rounded to whole hours (wrapping within the year). */
function solarUtc(site: SiteFacts): number[] {
  const values = solar[site.solar?.column ?? 'plant5_110mw'];
  const shiftHours = Math.round(shiftMinutes(site) / 60);
  return values.map((_, j) => values[(((j + BJT_OFFSET_MIN / 60 - shiftHours) % hoursInYear) + hoursInYear) % hoursInYear]);
}

/** Grid carbon: CI(t) = CI_rest × (1 − r(t)), r = wind and solar share of generation at t; CI_rest keeps the annual mean. */
function gridCarbon(site: SiteFacts): { values: number[]; restGPerKWh: number } {
  const w = wind[site.grid.windShape];
  const s = solarUtc(site);
  const wMean = mean(w);
  const sMean = mean(s);
  const share = w.map((wv, j) => Math.min(0.8, (site.grid.windShare * wv) / wMean + (site.grid.solarShare * s[j]) / sMean));
  const restGPerKWh = site.grid.meanGPerKWh / mean(share.map((r) => 1 - r));
  return { values: share.map((r) => restGPerKWh * (1 - r)), restGPerKWh };
}

function renewableEnergyMix(site: SiteFacts): { solarKW: number; windKW: number; hydroKW: number } {
  return {
    solarKW: site.solar ? site.solar.peakKW * mean(solar[site.solar.column]) : 0,
    windKW: site.wind ? site.wind.peakKW * mean(wind[site.wind.column]) : 0,
    hydroKW: site.hydroKW ?? 0,
  };
}

function lifecycleGPerKWh(site: SiteFacts): number {
  const mix = renewableEnergyMix(site);
  const total = mix.solarKW + mix.windKW + mix.hydroKW;
  return round((mix.solarKW * LIFECYCLE_G_PER_KWH.solar + mix.windKW * LIFECYCLE_G_PER_KWH.wind + mix.hydroKW * LIFECYCLE_G_PER_KWH.hydro) / total, 1);
}

// --- power curves and peaks from the measured accelerator -------------------------------------------
const summary = JSON.parse(readFileSync(join(DATA, 'accelerator-power/summary.json'), 'utf8')) as { phases: { kind: string; duty: number | null; avg_power_w: number }[] };
const peak = JSON.parse(readFileSync(join(DATA, 'accelerator-power/peak.json'), 'utf8')) as Record<'fp64' | 'fp32' | 'bf16', number>;
const idleW = mean(summary.phases.filter((p) => p.kind === 'idle').map((p) => p.avg_power_w));
const acceleratorCurve: PowerPoint[] = [
  { load: 0, powerW: idleW },
  ...summary.phases.filter((p) => p.kind === 'gemm').map((p) => ({ load: p.duty as number, powerW: p.avg_power_w })),
];
const curveOf = (f: (load: number) => number): PowerPoint[] => acceleratorCurve.map((p) => ({ load: p.load, powerW: round(f(p.load), 2) }));
const generalServerW = (load: number) => SERVERS.generalServerFullW * powerAtLoadW(SERVERS.generalServerShape.map(([l, s]) => ({ load: l, powerW: s })), load);
const powerCurves = {
  'ai-accelerator': curveOf((l) => powerAtLoadW(acceleratorCurve, l) * (1 + SERVERS.hostOverheadShare)),
  'general-core': curveOf((l) => generalServerW(l) / SERVERS.coresPerGeneralServer),
  'hpc-node': curveOf((l) => generalServerW(l) + SERVERS.acceleratorsPerHpcNode * powerAtLoadW(acceleratorCurve, l)),
};
const times = (k: number, peaks: Record<'fp64' | 'fp32' | 'bf16', number>) => ({ fp64: round(k * peaks.fp64, 2), fp32: round(k * peaks.fp32, 2), bf16: round(k * peaks.bf16, 2) });
const cpu = SERVERS.generalServerPeakTflops;
const peaks = {
  ai: times(SERVERS.acceleratorsPerAiServer, peak),
  general: cpu,
  hpc: { fp64: round(2 * peak.fp64 + cpu.fp64, 2), fp32: round(2 * peak.fp32 + cpu.fp32, 2), bf16: round(2 * peak.bf16 + cpu.bf16, 2) },
};

/** A server's low-power state: soft-off at its stated draw, woken by a boot at its idle power (power curve at load 0). */
function powerStates(kind: 'ai' | 'general' | 'hpc', idleWPerNode: number) {
  return { sleepWPerNode: SERVERS.softOffW[kind], wakeS: SERVERS.bootS[kind], wakeKWhPerNode: round((idleWPerNode * SERVERS.bootS[kind]) / 3_600_000, 4) };
}

function pools(site: SiteFacts) {
  const out = [];
  if (site.aiServers > 0) {
    const units = site.aiServers * SERVERS.acceleratorsPerAiServer;
    const idleW = SERVERS.acceleratorsPerAiServer * powerCurves['ai-accelerator'][0].powerW;
    out.push({ class: 'ai', unit: 'accelerator', units, unitsPerNode: SERVERS.acceleratorsPerAiServer, peakTflopsPerNode: peaks.ai, powerCurve: 'ai-accelerator', powerStates: powerStates('ai', idleW) });
  }
  if (site.generalServers > 0) {
    const units = site.generalServers * SERVERS.coresPerGeneralServer;
    const idleW = SERVERS.coresPerGeneralServer * powerCurves['general-core'][0].powerW;
    out.push({ class: 'general', unit: 'core', units, unitsPerNode: SERVERS.coresPerGeneralServer, peakTflopsPerNode: peaks.general, powerCurve: 'general-core', powerStates: powerStates('general', idleW) });
  }
  if (site.hpcNodes > 0) out.push({ class: 'hpc', unit: 'node', units: site.hpcNodes, unitsPerNode: 1, peakTflopsPerNode: peaks.hpc, powerCurve: 'hpc-node', powerStates: powerStates('hpc', powerCurves['hpc-node'][0].powerW) });
  return out;
}

// --- links: great-circle distance × route factor ÷ speed in fibre ------------------------------------
function greatCircleKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const h = Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}
const site = (id: string) => SITES.find((s) => s.id === id) as SiteFacts;
const links = LINKS.map(([from, to, kind]) => ({
  from,
  to,
  bandwidthGbps: LINK_TERMS[kind].bandwidthGbps,
  latencyMs: round((greatCircleKm(site(from), site(to)) * NETWORK.routeFactor) / NETWORK.fibreKmPerMs, 1),
  costYuanPerGB: LINK_TERMS[kind].costYuanPerGB,
  energyKWhPerGB: NETWORK.energyKWhPerGB,
}));

// --- user regions: each city enters at its nearest backbone sites, metro access plus fibre --------------
const fibreMs = (km: number) => (km * NETWORK.routeFactor) / NETWORK.fibreKmPerMs;
const userRegions = CITIES.map((c) => ({
  id: c.id,
  name: c.name,
  lat: c.lat,
  lon: c.lon,
  utcOffset: CITY_ACCESS.utcOffset,
  populationM: c.populationM,
  access: CITY_ACCESS.backboneSites
    .map((id) => ({ site: id, latencyMs: round(CITY_ACCESS.metroMs + fibreMs(greatCircleKm(c, site(id))), 1) }))
    .sort((a, b) => a.latencyMs - b.latencyMs || a.site.localeCompare(b.site))
    .slice(0, CITY_ACCESS.sites),
}));

// --- signals ----------------------------------------------------------------------------------------
const yearMapping = { kind: 'repeat-year', dataYear: YEAR };
function signals(s: SiteFacts) {
  const tariff = TARIFFS[s.tariff];
  const renewable: object[] = [];
  if (s.solar)
    renewable.push({ source: 'csv', file: SOLAR_FILE, timeColumn: 'time_bjt', valueColumn: s.solar.column, unit: 'fraction-of-peak', scale: s.solar.peakKW, timeZone: '+08:00', timeMapping: yearMapping, shiftMinutes: shiftMinutes(s) });
  if (s.wind)
    renewable.push({ source: 'csv', file: WIND_FILE, timeColumn: 'time_utc', valueColumn: s.wind.column, unit: 'fraction-of-peak', scale: s.wind.peakKW, timeZone: 'UTC', timeMapping: yearMapping });
  if (s.hydroKW) renewable.push({ source: 'constant', value: s.hydroKW });
  const noise = (sigma: number) => ({ source: 'actual-plus-noise', sigmaPercentOfMean: sigma, seed: NOISE.seed });
  return {
    priceYuanPerKWh: {
      actual: {
        source: 'time-of-use',
        timeZone: '+08:00',
        pricesYuanPerKWh: { peak: round(tariff.flat * tariff.peakRatio, 4), flat: tariff.flat, valley: round(tariff.flat * tariff.valleyRatio, 4) },
        periods: tariff.periods.map(([from, to, tier]) => ({ from, to, tier })),
      },
    },
    carbonGPerKWh: {
      actual: { source: 'csv', file: CARBON_FILE, timeColumn: 'time_utc', valueColumn: s.id, unit: 'gCO2/kWh', timeZone: 'UTC', timeMapping: yearMapping },
      forecast: noise(NOISE.carbonSigmaPercent),
    },
    renewableKW: { actual: renewable.length === 1 ? renewable[0] : renewable, forecast: noise(NOISE.renewableSigmaPercent) },
  };
}

// --- write ------------------------------------------------------------------------------------------
mkdirSync(join(OUT, 'data'), { recursive: true });
const solarColumns = Object.keys(PLANTS) as SolarColumn[];
writeFileSync(join(OUT, SOLAR_FILE), csvText(['time_bjt', ...solarColumns], solar.plant1_50mw.map((_, k) => stamp(Date.UTC(YEAR, 0, 1) + k * HOUR_MS)), solarColumns.map((c) => solar[c]), 4));
const windColumns = Object.keys(wind) as WindColumn[];
const utcStamps = wind.gb_onshore.map((_, k) => stamp(utcYearStart + k * HOUR_MS));
writeFileSync(join(OUT, WIND_FILE), csvText(['time_utc', ...windColumns], utcStamps, windColumns.map((c) => wind[c]), 4));
const carbon = SITES.map(gridCarbon);
writeFileSync(join(OUT, CARBON_FILE), csvText(['time_utc', ...SITES.map((s) => s.id)], utcStamps, carbon.map((c) => c.values), 0));

const derived: Derived = {
  idleW,
  acceleratorCurve,
  powerCurves,
  peaks,
  plantLon,
  shiftMinutes: Object.fromEntries(SITES.map((s) => [s.id, shiftMinutes(s)])),
  carbonRest: Object.fromEntries(SITES.map((s, i) => [s.id, round(carbon[i].restGPerKWh, 1)])),
  lifecycle: Object.fromEntries(SITES.map((s) => [s.id, lifecycleGPerKWh(s)])),
  windMeans: Object.fromEntries(windColumns.map((c) => [c, mean(wind[c])])),
  solarMeans: Object.fromEntries(solarColumns.map((c) => [c, mean(solar[c])])),
  distancesKm: Object.fromEntries(LINKS.map(([a, b]) => [`${a}-${b}`, Math.round(greatCircleKm(site(a), site(b)))])),
  access: Object.fromEntries(userRegions.map((r) => [r.id, r.access])),
};
const scenario = {
  $schema: '../../docs/scenario.schema.json',
  $comment: 'Generated by scripts/build-hami-data.ts from scripts/hami/facts.ts and ../shared/data; edit those and rerun.',
  version: 1,
  id: 'hami',
  name: 'Hami green computing-power network',
  description:
    "Hami's integrated computing centre (Yiwu county, Xinjiang: 8 AI servers, 100 general servers, 80 HPC nodes, about 150 PFLOPS) with its computing-power network to Zhengzhou and Qingyang and data networks to Urumqi, Zhengzhou, Beijing and Chongqing (2024 report on Hami). Everything the report does not give is a stated assumption.",
  period: { start: PERIOD.start, slots: PERIOD.slots, slotMinutes: PERIOD.slotMinutes },
  powerCurves,
  sites: SITES.map((s) => ({
    id: s.id,
    name: s.name,
    region: s.region,
    lat: s.lat,
    lon: s.lon,
    pue: s.pue,
    renewable: { priceYuanPerKWh: s.renewablePriceYuanPerKWh, carbonGPerKWh: derived.lifecycle[s.id] },
    pools: pools(s),
    signals: signals(s),
  })),
  links,
  userRegions,
  assumptions: assumptions(derived),
};
writeFileSync(join(OUT, 'scenario.json'), formatJson(scenario));

// --- summary ----------------------------------------------------------------------------------------
const loaded = loadScenario(join(OUT, 'scenario.json'));
log(`plant longitudes from solar noon: ${Object.entries(plantLon).map(([k, v]) => `${k} ${v.toFixed(1)}°E`).join(', ')}`);
log('site       fullLoadKW(facility)  renewableKW mean/max (default period, actual)  price mean  carbon min/mean/max');
for (const s of loaded.network.sites) {
  const fullKW = (s.pools.reduce((kw, p) => kw + (p.units * powerAtLoadW(p.powerCurve, 1)) / 1000, 0) * s.pue).toFixed(0);
  const sig = loaded.signals[s.id].actual;
  const r = sig.renewableKW;
  const c = sig.carbonGPerKWh;
  log(
    `${s.id.padEnd(10)} ${fullKW.padStart(8)}  ${mean(r).toFixed(0).padStart(8)} / ${Math.max(...r).toFixed(0).padStart(5)}  ${mean(sig.priceYuanPerKWh).toFixed(3).padStart(12)}  ${Math.min(...c).toFixed(0)}/${mean(c).toFixed(0)}/${Math.max(...c).toFixed(0)}`,
  );
}
const totalPflops = loaded.network.sites[0].pools.reduce((sum, p) => sum + (p.units / p.unitsPerNode) * p.peakTflopsPerNode.bf16, 0) / 1000;
log(`Hami bf16 peak: ${totalPflops.toFixed(1)} PFLOPS`);
