/**
 * The Carbon Aware SDK's rules as ported in src/api/carbon-aware.ts, on the examples the SDK's own sources give:
 * RollingAverage's and AverageOverPeriod's doc comments (src/CarbonAware/src/Extensions/EmissionsDataExtensions.cs),
 * CarbonAwareParameters.Validate's messages, and .NET's DateTimeOffset and TimeSpan texts.
 */
import { describe, expect, it } from 'vitest';
import {
  averageOverPeriod,
  dotnetInstant,
  dotnetTimeSpan,
  optimalPoints,
  processForecast,
  rollingAverage,
  SdkProblem,
  validateParameters,
  type RatedPoint,
} from '../../src/api/carbon-aware.ts';

const MIN = 60_000;
const T0 = Date.parse('2022-06-01T00:00:00Z');
const series = (minutes: number, ratings: number[]): RatedPoint[] => ratings.map((rating, k) => ({ location: 'eastus', timeMs: T0 + k * minutes * MIN, durationMs: minutes * MIN, rating }));
const ratings = (points: RatedPoint[]) => points.map((p) => p.rating);
function thrown(f: () => unknown): SdkProblem {
  try {
    f();
  } catch (error) {
    if (error instanceof SdkProblem) return error;
    throw error;
  }
  throw new Error('nothing thrown');
}

describe("RollingAverage, on the examples of its doc comment (5-minute points, a 10-minute workload)", () => {
  const end = (points: RatedPoint[]) => points.at(-1)!.timeMs + points.at(-1)!.durationMs;
  for (const [data, expected] of [
    [[10, 20, 30, 40, 5], [15, 25, 35, 22.5]],
    [[5, 55, 10, 10, 10], [30, 32.5, 10, 10]],
    [[12, 11, 10, 12, 13], [11.5, 10.5, 11, 12.5]],
  ]) {
    it(`[${data}] → [${expected}]`, () => {
      const points = series(5, data);
      const windows = rollingAverage(points, 10 * MIN, T0, end(points));
      expect(ratings(windows)).toEqual(expected);
      expect(windows.map((w) => [w.timeMs, w.durationMs])).toEqual(expected.map((_, k) => [T0 + k * 5 * MIN, 10 * MIN]));
    });
  }

  it('without a window leaves the points as they are; the first window may pass dataEndAt, the next may not', () => {
    const points = series(5, [10, 20, 30, 40, 5]);
    expect(rollingAverage(points, 0, T0, end(points))).toEqual(points);
    expect(ratings(rollingAverage(points, 10 * MIN, T0, T0 + 5 * MIN))).toEqual([15]);
  });

  it('leaves out windows over a gap', () => {
    const points = series(5, [10, 20, 30, 40]).filter((_, k) => k !== 2);
    expect(ratings(rollingAverage(points, 10 * MIN, T0, end(points)))).toEqual([15]);
  });
});

describe('AverageOverPeriod', () => {
  it('weighs partial points, as its doc comment: (01:00, 30), (02:00, 100), (03:00, 50) over 01:30–03:30 is 30/4 + 100/2 + 50/4', () => {
    const points = series(60, [0, 30, 100, 50]);
    expect(averageOverPeriod(points, T0 + 90 * MIN, T0 + 210 * MIN)).toBeCloseTo(30 / 4 + 100 / 2 + 50 / 4, 12);
  });

  it("a period the points do not cover is the SDK's ArgumentException", () => {
    const problem = thrown(() => averageOverPeriod(series(60, [1, 2]), T0, T0 + 3 * 60 * MIN));
    expect([problem.status, problem.title, problem.detail]).toEqual([400, 'ArgumentException', 'Period out of range. Data points did not cover the requested average period: 2022-06-01T00:00:00+00:00 through 2022-06-01T03:00:00+00:00']);
  });
});

describe('the forecast processing and the optimal points', () => {
  it('keeps every point with the lowest rating', () => {
    expect(ratings(optimalPoints(series(5, [3, 1, 2, 1])))).toEqual([1, 1]);
    expect(optimalPoints([])).toEqual([]);
  });

  it("checks the scope against the forecast's range, as the forecast's Validate does", () => {
    const problem = thrown(() => processForecast(series(60, [1, 2]), { dataStartMs: T0 - MIN, dataEndMs: T0 - 2 * MIN }));
    expect(problem.detail).toBe('Invalid EmissionsForecast');
    expect(problem.errors).toEqual({
      dataStartAt: ['dataStartAt must be earlier than dataEndAt', "dataStartAt must be within time range of the forecasted data, '2022-06-01T00:00:00+00:00' through '2022-06-01T02:00:00+00:00'"],
      dataEndAt: ["dataEndAt must be within time range of the forecasted data, '2022-06-01T00:00:00+00:00' through '2022-06-01T02:00:00+00:00'"],
    });
  });
});

describe('CarbonAwareParameters.Validate', () => {
  it('names every missing parameter first, then the relations', () => {
    expect(thrown(() => validateParameters({ required: { location: false, requestedAt: false } })).errors).toEqual({ location: ['location is not set'], requestedAt: ['requestedAt is not set'] });
    const both = { start: { name: 'time', ms: 2 }, end: { name: 'toTime', ms: 1 } };
    expect(thrown(() => validateParameters({ required: { location: true }, ...both })).errors).toEqual({ time: ['time must be before toTime'] });
    expect(thrown(() => validateParameters({ start: { name: 'time', ms: undefined }, end: { name: 'toTime', ms: 1 }, startRequiredIfEnd: true })).errors).toEqual({ time: ['time must be defined if toTime is defined'] });
    expect(() => validateParameters({ start: { name: 'time', ms: 1 }, end: { name: 'toTime', ms: undefined }, startRequiredIfEnd: true })).not.toThrow();
  });
});

describe('.NET texts', () => {
  it('DateTimeOffset in UTC as System.Text.Json writes it; TimeSpan in the "c" format', () => {
    expect(dotnetInstant(Date.parse('2022-07-19T14:00:00Z'))).toBe('2022-07-19T14:00:00+00:00');
    expect(dotnetInstant(Date.parse('2022-07-19T14:00:00.250Z'))).toBe('2022-07-19T14:00:00.25+00:00');
    expect([5 * MIN, 60 * MIN, 90 * MIN, 24 * 60 * MIN, 25 * 60 * MIN + 500].map(dotnetTimeSpan)).toEqual(['00:05:00', '01:00:00', '01:30:00', '1.00:00:00', '1.01:00:00.5']);
  });
});
