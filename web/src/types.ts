/**
 * The answers the dashboard reads, as the API sends them (JSON). The dashboard routes' zod schemas
 * (src/api/schemas/dashboard.ts) and the jobs and bill schemas are the source; test/web/types-fit.test.ts
 * checks at type level that these shapes accept what those schemas produce. Units are in the names.
 */

export type PoolClass = 'ai' | 'general' | 'hpc';
export const JOB_CLASSES = ['training', 'inference', 'hpc', 'batch', 'backup'] as const;
export type JobClass = (typeof JOB_CLASSES)[number];
export const POOL_CLASSES = ['ai', 'general', 'hpc'] as const;
/** The unit of each built-in score plugin's part of a candidate's score (the plugins' `unit`: yuan, kgCO2, gridKWh). */
export const SCORE_UNITS = { cost: 'yuan', carbon: 'kg CO2', green: 'grid kWh' } as const;

/** `GET /v1/dashboard/network`: every site and link now. */
export interface NetworkNow {
  nowMs: number;
  slotMinutes: number;
  sites: SiteNow[];
  links: LinkNow[];
}

export interface SiteNow {
  id: string;
  name: string;
  region: string;
  lat: number;
  lon: number;
  pue: number;
  /** `outOfService`: why the pool takes no new work now (a drained partition, a flagged probe), or null. */
  pools: { id: string; class: PoolClass; unit: string; units: number; busyUnits: number; outOfService: string | null }[];
  /** Facility power of the running work / facility power with every unit busy, 0..1. */
  utilisation: number;
  demandKW: number;
  renewableKW: number;
  /** Share of the demand met by renewables now, 0..1; null without demand. */
  greenShare: number | null;
  priceYuanPerKWh: number;
  carbonGPerKWh: number;
  /** Which of the values now the service filled in from history (`carbonGPerKWh: week-ago`); empty for stored data. */
  signalFallbacks: string[];
}

export interface LinkNow {
  from: string;
  to: string;
  bandwidthGbps: number;
  latencyMs: number;
  loadGbps: number;
  /** Backup copies moving over the link now, Gbit/s (docs/backup.md). */
  backupGbps: number;
}

/** Where a slot's value came from when no data was stored (the service's fallback; docs/service.md, "Live signals"). */
export type FallbackKind = 'forecast' | 'week-ago' | 'seasonal-mean' | 'last-known' | 'next-known' | 'none';

export interface ForecastActual {
  forecast: number[];
  actual: (number | null)[];
  /** Per slot, the fallback the forecast came from, or null for stored data. */
  forecastFallback: (FallbackKind | null)[];
  /** The same for the actual (null for slots after now). */
  actualFallback: (FallbackKind | null)[];
}

/** `GET /v1/dashboard/energy/:siteId`: one site's series, slot by slot from `startMs`. */
export interface SiteEnergy {
  siteId: string;
  nowMs: number;
  startMs: number;
  slotMinutes: number;
  slots: number;
  renewableKW: ForecastActual;
  demandKW: number[];
  /** Idle units, sleeping nodes and wake-ups per slot under the service's power policy, kW (the operator's). */
  idleKW: number[];
  powerPolicy: 'always-on' | 'sleep';
  priceYuanPerKWh: ForecastActual;
  carbonGPerKWh: ForecastActual;
  /** The fallback ranges of these slots in words. */
  signalNotes: string[];
}

export interface SavingsFigures {
  energyKWh: number;
  greenKWh: number;
  costYuan: number;
  carbonKg: number;
}

/** `GET /v1/dashboard/savings`: what was run against the carbon-agnostic baseline, bucket by bucket. */
export interface Savings {
  bucket: 'hour' | 'day';
  /** Buckets with at least one finished run, oldest first; a run counts where its start falls (UTC). */
  buckets: (SavingsFigures & { startMs: number; runs: number; baseline: SavingsFigures })[];
  totals: SavingsFigures & {
    runs: number;
    /** Finished runs left out because no baseline was recorded for them. */
    runsWithoutBaseline: number;
    baseline: SavingsFigures;
    costSavedPct: number | null;
    carbonSavedPct: number | null;
    greenShare: number | null;
    baselineGreenShare: number | null;
  };
}

/** The `tick` event of `GET /v1/events`, after each dispatch-loop tick. */
export interface Tick {
  nowMs: number;
  started: number;
  finished: number;
  planned: number;
  /** Whether this tick ran a planning cycle. */
  replanned: boolean;
}

export const JOB_STATUSES = ['submitted', 'planned', 'transferring', 'running', 'paused', 'succeeded', 'failed', 'cancelled', 'missed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** `GET /v1/jobs`, `GET /v1/jobs/:id` (instants ISO 8601). */
export interface Job {
  id: string;
  tenant: string;
  class: JobClass;
  poolClass: PoolClass;
  units: number;
  durationS: number;
  release: string;
  deadline: string;
  origin: string;
  inputGb: number;
  interruptible: boolean;
  allowedSites: string[] | null;
  status: JobStatus;
  version: number;
  executorRef: string | null;
  /** Why the dispatch loop found no place for the job, or why it was marked missed; null while it has a plan. */
  unplaced: Unplaced | null;
  submitted: string;
  updated: string;
}

/** `GET /v1/dashboard/unplaced`: every tenant's waiting jobs without a place, by reason code. */
export interface UnplacedSummary {
  nowMs: number;
  jobs: number;
  reasons: { reason: string; jobs: number }[];
}

/** Why the dispatch loop found no place for a job (`unplaced` of `GET /v1/jobs/:id` and `/plan`). */
export interface Unplaced {
  /** The latest cycle that found no place for it. */
  at: string;
  /** The first cycle that found no place for it for these codes. */
  since: string;
  /** Short codes of the reasons. */
  codes: string[];
  /** A summary line, then each site and its reason. */
  reasons: string[];
}

export interface ExplainCandidate {
  site: string;
  start: string;
  end: string;
  /** Weighted objective (lower is better). */
  score: number;
  /** Each score plugin's value in its unit (yuan, kgCO2, gridKWh). */
  parts: Record<string, number>;
}

/** `GET /v1/jobs/:id/plan`. */
export interface JobPlan {
  id: string;
  tenant: string;
  status: JobStatus;
  version: number;
  plan: {
    id: string;
    site: string;
    pool: string;
    runs: { start: string; end: string; units: number }[];
    transfer: { route: string[]; gb: number; start: string; end: string } | null;
    energyKWh: number;
    greenKWh: number;
    costYuan: number;
    carbonKg: number;
    transferKWh: number;
    explain: { policy: string; candidates: ExplainCandidate[]; earliestHere: ExplainCandidate | null; rejected: { site: string; reason: string }[]; signalNotes?: string[] };
  } | null;
  unplaced: Unplaced | null;
}

/** `GET /v1/jobs/:id/events`. */
export interface JobEvent {
  version: number;
  at: string;
  name: string;
  from: JobStatus | null;
  to: JobStatus;
  detail: Record<string, unknown>;
}

export interface BillFigures {
  rows: number;
  unitHours: number;
  energyKWh: number;
  greenKWh: number;
  costYuan: number;
  carbonKg: number;
  pflopHours: { fp64: number; fp32: number; bf16: number };
  greenShare: number | null;
}

/** `GET /v1/tenants/:id/bill?month=`. */
export interface Bill {
  tenant: string;
  month: string;
  lines: (BillFigures & { jobId: string; site: string; pool: string })[];
  totals: BillFigures;
}

/** `GET /v1/tenants/:id`. */
export interface Tenant {
  id: string;
  name: string;
  role: 'operator' | 'tenant';
  maxConcurrentUnits: Record<PoolClass, number | null>;
}

/** `GET /v1/services` (one entry), the fields the services view reads. */
export interface ServiceSummary {
  id: string;
  tenant: string;
  status: 'active' | 'deleted';
  spec: { model: string; poolClass: string; unitsPerReplica: number; latency: { objectiveMs: number; percentile: number; serviceTimeMs: number } };
  createdAt: string;
}

/** `GET /v1/services/:id/placements`: the placement per slot around now. */
export interface ServicePlacements {
  service: string;
  tenant: string;
  now: string;
  slotMinutes: number;
  replicaRequestsPerS: number;
  regions: { id: string; name: string; lat: number; lon: number }[];
  slots: {
    slotStart: string;
    plannedAt: string;
    replicas: Record<string, number>;
    routes: { region: string; site: string; requestsPerS: number; weight: number }[];
    regions: Record<string, { demandRps: number; servedRps: number; unservedRps: number; latencyMs: number | null }>;
  }[];
}

/** `GET /v1/backup/datasets`: a dataset as posted. */
export interface BackupDatasetSummary {
  tenant: string;
  id: string;
  dataset: Record<string, unknown>;
  created: string;
}

/** `GET /v1/backup/datasets/:id`: its replicas against the RPO and the backup loop's view (docs/backup.md). */
export interface BackupDataset extends BackupDatasetSummary {
  replicas: { site: string; versionAt: string | null; verifiedAt: string | null; ageHours: number | null; rpoHours: number; withinRpo: boolean; bytes: number; files: number; storedBytes: number; bytesMoved: number }[];
  bytesMoved: number;
  loop: {
    plannedAt: string;
    targets: string[];
    nextCopies: { target: string; route: string[]; start: string; gb: number }[];
    copying: { target: string; route: string[]; started: string; bytes: number; totalBytes: number; kind: 'copy' | 'repair' }[];
    problems: string[];
  } | null;
}

/** Every error body: `{ error: { code, message, status, fields? } }`. */
export interface ApiErrorBody {
  error: { code: string; message: string; status: number; fields?: { field: string; message: string }[] };
}
