/**
 * Builds scenarios/hk-pv-2022/data/pv-hourly-utc.csv: hourly photovoltaic output in Hong Kong,
 * 8 June – 7 July 2022, as a fraction of peak — the actual output and Solcast's rolling forecast
 * issued at the start of each hour — from shared/data/forecasts/solcast2022_pv_{actual,forecast}.csv
 * (Solcast, via github dos-group/vessim, MIT):
 *
 *   node --import tsx scripts/build-hk-pv-2022-data.ts [--data DIR] [--out FILE]
 *
 * Both files are at 5 minutes, times UTC, each value labelled by the end of its period; an hour's
 * value is the mean of the 12 periods ending in it. The forecast file holds forecasts issued every
 * 5 minutes for the next hour; the hour's forecast is the one issued at its start (lead 5–60 min).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const argument = (flag: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
const DATA = resolve(argument('--data') ?? join(ROOT, '../shared/data'));
const OUT = resolve(argument('--out') ?? join(ROOT, 'scenarios/hk-pv-2022/data/pv-hourly-utc.csv'));
const CITY = 'Hong Kong';
const HOUR = 3_600_000;

const utc = (text: string) => Date.parse(`${text.replace(' ', 'T')}Z`);

function rows(file: string): { header: string[]; lines: string[][] } {
  const [head, ...rest] = readFileSync(join(DATA, 'forecasts', file), 'utf8').trim().split('\n');
  return { header: head.split(','), lines: rest.map((l) => l.split(',')) };
}

/** Hour start → mean of the values whose period ends in (start, start + 1 h]. */
function hourlyMeans(entries: [number, number][]): Map<number, number> {
  const sums = new Map<number, [number, number]>();
  for (const [periodEndMs, value] of entries) {
    const hour = Math.floor((periodEndMs - 1) / HOUR) * HOUR;
    const s = sums.get(hour) ?? [0, 0];
    sums.set(hour, [s[0] + value, s[1] + 1]);
  }
  return new Map([...sums].filter(([, [, n]]) => n === 12).map(([hour, [sum, n]]) => [hour, sum / n]));
}

const actual = rows('solcast2022_pv_actual.csv');
const a = actual.header.indexOf(CITY);
const actualHourly = hourlyMeans(actual.lines.map((l) => [utc(l[0]), Number(l[a])]));

const forecast = rows('solcast2022_pv_forecast.csv');
const f = forecast.header.indexOf(CITY);
const issuedAtHourStart = forecast.lines.filter((l) => utc(l[0]) % HOUR === 0 && Math.floor((utc(l[1]) - 1) / HOUR) * HOUR === utc(l[0]));
const forecastHourly = hourlyMeans(issuedAtHourStart.map((l) => [utc(l[1]), Number(l[f])]));

const hours = [...actualHourly.keys()].filter((h) => forecastHourly.has(h)).sort((x, y) => x - y);
const lines = ['time_utc,actual_fraction,forecast_fraction', ...hours.map((h) => `${new Date(h).toISOString().slice(0, 16).replace('T', ' ')},${actualHourly.get(h)!.toFixed(6)},${forecastHourly.get(h)!.toFixed(6)}`)];
writeFileSync(OUT, lines.join('\n') + '\n');
const gaps = hours.filter((h, i) => i > 0 && h - hours[i - 1] !== HOUR).length;
console.log(`wrote ${OUT}: ${hours.length} hours from ${new Date(hours[0]).toISOString()} to ${new Date(hours[hours.length - 1]).toISOString()}, ${gaps} gaps`);
