/**
 * The service's in-memory copy of pushed points (src/service/live-signals.ts): per slot the mean of the points in it,
 * else a point less than an hour old; forecasts by latest issue; only what changed is read again; points more than
 * 90 days older than a series' newest are dropped from memory (the store keeps them).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PushedSignals, RETAIN_MS } from '../../src/service/live-signals.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import type { SignalPointsInput, Store } from '../../src/store/port.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-06-01T00:00:00Z');

describe('pushed signals in memory', () => {
  let store: Store;
  let pushed: PushedSignals;
  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    pushed = new PushedSignals();
  });
  afterEach(async () => {
    await store.close();
  });

  async function push(series: 'actual' | 'forecast', points: [number, number][], nowMs = T0, issuedMs?: number): Promise<void> {
    const input: SignalPointsInput = { siteId: 'hami', signal: 'renewableKW', series, points: points.map(([timeMs, value]) => ({ timeMs, value })), ...(issuedMs === undefined ? {} : { issuedMs }) };
    const r = await store.putSignalPoints(input, nowMs);
    if (!r.ok) throw new Error(r.reason);
  }
  const slots = (startMs: number, n: number, slotMinutes: number, series: 'actual' | 'forecast' = 'actual') =>
    Array.from(pushed.slotValues('hami', 'renewableKW', series, { startMs, slots: n, slotMinutes }), (v) => (Number.isNaN(v) ? null : v));

  it('gives each slot the mean of its points, else a point less than an hour old, else nothing', async () => {
    await push('actual', [
      [T0, 10],
      [T0 + 15 * MIN, 20],
      [T0 + 2 * HOUR, 40],
    ]);
    expect(await pushed.refresh(store)).toBe(true);
    // Hourly slots: 00:00 holds two points (mean 15); 01:00 none, and the last point (00:15) is 45 min old at 01:00;
    // at 03:00 the 02:00 point is an hour old: nothing.
    expect(slots(T0, 4, 60)).toEqual([15, 20, 40, null]);
    // 30-minute slots: the point at 00:15 holds until 01:15, so 01:30 has nothing; 02:00 and 02:30 have the 02:00 point.
    expect(slots(T0, 6, 30)).toEqual([15, 20, 20, null, 40, 40]);
    expect(slots(T0 + 3 * HOUR, 1, 60)).toEqual([null]);
    expect(pushed.lastBefore('hami', 'renewableKW', 'actual', T0 + 2 * HOUR)).toEqual({ timeMs: T0 + 15 * MIN, value: 20 });
    expect(slots(T0, 1, 60, 'forecast')).toEqual([null]);
  });

  it('takes a forecast\'s latest issue, reads only what changed, and changes its version only then', async () => {
    await push('forecast', [[T0, 1]], T0);
    await pushed.refresh(store);
    const version = pushed.version;
    expect(await pushed.refresh(store)).toBe(false);
    expect(pushed.version).toBe(version);
    await push('forecast', [[T0, 2]], T0 + HOUR);
    await push('forecast', [[T0, 3]], T0 + 2 * HOUR, T0 - HOUR); // an older issue, pushed late
    expect(await pushed.refresh(store)).toBe(true);
    expect(pushed.version).toBe(version + 1);
    expect(slots(T0, 1, 60, 'forecast')).toEqual([2]);
    // A second reader sees the same from scratch.
    const fresh = new PushedSignals();
    await fresh.refresh(store);
    expect(Array.from(fresh.slotValues('hami', 'renewableKW', 'forecast', { startMs: T0, slots: 1, slotMinutes: 60 }))).toEqual([2]);
  });

  it('keeps in memory the points less than 90 days older than the newest of their series', async () => {
    await push('actual', [[T0, 5]]);
    await push('actual', [[T0 + RETAIN_MS + HOUR, 6]], T0 + HOUR);
    await pushed.refresh(store);
    expect(slots(T0, 1, 60)).toEqual([null]);
    expect(slots(T0 + RETAIN_MS + HOUR, 1, 60)).toEqual([6]);
    const all = await store.signalPoints();
    expect(all.ok && all.points.length).toBe(2);
  });
});
