/**
 * Pushed energy signal points: actuals overwritten by time stamp, forecasts kept per issue (the latest is current, an
 * earlier one readable "as stored at T"), pushes idempotent, bad pushes refused whole, range reads.
 */
import { expect, it } from 'vitest';
import type { SignalPointsInput } from '../../../src/store/port.ts';
import type { Harness } from '../harness.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const points = (values: number[], fromHour = 0) => values.map((value, i) => ({ timeMs: T0 + (fromHour + i) * H, value }));
const actual = (values: number[], fromHour = 0): SignalPointsInput => ({ siteId: 'hami', signal: 'carbonGPerKWh', series: 'actual', points: points(values, fromHour) });
const forecast = (values: number[], fromHour = 0, issuedMs?: number): SignalPointsInput => ({
  siteId: 'hami',
  signal: 'carbonGPerKWh',
  series: 'forecast',
  points: points(values, fromHour),
  ...(issuedMs === undefined ? {} : { issuedMs }),
});

export function signalContract(h: Harness): void {
  it('appends actuals and overwrites them by time stamp; the same push twice changes nothing', async () => {
    expect(await h.store.putSignalPoints(actual([500, 510, 520]), T0)).toEqual({ ok: true, inserted: 3, updated: 0, unchanged: 0 });
    expect(await h.store.putSignalPoints(actual([500, 510, 520]), T0 + H)).toEqual({ ok: true, inserted: 0, updated: 0, unchanged: 3 });
    const rowsBefore = await h.raw('signal_points');
    expect(await h.store.putSignalPoints(actual([530, 540], 2), T0 + 2 * H)).toEqual({ ok: true, inserted: 1, updated: 1, unchanged: 0 });
    const read = await h.store.signalPoints({ siteId: 'hami', series: 'actual' });
    expect(read.ok && read.points.map((p) => [p.timeMs, p.value, p.issuedMs, p.recordedMs])).toEqual([
      [T0, 500, null, T0],
      [T0 + H, 510, null, T0],
      [T0 + 2 * H, 530, null, T0 + 2 * H],
      [T0 + 3 * H, 540, null, T0 + 2 * H],
    ]);
    // The repeated push wrote nothing, not even the recorded instant.
    expect(rowsBefore).toHaveLength(3);
    expect((await h.raw('signal_points')).filter((r) => Number(r.recorded_ms) === T0)).toHaveLength(2);
  });

  it('keeps every forecast issue: the latest is current, an earlier one is read as stored at its time', async () => {
    expect(await h.store.putSignalPoints(forecast([400, 410, 420]), T0)).toMatchObject({ inserted: 3 });
    // Issued an hour later: one value changed, the others are the current forecast already and add no issue.
    expect(await h.store.putSignalPoints(forecast([400, 444, 420]), T0 + H)).toEqual({ ok: true, inserted: 1, updated: 0, unchanged: 2 });
    // The same again changes nothing.
    expect(await h.store.putSignalPoints(forecast([400, 444, 420]), T0 + 2 * H)).toEqual({ ok: true, inserted: 0, updated: 0, unchanged: 3 });
    const current = await h.store.signalPoints({ siteId: 'hami', signal: 'carbonGPerKWh', series: 'forecast' });
    expect(current.ok && current.points.map((p) => [p.value, p.issuedMs])).toEqual([
      [400, T0],
      [444, T0 + H],
      [420, T0],
    ]);
    const asStored = await h.store.signalPoints({ series: 'forecast', asOfMs: T0 + H / 2 });
    expect(asStored.ok && asStored.points.map((p) => p.value)).toEqual([400, 410, 420]);
    // Actuals keep no history: as of any instant they read as they are.
    await h.store.putSignalPoints(actual([1]), T0 + 3 * H);
    const actualsThen = await h.store.signalPoints({ series: 'actual', asOfMs: T0 });
    expect(actualsThen.ok && actualsThen.points.map((p) => p.value)).toEqual([1]);
    const history = await h.store.signalPoints({ series: 'forecast', history: true });
    expect(history.ok && history.points.map((p) => [p.timeMs - T0, p.value])).toEqual([
      [0, 400],
      [H, 410],
      [H, 444],
      [2 * H, 420],
    ]);
  });

  it('stores a forecast under a given issue instant, idempotently, and overwrites that issue only', async () => {
    const issue = T0 - 6 * H;
    expect(await h.store.putSignalPoints(forecast([1, 2], 0, issue), T0)).toMatchObject({ inserted: 2 });
    expect(await h.store.putSignalPoints(forecast([1, 2], 0, issue), T0 + H)).toEqual({ ok: true, inserted: 0, updated: 0, unchanged: 2 });
    expect(await h.store.putSignalPoints(forecast([1, 3], 0, issue), T0 + H)).toEqual({ ok: true, inserted: 0, updated: 1, unchanged: 1 });
    expect(await h.store.putSignalPoints(forecast([5], 0, issue + H), T0 + H)).toEqual({ ok: true, inserted: 1, updated: 0, unchanged: 0 });
    const all = await h.store.signalPoints({ series: 'forecast', history: true });
    expect(all.ok && all.points.map((p) => [p.timeMs - T0, p.issuedMs! - issue, p.value])).toEqual([
      [0, 0, 1],
      [0, H, 5],
      [H, 0, 3],
    ]);
    // Issued earlier but stored later: not part of the forecast as stored before it was pushed.
    const before = await h.store.signalPoints({ series: 'forecast', asOfMs: T0 - H });
    expect(before.ok && before.points).toEqual([]);
  });

  it('reads ranges by site, signal, series and time, and what changed since an instant', async () => {
    await h.store.putSignalPoints(actual([1, 2, 3, 4, 5]), T0);
    await h.store.putSignalPoints({ siteId: 'beijing', signal: 'renewableKW', series: 'actual', points: points([7, 8]) }, T0 + H);
    await h.store.putSignalPoints({ siteId: 'hami', signal: 'priceYuanPerKWh', series: 'forecast', points: points([-0.1]) }, T0 + 2 * H);
    const range = await h.store.signalPoints({ siteId: 'hami', signal: 'carbonGPerKWh', fromMs: T0 + H, toMs: T0 + 4 * H });
    expect(range.ok && range.points.map((p) => p.value)).toEqual([2, 3, 4]);
    const everything = await h.store.signalPoints();
    expect(everything.ok && everything.points.map((p) => `${p.siteId}.${p.signal}.${p.series}`)).toEqual([
      'beijing.renewableKW.actual',
      'beijing.renewableKW.actual',
      ...new Array(5).fill('hami.carbonGPerKWh.actual'),
      'hami.priceYuanPerKWh.forecast',
    ]);
    const since = await h.store.signalPoints({ recordedSinceMs: T0 + H, history: true });
    expect(since.ok && since.points.map((p) => p.value)).toEqual([7, 8, -0.1]);
    const limited = await h.store.signalPoints({ limit: 2 });
    expect(limited.ok && limited.points.map((p) => p.timeMs)).toEqual([T0, T0]);
    expect(await h.store.signalPoints({ fromMs: 5, toMs: 1 })).toMatchObject({ ok: false, code: 'invalid' });
    expect(await h.store.signalPoints({ limit: 0 })).toMatchObject({ ok: false, code: 'invalid' });
  });

  it('refuses a bad push whole, naming the point, and stores nothing of it', async () => {
    await h.store.putSignalPoints(actual([500]), T0);
    const bad: [SignalPointsInput, RegExp][] = [
      [{ ...actual([1, 2]), siteId: '' }, /site id/],
      [{ ...actual([1, 2]), signal: 'windSpeed' as never }, /signal must be one of/],
      [{ ...actual([1, 2]), series: 'guess' as never }, /series must be actual or forecast/],
      [{ ...actual([1, 2]), issuedMs: T0 }, /issuedMs is for forecasts only/],
      [{ ...actual([]) }, /points must be a non-empty list/],
      [{ ...actual([600, Number.NaN]) }, /points\[1\]\.value must be a finite number/],
      [{ ...actual([600, 1]), points: [{ timeMs: T0, value: 600 }, { timeMs: T0 + 0.5, value: 1 }] }, /points\[1\]\.timeMs must be integer/],
      [{ ...actual([600, 1]), points: [{ timeMs: T0, value: 600 }, { timeMs: T0, value: 1 }] }, /points\[1\]\.timeMs repeats the time stamp of points\[0\]/],
    ];
    for (const [input, message] of bad) {
      const result = await h.store.putSignalPoints(input, T0 + H);
      expect(result, String(message)).toMatchObject({ ok: false, code: 'invalid' });
      expect(!result.ok && result.reason).toMatch(message);
    }
    const stored = await h.store.signalPoints();
    expect(stored.ok && stored.points.map((p) => p.value)).toEqual([500]);
  });
}
