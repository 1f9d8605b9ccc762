/**
 * The signals `kumul serve` plans and meters with: the scenario document's own series with the operators' pushed
 * points laid over them (pushed points win where present), and, where neither has a value, a documented fallback
 * built from history, so that the service never stops for lack of data (docs/service.md, "Live signals"):
 *
 * - a missing **forecast** is the **actual** (pushed, else the document's) of the same slot one week earlier, then two,
 *   three, four weeks earlier (`week-ago`); else the mean of the actuals at the same time of day over the 28 days
 *   before (`seasonal-mean`); else the last actual known before the slot, looking back up to two years
 *   (`last-known`); else the first actual known after it in the window (`next-known`: the data starts later); else 0
 *   (`none`: no data at all for that signal within two years);
 * - a missing **actual** (metering) is the slot's forecast (pushed or the document's: `forecast`), else the same
 *   fallback as a forecast.
 *
 * Every slot filled so is recorded as a `SignalFallback` (site, signal, series, kind and slot range), which the
 * dispatch loop turns into notes on the plans it makes and the dashboard's energy view marks. Called by
 * `ScenarioState.window`; pure apart from the accessors it is given.
 */
import type { Scenario, SiteSignals, TimeGrid } from '../core/model/types.ts';
import { SIGNAL_POINT_NAMES, type SignalPointName, type SignalSeries } from '../store/port.ts';

export type FallbackKind = 'forecast' | 'week-ago' | 'seasonal-mean' | 'last-known' | 'next-known' | 'none';
export const FALLBACK_KINDS: readonly FallbackKind[] = ['forecast', 'week-ago', 'seasonal-mean', 'last-known', 'next-known', 'none'];

/** Weeks back the `week-ago` fallback looks, one at a time. */
export const WEEKS_BACK = 4;
/** Days of history the `seasonal-mean` fallback averages. */
export const SEASONAL_DAYS = 28;
/** How far back `last-known` looks for a value. */
export const LAST_KNOWN_DAYS = 730;

const DAY_MS = 86_400_000;

/** Consecutive slots of one site's signal and series that came from the same fallback. */
export interface SignalFallback {
  siteId: string;
  signal: SignalPointName;
  series: SignalSeries;
  kind: FallbackKind;
  /** For `week-ago`: how many weeks back the value was taken (the first slot's; it may vary along the range). */
  weeksBack?: number;
  /** The first slot's start and the last slot's end, epoch ms. */
  fromMs: number;
  toMs: number;
}

/** A scenario window as the service resolves it: the signals overlaid and filled, with where they were filled. */
export interface LiveScenario extends Scenario {
  signalFallbacks: SignalFallback[];
}

/**
 * The fallbacks a window (from ScenarioState, possibly wrapped by the measured capability or the loop's outages)
 * recorded; none for a plain scenario. Read by the loop's plan notes, the baseline and the dashboard's views.
 */
export function fallbacksOf(scenario: Scenario): SignalFallback[] {
  return (scenario as Partial<LiveScenario>).signalFallbacks ?? [];
}

/** What the overlay reads besides the window: pushed points and the actual history (pushed, else the document's). */
export interface OverlaySources {
  /** Pushed points per slot of `grid` (NaN where none): PushedSignals.slotValues. */
  pushed(siteId: string, signal: SignalPointName, series: SignalSeries, grid: TimeGrid): Float64Array;
  /** Known actuals per slot of `grid`, pushed else the document's, NaN where neither has one. */
  knownActual(siteId: string, signal: SignalPointName, grid: TimeGrid): Float64Array;
  /** The last known actual strictly before `beforeMs` and not before `notBeforeMs`, or null. */
  lastKnownActual(siteId: string, signal: SignalPointName, beforeMs: number, notBeforeMs: number): { timeMs: number; value: number } | null;
}

/**
 * `document` is the document resolved over the window with uncovered slots NaN (resolveScenarioDocument with
 * `uncovered: 'missing'`); the result has a number in every slot and says which slots were filled how.
 */
export function overlaySignals(document: Scenario, sources: OverlaySources): LiveScenario {
  const { grid } = document;
  const slotMs = grid.slotMinutes * 60_000;
  const fallbacks: SignalFallback[] = [];
  const signals: Scenario['signals'] = {};
  for (const [siteId, pair] of Object.entries(document.signals)) {
    const forecast = {} as SiteSignals;
    const actual = {} as SiteSignals;
    for (const signal of SIGNAL_POINT_NAMES) {
      const f = overlay(pair.forecast[signal], sources.pushed(siteId, signal, 'forecast', grid));
      const a = overlay(pair.actual[signal], sources.pushed(siteId, signal, 'actual', grid));
      const kindsF: (Fill | null)[] = new Array(grid.slots).fill(null);
      const kindsA: (Fill | null)[] = new Array(grid.slots).fill(null);
      if (f.some(Number.isNaN) || a.some(Number.isNaN)) {
        const history = new HistoryFill(sources, siteId, signal, grid);
        for (let i = 0; i < grid.slots; i++) {
          if (Number.isNaN(f[i])) {
            const fill = history.at(i);
            f[i] = fill.value;
            kindsF[i] = fill;
            if (Number.isNaN(a[i])) {
              a[i] = fill.value;
              kindsA[i] = fill;
            }
          } else if (Number.isNaN(a[i])) {
            a[i] = f[i];
            kindsA[i] = { kind: 'forecast', value: f[i] };
          }
        }
        fallbacks.push(...ranges(siteId, signal, 'forecast', kindsF, grid.startMs, slotMs), ...ranges(siteId, signal, 'actual', kindsA, grid.startMs, slotMs));
      }
      forecast[signal] = f;
      actual[signal] = a;
    }
    signals[siteId] = { forecast, actual };
  }
  return { ...document, signals, signalFallbacks: fallbacks };
}

interface Fill {
  kind: FallbackKind;
  value: number;
  weeksBack?: number;
}

/** The document's values with the pushed points over them (a pushed point wins). */
function overlay(own: readonly number[], pushed: Float64Array): number[] {
  return own.map((v, i) => (Number.isNaN(pushed[i]) ? v : pushed[i]));
}

/** The fallback chain for the slots of one site's signal, over the known actuals of the window and the 28 days before. */
class HistoryFill {
  private readonly known: Float64Array;
  private readonly lookbackSlots: number;
  private readonly weekSlots: number | null;
  private readonly daySlots: number | null;

  constructor(
    private readonly sources: OverlaySources,
    private readonly siteId: string,
    private readonly signal: SignalPointName,
    private readonly grid: TimeGrid,
  ) {
    const slotMs = grid.slotMinutes * 60_000;
    this.daySlots = DAY_MS % slotMs === 0 ? DAY_MS / slotMs : null;
    this.weekSlots = this.daySlots === null ? null : 7 * this.daySlots;
    this.lookbackSlots = Math.ceil((Math.max(WEEKS_BACK * 7, SEASONAL_DAYS) * DAY_MS) / slotMs);
    this.known = sources.knownActual(siteId, signal, { startMs: grid.startMs - this.lookbackSlots * slotMs, slotMinutes: grid.slotMinutes, slots: this.lookbackSlots + grid.slots });
  }

  /** The value for slot `i` of the window and the fallback it came from. */
  at(i: number): Fill {
    const j = i + this.lookbackSlots;
    if (this.weekSlots !== null) {
      for (let k = 1; k <= WEEKS_BACK; k++) {
        const v = this.known[j - k * this.weekSlots];
        if (!Number.isNaN(v)) return { kind: 'week-ago', value: v, weeksBack: k };
      }
    }
    if (this.daySlots !== null) {
      let sum = 0;
      let n = 0;
      for (let d = 1; d <= SEASONAL_DAYS; d++) {
        const v = this.known[j - d * this.daySlots];
        if (!Number.isNaN(v)) {
          sum += v;
          n++;
        }
      }
      if (n > 0) return { kind: 'seasonal-mean', value: sum / n };
    }
    for (let b = j - 1; b >= 0; b--) if (!Number.isNaN(this.known[b])) return { kind: 'last-known', value: this.known[b] };
    const older = this.beforeHistory();
    if (older) return { kind: 'last-known', value: older.value };
    for (let a = j + 1; a < this.known.length; a++) if (!Number.isNaN(this.known[a])) return { kind: 'next-known', value: this.known[a] };
    return { kind: 'none', value: 0 };
  }

  private older: { value: number } | null | undefined;

  /** The last actual known before the history this fill holds (looked up once). */
  private beforeHistory(): { value: number } | null {
    if (this.older === undefined) {
      const historyStartMs = this.grid.startMs - this.lookbackSlots * this.grid.slotMinutes * 60_000;
      this.older = this.sources.lastKnownActual(this.siteId, this.signal, historyStartMs, historyStartMs - LAST_KNOWN_DAYS * DAY_MS);
    }
    return this.older;
  }
}

/** Runs of slots with the same fill as fallback ranges. */
function ranges(siteId: string, signal: SignalPointName, series: SignalSeries, fills: readonly (Fill | null)[], startMs: number, slotMs: number): SignalFallback[] {
  const out: SignalFallback[] = [];
  let i = 0;
  while (i < fills.length) {
    const fill = fills[i];
    if (!fill) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < fills.length && fills[end]?.kind === fill.kind) end++;
    out.push({ siteId, signal, series, kind: fill.kind, ...(fill.weeksBack === undefined ? {} : { weeksBack: fill.weeksBack }), fromMs: startMs + i * slotMs, toMs: startMs + end * slotMs });
    i = end;
  }
  return out;
}

/**
 * A fallback range as a sentence, for plans' `explain.signalNotes` and the energy view's `signalNotes`:
 * `hami carbonGPerKWh forecast 2026-06-08T00:00Z–2026-06-08T05:00Z: no forecast stored, the actual one week earlier`.
 */
export function describeFallback(f: SignalFallback): string {
  const what: Record<FallbackKind, string> = {
    forecast: 'no actual stored, the forecast of the slot',
    'week-ago': `no forecast stored, the actual ${f.weeksBack === 1 ? 'one week' : `${f.weeksBack ?? 1} weeks`} earlier`,
    'seasonal-mean': `no forecast stored, the mean actual at that time of day over the ${SEASONAL_DAYS} days before`,
    'last-known': 'no forecast stored, the last actual known',
    'next-known': 'no forecast stored, the first actual known after it',
    none: 'no data at all, 0',
  };
  const detail = f.series === 'actual' && f.kind !== 'forecast' ? what[f.kind].replace('no forecast stored', 'no actual or forecast stored') : what[f.kind];
  return `${f.siteId} ${f.signal} ${f.series} ${isoMinute(f.fromMs)}–${isoMinute(f.toMs)}: ${detail}`;
}

function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16) + 'Z';
}

/**
 * The notes a plan's explain carries when its runs fall on slots whose forecasts came from the fallback: one per
 * fallback range at the plan's site that its runs overlap, over the slots they overlap (`hami renewableKW forecast
 * 2026-06-08T00:00Z–2026-06-08T03:00Z: no forecast stored, the actual one week earlier`). Called by the dispatch loop
 * after the core's dispatch, with the window the cycle planned on.
 */
export function planSignalNotes(scenario: Scenario, site: string, runs: readonly { start: string; end: string }[]): string[] {
  const slotMs = scenario.grid.slotMinutes * 60_000;
  const notes: string[] = [];
  for (const f of fallbacksOf(scenario)) {
    if (f.siteId !== site || f.series !== 'forecast') continue;
    let fromMs = Infinity;
    let toMs = -Infinity;
    for (const run of runs) {
      const startMs = Math.floor(Date.parse(run.start) / slotMs) * slotMs;
      const endMs = Math.ceil(Date.parse(run.end) / slotMs) * slotMs;
      if (endMs <= f.fromMs || startMs >= f.toMs) continue;
      fromMs = Math.min(fromMs, Math.max(startMs, f.fromMs));
      toMs = Math.max(toMs, Math.min(endMs, f.toMs));
    }
    if (fromMs < toMs) notes.push(describeFallback({ ...f, fromMs, toMs }));
  }
  return notes;
}
