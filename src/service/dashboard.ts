/**
 * The web dashboard's views, computed from the store and the scenario's windows: the network now (load, power,
 * renewables, signals per site; transfers per link), one site's energy over time (forecast and actual signals, the
 * demand of finished and planned work), and the savings of finished runs against their asap-origin baselines.
 * Called by the dashboard routes (src/api/routes/dashboard.ts); aggregates only, never a tenant's data.
 * The response shapes are the zod schemas of src/api/schemas/dashboard.ts.
 */
import { busyUnitFacilityKW, siteLoadNow } from '../core/model/power.ts';
import { siteIdleKWh, type PoolLoad, type PowerPolicy, type PowerPolicyName } from '../core/energy/idle.ts';
import type { Pool, Scenario, Site, TimeGrid } from '../core/model/types.ts';
import type { MeteringFigures, SavingsBucket, Store, StoredJob } from '../store/port.ts';
import { runIndex } from './loop.ts';
import { allJobs } from '../store/all-jobs.ts';
import type { Outage } from '../exec/port.ts';
import { countByReason } from './unplaced.ts';
import type { SignalPointName } from '../store/port.ts';
import { describeFallback, fallbacksOf, type FallbackKind } from './signal-overlay.ts';

/** What the views read: the store, the clock's instant, and the scenario resolved over windows (ScenarioState). */
export interface DashboardSource {
  store: Store;
  nowMs: number;
  slotMinutes: number;
  /** The scenario resolved over `slots` slots from `startMs` (ScenarioState.window: pushed points and the fallback fill in where its data ends). */
  window(startMs: number, slots: number): Scenario;
  /** Pools out of service now, as the dispatch loop saw them at its last tick. */
  outages: readonly Outage[];
  /** How the service powers idle nodes (`kumul serve --power`): the energy view's idle draw follows it. */
  power: PowerPolicy;
  /** Backup copies running now per link direction, as the leader's backup loop last stored them (Store.backupLinkLoads): the same on every instance. */
  backupLoads?(): Promise<{ from: string; to: string; gbps: number }[]>;
}

const HOUR_MS = 3_600_000;

// ---- the network now ----

export interface PoolNow {
  id: string;
  class: Pool['class'];
  unit: Pool['unit'];
  units: number;
  busyUnits: number;
  /** Why the pool takes no new work now (a drained partition, a flagged probe), or null. */
  outOfService: string | null;
}

export interface SiteNow {
  id: string;
  name: string;
  region: string;
  lat: number;
  lon: number;
  pue: number;
  pools: PoolNow[];
  utilisation: number;
  demandKW: number;
  renewableKW: number;
  greenShare: number | null;
  priceYuanPerKWh: number;
  carbonGPerKWh: number;
  /** Which of the signals now came from the service's fallback, as `signal: kind` (`carbonGPerKWh: week-ago`); empty for stored data. */
  signalFallbacks: string[];
}

export interface LinkNow {
  from: string;
  to: string;
  bandwidthGbps: number;
  latencyMs: number;
  loadGbps: number;
  /** Backup copies moving over the link now (either way), Gbit/s; 0 without a backup loop. */
  backupGbps: number;
}

export interface NetworkNow {
  nowMs: number;
  slotMinutes: number;
  sites: SiteNow[];
  links: LinkNow[];
}

/**
 * Every site with the units its running jobs hold per pool, their facility power (units × busy unit power × PUE),
 * that power over the power with every unit busy, and the actual renewables, price and carbon of the current slot;
 * every link with the rate of the input transfers in progress over it (GB × 8 / transfer seconds per transfer).
 */
export async function networkNow(src: DashboardSource): Promise<NetworkNow> {
  const { nowMs, slotMinutes } = src;
  const slotMs = slotMinutes * 60_000;
  const scenario = src.window(Math.floor(nowMs / slotMs) * slotMs, 1);
  const running = await allJobs(src.store, { statuses: ['running'] });
  const busy = new Map<string, number>();
  for (const s of running) if (s.plan) busy.set(poolKey(s.plan.site, s.plan.pool), (busy.get(poolKey(s.plan.site, s.plan.pool)) ?? 0) + s.job.units);
  const out = new Map(src.outages.map((o) => [poolKey(o.siteId, o.poolId), o.reason]));

  const sites = scenario.network.sites.map((site): SiteNow => {
    const busyUnits = (poolId: string) => busy.get(poolKey(site.id, poolId)) ?? 0;
    const pools = site.pools.map((pool): PoolNow => ({ id: pool.id, class: pool.class, unit: pool.unit, units: pool.units, busyUnits: busyUnits(pool.id), outOfService: out.get(poolKey(site.id, pool.id)) ?? null }));
    const actual = scenario.signals[site.id].actual;
    const renewableKW = actual.renewableKW[0];
    const { demandKW, capacityKW, greenShare } = siteLoadNow(site, busyUnits, renewableKW);
    const signalFallbacks = fallbacksOf(scenario)
      .filter((f) => f.siteId === site.id && f.series === 'actual')
      .map((f) => `${f.signal}: ${f.kind}`);
    return {
      id: site.id,
      name: site.name,
      region: site.region,
      lat: site.lat,
      lon: site.lon,
      pue: site.pue,
      pools,
      utilisation: capacityKW > 0 ? demandKW / capacityKW : 0,
      demandKW,
      renewableKW,
      greenShare,
      priceYuanPerKWh: actual.priceYuanPerKWh[0],
      carbonGPerKWh: actual.carbonGPerKWh[0],
      signalFallbacks,
    };
  });

  const load = new Map<string, number>();
  for (const s of await allJobs(src.store, { statuses: ['transferring'] })) {
    const transfer = s.plan?.transfer;
    if (!transfer) continue;
    const startMs = Date.parse(transfer.start);
    const endMs = Date.parse(transfer.end);
    if (!(startMs <= nowMs && nowMs < endMs)) continue;
    // The piece moving now when the plan states them (its input may wait for backups or other jobs), else the mean rate.
    const piece = transfer.segments?.find((x) => Date.parse(x.start) <= nowMs && nowMs < Date.parse(x.end));
    const gbps = piece ? (piece.gb * 8) / ((Date.parse(piece.end) - Date.parse(piece.start)) / 1000) : transfer.segments ? 0 : (transfer.gb * 8) / ((endMs - startMs) / 1000);
    for (let i = 1; i < transfer.route.length; i++) {
      const key = linkKey(transfer.route[i - 1], transfer.route[i]);
      load.set(key, (load.get(key) ?? 0) + gbps);
    }
  }
  const backup = new Map<string, number>();
  for (const b of (await src.backupLoads?.()) ?? []) backup.set(linkKey(b.from, b.to), (backup.get(linkKey(b.from, b.to)) ?? 0) + b.gbps);
  const links = scenario.network.links.map(
    (l): LinkNow => ({ from: l.from, to: l.to, bandwidthGbps: l.bandwidthGbps, latencyMs: l.latencyMs, loadGbps: load.get(linkKey(l.from, l.to)) ?? 0, backupGbps: backup.get(linkKey(l.from, l.to)) ?? 0 }),
  );
  return { nowMs, slotMinutes, sites, links };
}

// ---- one site's energy over time ----

export interface ForecastActual {
  forecast: number[];
  actual: (number | null)[];
  /** Per slot, the fallback the forecast came from (src/service/signal-overlay.ts), or null for stored data (pushed or the scenario's). */
  forecastFallback: (FallbackKind | null)[];
  /** The same for the actual; null for slots that start after now. */
  actualFallback: (FallbackKind | null)[];
}

export interface SiteEnergy {
  siteId: string;
  nowMs: number;
  startMs: number;
  slotMinutes: number;
  slots: number;
  renewableKW: ForecastActual;
  demandKW: number[];
  /** Mean facility power per slot of the site's idle units, sleeping nodes and wake-ups under the service's power policy, kW: the operator's, not in `demandKW`. */
  idleKW: number[];
  powerPolicy: PowerPolicyName;
  priceYuanPerKWh: ForecastActual;
  carbonGPerKWh: ForecastActual;
  /** The fallback ranges of the view's slots as sentences (forecasts, and actuals up to now): `hami carbonGPerKWh forecast …: …`. */
  signalNotes: string[];
}

/** The slots a site's energy view covers: from the slot `hoursBack` before now to the end of the slot `hoursAhead` after, the current slot always in. */
export function energyWindow(nowMs: number, slotMinutes: number, hoursBack: number, hoursAhead: number): { startMs: number; slots: number } {
  const slotMs = slotMinutes * 60_000;
  const startMs = Math.floor((nowMs - hoursBack * HOUR_MS) / slotMs) * slotMs;
  const endMs = Math.max(Math.ceil((nowMs + hoursAhead * HOUR_MS) / slotMs), Math.floor(nowMs / slotMs) + 1) * slotMs;
  return { startMs, slots: Math.round((endMs - startMs) / slotMs) };
}

/**
 * A site's forecast and actual signals per slot (actuals null for slots starting after now), and its demand: the mean
 * facility power per slot of finished runs (metering rows, spread over their run at the pool's busy power) plus the
 * runs still to come or going in the stored plans of jobs running, paused, transferring or planned there.
 * Slots whose signals came from the service's fallback are marked per series and named in `signalNotes`.
 * Null when the site is not in the network.
 */
export async function siteEnergy(src: DashboardSource, siteId: string, hoursBack: number, hoursAhead: number): Promise<SiteEnergy | null> {
  const { nowMs, slotMinutes } = src;
  const { startMs, slots } = energyWindow(nowMs, slotMinutes, hoursBack, hoursAhead);
  const scenario = src.window(startMs, slots);
  const site = scenario.network.sites.find((s) => s.id === siteId);
  if (!site) return null;
  const slotMs = slotMinutes * 60_000;
  const grid = { startMs, slotMinutes, slots };
  const { energyKWh, loads } = await siteWork(src.store, site, grid);
  const idleKWh = siteIdleKWh(grid, site, loads, src.power);
  const slotHours = slotMinutes / 60;
  const { forecast, actual } = scenario.signals[siteId];
  const known = <T>(values: T[]) => values.map((v, t) => (startMs + t * slotMs <= nowMs ? v : null));
  const fallbacks = fallbacksOf(scenario).filter((f) => f.siteId === siteId && (f.series === 'forecast' || f.fromMs <= nowMs));
  const marks = (signal: SignalPointName, series: 'forecast' | 'actual') => {
    const out: (FallbackKind | null)[] = new Array(slots).fill(null);
    for (const f of fallbacks) {
      if (f.signal !== signal || f.series !== series) continue;
      for (let t = Math.max(0, (f.fromMs - startMs) / slotMs); t < slots && startMs + t * slotMs < f.toMs; t++) out[t] = f.kind;
    }
    return out;
  };
  const both = (signal: SignalPointName): ForecastActual => ({
    forecast: forecast[signal],
    actual: known(actual[signal]),
    forecastFallback: marks(signal, 'forecast'),
    actualFallback: known(marks(signal, 'actual')),
  });
  return {
    siteId,
    nowMs,
    startMs,
    slotMinutes,
    slots,
    renewableKW: both('renewableKW'),
    demandKW: Array.from(energyKWh, (kWh) => kWh / slotHours),
    idleKW: Array.from(idleKWh, (kWh) => kWh / slotHours),
    powerPolicy: src.power.policy,
    priceYuanPerKWh: both('priceYuanPerKWh'),
    carbonGPerKWh: both('carbonGPerKWh'),
    signalNotes: fallbacks.map((f) => describeFallback(f.series === 'actual' ? { ...f, toMs: Math.min(f.toMs, Math.floor(nowMs / slotMs) * slotMs + slotMs) } : f)),
  };
}

/**
 * Kumul's work at `site` in each slot of `grid`: finished runs (metering rows, spread over their run at the pool's busy
 * power) plus the runs still to come or going in the stored plans of jobs running, paused, transferring or planned
 * there. Their facility energy, kWh (the energy view's demand, and the load behind the Carbon Aware API's marginal
 * ratings, src/service/carbon-aware.ts), and their hold on each pool (`site/pool`: units held, unit-hours run), from
 * which the energy view works out the idle draw.
 */
export async function siteWork(store: Store, site: Site, grid: TimeGrid): Promise<{ energyKWh: Float64Array; loads: Map<string, PoolLoad> }> {
  const { startMs, slots } = grid;
  const slotMs = grid.slotMinutes * 60_000;
  const energyKWh = new Float64Array(slots);
  const loads = new Map<string, PoolLoad>();
  const spread = (pool: Pool | undefined, units: number, fromMs: number, toMs: number) => {
    if (!pool) return; // a pool removed from the network since
    const key = `${site.id}/${pool.id}`;
    let load = loads.get(key);
    if (!load) loads.set(key, (load = { siteId: site.id, poolId: pool.id, heldUnits: new Float64Array(slots), busyUnitHours: new Float64Array(slots) }));
    const kW = units * busyUnitFacilityKW(pool, site.pue);
    for (let t = Math.max(0, Math.floor((fromMs - startMs) / slotMs)); t < slots && startMs + t * slotMs < toMs; t++) {
      const overlapMs = Math.min(toMs, startMs + (t + 1) * slotMs) - Math.max(fromMs, startMs + t * slotMs);
      if (overlapMs <= 0) continue;
      energyKWh[t] += (kW * overlapMs) / HOUR_MS;
      load.heldUnits[t] += units;
      load.busyUnitHours[t] += (units * overlapMs) / HOUR_MS;
    }
  };
  const poolOf = (id: string) => site.pools.find((p) => p.id === id);
  for (const row of await store.siteMetering(site.id, startMs, startMs + slots * slotMs)) spread(poolOf(row.pool), row.units, row.startMs, row.endMs);
  for (const s of await allJobs(store, { statuses: ['running', 'paused', 'transferring', 'planned'] })) {
    if (!s.plan || s.plan.site !== site.id) continue;
    for (const run of s.plan.runs.slice(runsStillToMeter(s))) spread(poolOf(s.plan.pool), s.job.units, Date.parse(run.start), Date.parse(run.end));
  }
  return { energyKWh, loads };
}

/**
 * Index of the first run of a job's plan not yet metered: a running job's current run (its ref names it: runRef),
 * the run after a paused job's last, or the first of a job not started on this plan (planned, transferring).
 */
function runsStillToMeter(s: StoredJob): number {
  if (!s.executorRef || (s.status !== 'running' && s.status !== 'paused')) return 0;
  const index = runIndex(s.executorRef);
  if (!Number.isInteger(index)) return 0;
  return s.status === 'paused' ? index + 1 : index;
}

// ---- savings against asap-origin ----

export const BUCKET_MS = { hour: HOUR_MS, day: 24 * HOUR_MS } as const;
export type BucketName = keyof typeof BUCKET_MS;

export interface Savings {
  bucket: BucketName;
  buckets: SavingsBucket[];
  totals: MeteringFigures & {
    runs: number;
    runsWithoutBaseline: number;
    baseline: MeteringFigures;
    costSavedPct: number | null;
    carbonSavedPct: number | null;
    greenShare: number | null;
    baselineGreenShare: number | null;
  };
}

/** Finished runs summed per hour or day of their start with their baselines, and the totals with what they saved (store.savingsByBucket). */
export async function savings(store: Store, bucket: BucketName): Promise<Savings> {
  const result = await store.savingsByBucket(BUCKET_MS[bucket]);
  if (!result.ok) throw new Error(result.reason); // the bucket lengths above are valid: a bug
  const zero = (): MeteringFigures => ({ energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0 });
  const sum = zero();
  const baseline = zero();
  let runs = 0;
  let runsWithoutBaseline = 0;
  for (const b of result.buckets) {
    addFigures(sum, b);
    addFigures(baseline, b.baseline);
    runs += b.runs;
    runsWithoutBaseline += b.runsWithoutBaseline;
  }
  const savedPct = (actual: number, base: number) => (base > 0 ? (100 * (base - actual)) / base : null);
  const share = (f: MeteringFigures) => (f.energyKWh > 0 ? f.greenKWh / f.energyKWh : null);
  return {
    bucket,
    buckets: result.buckets,
    totals: {
      ...sum,
      runs,
      runsWithoutBaseline,
      baseline,
      costSavedPct: savedPct(sum.costYuan, baseline.costYuan),
      carbonSavedPct: savedPct(sum.carbonKg, baseline.carbonKg),
      greenShare: share(sum),
      baselineGreenShare: share(baseline),
    },
  };
}

function addFigures(into: MeteringFigures, f: MeteringFigures): void {
  into.energyKWh += f.energyKWh;
  into.greenKWh += f.greenKWh;
  into.costYuan += f.costYuan;
  into.carbonKg += f.carbonKg;
}

// ---- helpers ----

function poolKey(siteId: string, poolId: string): string {
  return `${siteId}\u0000${poolId}`;
}

/** Links are bidirectional: one key for either direction. */
function linkKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

// ---- jobs without a place ----

export interface UnplacedSummary {
  nowMs: number;
  /** Submitted jobs, every tenant's, that the last dispatch cycle could not place. */
  jobs: number;
  /** By reason code, most jobs first (then by code); a job counts under each of its codes. */
  reasons: { reason: string; jobs: number }[];
}

/**
 * Why waiting jobs have no place, summed over every tenant (no job ids, no tenants): the counts the dispatch loop's
 * `kumul_jobs_unplaced` gauge shows, read from the store so that any instance answers. The network view shows them.
 */
export async function unplacedSummary(store: Store, nowMs: number): Promise<UnplacedSummary> {
  const waiting = (await allJobs(store, { statuses: ['submitted'] })).flatMap((s) => (s.unplaced ? [s.unplaced] : []));
  const reasons = [...countByReason(waiting)].map(([reason, jobs]) => ({ reason, jobs })).sort((a, b) => b.jobs - a.jobs || (a.reason < b.reason ? -1 : 1));
  return { nowMs, jobs: waiting.length, reasons };
}
