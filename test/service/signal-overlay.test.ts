/**
 * The service's windows (ScenarioState.window over src/service/signal-overlay.ts): pushed points win over the
 * document's series; where neither has a value the documented fallback fills in — a forecast from the actual one to
 * four weeks earlier, then the mean of the same hour over the 28 days before, then the last actual known, then the first
 * known after, else 0 — and an actual from the slot's forecast first; every filled range is recorded.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScenarioState } from '../../src/service/scenario-state.ts';
import { describeFallback } from '../../src/service/signal-overlay.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import type { SignalPointsInput, Store } from '../../src/store/port.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const D0 = Date.parse('2026-03-01T00:00:00Z');
/** The document's carbon series: hourly for 14 days from D0, the value of hour h being 1000 + h. */
const DAYS = 14;
const END = D0 + DAYS * DAY;
const carbonAt = (ms: number) => 1000 + (ms - D0) / HOUR;

function documentFile(): string {
  const values = Array.from({ length: DAYS * 24 }, (_, h) => 1000 + h);
  const doc = {
    version: 1,
    id: 'overlay-test',
    name: 'Overlay test',
    description: 'One site whose carbon series ends after two weeks.',
    period: { start: '2026-03-01T00:00Z', slots: 24, slotMinutes: 60 },
    sites: [
      {
        id: 'a',
        name: 'A',
        region: 'R',
        lat: 40,
        lon: 100,
        pue: 1.2,
        renewable: { priceYuanPerKWh: 0.1, carbonGPerKWh: 20 },
        pools: [{ class: 'general', unit: 'core', units: 64, unitsPerNode: 64, peakTflopsPerNode: { fp64: 5, fp32: 10, bf16: 20 }, powerCurve: [{ load: 0, powerW: 3 }, { load: 1, powerW: 9 }] }],
        signals: {
          priceYuanPerKWh: { actual: { source: 'constant', value: 0.5 } },
          carbonGPerKWh: { actual: { source: 'series', start: '2026-03-01T00:00Z', stepMinutes: 60, values, unit: 'gCO2/kWh' } },
          renewableKW: { actual: { source: 'constant', value: 0 } },
        },
      },
    ],
    links: [],
    assumptions: [],
  };
  const file = join(mkdtempSync(join(tmpdir(), 'kumul-overlay-')), 'scenario.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

describe('service windows: pushed points and the fallback', () => {
  let store: Store;
  let state: ScenarioState;

  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    state = await ScenarioState.open(store, { scenario: documentFile(), dispatch: { policy: 'optimize', objective: 'carbon' }, horizonHours: 24 }, D0);
  });
  afterEach(async () => {
    await store.close();
  });

  async function push(series: 'actual' | 'forecast', points: [number, number][], issuedMs?: number, nowMs = D0): Promise<void> {
    const input: SignalPointsInput = { siteId: 'a', signal: 'carbonGPerKWh', series, points: points.map(([timeMs, value]) => ({ timeMs, value })), ...(issuedMs === undefined ? {} : { issuedMs }) };
    const stored = await store.putSignalPoints(input, nowMs);
    if (!stored.ok) throw new Error(stored.reason);
    await state.refreshSignals();
  }
  const carbon = (startMs: number, slots: number) => state.window(startMs, slots).signals.a;
  const fallbacks = (startMs: number, slots: number) => state.window(startMs, slots).signalFallbacks.filter((f) => f.signal === 'carbonGPerKWh');

  it('inside the data: the document as it is, nothing recorded', () => {
    const w = state.window(D0 + DAY, 24);
    expect(w.signals.a.forecast.carbonGPerKWh).toEqual(Array.from({ length: 24 }, (_, i) => carbonAt(D0 + DAY + i * HOUR)));
    expect(w.signalFallbacks).toEqual([]);
  });

  it('pushed points win over the document where present, and the windows follow each push', async () => {
    const before = carbon(D0 + DAY, 3);
    await push('actual', [[D0 + DAY + HOUR, 5]]);
    const after = carbon(D0 + DAY, 3);
    expect(after).not.toBe(before);
    expect(after.actual.carbonGPerKWh).toEqual([carbonAt(D0 + DAY), 5, carbonAt(D0 + DAY + 2 * HOUR)]);
    // The document's forecast (its actual, here) stays the forecast.
    expect(after.forecast.carbonGPerKWh).toEqual(before.forecast.carbonGPerKWh);
    await push('forecast', [[D0 + DAY, 7]]);
    expect(carbon(D0 + DAY, 3).forecast.carbonGPerKWh[0]).toBe(7);
    // A forecast issued earlier but pushed later does not replace the current one.
    await push('forecast', [[D0 + DAY, 9]], D0 - DAY, D0 + HOUR);
    expect(carbon(D0 + DAY, 3).forecast.carbonGPerKWh[0]).toBe(7);
  });

  it('past the end: the actual one week earlier, then two, for forecast and actual alike', () => {
    const w = carbon(END + 2 * HOUR, 2);
    expect(w.forecast.carbonGPerKWh).toEqual([carbonAt(END + 2 * HOUR - 7 * DAY), carbonAt(END + 3 * HOUR - 7 * DAY)]);
    expect(w.actual.carbonGPerKWh).toEqual(w.forecast.carbonGPerKWh);
    expect(fallbacks(END + 2 * HOUR, 2)).toEqual([
      { siteId: 'a', signal: 'carbonGPerKWh', series: 'forecast', kind: 'week-ago', weeksBack: 1, fromMs: END + 2 * HOUR, toMs: END + 4 * HOUR },
      { siteId: 'a', signal: 'carbonGPerKWh', series: 'actual', kind: 'week-ago', weeksBack: 1, fromMs: END + 2 * HOUR, toMs: END + 4 * HOUR },
    ]);
    const later = END + 8 * DAY + 2 * HOUR;
    expect(carbon(later, 1).forecast.carbonGPerKWh).toEqual([carbonAt(later - 14 * DAY)]);
    const [f] = fallbacks(later, 1);
    expect(f).toMatchObject({ kind: 'week-ago', weeksBack: 2 });
    expect(describeFallback(f)).toBe('a carbonGPerKWh forecast 2026-03-23T02:00Z–2026-03-23T03:00Z: no forecast stored, the actual 2 weeks earlier');
  });

  it('no actual a week or four earlier: the mean of the same hour over the 28 days before (pushed actuals count)', async () => {
    const slot = END + 40 * DAY + 5 * HOUR;
    await push('actual', [
      [slot - DAY, 10],
      [slot - 2 * DAY, 20],
      [slot - 2 * DAY + HOUR, 999],
    ]);
    expect(carbon(slot, 1).forecast.carbonGPerKWh).toEqual([15]);
    expect(fallbacks(slot, 1)[0]).toMatchObject({ kind: 'seasonal-mean', series: 'forecast' });
  });

  it('no history within 28 days: the last actual known, pushed or the document\'s', async () => {
    const far = END + 100 * DAY;
    expect(carbon(far, 2).forecast.carbonGPerKWh).toEqual([carbonAt(END - HOUR), carbonAt(END - HOUR)]);
    expect(fallbacks(far, 2)[0]).toMatchObject({ kind: 'last-known', fromMs: far, toMs: far + 2 * HOUR });
    await push('actual', [[END + 50 * DAY, 42]]);
    expect(carbon(far, 2).actual.carbonGPerKWh).toEqual([42, 42]);
  });

  it('before the data begins: the first actual known after; with no data at all: 0, recorded as none', () => {
    const w = carbon(D0 - 2 * HOUR, 4);
    expect(w.forecast.carbonGPerKWh).toEqual([carbonAt(D0), carbonAt(D0), carbonAt(D0), carbonAt(D0 + HOUR)]);
    expect(fallbacks(D0 - 2 * HOUR, 4)[0]).toMatchObject({ kind: 'next-known', fromMs: D0 - 2 * HOUR, toMs: D0 });
    const nothing = D0 - 800 * DAY;
    expect(carbon(nothing, 1).forecast.carbonGPerKWh).toEqual([0]);
    expect(fallbacks(nothing, 1)[0]).toMatchObject({ kind: 'none' });
    // Signals that never end (constants) are never filled in.
    expect(state.window(nothing, 1).signalFallbacks.every((f) => f.signal === 'carbonGPerKWh')).toBe(true);
  });

  it('a missing actual is the slot\'s forecast first (pushed), recorded as forecast', async () => {
    await push('forecast', [[END + 5 * HOUR, 77]]);
    const w = carbon(END + 5 * HOUR, 1);
    expect(w.forecast.carbonGPerKWh).toEqual([77]);
    expect(w.actual.carbonGPerKWh).toEqual([77]);
    expect(fallbacks(END + 5 * HOUR, 1)).toEqual([{ siteId: 'a', signal: 'carbonGPerKWh', series: 'actual', kind: 'forecast', fromMs: END + 5 * HOUR, toMs: END + 6 * HOUR }]);
  });
});
