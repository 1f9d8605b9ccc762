/**
 * The energy view's time series (web/src/time-series.ts), in Node: each slot's value is drawn over that slot — not
 * the slot before — including the last slot of the window and the current slot of an actual series (nulls after it),
 * and the time axis is labelled in UTC like the rest of the page.
 */
import { describe, expect, it } from 'vitest';
import { fallbackAreas, points, slotLine, UTC_TIME_AXIS, type Point } from '../../web/src/time-series.ts';

const HOUR = 3_600_000;
const START = Date.parse('2026-06-01T00:00:00Z');

/** What a line stepped at each point's end (echarts `step: 'end'`) shows at `x`: the last point at or before x, while a later point exists. */
function drawnAt(line: Point[], x: number): number | null {
  for (let i = line.length - 2; i >= 0; i--) if (line[i][0] <= x && x < line[i + 1][0]) return line[i][1];
  return null;
}

describe('the energy view’s series', () => {
  it('draw each slot’s value across that slot, the last one too', () => {
    const values = [1, 2, 3, null, null];
    const line = points({ startMs: START, slotMinutes: 60 }, values);
    values.forEach((v, i) => {
      expect(drawnAt(line, START + i * HOUR), `start of slot ${i}`).toBe(v);
      expect(drawnAt(line, START + i * HOUR + HOUR / 2), `middle of slot ${i}`).toBe(v);
    });
    const forecast = points({ startMs: START, slotMinutes: 15 }, [5, 6, 7]);
    expect(drawnAt(forecast, START + 2.5 * 15 * 60_000)).toBe(7);
    expect(forecast.at(-1)).toEqual([START + 45 * 60_000, 7]);
    expect(points({ startMs: START, slotMinutes: 60 }, [])).toEqual([]);
  });

  it('are lines stepped at each point’s end, on a UTC time axis', () => {
    expect(slotLine({ name: 'a', data: [], color: '#000' })).toMatchObject({ type: 'line', step: 'end', connectNulls: false });
    expect(UTC_TIME_AXIS).toMatchObject({ useUTC: true, xAxis: { type: 'time' } });
  });

  it('shade the spans of slots the service filled in from history, merging series and adjacent slots', () => {
    const forecast = [null, 'week-ago', 'week-ago', null, null, 'last-known'];
    const actual = [null, null, null, 'forecast', null, null];
    expect(fallbackAreas({ startMs: START, slotMinutes: 60 }, [forecast, actual])).toEqual([
      [{ xAxis: START + HOUR }, { xAxis: START + 4 * HOUR }],
      [{ xAxis: START + 5 * HOUR }, { xAxis: START + 6 * HOUR }],
    ]);
    expect(fallbackAreas({ startMs: START, slotMinutes: 60 }, [[null, null]])).toEqual([]);
  });
});
