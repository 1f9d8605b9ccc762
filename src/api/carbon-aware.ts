/**
 * The Green Software Foundation Carbon Aware SDK WebAPI's own rules, ported so that its clients get the answers they
 * expect from `kumul serve` (routes/carbon-aware.ts; docs/carbon-aware-api.md). Pure: no store, no clock.
 *
 * Sources, in the SDK's repository (Green-Software-Foundation/carbon-aware-sdk):
 * - parameter checks and their messages: src/GSF.CarbonAware/src/Handlers/CarbonAware/CarbonAwareParameters.cs
 *   (`Validate`: "<name> is not set", "<start> must be before <end>", "<start> must be defined if <end> is defined",
 *   thrown as an ArgumentException "Invalid parameters" whose Data become `errors`);
 * - the error body: src/CarbonAware.WebApi/src/Filters/HttpResponseExceptionFilter.cs (an HttpValidationProblemDetails:
 *   `title` the exception's type name, `status`, `detail` its message, `errors` its Data; ArgumentException → 400,
 *   NotImplementedException → 501, anything else 500 with title "InternalServerError" and no detail) and ASP.NET's
 *   automatic model-validation answer (title "One or more validation errors occurred.");
 * - unknown locations: src/CarbonAware.LocationSources/src/LocationSource.cs ("Unknown Location: '<name>' not found",
 *   names matched ignoring case);
 * - forecasts: src/GSF.CarbonAware/src/Handlers/ForecastHandler.cs (`ProcessAndValidateForecast`), the forecast's
 *   `Validate(dataStartAt, dataEndAt)` ("Invalid EmissionsForecast"), IntervalHelper.FilterByDuration,
 *   EmissionsDataExtensions.RollingAverage and AverageOverPeriod (src/CarbonAware/src/Extensions), and the optimal
 *   points (every point with the lowest rating: CarbonAwareOptimalEmission.GetOptimalEmissions);
 * - averages: src/CarbonAware.Aggregators/src/Emissions/EmissionsAggregator.cs (`CalculateAverageCarbonIntensityAsync`,
 *   "Period out of range. Data points did not cover the requested average period: …").
 */

/** One rated interval, as the SDK's EmissionsData: its start, length and rating (gCO2/kWh) at a location. */
export interface RatedPoint {
  location: string;
  timeMs: number;
  durationMs: number;
  rating: number;
}

/** An error answered in the SDK's shape (ValidationProblemDetails): thrown by the Carbon Aware routes and helpers. */
export class SdkProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | null,
    readonly errors: Record<string, string[]> = {},
    /** Response headers that go with it (`Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

/** ASP.NET's title for requests that fail model binding (a missing required field, a value of the wrong type). */
export const MODEL_VALIDATION_TITLE = 'One or more validation errors occurred.';

/** A request that fails binding, as ASP.NET answers it: 400 with the bad fields in `errors`. */
export function modelValidation(errors: Record<string, string[]>, detail: string | null = null): SdkProblem {
  return new SdkProblem(400, MODEL_VALIDATION_TITLE, detail, errors);
}

/** The SDK's ArgumentException, as its exception filter answers it: 400, title "ArgumentException". */
export function argumentException(detail: string, errors: Record<string, string[]> = {}): SdkProblem {
  return new SdkProblem(400, 'ArgumentException', detail, errors);
}

/** The SDK's answer for a location its location source does not know. */
export function unknownLocation(name: string): SdkProblem {
  return argumentException(`Unknown Location: '${name}' not found`);
}

/** Parameters as CarbonAwareParameters checks them: each by its display name (the query or JSON name). */
export interface SdkParameters {
  /** Required parameters and whether each is set (after dropping empty locations). */
  required?: Record<string, boolean>;
  /** Start and end, with their display names; `startRequiredIfEnd` adds that check (the emissions routes). */
  start?: { name: string; ms: number | undefined };
  end?: { name: string; ms: number | undefined };
  startRequiredIfEnd?: boolean;
}

/**
 * CarbonAwareParameters.Validate: required parameters first (all missing ones at once), then start before end and,
 * where asked, start given when end is; throws the SDK's "Invalid parameters" ArgumentException.
 */
export function validateParameters(p: SdkParameters): void {
  const missing: Record<string, string[]> = {};
  for (const [name, set] of Object.entries(p.required ?? {})) if (!set) missing[name] = [`${name} is not set`];
  if (Object.keys(missing).length > 0) throw argumentException('Invalid parameters', missing);
  const errors: Record<string, string[]> = {};
  const add = (key: string, message: string) => (errors[key] ??= []).push(message);
  const { start, end } = p;
  if (start && end) {
    // Unset, start is the earliest instant and end the latest (DateTimeOffset.MinValue / MaxValue): only both set can fail.
    if (start.ms !== undefined && end.ms !== undefined && !(start.ms < end.ms)) add(start.name, `${start.name} must be before ${end.name}`);
    if (p.startRequiredIfEnd && end.ms !== undefined && start.ms === undefined) add(start.name, `${start.name} must be defined if ${end.name} is defined`);
  }
  if (Object.keys(errors).length > 0) throw argumentException('Invalid parameters', errors);
}

// ---- values as System.Text.Json writes them ----

/** A DateTimeOffset in UTC as System.Text.Json writes it: `2022-07-19T14:00:00+00:00`, fractions only when not zero. */
export function dotnetInstant(ms: number): string {
  const text = new Date(ms).toISOString(); // 2022-07-19T14:00:00.000Z
  const fraction = text.slice(19, 23).replace(/\.?0+$/, '');
  return `${text.slice(0, 19)}${fraction}+00:00`;
}

/** A TimeSpan as System.Text.Json writes it (the "c" format): `01:00:00`, `1.00:00:00` for a day, `00:00:00.5`. */
export function dotnetTimeSpan(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  const rest = ms - days * 86_400_000;
  const pad = (n: number) => String(n).padStart(2, '0');
  const hms = `${pad(Math.floor(rest / 3_600_000))}:${pad(Math.floor((rest % 3_600_000) / 60_000))}:${pad(Math.floor((rest % 60_000) / 1000))}`;
  const fraction = rest % 1000 === 0 ? '' : `.${String(rest % 1000).padStart(3, '0').replace(/0+$/, '')}`;
  return `${days > 0 ? `${days}.` : ''}${hms}${fraction}`;
}

/** Ratings as answered: 10 significant digits, so that floating-point noise (449.99999999999994) does not show. */
export function roundRating(value: number): number {
  return Number(value.toPrecision(10));
}

// ---- averages, rolling windows and the optimal points ----

/**
 * The time-weighted mean rating of `points` (ascending) over [startMs, endMs), as AverageOverPeriod weighs them; null
 * when they do not cover the period without a gap (the SDK throws there: out of range, or not continuous).
 */
export function averageOver(points: readonly RatedPoint[], startMs: number, endMs: number): number | null {
  const total = endMs - startMs;
  if (!(total > 0)) return null;
  let sum = 0;
  let coveredTo = startMs;
  for (const p of points) {
    const pEnd = p.timeMs + p.durationMs;
    if (pEnd <= startMs || p.timeMs >= endMs) continue;
    if (p.timeMs > coveredTo) return null; // a gap, or the first point starts after startMs
    sum += (p.rating * (Math.min(endMs, pEnd) - Math.max(startMs, p.timeMs))) / total;
    coveredTo = pEnd;
  }
  return coveredTo >= endMs ? sum : null;
}

/** EmissionsAggregator's average over a period, or the SDK's "Period out of range" ArgumentException. */
export function averageOverPeriod(points: readonly RatedPoint[], startMs: number, endMs: number): number {
  const average = averageOver(points, startMs, endMs);
  if (average === null) throw argumentException(`Period out of range. Data points did not cover the requested average period: ${dotnetInstant(startMs)} through ${dotnetInstant(endMs)}`);
  return average;
}

/**
 * RollingAverage: windows of `windowMs` from `dataStartMs` (or the first point, if later), one every point length,
 * each rated by its time-weighted mean and as long as the window; a window the points do not cover is left out, and
 * windows end at `dataEndMs` except the first (the SDK checks the end only after its first window). `windowMs` 0
 * (no windowSize) leaves the points as they are.
 */
export function rollingAverage(points: readonly RatedPoint[], windowMs: number, dataStartMs: number, dataEndMs: number): RatedPoint[] {
  if (points.length === 0 || windowMs === 0) return [...points];
  const tickMs = points[0].durationMs;
  const lastEndMs = points[points.length - 1].timeMs + points[points.length - 1].durationMs;
  const out: RatedPoint[] = [];
  for (let startMs = Math.max(dataStartMs, points[0].timeMs), first = true; startMs < lastEndMs; startMs += tickMs, first = false) {
    const endMs = startMs + windowMs;
    if (!first && endMs > dataEndMs) break;
    const rating = averageOver(points, startMs, endMs);
    if (rating !== null) out.push({ location: points[0].location, timeMs: startMs, durationMs: windowMs, rating });
  }
  return out;
}

/** Every point with the lowest rating (GetOptimalEmissions); none for no points. */
export function optimalPoints(points: readonly RatedPoint[]): RatedPoint[] {
  if (points.length === 0) return [];
  const best = Math.min(...points.map((p) => p.rating));
  return points.filter((p) => p.rating === best);
}

/** A forecast as ProcessAndValidateForecast leaves it: its scope, its points (windowed) and the optimal ones. */
export interface ProcessedForecast {
  dataStartMs: number;
  dataEndMs: number;
  forecastData: RatedPoint[];
  optimalDataPoints: RatedPoint[];
}

/**
 * ProcessAndValidateForecast on a forecast's points (ascending, not empty): scope [dataStartAt, dataEndAt] defaulting
 * to the forecast's first point and the end of its last, checked against the forecast's range ("Invalid
 * EmissionsForecast"), points overlapping the scope kept (FilterByDuration), rolled into windows of `windowMinutes`,
 * and the optimal points among them.
 */
export function processForecast(points: readonly RatedPoint[], scope: { dataStartMs?: number; dataEndMs?: number; windowMinutes?: number }): ProcessedForecast {
  const first = points[0];
  const last = points[points.length - 1];
  const minMs = first.timeMs;
  const maxMs = last.timeMs + last.durationMs;
  const dataStartMs = scope.dataStartMs ?? minMs;
  const dataEndMs = scope.dataEndMs ?? maxMs;
  const errors: Record<string, string[]> = {};
  const add = (key: string, message: string) => (errors[key] ??= []).push(message);
  const range = `'${dotnetInstant(minMs)}' through '${dotnetInstant(maxMs)}'`;
  if (dataStartMs >= dataEndMs) add('dataStartAt', 'dataStartAt must be earlier than dataEndAt');
  if (dataStartMs < minMs || dataStartMs > maxMs) add('dataStartAt', `dataStartAt must be within time range of the forecasted data, ${range}`);
  if (dataEndMs < minMs || dataEndMs > maxMs) add('dataEndAt', `dataEndAt must be within time range of the forecasted data, ${range}`);
  if (Object.keys(errors).length > 0) throw argumentException('Invalid EmissionsForecast', errors);
  const scoped = points.filter((p) => p.timeMs + p.durationMs >= dataStartMs && p.timeMs <= dataEndMs);
  const forecastData = rollingAverage(scoped, (scope.windowMinutes ?? 0) * 60_000, dataStartMs, dataEndMs);
  return { dataStartMs, dataEndMs, forecastData, optimalDataPoints: optimalPoints(forecastData) };
}
