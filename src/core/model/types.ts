/**
 * The domain model of Kumul: sites, pools, links, energy signals and jobs.
 * Pure data, used by every layer; loaders at the edges (src/scenario, src/jobs) build it,
 * the dispatcher (src/core/dispatch) and accounting (src/core/energy) read it.
 * Times are UTC instants in epoch milliseconds (`…Ms`); durations in seconds (`…S`).
 */

export const POOL_CLASSES = ['ai', 'general', 'hpc'] as const;
/** `ai`: accelerator servers; `general`: CPU servers; `hpc`: supercomputing nodes. */
export type PoolClass = (typeof POOL_CLASSES)[number];

export const JOB_CLASSES = ['training', 'inference', 'hpc', 'batch', 'backup'] as const;
export type JobClass = (typeof JOB_CLASSES)[number];

export const PRECISIONS = ['fp64', 'fp32', 'bf16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** What one unit of a pool's capacity is. */
export type CapacityUnit = 'accelerator' | 'core' | 'node';

/** One point of a per-unit power curve: at `load` (0 = idle, 1 = full) one unit draws `powerW`. */
export interface PowerPoint {
  load: number;
  powerW: number;
}

/** A pool: identical nodes of one class at one site. Capacity is counted in units. */
export interface Pool {
  id: string;
  class: PoolClass;
  unit: CapacityUnit;
  /** Capacity in units (accelerators, cores or nodes). */
  units: number;
  unitsPerNode: number;
  /** Peak compute of one node by precision, TFLOPS. */
  peakTflopsPerNode: Record<Precision, number>;
  /** Power of one unit (its share of the node) versus load, IT side (before PUE); loads ascending from 0 to 1. */
  powerCurve: PowerPoint[];
  /**
   * Speed against the advertised peak, by precision (1 = as advertised; a job runs its duration ÷ speed here).
   * Stated in the scenario, or measured by the latest passing probe (`kumul serve --capability measured`).
   * Precisions not given run at 1.
   */
  speed?: Partial<Record<Precision, number>>;
  /** Low-power states of the pool's nodes; absent: its nodes are always on (src/core/energy/idle.ts). */
  powerStates?: PowerStates;
}

/** How a pool's nodes sleep and wake (IT side; facility = × PUE). */
export interface PowerStates {
  /** Power of one sleeping node, W. */
  sleepWPerNode: number;
  /** Time to wake a node, s: work placed on it must wait that long (the reserve covers urgent work meanwhile). */
  wakeS: number;
  /** Energy of waking one node, kWh. */
  wakeKWhPerNode: number;
}

/** Price and carbon of renewable power available to a site (on-site or contracted); it is used first. */
export interface RenewableTerms {
  priceYuanPerKWh: number;
  carbonGPerKWh: number;
}

export interface Site {
  id: string;
  name: string;
  /** Province or region, for data residency and display. */
  region: string;
  lat: number;
  lon: number;
  /** Power usage effectiveness: facility power / IT power (≥ 1). */
  pue: number;
  pools: Pool[];
  renewable: RenewableTerms;
}

/** A bidirectional network link between two sites. */
export interface Link {
  from: string;
  to: string;
  bandwidthGbps: number;
  /** One-way latency. */
  latencyMs: number;
  costYuanPerGB: number;
  energyKWhPerGB: number;
}

export interface Network {
  sites: Site[];
  links: Link[];
}

/** The time grid every signal and plan is expressed on: `slots` slots of `slotMinutes` from `startMs`. */
export interface TimeGrid {
  startMs: number;
  slotMinutes: number;
  slots: number;
}

/** Per-slot energy signals of one site; every array has `grid.slots` entries (slot mean values). */
export interface SiteSignals {
  priceYuanPerKWh: number[];
  carbonGPerKWh: number[];
  /** Renewable power available to the site, kW (facility side). */
  renewableKW: number[];
}

/** Forecasts drive plans; actuals drive accounting. */
export interface SiteSignalPair {
  forecast: SiteSignals;
  actual: SiteSignals;
}

/** A stated assumption of a scenario, with the reasoning behind it. */
export interface Assumption {
  what: string;
  value: string;
  reasoning: string;
}

/** Where a user region's traffic enters the site network: a site and the one-way latency to it. */
export interface AccessLink {
  site: string;
  /** One-way latency from the region's users to the site, ms. */
  latencyMs: number;
}

/**
 * A region whose users call services (a city): inference services route its requests to sites
 * within their latency objective (src/core/services). Its round trip to a site goes through
 * its access links and then the scenario's links.
 */
export interface UserRegion {
  id: string;
  name: string;
  lat: number;
  lon: number;
  /** The region's own time zone as a fixed offset, e.g. '+08:00' (all of China). */
  utcOffset: string;
  /** Residents, millions: splits a total demand among regions when no other split is given. */
  populationM?: number;
  access: AccessLink[];
}

/** A scenario resolved onto a time grid: what `kumul scenario export` prints and the dispatcher reads. */
export interface Scenario {
  id: string;
  name: string;
  description: string;
  network: Network;
  grid: TimeGrid;
  signals: Record<string, SiteSignalPair>;
  assumptions: Assumption[];
  /** Regions whose users call inference services; absent in scenarios without them. */
  userRegions?: UserRegion[];
}

/** A unit of computing work submitted by a tenant. */
export interface Job {
  id: string;
  tenant: string;
  class: JobClass;
  poolClass: PoolClass;
  /** Units needed at once (accelerators, cores or nodes of the pool class). */
  units: number;
  /** Run time at full speed on `units` units. */
  durationS: number;
  releaseMs: number;
  deadlineMs: number;
  /** Site where the input data is. */
  origin: string;
  inputGb: number;
  /** Whether the job can be paused at a slot boundary and resumed later (at the same site). */
  interruptible: boolean;
  /** Sites the job may run at; null means any. */
  allowedSites: string[] | null;
}

export const SLOT_MS_PER_MINUTE = 60_000;

/** Length of one slot in milliseconds. */
export function slotMs(grid: TimeGrid): number {
  return grid.slotMinutes * SLOT_MS_PER_MINUTE;
}

/** Start instant of slot `index`. */
export function slotStartMs(grid: TimeGrid, index: number): number {
  return grid.startMs + index * slotMs(grid);
}
