/** Forecast smoothing (src/core/dispatch/forecast-smoothing.ts): triangular means of a forecast, and the cut windows. */
import { describe, expect, it } from 'vitest';
import { forecastWindow, smoothingSlots, triangularMeans } from '../../src/core/dispatch/forecast-smoothing.ts';

describe('forecast smoothing', () => {
  it('with half-width 0 only cuts the window', () => {
    expect(triangularMeans([1, 2, 3, 4], 1, 2, 0)).toEqual([2, 3]);
  });

  it('weighs the slots within k of each slot by k + 1 − distance, the slots around the window included', () => {
    // k = 1: weights 1, 2, 1; k = 2: 1, 2, 3, 2, 1
    expect(triangularMeans([0, 4, 0, 8, 0], 1, 3, 1)).toEqual([2, 3, 4]);
    expect(triangularMeans([0, 0, 9, 0, 0], 2, 1, 2)).toEqual([3]);
  });

  it('uses the weights that remain at the ends of the series', () => {
    expect(triangularMeans([3, 0, 0], 0, 3, 1)).toEqual([2, 0.75, 0]);
  });

  it('smooths carbon and renewables, and cuts prices as they are', () => {
    const signals = { a: { priceYuanPerKWh: [1, 5, 1], carbonGPerKWh: [100, 400, 100], renewableKW: [0, 8, 0] } };
    expect(forecastWindow(signals, 1, 1, 1)).toEqual({ a: { priceYuanPerKWh: [5], carbonGPerKWh: [250], renewableKW: [4] } });
    expect(forecastWindow(signals, 0, 3, 0)).toEqual(signals);
  });

  it('rounds a width in minutes to whole slots', () => {
    expect([smoothingSlots(60, 30), smoothingSlots(60, 60), smoothingSlots(0, 30), smoothingSlots(10, 30)]).toEqual([2, 1, 0, 0]);
  });
});
