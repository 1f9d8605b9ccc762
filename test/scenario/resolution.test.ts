/** Resolution of hand-made signals onto 15-, 60- and 120-minute grids: time-of-use, CSV means and interpolation, units, mappings. */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/index.ts';
import { TINY, keepOnly, tinyVariant } from './helpers.ts';

const close = (actual: number[], expected: number[]) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v, `slot ${i}`).toBeCloseTo(expected[i], 9));
};

describe('time-of-use prices (valley 00-08, peak 08-12, flat 12-24, Beijing time)', () => {
  const file = tinyVariant((doc) => keepOnly(doc, ['east.priceYuanPerKWh']));
  const price = (start: string, slotMinutes: number, slots: number) =>
    loadScenario(file, { start, slotMinutes, slots }).signals.east.actual.priceYuanPerKWh;

  it('60-min slots aligned on the hour take the tier of their hour', () => {
    // 2026-02-28T22:00Z is 06:00 Beijing time: valley, valley, peak ×4, flat
    close(price('2026-02-28T22:00Z', 60, 7), [0.2, 0.2, 1, 1, 1, 1, 0.5]);
  });
  it('a 60-min slot across a tier boundary is the time-weighted mean', () => {
    // 03:30Z = 11:30 local: half peak, half flat
    close(price('2026-03-01T03:30Z', 60, 1), [0.75]);
  });
  it('a slot across local midnight mixes the last and first periods', () => {
    close(price('2026-02-28T15:30Z', 60, 1), [(0.5 + 0.2) / 2]);
  });
  it('15-min slots', () => {
    close(price('2026-03-01T03:30Z', 15, 4), [1, 1, 0.5, 0.5]);
  });
  it('forecast equals actual when no forecast is given', () => {
    const s = loadScenario(file, { start: '2026-03-01T03:30Z', slots: 3 });
    expect(s.signals.east.forecast.priceYuanPerKWh).toEqual(s.signals.east.actual.priceYuanPerKWh);
  });
});

describe('CSV series', () => {
  it('hourly interval-start data on a 60-min grid gives each hour its value (repeat-year 2020)', () => {
    const s = loadScenario(TINY, { slots: 2 });
    close(s.signals.east.actual.carbonGPerKWh, [10, 20]);
  });
  it('hourly data on a 15-min grid is interpolated between interval middles, held at the edge', () => {
    const s = loadScenario(TINY, { slotMinutes: 15, slots: 8 });
    close(s.signals.east.actual.carbonGPerKWh, [10, 10, 10, 13.75, 16.25, 18.75, 20, 23.75]);
  });
  const eastCarbon = tinyVariant((doc) => keepOnly(doc, ['east.carbonGPerKWh']));
  it('hourly data on a 120-min grid is the mean of the samples in the slot', () => {
    const s = loadScenario(eastCarbon, { slotMinutes: 120, slots: 3 });
    close(s.signals.east.actual.carbonGPerKWh, [15, 35, 55]);
  });
  it('a missing value is skipped and bridged by interpolation', () => {
    const s = loadScenario(eastCarbon, { start: '2026-03-01T05:00Z', slots: 3 });
    close(s.signals.east.actual.carbonGPerKWh, [60, 70, 80]);
  });
  it('30-min MW data in Beijing time: slot means in kW on a 60-min grid, negatives clipped', () => {
    const s = loadScenario(TINY, { slots: 2 });
    close(s.signals.east.actual.renewableKW, [200, 225]);
    const later = loadScenario(TINY, { start: '2026-03-01T01:45Z', slotMinutes: 15, slots: 1 });
    close(later.signals.east.actual.renewableKW, [0]);
  });
  it('30-min data on a 15-min grid', () => {
    const s = loadScenario(TINY, { slotMinutes: 15, slots: 8 });
    close(s.signals.east.actual.renewableKW, [100, 100, 250, 300, 450, 500, 87.5, 0]);
  });
  it('fraction-of-peak × scale plus a constant; NA values are skipped', () => {
    const s = loadScenario(TINY, { slots: 2 });
    close(s.signals.west.actual.renewableKW, [50 + 375, 50 + 0]);
  });
  it('repeat-day maps every requested day onto the data day, keeping the time of day', () => {
    const file = tinyVariant((doc) => keepOnly(doc, ['west.carbonGPerKWh']));
    const s = loadScenario(file, { start: '2031-07-15T02:00Z', slots: 2 });
    close(s.signals.west.actual.carbonGPerKWh, [30, 40]);
  });
  it('shiftMinutes moves a series later', () => {
    const file = tinyVariant((doc) => (doc.sites[0].signals.carbonGPerKWh.actual.shiftMinutes = 60));
    close(loadScenario(file, { start: '2026-03-01T01:00Z', slots: 2 }).signals.east.actual.carbonGPerKWh, [10, 20]);
  });
  it('timeLabel instant puts samples at their time stamps', () => {
    const file = tinyVariant((doc) => (doc.sites[0].signals.carbonGPerKWh.actual.timeLabel = 'instant'));
    // 30-min slots: [00:00, 00:30) holds the 00:00 sample; [00:30, 01:00) interpolates 00:45 between 10 and 20
    close(loadScenario(file, { slotMinutes: 30, slots: 2 }).signals.east.actual.carbonGPerKWh, [10, 17.5]);
  });
  it('units: W, kW, GW and yuan/MWh convert to the signal unit', () => {
    const file = tinyVariant((doc) => {
      doc.sites[0].signals.renewableKW.actual.unit = 'W';
      doc.sites[0].signals.carbonGPerKWh.actual.unit = 'kgCO2/kWh';
      doc.sites[1].signals.priceYuanPerKWh.actual = { ...doc.sites[0].signals.carbonGPerKWh.actual, unit: 'yuan/MWh' };
    });
    const s = loadScenario(file, { slots: 2 });
    close(s.signals.east.actual.renewableKW, [0.0002, 0.000225]);
    close(s.signals.east.actual.carbonGPerKWh, [10_000, 20_000]);
    close(s.signals.west.actual.priceYuanPerKWh, [0.01, 0.02]);
  });
});
