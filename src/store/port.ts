/**
 * The store port: everything `kumul serve` keeps between restarts — tenants and API keys, jobs and their
 * lifecycle, plans, executor references, events, metering and the scenario document.
 * The service and the API call it; `openStore` (kysely-store.ts) implements it on SQLite or PostgreSQL,
 * and test/store/contract.test.ts is the suite every backend passes.
 *
 * Conventions: instants are epoch milliseconds (`…Ms`, UTC); every write takes the caller's clock
 * (`nowMs`), the store never reads one. Expected outcomes (unknown job, illegal transition, duplicate id)
 * are returned as a `Refusal`; only bugs and lost connections throw.
 */
import type { Job, JobClass, PoolClass, Precision } from '../core/model/types.ts';
import type { ServiceSpec } from '../core/services/model.ts';
import type { PlannedJob } from '../core/dispatch/plan.ts';
import type { JobStatus, TransitionName } from './lifecycle.ts';

export type { JobStatus, TransitionName } from './lifecycle.ts';

/** Why an expected outcome did not happen; `code` maps to an HTTP status at the API edge. */
export interface Refusal {
  ok: false;
  /** `not-found` 404, `invalid` 400, `duplicate` 409, `illegal-transition` 409, `version-mismatch` 409 (also a lost race). */
  code: 'not-found' | 'invalid' | 'duplicate' | 'illegal-transition' | 'version-mismatch';
  reason: string;
}

export type Result<T> = ({ ok: true } & T) | Refusal;

// ---- tenants and API keys ----

export type TenantRole = 'operator' | 'tenant';

export interface Tenant {
  id: string;
  name: string;
  role: TenantRole;
  /** Maximum units a tenant may use at once in each pool class; null means no limit. */
  maxConcurrentUnits: Record<PoolClass, number | null>;
  createdMs: number;
}

export type TenantInput = Omit<Tenant, 'createdMs'>;
export type TenantPatch = Partial<Pick<Tenant, 'name' | 'role' | 'maxConcurrentUnits'>>;

/** An API key as listed: never its secret. `id` is the key's visible prefix (e.g. `kml_Ab3dE9xQ`). */
export interface ApiKeyInfo {
  id: string;
  tenantId: string;
  label: string;
  createdMs: number;
  revokedMs: number | null;
}

// ---- jobs ----

/** A reference to a stored job: job ids are chosen by the tenant and unique within it. */
export interface JobRef {
  tenantId: string;
  jobId: string;
}

/**
 * A job as a tenant submits it; its tenant comes from the API key. `command` (not the dispatcher's business)
 * is what its run executes on the site's engine; without one the run stands in for the work by waiting its length.
 */
export type JobSpec = Omit<Job, 'tenant'> & { command?: string | null };

export interface StoredJob {
  /** The core job (`job.tenant` is the tenant id), as the dispatcher reads it. */
  job: Job;
  status: JobStatus;
  /** 1 at submission, +1 on every transition; pass it back as `expectedVersion` for optimistic concurrency. */
  version: number;
  /** The job's current plan (from the last `planJob`, `pauseRun` or `resumeRun` that gave one), or null. */
  plan: PlannedJob | null;
  /** The executor's id for the job's run (e.g. a Slurm job id), set by `startRun`; unique across jobs. */
  executorRef: string | null;
  /** What the job's runs execute (JobSpec.command), or null. */
  command: string | null;
  /**
   * Why the dispatch loop found no place for the job (`recordUnplaced`), or why it was marked missed (`markMissed`
   * with `unplaced`); null once a cycle plans it (`planJob` clears it) or before any cycle failed to place it.
   */
  unplaced: Unplaced | null;
  submittedMs: number;
  updatedMs: number;
}

/** Why the dispatch loop could not place a job: what `recordUnplaced` stores and the API shows. */
export interface Unplaced {
  /** The latest cycle that found no place for it. */
  atMs: number;
  /** The first cycle that found no place for it for these `codes` (a change of codes starts again). */
  sinceMs: number;
  /**
   * Short codes of the reasons, distinct, from a bounded set (the dispatcher's filter codes, e.g. `too few units`,
   * `no free capacity in its window`, `cannot finish by the deadline`): the metrics label jobs with them.
   */
  codes: string[];
  /** The dispatcher's lines: a summary (`0/6 sites can run it: 4 too few units, 2 not allowed`), then each site's reason. */
  reasons: string[];
}

/** What the dispatch loop found for a job it could not place; `Unplaced` without the instants, which the store sets. */
export interface UnplacedInput {
  codes: string[];
  reasons: string[];
}

export interface UnplacedItem extends UnplacedInput {
  ref: JobRef;
  expectedVersion?: number;
}

export interface JobFilter {
  tenantId?: string;
  statuses?: readonly JobStatus[];
  class?: JobClass;
  poolClass?: PoolClass;
  /** Only jobs whose last change (`updatedMs`) is at or after this instant. */
  updatedSinceMs?: number;
}

export interface PageRequest {
  /** 1 to 1000; 100 when absent. */
  limit?: number;
  /** The `next` of the previous page. */
  after?: string | null;
}

/** One page of jobs ordered by (submittedMs, tenantId, jobId), ids compared bytewise; `next` is null on the last page. */
export interface JobPage {
  jobs: StoredJob[];
  next: string | null;
}

export interface JobEvent {
  tenantId: string;
  jobId: string;
  /** The job's version after the event: events of a job are numbered 1, 2, … without gaps. */
  version: number;
  atMs: number;
  /** `submit` or a transition name. */
  name: 'submit' | TransitionName;
  from: JobStatus | null;
  to: JobStatus;
  detail: Record<string, unknown>;
}

/** Common arguments of every transition. */
export interface TransitionOptions {
  nowMs: number;
  /** Refuse (`version-mismatch`) unless the job is at this version. */
  expectedVersion?: number;
  /** Merged into the event's detail (the store's own fields, e.g. `executorRef`, `reason`, take precedence). */
  detail?: Record<string, unknown>;
}

export interface PlanItem {
  ref: JobRef;
  plan: PlannedJob;
  expectedVersion?: number;
}

/** `replayed` is true when the call repeated one already applied (same executor ref) and changed nothing. */
export type TransitionResult = Result<{ job: StoredJob; replayed: boolean }>;

// ---- metering and bills ----

/** Energy, green energy, cost and carbon of a run, or of its baseline. */
export interface MeteringFigures {
  energyKWh: number;
  greenKWh: number;
  costYuan: number;
  carbonKg: number;
}

/** What one run (or part of one) used; written by the service as runs end, read for bills and the dashboard. */
export interface MeteringInput {
  tenantId: string;
  jobId: string;
  /** Chosen by the caller, unique within the job (e.g. executor ref + segment): recording the same key twice keeps the first row. */
  key: string;
  site: string;
  pool: string;
  startMs: number;
  endMs: number;
  units: number;
  energyKWh: number;
  greenKWh: number;
  costYuan: number;
  carbonKg: number;
  /** Compute delivered, PFLOP·h, by precision. */
  pflopHours: Record<Precision, number>;
  /**
   * The same run under the carbon-agnostic baseline `asap-origin` (at the job's origin, as soon as released), priced
   * with the actual signals; null or absent when there is none. The dashboard's savings compare the two.
   */
  baseline?: MeteringFigures | null;
}

export interface MeteringRow extends MeteringInput {
  baseline: MeteringFigures | null;
  recordedMs: number;
}

/** Sums of the metering rows whose run starts in one time bucket, for the dashboard's savings view. */
export interface SavingsBucket extends MeteringFigures {
  /** The bucket's first instant (a multiple of the bucket length from the epoch, UTC). */
  startMs: number;
  /** Rows with a baseline; the figures and `baseline` sum these rows only, so the two compare the same runs. */
  runs: number;
  baseline: MeteringFigures;
  /** Rows without a baseline, left out of the sums. */
  runsWithoutBaseline: number;
}

/** Sums of a tenant's metering rows whose `startMs` falls in one UTC month. */
export interface MonthlyUsage {
  tenantId: string;
  /** `YYYY-MM`, UTC. */
  month: string;
  rows: number;
  unitHours: number;
  energyKWh: number;
  greenKWh: number;
  costYuan: number;
  carbonKg: number;
  pflopHours: Record<Precision, number>;
}

// ---- scenario ----

export interface ScenarioVersion {
  version: number;
  document: unknown;
  createdMs: number;
}

// ---- computing-power probes ----

/** `cpu`: a dense matmul on the node's CPUs; `accelerator`: the node's devices and, where a runtime is present, their throughput. */
export type ProbeKind = 'cpu' | 'accelerator';

/**
 * One probe of one pool (src/probe): what a benchmark job measured on one node of it, against what the pool
 * advertises. Written by `kumul probe` and POST /v1/probes; read by GET /v1/probes and the measured capability.
 */
export interface ProbeInput {
  /** Chosen by the caller, unique: e.g. `hami.hami-ai.1764378000000`. */
  id: string;
  siteId: string;
  poolId: string;
  /** When it was measured (the caller's clock: the service's in `kumul serve`). */
  measuredMs: number;
  kind: ProbeKind;
  /** The node it ran on. */
  node: string | null;
  /** CPUs the probe ran on (all the job got on the node). */
  cores: number | null;
  /** Matmul GFLOP/s on one thread; null where not measured. */
  perCoreGflops: { fp64: number | null; fp32: number | null };
  /** GFLOP/s of the whole node: the CPU kernel on all its cores, or the sum over its accelerators. */
  perNodeGflops: Record<Precision, number | null>;
  /** The pool's peak per node as the network states it, TFLOPS. */
  advertisedPerNodeTflops: Record<Precision, number>;
  /** perNodeGflops / (advertised × 1000), where measured. */
  ratio: Record<Precision, number | null>;
  /** Ratio under which the pool is flagged (0 < threshold ≤ 1). */
  threshold: number;
  flagged: boolean;
  /** Why it is flagged, or what was not measured and why ("no accelerator runtime on the node"); null when nothing to say. */
  note: string | null;
  /** What the node has (devices, Slurm GRES, visible devices, runtime): a JSON object. */
  inventory: Record<string, unknown>;
  /** Why the probe failed (the job failed, the kernel's check failed); no measurement then. */
  error: string | null;
}

export interface ProbeRecord extends ProbeInput {
  recordedMs: number;
}

export interface ProbeFilter {
  siteId?: string;
  poolId?: string;
  /** Only probes measured at or after this instant. */
  sinceMs?: number;
  /** The latest `limit` probes (1 to 1000; 1000 when absent). */
  limit?: number;
}

// ---- energy signals pushed by operators ----

/** The per-site signals, each in its own unit: yuan/kWh, gCO2/kWh, kW (the scenario format's, src/scenario/schema.ts). */
export const SIGNAL_POINT_NAMES = ['priceYuanPerKWh', 'carbonGPerKWh', 'renewableKW'] as const;
export type SignalPointName = (typeof SIGNAL_POINT_NAMES)[number];
/** Plans use forecasts, metering uses actuals. */
export type SignalSeries = 'actual' | 'forecast';

/**
 * One push of points of one site's signal and series (POST /v1/sites/{id}/signals/{signal}/points). A point's time
 * stamp is the start of the interval its value averages. Actuals are overwritten by time stamp; a forecast point is
 * stored with its issue instant (`issuedMs`, default the push's `nowMs`), so earlier issues are kept.
 */
export interface SignalPointsInput {
  siteId: string;
  signal: SignalPointName;
  series: SignalSeries;
  /** Forecasts only: when the forecast was issued; default the caller's nowMs. */
  issuedMs?: number;
  /** Values in the signal's own unit, time stamps unique within the push. */
  points: readonly { timeMs: number; value: number }[];
}

/** What a push changed: new points (or new forecast issues), points whose value changed, points already stored as given. */
export interface SignalPushCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface SignalPoint {
  siteId: string;
  signal: SignalPointName;
  series: SignalSeries;
  timeMs: number;
  value: number;
  /** The forecast's issue instant; null for actuals. */
  issuedMs: number | null;
  /** When the store last wrote the point (the caller's clock). */
  recordedMs: number;
}

export interface SignalPointQuery {
  siteId?: string;
  signal?: SignalPointName;
  series?: SignalSeries;
  /** Time stamps in [fromMs, toMs); unbounded when absent. */
  fromMs?: number;
  toMs?: number;
  /**
   * The forecasts as they were stored at this instant: the issues issued and recorded by then (the latest of them per
   * time stamp). Actuals keep no history: they are read as they are now.
   */
  asOfMs?: number;
  /** Every forecast issue, not only the latest of each time stamp. */
  history?: boolean;
  /** Only points written at or after this instant (with `history`: the service's refresh of what changed). */
  recordedSinceMs?: number;
  /** At most this many points (1 to 1,000,000), the earliest time stamps first. */
  limit?: number;
}

// ---- inference services (issue 12, docs/services.md "The service") ----

/** A tenant's service: ids are chosen by the tenant and unique within it. */
export interface ServiceRef {
  tenantId: string;
  serviceId: string;
}

/** `active` until its tenant deletes it; a deleted service's replicas are stopped by the dispatch loop. */
export type ServiceStatus = 'active' | 'deleted';

export interface StoredService {
  tenantId: string;
  /** The spec's id. */
  serviceId: string;
  /** The spec, checked by the services file's checks (src/services/files.ts) before it is stored. */
  spec: ServiceSpec;
  status: ServiceStatus;
  createdMs: number;
  updatedMs: number;
  deletedMs: number | null;
}

/** Demand a tenant posts for a service: per user region, requests/s per slot from `startMs` (a slot boundary). */
export interface ServiceDemandInput {
  ref: ServiceRef;
  slotMinutes: number;
  series: readonly { region: string; startMs: number; requestsPerS: readonly number[] }[];
}

/** One stored demand value. */
export interface ServiceDemandPoint {
  region: string;
  slotMs: number;
  requestsPerS: number;
}

/** A service's placement in one slot, as the dispatch loop's services planner made it (core/services/plan.ts ServiceSlot). */
export interface ServicePlacementSlot {
  /** The slot's start. */
  slotMs: number;
  /** Replicas per site id (sites with none left out). */
  replicas: Record<string, number>;
  /** Replicas started in the slot per site id. */
  coldStarts: Record<string, number>;
  /** Requests/s from a region to a site and its weight (share of the region's served requests). */
  routes: { region: string; site: string; requestsPerS: number; weight: number }[];
  /** Per region: demand, served within the objective, unserved, requests/s; latency ms (null when nothing served). */
  regions: Record<string, { demandRps: number; servedRps: number; unservedRps: number; latencyMs: number | null; unservedReason?: 'latency' | 'quota' | 'capacity' }>;
  /** When the cycle that made it ran (the service clock). */
  plannedMs: number;
}

/** A replica run: a long-running run of the service's model on `units` units of a site's pool, held until stopped. */
export interface ReplicaRun {
  /** The run's name in the executor (src/service/services-loop.ts replicaRef). */
  ref: string;
  tenantId: string;
  serviceId: string;
  site: string;
  pool: string;
  units: number;
  requestedMs: number;
  /** When the executor says it started; null before. */
  startedMs: number | null;
  /** When the loop stopped it (or the executor saw it end); null while it runs. */
  stoppedMs: number | null;
  /** Metered up to this instant; null before its first metering. */
  meteredToMs: number | null;
}

/** What one replica used over part of one slot, priced with the actual signals. */
export interface ServiceMeteringInput extends MeteringFigures {
  /** Unique within the service: `<replica ref>@<slot start ms>`. */
  key: string;
  startMs: number;
  endMs: number;
}

/** Sums of a tenant's replica metering per service, site and pool in one UTC month (rows by start). */
export interface ServiceUsage extends MeteringFigures {
  serviceId: string;
  site: string;
  pool: string;
  rows: number;
  replicaHours: number;
  unitHours: number;
}

/** Requests/s a load balancer (or the service's gateway) observed from one user region, as last reported. */
export interface ServiceLoadPoint {
  region: string;
  requestsPerS: number;
  reportedMs: number;
}

/** Why the loop paused a batch run for a service's burst: the region whose observed load was over what the site serves. */
export interface BurstReason {
  service: string;
  site: string;
  region: string;
  observedRps: number;
  forecastRps: number;
}

/**
 * A service's burst as the dispatch loop last judged it (src/service/services-loop.ts): the observed load against the
 * placement's forecast, the replicas it runs beyond the placement and the routing over them, and the batch runs it
 * paused. Written at every tick a fresh report shows load over the planned capacity, and once more when it passed.
 */
export interface ServiceBurst {
  /** The tick that judged it (the service clock) and the slot it was in. */
  atMs: number;
  slotMs: number;
  /** True while extra replicas run; false once the load fell back under the planned capacity (or reports stopped). */
  active: boolean;
  startedMs: number;
  endedMs: number | null;
  /** Per region: the load reported (fresh reports only) and the placement's forecast, requests/s. */
  regions: Record<string, { observedRps: number; forecastRps: number }>;
  /** Replicas run beyond the placement, per site. */
  extraReplicas: Record<string, number>;
  /** The routing over the observed load with the extra replicas (GET /v1/services/{id}/routing gives it while active). */
  routes: { region: string; site: string; requestsPerS: number; weight: number }[];
  /** Requests/s of the observed load no replica within the objective could take (units, or the tenant's quota, ran out). */
  unservedRps: number;
  unservedReason: 'units' | 'quota' | null;
  /** Batch runs paused for this burst, with why. */
  preempted: { tenantId: string; jobId: string; site: string; pool: string; units: number; atMs: number; reasons: BurstReason[] }[];
}

export interface ServiceFilter {
  tenantId?: string;
  statuses?: readonly ServiceStatus[];
}

export interface ReplicaFilter {
  tenantId?: string;
  serviceId?: string;
  /** Only replicas not stopped. */
  live?: boolean;
  /** Only replicas started and not metered to their stop (still running, or stopped after their last metering). */
  unmetered?: boolean;
}

// ---- the deployment ----

/**
 * The deployment a store belongs to. `id` (DEPLOYMENT_ID_LENGTH characters of lowercase base32, e.g. `q7mhx2ka`) is
 * in the name of every run the service starts in an engine (`<id>/<tenant>/<job>/<n>`, src/service/loop.ts runRef),
 * so that deployments sharing one cluster never take each other's runs. Made on the first start; kept by restarts,
 * upgrades, backups and restores; replaced only when the operator asks (`kumul serve --new-deployment-id`).
 */
export interface Deployment {
  id: string;
  createdMs: number;
}

// ---- cross-regional backup (docs/backup.md, "The service") ----

/** A tenant's backup policy or dataset as stored: its document in the shape of the backup files (src/backup/schema.ts). */
export interface BackupRecord {
  tenantId: string;
  id: string;
  /** A policy as in a policies file; a dataset as in a datasets file without `tenant` (the record's). */
  document: Record<string, unknown>;
  createdMs: number;
}

/**
 * A replica's newest complete, verified copy (one per dataset and target site): written by the service's backup loop
 * after rclone copied and checked it, read by GET /v1/backup/datasets/{id} and the planner (its age against the RPO).
 */
export interface ReplicaInput {
  tenantId: string;
  datasetId: string;
  site: string;
  /** The instant the copy is current to: when the copy began reading the live data. */
  versionMs: number;
  /** When it was last verified (rclone check) as complete and intact. */
  verifiedMs: number;
  /** Bytes and files of the copy. */
  bytes: number;
  files: number;
  /** Bytes the replica keeps: the copy and the older versions retained (what storage is billed on). */
  storedBytes: number;
}

export interface ReplicaRecord extends ReplicaInput {
  updatedMs: number;
}

/** Bytes one copy moved over one hop (a link direction) for a tenant's dataset. */
export interface BackupTransferInput {
  tenantId: string;
  datasetId: string;
  /** Chosen by the caller, unique within the dataset (copy id + hop): recording it again keeps the larger bytes and later end. */
  key: string;
  from: string;
  to: string;
  /** The replica site the copy goes to (`to` is a relay when they differ). */
  target: string;
  bytes: number;
  startMs: number;
  endMs: number;
  /** Network energy of these bytes over the hop, kWh, and its carbon, kg (the backup loop meters them; default 0). */
  energyKWh?: number;
  carbonKg?: number;
}

export interface BackupTransferRecord extends BackupTransferInput {
  energyKWh: number;
  carbonKg: number;
  recordedMs: number;
}

/**
 * The backup loop's latest view of a dataset (GET /v1/backup/datasets/{id}, `loop`), as the leader's loop stores it
 * so that every instance answers the same. Instants in epoch ms.
 */
/** Gbit/s backup copies move over one link direction now (the backup loop's `linkLoads`). */
export interface BackupLinkLoad {
  from: string;
  to: string;
  gbps: number;
}

export interface BackupLoopStateDocument {
  plannedMs: number;
  targets: string[];
  nextCopies: { target: string; route: string[]; startMs: number; gb: number }[];
  copying: { target: string; route: string[]; startedMs: number; bytes: number; totalBytes: number; kind: 'copy' | 'repair' }[];
  problems: string[];
}

/** A tenant's backup usage in one UTC month: GB stored over time (replicas and versions kept) and GB moved over links. */
export interface BackupUsage {
  tenantId: string;
  month: string;
  /** Σ stored GB × the share of the month it was stored (1 GB kept all month is 1 GB-month). */
  storedGBMonths: number;
  /** GB moved over links by copies that started in the month (every hop counted). */
  transferredGB: number;
  /** Network energy of those GB, kWh (all from the grid), and its carbon, kg. */
  networkEnergyKWh: number;
  networkCarbonKg: number;
}

// ---- the port ----

export interface Store {
  /** Which database the store runs on. */
  readonly backend: 'sqlite' | 'postgres';
  /** Applies pending migrations (openStore already did); returns the names applied now. */
  migrate(): Promise<string[]>;
  close(): Promise<void>;

  createTenant(tenant: TenantInput, nowMs: number): Promise<Result<{ tenant: Tenant }>>;
  updateTenant(id: string, patch: TenantPatch, nowMs: number): Promise<Result<{ tenant: Tenant }>>;
  getTenant(id: string): Promise<Tenant | null>;
  /** All tenants, by id. */
  listTenants(): Promise<Tenant[]>;

  /** A new key for a tenant; `plaintext` is returned here only, the store keeps its SHA-256. */
  createApiKey(tenantId: string, label: string, nowMs: number): Promise<Result<{ key: ApiKeyInfo; plaintext: string }>>;
  /** The tenant of an unrevoked key, or null; called by the API on every request. */
  findTenantByKey(plaintext: string): Promise<{ tenant: Tenant; key: ApiKeyInfo } | null>;
  /** Revokes a key; revoking a revoked key changes nothing. */
  revokeApiKey(keyId: string, nowMs: number): Promise<Result<{ key: ApiKeyInfo }>>;
  listApiKeys(tenantId: string): Promise<ApiKeyInfo[]>;

  /** Stores every job as `submitted` or none: a bad or duplicate job refuses the whole batch. */
  submitJobs(tenantId: string, jobs: readonly JobSpec[], nowMs: number): Promise<Result<{ jobs: StoredJob[] }>>;
  getJob(ref: JobRef): Promise<StoredJob | null>;
  /** The job whose run has this executor ref; the reconciler maps executor reports back with it. */
  findJobByExecutorRef(executorRef: string): Promise<StoredJob | null>;
  listJobs(filter: JobFilter, page?: PageRequest): Promise<Result<JobPage>>;
  /** Events of a job, oldest first. */
  jobEvents(ref: JobRef): Promise<JobEvent[]>;

  planJob(ref: JobRef, plan: PlannedJob, options: TransitionOptions): Promise<TransitionResult>;
  /**
   * A dispatch cycle's plans in one transaction (one commit instead of one per job): each item is checked and
   * refused on its own (a lost race is its `version-mismatch`), the others apply. Results in item order.
   */
  planJobs(items: readonly PlanItem[], nowMs: number): Promise<TransitionResult[]>;
  /** `unplaced`, when given, is stored as the job's `unplaced` (why the cycle found no place) and put in the event; `reason` is then its first line. */
  unplanJob(ref: JobRef, reason: string, options: TransitionOptions & { unplaced?: UnplacedInput }): Promise<TransitionResult>;
  /**
   * A dispatch cycle's `submitted` jobs it could not place, with why, in one transaction (each item refused on its
   * own, like `planJobs`). A job whose stored codes differ (or that had none) gets `noteUnplaced` (submitted →
   * submitted: version + 1, an event with the reasons). A job with the same codes as stored keeps its version and
   * gets no event: only `unplaced.atMs` and the reasons' text are updated (`replayed: true`), so a job waiting for
   * many cycles neither grows the event log nor defeats callers' `expectedVersion`. Other states are
   * `illegal-transition` (a planned job goes back with `unplanJob`).
   */
  recordUnplaced(items: readonly UnplacedItem[], nowMs: number): Promise<TransitionResult[]>;
  startTransfer(ref: JobRef, options: TransitionOptions): Promise<TransitionResult>;
  /** Records the run's executor ref; called again with the ref already recorded, returns the job as it is (`replayed`). */
  startRun(ref: JobRef, executorRef: string, options: TransitionOptions): Promise<TransitionResult>;
  /** `plan`, when given, replaces the plan (the rest of the work). */
  pauseRun(ref: JobRef, options: TransitionOptions & { plan?: PlannedJob }): Promise<TransitionResult>;
  /** `executorRef` is the resumed run's (the same one when the executor resumes it in place); a job already running with it is `replayed`. */
  resumeRun(ref: JobRef, executorRef: string, options: TransitionOptions & { plan?: PlannedJob }): Promise<TransitionResult>;
  /** Gives a paused job a new plan (the runs of the work it has left, after a pause mid-run); it stays paused until its next run starts. */
  replanPaused(ref: JobRef, plan: PlannedJob, options: TransitionOptions): Promise<TransitionResult>;
  /** Back to `submitted` after its run was stopped for the site's sake; clears the plan, keeps the last run's executor ref. */
  requeueRun(ref: JobRef, reason: string, options: TransitionOptions): Promise<TransitionResult>;
  succeed(ref: JobRef, options: TransitionOptions): Promise<TransitionResult>;
  fail(ref: JobRef, reason: string, options: TransitionOptions): Promise<TransitionResult>;
  cancel(ref: JobRef, options: TransitionOptions): Promise<TransitionResult>;
  /** `unplaced`, when given, is stored as the job's `unplaced` (why it can no longer meet its deadline) and put in the event. */
  markMissed(ref: JobRef, options: TransitionOptions & { unplaced?: UnplacedInput }): Promise<TransitionResult>;

  /** Records one metering row; `inserted` is false when the key was already recorded for the job. */
  recordMetering(row: MeteringInput, nowMs: number): Promise<Result<{ inserted: boolean }>>;
  /** A job's metering rows by start. */
  jobMetering(ref: JobRef): Promise<MeteringRow[]>;
  /** Per-tenant sums for one UTC month (`YYYY-MM`), by tenant id; one tenant when given. */
  monthlyUsage(month: string, tenantId?: string): Promise<Result<{ usage: MonthlyUsage[] }>>;
  /** Every tenant's rows summed per bucket of `bucketMs` (a positive whole number of ms) by run start, oldest first; buckets without rows are left out. */
  savingsByBucket(bucketMs: number): Promise<Result<{ buckets: SavingsBucket[] }>>;
  /** Every tenant's rows at a site whose run overlaps [fromMs, toMs), by start: the dashboard's history of a site's load. */
  siteMetering(siteId: string, fromMs: number, toMs: number): Promise<MeteringRow[]>;

  /** Stores a new service (`duplicate` while an active one has its id; a deleted one is replaced); its tenant must exist. */
  createService(tenantId: string, spec: ServiceSpec, nowMs: number): Promise<Result<{ service: StoredService }>>;
  getService(ref: ServiceRef): Promise<StoredService | null>;
  /** Services by tenant and id. */
  listServices(filter?: ServiceFilter): Promise<StoredService[]>;
  /** Marks a service deleted (its replicas are stopped by the loop); `not-found` when it is not active. */
  deleteService(ref: ServiceRef, nowMs: number): Promise<Result<{ service: StoredService }>>;
  /** Stores demand values, replacing those of the same region and slot, all or none; `not-found` unless the service is active. */
  putServiceDemand(input: ServiceDemandInput, nowMs: number): Promise<Result<{ values: number }>>;
  /** Demand of a service in slots starting in [fromMs, toMs), by region and slot. */
  serviceDemand(ref: ServiceRef, fromMs: number, toMs: number): Promise<ServiceDemandPoint[]>;
  /** A cycle's placements: for each service, its slots from the first one given replace what was stored from there on. */
  putServicePlacements(items: readonly { ref: ServiceRef; slots: readonly ServicePlacementSlot[] }[], nowMs: number): Promise<Result<{ slots: number }>>;
  /** A service's placements of slots starting in [fromMs, toMs), by slot. */
  servicePlacements(ref: ServiceRef, fromMs: number, toMs: number): Promise<ServicePlacementSlot[]>;
  /** Records a replica run the loop is about to start; adding a ref already stored returns it as it is (`replayed`). */
  addReplica(run: Omit<ReplicaRun, 'startedMs' | 'stoppedMs' | 'meteredToMs'>): Promise<Result<{ replica: ReplicaRun; replayed: boolean }>>;
  /** Sets when a replica started (the first time only). */
  replicaStarted(ref: string, startedMs: number): Promise<Result<{ replica: ReplicaRun }>>;
  /** Sets when a replica stopped (the first time only). */
  replicaStopped(ref: string, stoppedMs: number): Promise<Result<{ replica: ReplicaRun }>>;
  replicaRuns(filter?: ReplicaFilter): Promise<ReplicaRun[]>;
  /** Records a replica's metering rows and moves its `meteredToMs` to `meteredToMs`, in one transaction; rows already recorded (same key) are kept. */
  meterReplica(ref: string, rows: readonly ServiceMeteringInput[], meteredToMs: number, nowMs: number): Promise<Result<{ inserted: number }>>;
  /** A tenant's replica metering summed per service, site and pool for one UTC month (`YYYY-MM`). */
  serviceUsage(month: string, tenantId: string): Promise<Result<{ usage: ServiceUsage[] }>>;
  /** Stores the load observed per user region (each region's last report replaces its previous one), all or none; `not-found` unless the service is active. */
  putServiceLoad(ref: ServiceRef, load: readonly { region: string; requestsPerS: number }[], reportedMs: number): Promise<Result<{ regions: number }>>;
  /** The last report of each region made at or after `sinceMs`, by region. */
  serviceLoad(ref: ServiceRef, sinceMs: number): Promise<ServiceLoadPoint[]>;
  /** Records the loop's burst state of a service (replacing the last one). */
  putServiceBurst(ref: ServiceRef, burst: ServiceBurst, nowMs: number): Promise<Result<{ burst: ServiceBurst }>>;
  serviceBurst(ref: ServiceRef): Promise<ServiceBurst | null>;

  /**
   * The deployment's id, read by the service at every start; the first call on a store makes it and stores it
   * (instances starting at once on one database all get the same one).
   */
  deployment(nowMs: number): Promise<Deployment>;
  /**
   * A new id for the deployment, the old one kept as replaced (`kumul serve --new-deployment-id`, for a copied or
   * restored store that runs beside the original). Refused (`illegal-transition`, naming how many and one of them)
   * while jobs are `running`: their runs carry the old id, and whether they are this store's to follow or the
   * original's is the operator's call (requeue them first, or keep the id). `previousId` is null when the store had none.
   */
  renewDeployment(nowMs: number): Promise<Result<{ deployment: Deployment; previousId: string | null }>>;

  /** Stores a new version of the network scenario document (JSON-serializable). */
  putScenario(document: unknown, nowMs: number): Promise<ScenarioVersion>;
  /** The latest version, or null before the first `putScenario`. */
  currentScenario(): Promise<ScenarioVersion | null>;
  getScenario(version: number): Promise<ScenarioVersion | null>;

  /** Stores one probe result; a bad one is `invalid`, an id already stored `duplicate`. */
  recordProbe(probe: ProbeInput, nowMs: number): Promise<Result<{ probe: ProbeRecord }>>;
  /** Probes over time, oldest first (the latest `limit` of those the filter keeps). */
  listProbes(filter?: ProbeFilter): Promise<Result<{ probes: ProbeRecord[] }>>;
  /** The latest probe without an error of each pool, by site and pool: what the measured capability uses. */
  latestProbes(): Promise<ProbeRecord[]>;

  /**
   * Stores pushed signal points, all or none (a bad point is `invalid` naming it). Idempotent: points already stored
   * with the same value change nothing (a forecast point equal to the current forecast of its time stamp adds no issue).
   */
  putSignalPoints(input: SignalPointsInput, nowMs: number): Promise<Result<SignalPushCounts>>;
  /** Pushed points by site, signal, series, time stamp (and issue); forecasts: the latest issue of each time stamp unless `history`. */
  signalPoints(query?: SignalPointQuery): Promise<Result<{ points: SignalPoint[] }>>;

  /** Stores a run of the simulated executor (a new one, or its start or cancellation), keyed by its ref. */
  putSimulatedRun(run: SimulatedRunRecord): Promise<void>;
  simulatedRun(ref: string): Promise<SimulatedRunRecord | null>;
  /** Every simulated run's ref, sorted (tests check that none was started twice). */
  simulatedRunRefs(): Promise<string[]>;
  /** Saves the service's simulated instant; a later instant already saved stays (the clock never goes back). */
  saveServiceInstant(nowMs: number): Promise<void>;
  /** The latest saved simulated instant, or null before the first save. */
  serviceInstant(): Promise<number | null>;

  /**
   * Takes lease `name` for `holder` until nowMs + ttlMs: a renewal when `holder` has it (same token); a takeover when
   * it is free, expired, or `takeOver` says its holder is gone (token + 1). Refused (with the lease as it is) while
   * another holder has it. Of two instances taking it at once, exactly one gets it.
   */
  acquireLease(name: string, holder: string, ttlMs: number, nowMs: number, takeOver?: (lease: Lease) => boolean): Promise<LeaseResult>;
  /** Gives the lease up at once (a clean stop), if `holder` still has it at `token`. */
  releaseLease(name: string, holder: string, token: number): Promise<void>;
  /** The lease as stored, or null when nobody ever took it. */
  lease(name: string): Promise<Lease | null>;
  /** Stores a tenant's backup policy; an id the tenant already has is `duplicate`, an unknown tenant `not-found`. */
  createBackupPolicy(tenantId: string, id: string, document: Record<string, unknown>, nowMs: number): Promise<Result<{ record: BackupRecord }>>;
  /** Stores a tenant's backup dataset (its policy is the caller's to check); refusals as createBackupPolicy. */
  createBackupDataset(tenantId: string, id: string, document: Record<string, unknown>, nowMs: number): Promise<Result<{ record: BackupRecord }>>;
  /** Policies or datasets of one tenant, or of every tenant, by tenant and id. */
  backupPolicies(tenantId?: string): Promise<BackupRecord[]>;
  backupDatasets(tenantId?: string): Promise<BackupRecord[]>;
  backupDataset(tenantId: string, id: string): Promise<BackupRecord | null>;
  /**
   * Records a replica's newest verified copy: kept when its `versionMs` is not older than the stored one (a late write
   * of an older copy changes nothing: `changed` false). A change of `storedBytes` starts a new storage period (GB-months).
   */
  recordReplica(replica: ReplicaInput, nowMs: number): Promise<Result<{ replica: ReplicaRecord; changed: boolean }>>;
  /** Replicas by tenant, dataset and site. */
  replicas(filter?: { tenantId?: string; datasetId?: string }): Promise<ReplicaRecord[]>;
  /** Records (or raises, as a copy goes on) the bytes a copy moved over one hop. */
  recordBackupTransfer(transfer: BackupTransferInput, nowMs: number): Promise<Result<{ transfer: BackupTransferRecord }>>;
  /** Transfers by start (of one tenant or dataset; starting in [fromMs, toMs) when given). */
  backupTransfers(filter?: { tenantId?: string; datasetId?: string; fromMs?: number; toMs?: number }): Promise<BackupTransferRecord[]>;
  /** Per-tenant backup usage of a UTC month (`YYYY-MM`), storage counted up to `nowMs`; one tenant when given. */
  backupUsage(month: string, nowMs: number, tenantId?: string): Promise<Result<{ usage: BackupUsage[] }>>;
  /** Stores the backup loop's view of each dataset given (the leader's loop, through the fenced store). */
  saveBackupLoopStates(states: readonly { tenantId: string; datasetId: string; state: BackupLoopStateDocument }[], nowMs: number): Promise<Result<{ saved: number }>>;
  /** The backup loop's latest view of a dataset and when it was stored; null before the loop planned it. */
  backupLoopState(tenantId: string, datasetId: string): Promise<{ state: BackupLoopStateDocument; updatedMs: number } | null>;
  /** Replaces the backup load per link direction (Gbit/s of the copies running now; the leader's loop, through the fenced store). */
  saveBackupLinkLoads(loads: readonly BackupLinkLoad[], nowMs: number): Promise<Result<{ saved: number }>>;
  /** The backup load per link direction as last stored, and when (null before the loop ever stored it): what every instance's dashboard shows. */
  backupLinkLoads(): Promise<{ loads: BackupLinkLoad[]; updatedMs: number } | null>;

  /**
   * This store, with every write of the dispatch loop (job transitions and metering) checking in its own
   * transaction that `fence` still holds its lease (and the backup loop's replica, transfer and view writes); when another holder has taken it the write changes nothing and
   * throws LeaseLost. Reads and the API's writes (submissions, cancellations) are not fenced.
   */
  fenced(fence: Fence): Store;
}

// ---- what instances share besides jobs ----

/** A run of the simulated executor (src/exec/simulated.ts); `request` is its run request, as JSON. */
export interface SimulatedRunRecord {
  ref: string;
  request: unknown;
  /** Null while it waits for its pool to come back from an outage. */
  startedMs: number | null;
  cancelledMs: number | null;
}

// ---- leases ----

/** A lease as stored: one holder at a time; `token` grows by one at every change of holder (a fencing token). */
export interface Lease {
  name: string;
  holder: string;
  token: number;
  acquiredMs: number;
  expiresMs: number;
}

export type LeaseResult = { ok: true; lease: Lease; takenOver: boolean } | { ok: false; lease: Lease };

/** What a fenced write checks: the lease is still `holder`'s at `token`. */
export interface Fence {
  name: string;
  holder: string;
  token: number;
}

/** A fenced write found the lease taken by another holder: the caller is no longer the leader. */
export class LeaseLost extends Error {
  constructor(
    readonly fence: Fence,
    readonly current: { holder: string; token: number } | null,
  ) {
    super(`lease ${fence.name} lost: ${fence.holder} held it at token ${fence.token}, ${current ? `${current.holder} holds it at token ${current.token}` : 'nobody holds it'}`);
    this.name = 'LeaseLost';
  }
}
