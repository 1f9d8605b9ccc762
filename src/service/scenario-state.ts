/**
 * The scenario `kumul serve` runs on, kept in the store as a versioned document: the v1 scenario file
 * JSON, the folder its relative CSV paths are read from, and the dispatch settings (policy, objective).
 * `startRuntime` opens it (storing the configured scenario on a first start); the dispatch loop reads
 * the network, windows and settings from it; the operator routes (src/api/routes/scenario.ts) change it
 * through `put`, which validates the whole new document with the scenario loader before storing it.
 *
 * Windows never fail for lack of data: the document is resolved with uncovered slots left missing, the points
 * operators pushed (src/service/live-signals.ts) are laid over it, and what is still missing comes from the
 * documented fallback (src/service/signal-overlay.ts), which the window records.
 */
import { dirname } from 'node:path';
import type { Network, Scenario, SiteSignals, TimeGrid, UserRegion } from '../core/model/types.ts';
import type { Objective } from '../core/dispatch/objective.ts';
import type { PolicyName } from '../core/dispatch/plugins/index.ts';
import { objectiveFrom, policyFrom } from '../planning/plan-jobs.ts';
import { ScenarioError, documentOutline, readScenarioJson, resolveScenarioDocument, scenarioPath } from '../scenario/index.ts';
import { SIGNAL_POINT_NAMES, type SignalPointName, type Store } from '../store/port.ts';
import { POINT_HOLD_MS, PushedSignals, slotMeans } from './live-signals.ts';
import { overlaySignals, type LiveScenario } from './signal-overlay.ts';

/** How dispatch cycles plan: `PUT /v1/policies` changes it. */
export interface DispatchSettings {
  policy: PolicyName;
  /** `cost`, `carbon`, `green` or a mix such as `cost=1,carbon=0.2`. */
  objective: string;
}

/** What one stored scenario version holds. */
export interface ServiceDocument {
  /** A scenario file document, format v1 (docs/scenario-format.md). */
  scenario: unknown;
  /** Absolute folder the document's relative CSV paths are read from. */
  baseDir: string;
  dispatch: DispatchSettings;
}

/** Forecasts as they were stored at an instant (`ScenarioState.forecastAsOf`). */
export interface StoredForecast {
  grid: TimeGrid;
  /** Per site: each signal per slot (NaN where no forecast was stored), and the latest issue behind each signal's values. */
  sites: Record<string, { signals: SiteSignals; issuedMs: Record<SignalPointName, number | null> }>;
}

/** What errors call the stored document. */
const DOCUMENT_NAME = 'scenario';
const MAX_CACHED_WINDOWS = 64;
/** Blocks of the document's history (a week of slots each) kept for the fallback, per version. */
const MAX_CACHED_BLOCKS = 256;
const WEEK_MS = 7 * 86_400_000;

interface Current {
  version: number;
  /** When the version was stored (the service clock), epoch ms. */
  createdMs: number;
  document: ServiceDocument;
  network: Network;
  /** Regions whose users call inference services (the document's userRegions; none when it has none). */
  userRegions: UserRegion[];
  objective: Objective;
}

export class ScenarioState {
  private windows = new Map<string, LiveScenario>();
  /** The pushed points' version the cached windows were made with. */
  private windowsPushedVersion = 0;
  /** The current document's actuals over whole weeks of slots (NaN where its data does not reach), by week number. */
  private blocks = new Map<number, Scenario>();
  private updating: Promise<unknown> = Promise.resolve();
  /** The points operators pushed, overlaid on every window. */
  readonly pushed = new PushedSignals();

  private constructor(
    private readonly store: Store,
    private current: Current,
    /** Slot length of every window, minutes (the first document's). */
    readonly slotMinutes: number,
    /** Slots a new document must resolve over from now (the dispatch loop's horizon). */
    private readonly checkSlots: number,
  ) {}

  /**
   * The latest stored document; on a first start (none stored) the configured scenario's file (a built-in name
   * or a path) with its folder and `dispatch`, stored as version 1.
   */
  static async open(store: Store, configured: { scenario: string; dispatch: DispatchSettings; horizonHours: number }, nowMs: number): Promise<ScenarioState> {
    let stored = await store.currentScenario();
    if (!stored) {
      const file = scenarioPath(configured.scenario);
      const document: ServiceDocument = { scenario: readScenarioJson(file), baseDir: dirname(file), dispatch: configured.dispatch };
      outline(document);
      stored = await store.putScenario(document, nowMs);
    }
    const current = outline(stored.document as ServiceDocument, stored.version, stored.createdMs);
    const slotMinutes = documentOutline(current.document.scenario, DOCUMENT_NAME).slotMinutes;
    const state = new ScenarioState(store, current, slotMinutes, Math.max(1, Math.round((configured.horizonHours * 60) / slotMinutes)));
    await state.pushed.refresh(store);
    return state;
  }

  get version(): number {
    return this.current.version;
  }

  get document(): ServiceDocument {
    return this.current.document;
  }

  /** The sites, pools and links of the current version (the same object until it changes). */
  network(): Network {
    return this.current.network;
  }

  /** The user regions of the current version: services' demand and routing name them (POST /v1/services, the loop). */
  userRegions(): UserRegion[] {
    return this.current.userRegions;
  }

  /** The policy and objective dispatch cycles use now. */
  dispatch(): { policy: PolicyName; objective: Objective } {
    return { policy: this.current.document.dispatch.policy, objective: this.current.objective };
  }

  /**
   * The current version resolved over `slots` slots from `startMs`, with the pushed points laid over it and the
   * fallback where neither has a value (`signalFallbacks` says where); never throws for lack of data. Cached per
   * version and pushed points. Called by the dispatch loop (plans, metering, baselines) and the dashboard's views.
   */
  window(startMs: number, slots: number): LiveScenario {
    if (this.windowsPushedVersion !== this.pushed.version) {
      this.windows.clear();
      this.windowsPushedVersion = this.pushed.version;
    }
    const key = `${startMs}/${slots}`;
    let s = this.windows.get(key);
    if (!s) {
      if (this.windows.size >= MAX_CACHED_WINDOWS) this.windows.clear();
      s = overlaySignals(this.resolve(this.current.document, startMs, slots), {
        pushed: (siteId, signal, series, grid) => this.pushed.slotValues(siteId, signal, series, grid),
        knownActual: (siteId, signal, grid) => this.knownActual(siteId, signal, grid),
        lastKnownActual: (siteId, signal, beforeMs, notBeforeMs) => this.lastKnownActual(siteId, signal, beforeMs, notBeforeMs),
      });
      this.windows.set(key, s);
    }
    return s;
  }

  /** Slots each dispatch cycle looks ahead (`--horizon-hours`): how far the Carbon Aware API's forecasts reach. */
  get horizonSlots(): number {
    return this.checkSlots;
  }

  /**
   * The forecasts as they were stored at `asOfMs`, over `slots` slots from `startMs`: per site of the current network
   * (or only `siteId`) and signal, the pushed forecast points issued and recorded by then (the latest issue of each time stamp:
   * `store.signalPoints` with `asOfMs`) laid over the forecast series of the document version in force then (the
   * latest stored at or before `asOfMs`), NaN where neither has a value. No fallback: it is not a stored forecast.
   * `issuedMs` is, per site and signal, the latest issue behind its values (a pushed point's `issuedAt`; for the
   * document's series, the instant its version was stored), null where it has none. Called by the Carbon Aware API's
   * forecasts (src/service/carbon-aware.ts): `asOfMs` is now for the current forecast, `requestedAt` for the batch.
   */
  async forecastAsOf(asOfMs: number, startMs: number, slots: number, siteId?: string): Promise<StoredForecast> {
    const grid: TimeGrid = { startMs, slotMinutes: this.slotMinutes, slots };
    const endMs = startMs + slots * this.slotMinutes * 60_000;
    const version = await this.versionAsOf(asOfMs);
    let document: Scenario | null = null;
    try {
      document = version && this.resolve(version.document, startMs, slots);
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      document = null; // that version cannot be read any more (a CSV gone): only the pushed points count
    }
    const read = await this.store.signalPoints({ series: 'forecast', fromMs: startMs - POINT_HOLD_MS, toMs: endMs, asOfMs, ...(siteId === undefined ? {} : { siteId }) });
    if (!read.ok) throw new Error(`reading pushed forecasts: ${read.reason}`);
    const pushed = new Map<string, { times: number[]; values: number[]; issued: number[] }>();
    for (const p of read.points) {
      const key = `${p.siteId}\u0000${p.signal}`;
      let points = pushed.get(key);
      if (!points) pushed.set(key, (points = { times: [], values: [], issued: [] }));
      points.times.push(p.timeMs);
      points.values.push(p.value);
      points.issued.push(p.issuedMs ?? 0);
    }
    const sites: StoredForecast['sites'] = {};
    for (const site of this.current.network.sites) {
      if (siteId !== undefined && site.id !== siteId) continue;
      const signals = {} as SiteSignals;
      const issuedMs = {} as Record<SignalPointName, number | null>;
      for (const signal of SIGNAL_POINT_NAMES) {
        const own = document?.signals[site.id]?.forecast[signal];
        const points = pushed.get(`${site.id}\u0000${signal}`);
        const times = Float64Array.from(points?.times ?? []);
        const over = slotMeans(times, points?.values ?? [], grid);
        const issues = slotMeans(times, points?.issued ?? [], grid, 'max');
        let latest: number | null = null;
        const values: number[] = [];
        for (let i = 0; i < slots; i++) {
          const fromPush = !Number.isNaN(over[i]);
          const v = fromPush ? over[i] : (own?.[i] ?? NaN);
          values.push(v);
          if (!Number.isNaN(v)) latest = Math.max(latest ?? 0, fromPush ? issues[i] : (version?.createdMs ?? 0));
        }
        signals[signal] = values;
        issuedMs[signal] = latest;
      }
      sites[site.id] = { signals, issuedMs };
    }
    return { grid, sites };
  }

  /** The stored version in force at `atMs` (the latest stored at or before it), or null before the first. */
  private async versionAsOf(atMs: number): Promise<{ document: ServiceDocument; createdMs: number } | null> {
    if (this.current.createdMs <= atMs) return this.current;
    for (let v = this.current.version - 1; v >= 1; v--) {
      const stored = await this.store.getScenario(v);
      if (stored && stored.createdMs <= atMs) return { document: stored.document as ServiceDocument, createdMs: stored.createdMs };
    }
    return null;
  }

  /** Reads the points pushed since the last look; called before each tick (refresh) and by the push route after storing. */
  async refreshSignals(): Promise<void> {
    await this.pushed.refresh(this.store);
  }

  /**
   * Adopts the latest stored version if another writer (or instance) stored one; called before each tick. Asks for
   * the next version number first (a primary-key miss, not the whole document) so an unchanged scenario costs little.
   */
  async refresh(): Promise<void> {
    await this.refreshSignals();
    if ((await this.store.getScenario(this.current.version + 1)) === null) return;
    const stored = await this.store.currentScenario();
    if (stored && stored.version > this.current.version) this.adopt(outline(stored.document as ServiceDocument, stored.version, stored.createdMs));
  }

  /**
   * Validates `document` (schema, cross-references, dispatch settings, every source readable, and no signal losing
   * data over the loop's horizon from `nowMs` that the version in force has: data may end where the stored data
   * ends, and the pushed points and the fallback fill the rest), then stores it as the next version and runs on it.
   * Throws the loader's ScenarioError (or an Error for bad settings) and stores nothing when it is invalid.
   */
  async put(document: ServiceDocument, nowMs: number): Promise<number> {
    const checked = outline(document);
    const slotMs = this.slotMinutes * 60_000;
    const startMs = Math.floor(nowMs / slotMs) * slotMs;
    const next = this.resolve(document, startMs, this.checkSlots);
    let inForce: Scenario | null = null;
    try {
      inForce = this.resolve(this.current.document, startMs, this.checkSlots);
    } catch {
      inForce = null; // the version in force cannot be read any more (a CSV gone): nothing to lose
    }
    const lost = lostCoverage(document.scenario as { sites: { id: string }[] }, next, inForce);
    if (lost) throw new ScenarioError(DOCUMENT_NAME, [lost]);
    const stored = await this.store.putScenario(document, nowMs);
    this.adopt({ ...checked, version: stored.version, createdMs: stored.createdMs });
    return stored.version;
  }

  /**
   * Applies `change` to the latest version and stores the result through `put`; changes are applied one at a time,
   * so two operators editing at once both land. Called by the operator's scenario routes.
   */
  update(change: (document: ServiceDocument) => ServiceDocument, nowMs: number): Promise<number> {
    const next = this.updating.then(async () => {
      await this.refresh();
      return this.put(change(structuredClone(this.current.document)), nowMs);
    });
    this.updating = next.catch(() => undefined);
    return next;
  }

  private adopt(current: Current): void {
    this.current = current;
    this.windows = new Map();
    this.blocks = new Map();
  }

  /** A document over a grid, slots its data does not cover NaN (other problems throw ScenarioError). */
  private resolve(document: ServiceDocument, startMs: number, slots: number): Scenario {
    return resolveScenarioDocument(document.scenario, document.baseDir, { start: new Date(startMs).toISOString(), slots, slotMinutes: this.slotMinutes }, DOCUMENT_NAME, { uncovered: 'missing' });
  }

  private get blockSlots(): number {
    return Math.max(1, Math.round(WEEK_MS / (this.slotMinutes * 60_000)));
  }

  /** The current document's actuals over week `index` (slots from `index × blockSlots` since the epoch); cached. */
  private block(index: number): Scenario {
    let b = this.blocks.get(index);
    if (!b) {
      if (this.blocks.size >= MAX_CACHED_BLOCKS) this.blocks.clear();
      b = this.resolve(this.current.document, index * this.blockSlots * this.slotMinutes * 60_000, this.blockSlots);
      this.blocks.set(index, b);
    }
    return b;
  }

  /** The document's actual of absolute slot `slot` (slots since the epoch), NaN where it has none or no such site. */
  private documentActual(siteId: string, signal: SignalPointName, slot: number): number {
    const index = Math.floor(slot / this.blockSlots);
    return this.block(index).signals[siteId]?.actual[signal][slot - index * this.blockSlots] ?? NaN;
  }

  /** Known actuals per slot: pushed, else the document's; NaN where neither has one. The fallback's history. */
  private knownActual(siteId: string, signal: SignalPointName, grid: TimeGrid): Float64Array {
    const slotMs = this.slotMinutes * 60_000;
    const pushed = this.pushed.slotValues(siteId, signal, 'actual', grid);
    if (grid.startMs % slotMs !== 0 || grid.slotMinutes !== this.slotMinutes) {
      const own = this.resolve(this.current.document, grid.startMs, grid.slots).signals[siteId]?.actual[signal];
      return pushed.map((v, i) => (Number.isNaN(v) ? (own?.[i] ?? NaN) : v));
    }
    const first = grid.startMs / slotMs;
    return pushed.map((v, i) => (Number.isNaN(v) ? this.documentActual(siteId, signal, first + i) : v));
  }

  /** The last actual known (pushed or the document's) before `beforeMs`, not before `notBeforeMs`, or null. */
  private lastKnownActual(siteId: string, signal: SignalPointName, beforeMs: number, notBeforeMs: number): { timeMs: number; value: number } | null {
    const slotMs = this.slotMinutes * 60_000;
    const pushed = this.pushed.lastBefore(siteId, signal, 'actual', beforeMs);
    const fromPushed = pushed && pushed.timeMs >= notBeforeMs ? pushed : null;
    const lowest = Math.ceil(notBeforeMs / slotMs);
    for (let slot = Math.ceil(beforeMs / slotMs) - 1; slot >= lowest; slot--) {
      if (fromPushed && slot * slotMs < fromPushed.timeMs) break;
      const v = this.documentActual(siteId, signal, slot);
      if (!Number.isNaN(v)) return { timeMs: slot * slotMs, value: v };
    }
    return fromPushed;
  }
}

/**
 * The first signal of `document` (resolved as `next`) that has no data over the check window where the version in
 * force (`inForce`) has some, as a scenario issue naming it; null when the change takes no data away. A site new in
 * `next` must cover the window.
 */
function lostCoverage(document: { sites: { id: string }[] }, next: Scenario, inForce: Scenario | null): { path: string; reason: string } | null {
  const slotMs = next.grid.slotMinutes * 60_000;
  for (const [s, site] of document.sites.entries()) {
    const before = inForce?.signals[site.id];
    for (const signal of SIGNAL_POINT_NAMES) {
      for (const series of ['actual', 'forecast'] as const) {
        const values = next.signals[site.id][series][signal];
        const had = before?.[series][signal];
        const i = values.findIndex((v, k) => Number.isNaN(v) && (had === undefined || !Number.isNaN(had[k])));
        if (i < 0) continue;
        const at = new Date(next.grid.startMs + i * slotMs).toISOString().slice(0, 16) + 'Z';
        const why = had === undefined ? 'a new site must have data over the loop\'s horizon' : 'the version in force has data there, and a change may not take data away';
        return { path: `sites[${s}].signals.${signal}.${series}`, reason: `no data covers ${at} (${why}; where the stored data ends, pushed points and the fallback fill in)` };
      }
    }
  }
  return null;
}

/** A document's network and settings, checked (throws ScenarioError or Error when invalid). */
function outline(document: ServiceDocument, version = 0, createdMs = 0): Current {
  const { network, userRegions } = documentOutline(document.scenario, DOCUMENT_NAME);
  policyFrom(document.dispatch.policy);
  return { version, createdMs, document, network, userRegions, objective: objectiveFrom(document.dispatch.objective) };
}
