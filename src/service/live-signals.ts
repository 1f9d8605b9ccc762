/**
 * The signal points operators pushed (POST /v1/sites/{id}/signals/{signal}/points, kept in the store), held in memory
 * so that `ScenarioState.window` can overlay them synchronously. `ScenarioState` loads them when it opens, takes what
 * changed before each loop tick (`refresh`, also after each push through this instance's API), and reads each
 * site's signal per slot. Other instances' pushes are seen at this instance's next tick.
 */
import type { TimeGrid } from '../core/model/types.ts';
import type { SignalPointName, SignalSeries, Store } from '../store/port.ts';
import { lowerBound } from '../scenario/resolve.ts';

/** How long after its time stamp a point still stands for a slot with no point of its own: points mark interval starts. */
export const POINT_HOLD_MS = 60 * 60_000;
/**
 * Points of a series kept in memory: those less than this much older than its newest point (the store keeps them all).
 * Covers the dashboard's 14 days back, the fallback's 28 days of history and metering of long runs.
 */
export const RETAIN_MS = 90 * 86_400_000;

interface Series {
  /** Value (and, for forecasts, issue instant: the latest issue wins) by time stamp. */
  byTime: Map<number, { value: number; issuedMs: number }>;
  /** Time stamps ascending, rebuilt after a change (null until then). */
  sorted: Float64Array | null;
  sortedValues: Float64Array | null;
}

export class PushedSignals {
  private readonly series = new Map<string, Series>();
  /** The latest `recordedMs` seen: the next refresh reads what was written since (inclusive). */
  private recordedSinceMs: number | undefined;
  /** Bumped by every refresh that changed something; windows cached under an older one are stale. */
  version = 0;

  /** Reads the points written since the last refresh (all of them the first time); true when something changed. */
  async refresh(store: Store): Promise<boolean> {
    const read = await store.signalPoints({ history: true, ...(this.recordedSinceMs === undefined ? {} : { recordedSinceMs: this.recordedSinceMs }) });
    if (!read.ok) throw new Error(`reading pushed signal points: ${read.reason}`);
    const changed = new Set<Series>();
    for (const p of read.points) {
      this.recordedSinceMs = Math.max(this.recordedSinceMs ?? p.recordedMs, p.recordedMs);
      const key = seriesKey(p.siteId, p.signal, p.series);
      let s = this.series.get(key);
      if (!s) this.series.set(key, (s = { byTime: new Map(), sorted: null, sortedValues: null }));
      const issuedMs = p.issuedMs ?? 0;
      const had = s.byTime.get(p.timeMs);
      if (had && (had.issuedMs > issuedMs || (had.issuedMs === issuedMs && had.value === p.value))) continue;
      s.byTime.set(p.timeMs, { value: p.value, issuedMs });
      s.sorted = null;
      changed.add(s);
    }
    for (const s of changed) forgetOld(s);
    if (changed.size > 0) this.version++;
    return changed.size > 0;
  }

  /** Whether any point of this site's signal and series is held. */
  has(siteId: string, signal: SignalPointName, series: SignalSeries): boolean {
    return this.series.has(seriesKey(siteId, signal, series));
  }

  /** One value per slot of `grid` from this site's pushed points of the series (`slotMeans`), NaN where none stands for it. */
  slotValues(siteId: string, signal: SignalPointName, series: SignalSeries, grid: TimeGrid): Float64Array {
    const s = this.sortedSeries(siteId, signal, series);
    return s ? slotMeans(s.times, s.values, grid) : new Float64Array(grid.slots).fill(NaN);
  }

  /** The last point strictly before `beforeMs`, or null: the "last known value" fallback. */
  lastBefore(siteId: string, signal: SignalPointName, series: SignalSeries, beforeMs: number): { timeMs: number; value: number } | null {
    const s = this.sortedSeries(siteId, signal, series);
    if (!s) return null;
    const k = lowerBound(s.times, beforeMs) - 1;
    return k >= 0 ? { timeMs: s.times[k], value: s.values[k] } : null;
  }

  private sortedSeries(siteId: string, signal: SignalPointName, series: SignalSeries): { times: Float64Array; values: Float64Array } | null {
    const s = this.series.get(seriesKey(siteId, signal, series));
    if (!s) return null;
    if (!s.sorted || !s.sortedValues) {
      const times = Float64Array.from(s.byTime.keys()).sort();
      s.sorted = times;
      s.sortedValues = Float64Array.from(times, (t) => s.byTime.get(t)!.value);
    }
    return { times: s.sorted, values: s.sortedValues };
  }
}

/**
 * One value per slot of `grid` from points at `times` (ascending, epoch ms) with `values`, NaN where no point stands
 * for the slot: the mean of the points whose time stamps fall in the slot, else the last point before the slot if it
 * is less than POINT_HOLD_MS older than the slot's start (points mark interval starts); with `combine` 'max', the
 * largest of those points instead of their mean. Used for the pushed points the service holds
 * (`PushedSignals.slotValues`) and for those read as stored at an instant (`ScenarioState.forecastAsOf`, which also
 * takes the latest issue behind each slot with 'max').
 */
export function slotMeans(times: Float64Array, values: ArrayLike<number>, grid: TimeGrid, combine: 'mean' | 'max' = 'mean'): Float64Array {
  const out = new Float64Array(grid.slots).fill(NaN);
  const slotMs = grid.slotMinutes * 60_000;
  let k = lowerBound(times, grid.startMs);
  for (let i = 0; i < grid.slots; i++) {
    const from = grid.startMs + i * slotMs;
    const to = from + slotMs;
    let sum = 0;
    let max = -Infinity;
    let n = 0;
    while (k < times.length && times[k] < to) {
      sum += values[k];
      max = Math.max(max, values[k++]);
      n++;
    }
    if (n > 0) out[i] = combine === 'max' ? max : sum / n;
    else {
      const before = lowerBound(times, from) - 1;
      if (before >= 0 && from - times[before] < POINT_HOLD_MS) out[i] = values[before];
    }
  }
  return out;
}

/** Drops the points more than RETAIN_MS older than the series' newest. */
function forgetOld(s: Series): void {
  let newest = -Infinity;
  for (const t of s.byTime.keys()) newest = Math.max(newest, t);
  for (const t of s.byTime.keys()) if (t < newest - RETAIN_MS) s.byTime.delete(t);
}

function seriesKey(siteId: string, signal: string, series: string): string {
  return `${siteId}\u0000${signal}\u0000${series}`;
}
