/**
 * What the Carbon Aware SDK WebAPI of `kumul serve` answers with (src/api/routes/carbon-aware.ts;
 * docs/carbon-aware-api.md): Kumul's sites as the SDK's locations, and their ratings per slot, observed (from the
 * actual signals) and forecast (from the forecasts as they were stored at an instant).
 *
 * A **rating** is the marginal carbon intensity a new unit of work would see at a site in a slot, gCO2/kWh: the
 * carbon of one watt-hour more drawn there on top of Kumul's work already there, renewables first
 * (`marginalCarbonGPerKWh`, src/core/energy/accounting.ts: the renewables' carbon where the site's renewable energy
 * exceeds that load, the grid's carbon intensity where it does not). The load is the facility energy of finished runs
 * and of the runs still planned or going (`siteWork`, src/service/dashboard.ts), as known when answering: plans
 * are not kept over time, so a forecast read as stored at a past instant is rated against today's knowledge of load.
 */
import { marginalCarbonGPerKWh } from '../core/energy/accounting.ts';
import type { Network, Site, SiteSignals, TimeGrid } from '../core/model/types.ts';
import type { Store } from '../store/port.ts';
import { siteWork } from './dashboard.ts';
import type { ScenarioState } from './scenario-state.ts';
import { fallbacksOf } from './signal-overlay.ts';

/** One slot's rating at a site. */
export interface RatedSlot {
  timeMs: number;
  durationMs: number;
  ratingGPerKWh: number;
}

/** What the ratings read: the store (the load), the clock's instant, and the stored scenario's windows and forecasts. */
export interface CarbonAwareSource {
  store: Store;
  nowMs: number;
  scenario: Pick<ScenarioState, 'slotMinutes' | 'horizonSlots' | 'window' | 'forecastAsOf'>;
}

/** The signals a rating depends on: where either came from the fallback, a slot has no observed rating. */
const RATED_SIGNALS = ['carbonGPerKWh', 'renewableKW'] as const;

/** The longest period observed ratings are read over at once (366 days: a year of any slot length). */
export const MAX_RANGE_MS = 366 * 86_400_000;

/** The site a Carbon Aware location names: its id, matched ignoring case as the SDK's location source does; or null. */
export function siteOf(network: Network, location: string): Site | null {
  return network.sites.find((s) => s.id === location) ?? network.sites.find((s) => s.id.toLowerCase() === location.toLowerCase()) ?? null;
}

/** The ratings of `site` over `grid` from its `signals`, against Kumul's load there. */
async function rate(store: Store, site: Site, grid: TimeGrid, signals: SiteSignals): Promise<number[]> {
  return marginalCarbonGPerKWh(grid, site, signals, (await siteWork(store, site, grid)).energyKWh);
}

/**
 * Observed ratings of `site` in the slots overlapping [fromMs, toMs) (the slot holding `fromMs` when `toMs` equals
 * it), from the actual signals (pushed, else the scenario document's): only slots that have started by now, and only
 * those whose actual carbon and renewables were stored, not filled by the service's fallback. Ascending.
 */
export async function observedRatings(src: CarbonAwareSource, site: Site, fromMs: number, toMs: number): Promise<RatedSlot[]> {
  const slotMs = src.scenario.slotMinutes * 60_000;
  const startMs = Math.floor(fromMs / slotMs) * slotMs;
  const endMs = Math.min(toMs > fromMs ? Math.ceil(toMs / slotMs) * slotMs : startMs + slotMs, (Math.floor(src.nowMs / slotMs) + 1) * slotMs);
  if (endMs <= startMs) return [];
  const grid: TimeGrid = { startMs, slotMinutes: src.scenario.slotMinutes, slots: Math.round((endMs - startMs) / slotMs) };
  const window = src.scenario.window(startMs, grid.slots);
  const filled = new Uint8Array(grid.slots);
  for (const f of fallbacksOf(window)) {
    if (f.siteId !== site.id || f.series !== 'actual' || !(RATED_SIGNALS as readonly string[]).includes(f.signal)) continue;
    for (let t = Math.max(0, Math.round((f.fromMs - startMs) / slotMs)); t < grid.slots && startMs + t * slotMs < f.toMs; t++) filled[t] = 1;
  }
  const ratings = await rate(src.store, site, grid, window.signals[site.id].actual);
  return ratings.flatMap((rating, t) => (filled[t] || !Number.isFinite(rating) ? [] : [{ timeMs: startMs + t * slotMs, durationMs: slotMs, ratingGPerKWh: rating }]));
}

/** A site's forecast as stored at an instant: its rated slots and the latest issue behind them. */
export interface StoredRatings {
  /** The latest issue instant of the carbon and renewables forecasts behind the points; null when there are none. */
  generatedMs: number | null;
  points: RatedSlot[];
}

/**
 * The forecast ratings of `site` as stored at `asOfMs` (ScenarioState.forecastAsOf: pushed forecasts issued and
 * recorded by then over the document version in force then), from the slot holding `asOfMs` over the dispatch loop's
 * horizon; slots where the carbon or renewables forecast is missing are left out. Ascending.
 */
export async function forecastRatings(src: CarbonAwareSource, site: Site, asOfMs: number): Promise<StoredRatings> {
  const slotMs = src.scenario.slotMinutes * 60_000;
  const startMs = Math.floor(asOfMs / slotMs) * slotMs;
  const stored = await src.scenario.forecastAsOf(asOfMs, startMs, src.scenario.horizonSlots, site.id);
  const forecast = stored.sites[site.id];
  if (!forecast) return { generatedMs: null, points: [] };
  const ratings = await rate(src.store, site, stored.grid, forecast.signals);
  const points = ratings.flatMap((rating, t) => (Number.isFinite(rating) ? [{ timeMs: startMs + t * slotMs, durationMs: slotMs, ratingGPerKWh: rating }] : []));
  const issues = RATED_SIGNALS.map((s) => forecast.issuedMs[s]).filter((ms): ms is number => ms !== null);
  return { generatedMs: points.length > 0 && issues.length > 0 ? Math.max(...issues) : null, points };
}
