/**
 * Resolves a site's signal specifications onto the time grid: CSV series (slot mean of the samples
 * in the slot, or linear interpolation when the data is coarser than the slot), constants,
 * time-of-use tariffs, sums of sources, and forecasts made of actuals plus seeded noise.
 * Called by the loader once per site and signal.
 */
import { resolve as resolvePath } from 'node:path';
import { slotMs, slotStartMs, type TimeGrid } from '../core/model/types.ts';
import { readCsvSeries, type CsvSeries } from './csv.ts';
import { fail } from './errors.ts';
import { gaussian, hashSeed, mulberry32 } from './random.ts';
import { SIGNAL_UNITS, type CsvSourceSpec, type ForecastSpec, type NoiseSpec, type SeriesSourceSpec, type SeriesSpec, type SignalName, type SignalSpec, type SourceSpec, type TimeOfUseSpec } from './schema.ts';
import { DAY_MS, MINUTE_MS, formatIsoMinute, mapInstant, parseClockMinutes, parseIsoInstant, timeZoneOffsetMinutes } from './time.ts';

export interface ResolveContext {
  scenarioFile: string;
  /** Folder of the scenario file; CSV paths are relative to it. */
  dir: string;
  grid: TimeGrid;
  siteId: string;
  /**
   * What a slot the data does not cover gives: `throw` (default: a ScenarioError "no data covers …", what the CLI,
   * plans and the simulator want) or `missing` (NaN, for `kumul serve`, which fills such slots from pushed points
   * and its documented fallback: src/service/signal-overlay.ts).
   */
  uncovered?: 'throw' | 'missing';
}

/** Actual and forecast values of one signal, one number per slot. Renewables and carbon are clipped at 0. */
export function resolveSignal(signal: SignalName, spec: SignalSpec, ctx: ResolveContext, jsonPath: string): { actual: number[]; forecast: number[] } {
  // NaN (a slot the data does not cover, with `uncovered: 'missing'`) stays NaN.
  const clip = (values: number[]) => (signal === 'priceYuanPerKWh' ? values : values.map((v) => (v > 0 || Number.isNaN(v) ? v : 0)));
  const actual = clip(resolveSeries(signal, spec.actual, ctx, `${jsonPath}.actual`));
  return { actual, forecast: clip(resolveForecast(signal, spec.forecast, actual, ctx, `${jsonPath}.forecast`)) };
}

function resolveForecast(signal: SignalName, spec: ForecastSpec | undefined, actual: number[], ctx: ResolveContext, jsonPath: string): number[] {
  if (spec === undefined) return actual.slice();
  if (!Array.isArray(spec) && spec.source === 'actual-plus-noise') return withNoise(actual, spec, signal, ctx);
  return resolveSeries(signal, spec as SeriesSpec, ctx, jsonPath);
}

function withNoise(actual: number[], noise: NoiseSpec, signal: SignalName, ctx: ResolveContext): number[] {
  return actualPlusNoise(actual, noise.sigmaPercentOfMean, noise.seed, ctx.siteId, signal, ctx.grid);
}

/**
 * The actual series plus Gaussian noise with σ = sigmaPercentOfMean % of the series' mean over the grid.
 * The noise of a slot depends only on (seed, site, signal, slot start), so it is reproducible.
 * Also used by the simulator's `--forecast-error`. Missing values (NaN) stay missing and are left out of the mean.
 */
export function actualPlusNoise(actual: readonly number[], sigmaPercentOfMean: number, seed: number, siteId: string, signal: string, grid: TimeGrid): number[] {
  const known = actual.filter((v) => !Number.isNaN(v));
  const mean = known.length === 0 ? 0 : known.reduce((sum, v) => sum + v, 0) / known.length;
  const sigma = (sigmaPercentOfMean / 100) * Math.abs(mean);
  return actual.map((value, i) => value + sigma * gaussian(mulberry32(hashSeed(seed, siteId, signal, slotStartMs(grid, i)))));
}

function resolveSeries(signal: SignalName, spec: SeriesSpec, ctx: ResolveContext, jsonPath: string): number[] {
  if (!Array.isArray(spec)) return resolveSource(signal, spec, ctx, jsonPath);
  const total = new Array<number>(ctx.grid.slots).fill(0);
  spec.forEach((source, k) => {
    resolveSource(signal, source, ctx, `${jsonPath}[${k}]`).forEach((v, i) => (total[i] += v));
  });
  return total;
}

function resolveSource(signal: SignalName, source: SourceSpec, ctx: ResolveContext, jsonPath: string): number[] {
  switch (source.source) {
    case 'constant':
      return new Array<number>(ctx.grid.slots).fill(source.value);
    case 'time-of-use':
      return resolveTimeOfUse(source, ctx.grid);
    case 'csv':
      return resolveCsv(signal, source, ctx, jsonPath);
    case 'series':
      return resolveSamples(signal, seriesSamples(source), source, { ...ctx, name: 'series', offsetMinutes: 0 }, jsonPath);
  }
}

/** An inline series as the samples a CSV column would give (null → NaN, a missing value). */
function seriesSamples(src: SeriesSourceSpec): CsvSeries {
  const startMs = parseIsoInstant(src.start) as number;
  const stepMs = src.stepMinutes * MINUTE_MS;
  return {
    timesMs: Float64Array.from(src.values, (_, i) => startMs + i * stepMs),
    values: Float64Array.from(src.values, (v) => (v === null ? NaN : v)),
    spacingMs: stepMs,
  };
}

/** Time-weighted mean of the tariff over each slot, in the tariff's local time. */
function resolveTimeOfUse(tou: TimeOfUseSpec, grid: TimeGrid): number[] {
  const offsetMs = timeZoneOffsetMinutes(tou.timeZone) * MINUTE_MS;
  const periods = tou.periods.map((p) => ({ toMs: (parseClockMinutes(p.to) as number) * MINUTE_MS, price: tou.pricesYuanPerKWh[p.tier] }));
  const lengthMs = slotMs(grid);
  return Array.from({ length: grid.slots }, (_, i) => {
    const startLocal = slotStartMs(grid, i) + offsetMs;
    let t = startLocal;
    let sum = 0;
    while (t < startLocal + lengthMs) {
      const dayStart = Math.floor(t / DAY_MS) * DAY_MS;
      const period = periods.find((p) => t - dayStart < p.toMs) ?? periods[periods.length - 1];
      const end = Math.min(dayStart + period.toMs, startLocal + lengthMs);
      sum += period.price * (end - t);
      t = end;
    }
    return sum / lengthMs;
  });
}

/** A CSV column resolved onto the grid; see docs/scenario-format.md "Resolution onto the grid". */
function resolveCsv(signal: SignalName, src: CsvSourceSpec, ctx: ResolveContext, jsonPath: string): number[] {
  const offsetMinutes = timeZoneOffsetMinutes(src.timeZone);
  const where = { scenarioFile: ctx.scenarioFile, jsonPath, csvName: src.file };
  const data = readCsvSeries(resolvePath(ctx.dir, src.file), src.timeColumn, src.valueColumn, offsetMinutes, where);
  return resolveSamples(signal, data, src, { ...ctx, name: src.file, offsetMinutes }, jsonPath);
}

/** How samples are read: the source fields CSV and inline series share. */
type SampleOptions = Pick<CsvSourceSpec, 'unit' | 'scale' | 'timeLabel' | 'timeMapping' | 'shiftMinutes'>;

/** Samples (a CSV column or an inline series) onto the grid: slot means, or interpolation when coarser than the slot. */
function resolveSamples(signal: SignalName, data: CsvSeries, src: SampleOptions, ctx: ResolveContext & { name: string; offsetMinutes: number }, jsonPath: string): number[] {
  const { offsetMinutes } = ctx;
  const factor = (SIGNAL_UNITS[signal] as Record<string, number>)[src.unit] * (src.scale ?? 1);
  const { points, values } = samplePoints(data, src.timeLabel ?? 'interval-start');
  if (points.length === 0) fail(ctx.scenarioFile, jsonPath, `${ctx.name}: has no values`);
  const spacing = data.spacingMs;
  const coverFrom = points[0] - spacing / 2;
  const coverTo = points[points.length - 1] + spacing / 2;
  const mapping = src.timeMapping ?? { kind: 'exact' as const };
  const shiftMs = (src.shiftMinutes ?? 0) * MINUTE_MS;
  const lengthMs = slotMs(ctx.grid);
  const lenient = ctx.uncovered === 'missing';
  const noData = (slotStart: number, detail: string): number =>
    lenient ? NaN : fail(ctx.scenarioFile, jsonPath, `${ctx.name}: no data covers ${formatIsoMinute(slotStart)} (${detail})`);

  return Array.from({ length: ctx.grid.slots }, (_, i) => {
    const slotStart = slotStartMs(ctx.grid, i);
    // The slot's middle, moved back by the shift, is mapped onto the data's years or days; the slot spans around it.
    const middle = mapInstant(slotStart + lengthMs / 2 - shiftMs, mapping, offsetMinutes);
    const from = middle - lengthMs / 2;
    if (middle < coverFrom || middle > coverTo) {
      const mapped = from === slotStart ? '' : `mapped to ${formatIsoMinute(from)}; `;
      return noData(slotStart, `${mapped}the data runs from ${formatIsoMinute(coverFrom)} to ${formatIsoMinute(coverTo)}`);
    }
    const lo = lowerBound(points, from);
    const hi = lowerBound(points, from + lengthMs);
    if (hi > lo) {
      let sum = 0;
      for (let k = lo; k < hi; k++) sum += values[k];
      return (sum / (hi - lo)) * factor;
    }
    // No sample inside the slot: interpolate at its middle between the neighbouring samples (hold at the edges).
    const after = lowerBound(points, middle);
    const before = after - 1;
    if (before < 0) return values[after] * factor;
    if (after >= points.length) return values[before] * factor;
    if (points[after] - points[before] > 2 * spacing)
      return noData(slotStart, `the data has no values from ${formatIsoMinute(points[before])} to ${formatIsoMinute(points[after])}`);
    const w = (middle - points[before]) / (points[after] - points[before]);
    return (values[before] + w * (values[after] - values[before])) * factor;
  });
}

type TimeLabel = NonNullable<CsvSourceSpec['timeLabel']>;
const pointCache = new WeakMap<CsvSeries, Map<TimeLabel, { points: Float64Array; values: Float64Array }>>();

/** The instants the samples stand for (interval middles for interval labels), missing values dropped; cached. */
function samplePoints(data: CsvSeries, label: TimeLabel): { points: Float64Array; values: Float64Array } {
  const byLabel = pointCache.get(data) ?? new Map();
  pointCache.set(data, byLabel);
  const cached = byLabel.get(label);
  if (cached) return cached;
  const shift = label === 'interval-start' ? data.spacingMs / 2 : label === 'interval-end' ? -data.spacingMs / 2 : 0;
  const n = data.values.length;
  let present = 0;
  for (let r = 0; r < n; r++) if (!Number.isNaN(data.values[r])) present++;
  const points = new Float64Array(present);
  const values = present === n ? data.values : new Float64Array(present);
  for (let r = 0, k = 0; r < n; r++) {
    if (Number.isNaN(data.values[r])) continue;
    points[k] = data.timesMs[r] + shift;
    values[k++] = data.values[r];
  }
  const result = { points, values };
  byLabel.set(label, result);
  return result;
}

/** Index of the first element ≥ x in an ascending array; also used by the service's pushed signals. */
export function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
