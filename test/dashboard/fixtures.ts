/**
 * A service for the dashboard tests: a real store (SQLite in memory, or a PostgreSQL schema), a `FixedClock`, a stored
 * scenario document with hourly forecast and actual signals that differ (so a test can tell which one a view used),
 * live events, and `buildApp` over them. Helpers put jobs in the states the views read (running, transferring, planned)
 * and build the dispatch loop over the same context.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach } from 'vitest';
import { buildApp } from '../../src/api/app.ts';
import type { PlannedJob } from '../../src/core/dispatch/plan.ts';
import { FixedClock } from '../../src/service/clock.ts';
import { DispatchLoop } from '../../src/service/loop.ts';
import { SimulatedExecutor } from '../../src/exec/simulated.ts';
import type { ServiceContext } from '../../src/service/context.ts';
import { InProcessLiveEvents, type LiveEvents, type LiveEventsOptions } from '../../src/service/live-events.ts';
import { Metrics } from '../../src/service/metrics.ts';
import { ScenarioState } from '../../src/service/scenario-state.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import type { JobSpec, Store } from '../../src/store/port.ts';
import type { Backend } from '../../src/store/dialects.ts';
import { useBackend } from '../store/harness.ts';

export const HOUR = 3_600_000;
/** The first value of every signal series. */
export const SERIES_START = Date.parse('2026-05-31T00:00:00Z');
export const SERIES_HOURS = 24 * 6;
/** 2026-06-01T10:30Z: the middle of the day's eleventh slot. */
export const NOW = Date.parse('2026-06-01T10:30:00Z');

/** Hourly values by hour index from SERIES_START: actual and forecast differ by a fixed amount. */
export const signal = {
  renewableKW: { actual: (h: number) => 100 * (h % 24), forecast: (h: number) => 100 * (h % 24) + 7 },
  priceYuanPerKWh: { actual: (h: number) => 0.3 + 0.01 * (h % 24), forecast: () => 0.6 },
  carbonGPerKWh: { actual: (h: number) => 600 - (h % 24), forecast: () => 450 },
};
/** Hour index from SERIES_START of the hour holding `ms`. */
export const hourIndex = (ms: number) => Math.floor((ms - SERIES_START) / HOUR);

const UNITS = { priceYuanPerKWh: 'yuan/kWh', carbonGPerKWh: 'gCO2/kWh', renewableKW: 'kW' } as const;
function series(name: keyof typeof signal, which: 'actual' | 'forecast', scale = 1) {
  const values = Array.from({ length: SERIES_HOURS }, (_, h) => signal[name][which](h) * scale);
  return { source: 'series', start: new Date(SERIES_START).toISOString(), stepMinutes: 60, values, unit: UNITS[name] };
}
function signals(renewableScale: number) {
  return Object.fromEntries((Object.keys(signal) as (keyof typeof signal)[]).map((name) => {
    const scale = name === 'renewableKW' ? renewableScale : 1;
    return [name, { actual: series(name, 'actual', scale), forecast: series(name, 'forecast', scale) }];
  }));
}

/** Busy power of one unit, IT side, W; facility = × PUE 1.25. */
export const AI_BUSY_W = 800;
export const GENERAL_BUSY_W = 10;
export const PUE = 1.25;
const pool = (cls: 'ai' | 'general', units: number) =>
  cls === 'ai'
    ? { class: 'ai', unit: 'accelerator', units, unitsPerNode: 8, peakTflopsPerNode: { fp64: 53, fp32: 51, bf16: 661 }, powerCurve: [{ load: 0, powerW: 100 }, { load: 1, powerW: AI_BUSY_W }] }
    : { class: 'general', unit: 'core', units, unitsPerNode: 64, peakTflopsPerNode: { fp64: 5, fp32: 10, bf16: 20 }, powerCurve: [{ load: 0, powerW: 3 }, { load: 1, powerW: GENERAL_BUSY_W }] };
const site = (id: string, pools: unknown[], renewableScale: number) => ({
  id,
  name: id.toUpperCase(),
  region: 'R',
  lat: 42,
  lon: 93,
  pue: PUE,
  renewable: { priceYuanPerKWh: 0.1, carbonGPerKWh: 20 },
  pools,
  signals: signals(renewableScale),
});

/** hami: 64 accelerators (hami-ai), 512 cores (hami-general); beijing: 8 accelerators (beijing-ai), a thousandth of hami's renewables; zhengzhou: 256 cores. */
export function scenarioDocument() {
  return {
    version: 1,
    id: 'dashboard-test',
    name: 'Dashboard test',
    description: 'Three sites with hourly series whose forecasts differ from their actuals.',
    period: { start: '2026-06-01T00:00Z', slots: 24, slotMinutes: 60 },
    sites: [site('hami', [pool('ai', 64), pool('general', 512)], 1), site('beijing', [pool('ai', 8)], 0.001), site('zhengzhou', [pool('general', 256)], 0)],
    links: [
      { from: 'hami', to: 'beijing', bandwidthGbps: 10, latencyMs: 30, costYuanPerGB: 0.01, energyKWhPerGB: 0.002 },
      { from: 'beijing', to: 'zhengzhou', bandwidthGbps: 40, latencyMs: 10, costYuanPerGB: 0.01, energyKWhPerGB: 0.002 },
      { from: 'hami', to: 'zhengzhou', bandwidthGbps: 5, latencyMs: 25, costYuanPerGB: 0.01, energyKWhPerGB: 0.002 },
    ],
    assumptions: [],
  };
}

export interface DashboardFixture {
  store: Store;
  clock: FixedClock;
  scenario: ScenarioState;
  live: LiveEvents;
  ctx: ServiceContext;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The service above on `store` (default: SQLite in memory), with tenant `lab`. */
export async function openDashboard(options: { store?: Store; live?: LiveEventsOptions } = {}): Promise<DashboardFixture> {
  const store = options.store ?? (await openStore('sqlite::memory:'));
  const file = join(mkdtempSync(join(tmpdir(), 'kumul-dashboard-')), 'scenario.json');
  writeFileSync(file, JSON.stringify(scenarioDocument()));
  const clock = new FixedClock(NOW);
  const scenario = await ScenarioState.open(store, { scenario: file, dispatch: { policy: 'optimize', objective: 'cost' }, horizonHours: 24 }, NOW);
  const live = new InProcessLiveEvents(options.live);
  const ctx: ServiceContext = { store, clock, metrics: new Metrics(), network: () => scenario.network(), scenario, live, wake: () => {} };
  const app = buildApp(ctx);
  const created = await store.createTenant({ id: 'lab', name: 'Lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, NOW);
  if (!created.ok) throw new Error(created.reason);
  return {
    store,
    clock,
    scenario,
    live,
    ctx,
    app,
    close: async () => {
      await app.close();
      if (!options.store) await store.close();
    },
  };
}

export function spec(id: string, over: Partial<JobSpec> = {}): JobSpec {
  return { id, class: 'training', poolClass: 'ai', units: 16, durationS: 2 * 3600, releaseMs: NOW - 4 * HOUR, deadlineMs: NOW + 48 * HOUR, origin: 'hami', inputGb: 0, interruptible: false, allowedSites: null, ...over };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A plan at `site`/`pool` with runs given as [startMs, endMs] pairs, and an input transfer when given. */
export function plan(id: string, site: string, pool: string, units: number, runs: [number, number][], transfer: { route: string[]; gb: number; startMs: number; endMs: number } | null = null): PlannedJob {
  const first = { site, start: iso(runs[0][0]), end: iso(runs[0][1]), score: 1, parts: { cost: 1 } };
  return {
    id,
    site,
    pool,
    runs: runs.map(([s, e]) => ({ start: iso(s), end: iso(e), units })),
    transfer: transfer && { route: transfer.route, gb: transfer.gb, start: iso(transfer.startMs), end: iso(transfer.endMs) },
    energyKWh: 1,
    greenKWh: 0,
    costYuan: 1,
    carbonKg: 1,
    transferKWh: 0,
    explain: { policy: 'optimize', candidates: [first], earliestHere: first, rejected: [] },
  };
}

/** Submits `spec` for `lab` and moves it to `status` along `planned` (a running job's run is `lab/<id>/<run>`). */
export async function jobIn(store: Store, status: 'planned' | 'transferring' | 'running' | 'paused', s: JobSpec, planned: PlannedJob, run = 0): Promise<void> {
  const ref = { tenantId: 'lab', jobId: s.id };
  const must = (r: { ok: boolean; reason?: string }) => {
    if (!r.ok) throw new Error(`${s.id}: ${r.reason}`);
  };
  must(await store.submitJobs('lab', [s], NOW - 5 * HOUR));
  must(await store.planJob(ref, planned, { nowMs: NOW - 5 * HOUR }));
  if (status === 'planned') return;
  if (status === 'transferring') return must(await store.startTransfer(ref, { nowMs: NOW - HOUR }));
  must(await store.startRun(ref, `lab/${s.id}/${run}`, { nowMs: NOW - HOUR }));
  if (status === 'paused') must(await store.pauseRun(ref, { nowMs: NOW - HOUR / 2 }));
}

/** The dispatch loop of the fixture's service: the simulated executor, hourly cycles over 24 hours, cost objective. */
export function dispatchLoop(f: DashboardFixture): DispatchLoop {
  return new DispatchLoop({
    ctx: f.ctx,
    executor: new SimulatedExecutor(),
    deploymentId: 'fixtured',
    scenarioWindow: (startMs, slots) => f.scenario.window(startMs, slots),
    slotMinutes: f.scenario.slotMinutes,
    dispatch: () => f.scenario.dispatch(),
    replanMinutes: 60,
    horizonHours: 24,
  });
}

/**
 * Hooks giving each test of the enclosing `describe` a fresh dashboard service on `backend` (PostgreSQL: a schema of
 * this file, emptied between tests, as test/api/fixtures.ts `useApi` does).
 */
export function useDashboard(backend: Backend = 'sqlite', live?: LiveEventsOptions): { readonly f: DashboardFixture } {
  const pg = backend === 'postgres' ? useBackend('postgres') : null;
  let fixture: DashboardFixture | null = null;
  beforeEach(async () => {
    fixture = await openDashboard({ store: pg?.store, live });
  });
  afterEach(async () => {
    await fixture?.close();
    fixture = null;
  });
  return {
    get f() {
      if (!fixture) throw new Error('the dashboard exists only inside a test');
      return fixture;
    },
  };
}
