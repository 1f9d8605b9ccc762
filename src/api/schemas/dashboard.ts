/**
 * The web dashboard's read views (routes/dashboard.ts, computed in src/service/dashboard.ts): the network now,
 * one site's energy over time, and the savings against the carbon-agnostic baseline. No API key: aggregates only,
 * never a tenant's data. Instants are epoch milliseconds (`…Ms`) here, as the dashboard draws them on time axes.
 * The front end (web/) codes against these schemas; they also appear in /openapi.json.
 */
import { z } from 'zod';
import { POOL_CLASSES } from '../../core/model/types.ts';
import { POWER_POLICIES } from '../../core/energy/idle.ts';
import type { TickReport } from '../../service/loop.ts';
import type { SavingsBucket as StoreSavingsBucket } from '../../store/port.ts';
import { FALLBACK_KINDS, type FallbackKind } from '../../service/signal-overlay.ts';
import type { NetworkNow, SiteEnergy } from '../../service/dashboard.ts';

/** A whole number in a query string (`?hoursBack=24`). */
export function queryInt(min: number, max: number, description: string) {
  return z
    .string()
    .regex(/^[0-9]{1,10}$/, 'not a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .meta({ description: `${description}: a whole number from ${min} to ${max}` });
}

// ---- GET /v1/dashboard/network ----

export const DashboardPool = z.object({
  id: z.string(),
  class: z.enum(POOL_CLASSES),
  unit: z.enum(['accelerator', 'core', 'node']),
  units: z.number().int().meta({ description: 'Capacity in units' }),
  busyUnits: z.number().int().meta({ description: 'Units held by running work now' }),
  outOfService: z.string().nullable().meta({ description: 'Why the pool takes no new work now (a drained or down partition, a flagged probe), or null' }),
});

export const DashboardSite = z.object({
  id: z.string(),
  name: z.string(),
  region: z.string(),
  lat: z.number(),
  lon: z.number(),
  pue: z.number(),
  pools: z.array(DashboardPool),
  utilisation: z.number().meta({ description: 'Facility power of running work / facility power with every unit busy, 0..1' }),
  demandKW: z.number().meta({ description: 'Facility power of running work now, kW' }),
  renewableKW: z.number().meta({ description: 'Actual renewable power available now (this slot), kW' }),
  greenShare: z.number().nullable().meta({ description: 'min(1, renewableKW / demandKW); null when demandKW is 0' }),
  priceYuanPerKWh: z.number().meta({ description: 'Actual grid price now (this slot)' }),
  carbonGPerKWh: z.number().meta({ description: 'Actual grid carbon intensity now (this slot)' }),
  signalFallbacks: z
    .array(z.string())
    .meta({ description: "Which of the values now came from the service's fallback because no data was stored, as `signal: kind` (e.g. `carbonGPerKWh: week-ago`; docs/service.md); empty for stored data" }),
});

export const DashboardLink = z.object({
  from: z.string(),
  to: z.string(),
  bandwidthGbps: z.number(),
  latencyMs: z.number(),
  loadGbps: z.number().meta({ description: 'Input transfers in progress now over this link (either way): the rate of the piece each moves now (its plan\'s transfer segments; GB × 8 / transfer seconds for plans without them), summed over the transfers whose route uses it' }),
  backupGbps: z.number().meta({ description: "Backup copies moving over this link now (either way), from rclone's own speed, Gbit/s of the service's time, as the leader's backup loop last stored it (the same on every instance); 0 without a backup loop (docs/backup.md)" }),
});

export const NetworkView = z
  .object({
    nowMs: z.number().int().meta({ description: "The service clock's instant the view is for" }),
    slotMinutes: z.number().int(),
    sites: z.array(DashboardSite),
    links: z.array(DashboardLink),
  })
  .meta({ id: 'DashboardNetwork' });

// ---- GET /v1/dashboard/energy/{siteId} ----

export const EnergyParams = z.strictObject({ siteId: z.string().min(1).max(128) });

export const EnergyQuery = z.strictObject({
  hoursBack: queryInt(0, 24 * 14, 'Hours of history before now (default 24)').optional(),
  hoursAhead: queryInt(0, 24 * 7, 'Hours of forecast after now (default 48)').optional(),
});

const Fallback = z.enum(FALLBACK_KINDS as [FallbackKind, ...FallbackKind[]]);
const ForecastActual = (unit: string) =>
  z.object({
    forecast: z.array(z.number()).meta({ description: `Forecast per slot, ${unit} (what plans use)` }),
    actual: z.array(z.number().nullable()).meta({ description: `Actual per slot, ${unit} (what metering uses); null for slots that start after now` }),
    forecastFallback: z
      .array(Fallback.nullable())
      .meta({ description: 'Per slot, the fallback the forecast came from where no forecast is stored (week-ago, seasonal-mean, last-known, next-known, none; docs/service.md), or null for stored data (pushed points or the scenario)' }),
    actualFallback: z.array(Fallback.nullable()).meta({ description: "Per slot, the fallback the actual came from (forecast: the slot's forecast; or the forecast's fallbacks), or null for stored data; null for slots that start after now" }),
  });

export const EnergyView = z
  .object({
    siteId: z.string(),
    nowMs: z.number().int(),
    startMs: z.number().int().meta({ description: 'Start of the first slot; slot i starts at startMs + i × slotMinutes' }),
    slotMinutes: z.number().int(),
    slots: z.number().int(),
    renewableKW: ForecastActual('kW'),
    demandKW: z
      .array(z.number())
      .meta({ description: "Mean facility power per slot, kW: finished runs (metering) plus the stored plans' runs of work not yet finished (running, paused, transferring, planned)" }),
    idleKW: z
      .array(z.number())
      .meta({ description: "Mean facility power per slot of the site's idle units, sleeping nodes and wake-ups under the service's power policy, kW (the operator's; not in demandKW); from the same runs" }),
    powerPolicy: z.enum(POWER_POLICIES).meta({ description: 'How the service powers idle nodes (kumul serve --power): always-on, or sleep (nodes no work holds sleep, but for a reserve)' }),
    priceYuanPerKWh: ForecastActual('yuan/kWh'),
    carbonGPerKWh: ForecastActual('gCO2/kWh'),
    signalNotes: z.array(z.string()).meta({ description: 'The fallback ranges of these slots in words: site, signal, series, slots, and where the values came from' }),
  })
  .meta({ id: 'DashboardEnergy' });

// ---- GET /v1/dashboard/savings ----

export const SavingsQuery = z.strictObject({
  bucket: z.enum(['hour', 'day']).optional().meta({ description: 'Bucket length (default day); a run counts in the bucket its start falls in (UTC)' }),
});

export const Figures = z.object({
  energyKWh: z.number(),
  greenKWh: z.number(),
  costYuan: z.number(),
  carbonKg: z.number(),
});

export const SavingsBucket = Figures.extend({
  startMs: z.number().int(),
  runs: z.number().int().meta({ description: 'Finished runs (metering rows) with a baseline that start in the bucket; the figures sum these' }),
  runsWithoutBaseline: z.number().int().meta({ description: 'Finished runs in the bucket without a baseline, left out of the figures' }),
  baseline: Figures.meta({ description: 'The same runs under asap-origin: at the origin, as soon as released, priced with the actual signals' }),
});

export const SavingsView = z
  .object({
    bucket: z.enum(['hour', 'day']),
    buckets: z.array(SavingsBucket).meta({ description: 'Buckets with at least one run, oldest first' }),
    totals: Figures.extend({
      runs: z.number().int(),
      runsWithoutBaseline: z.number().int().meta({ description: 'Finished runs left out: no baseline was recorded (metered before baselines existed, or no pool of the class at the origin)' }),
      baseline: Figures,
      costSavedPct: z.number().nullable().meta({ description: '100 × (baseline − actual) / baseline cost; null when the baseline is 0' }),
      carbonSavedPct: z.number().nullable(),
      greenShare: z.number().nullable().meta({ description: 'greenKWh / energyKWh; null when no energy' }),
      baselineGreenShare: z.number().nullable(),
    }),
  })
  .meta({ id: 'DashboardSavings' });

// ---- GET /v1/dashboard/unplaced ----

export const UnplacedSummaryView = z
  .object({
    nowMs: z.number().int(),
    jobs: z.number().int().meta({ description: 'Submitted jobs, every tenant’s, that the last dispatch cycle could not place' }),
    reasons: z
      .array(z.object({ reason: z.string().meta({ description: "A reason code (the dispatcher's filter codes, e.g. 'too few units')" }), jobs: z.number().int() }))
      .meta({ description: 'By reason code, most jobs first; a job counts under each of its codes' }),
  })
  .meta({ id: 'DashboardUnplaced' });

// ---- GET /v1/events ----

/** The data of one `tick` server-sent event (`event: tick`), published after each dispatch-loop tick. */
export const TickEvent = z
  .object({
    nowMs: z.number().int(),
    started: z.number().int().meta({ description: 'Runs started in the tick' }),
    finished: z.number().int().meta({ description: 'Jobs that reached a final state in the tick' }),
    planned: z.number().int().meta({ description: 'Jobs placed by the tick’s dispatch cycle (0 without one)' }),
    replanned: z.boolean().meta({ description: 'Whether the tick ran a dispatch cycle' }),
  })
  .meta({ id: 'TickEvent' });

export type NetworkViewValue = z.output<typeof NetworkView>;
export type EnergyViewValue = z.output<typeof EnergyView>;
export type SavingsViewValue = z.output<typeof SavingsView>;
export type TickEventValue = z.output<typeof TickEvent>;
export type UnplacedSummaryValue = z.output<typeof UnplacedSummaryView>;

// The schemas must carry every field of what they show: these fail to typecheck when a type gains one.
const fits: [
  (report: TickReport) => z.input<typeof TickEvent>,
  (bucket: StoreSavingsBucket) => z.input<typeof SavingsBucket>,
  (view: SiteEnergy) => z.input<typeof EnergyView>,
  (view: NetworkNow) => z.input<typeof NetworkView>,
] = [(report) => report, (bucket) => bucket, (view) => view, (view) => view];
void fits;
