/**
 * The simulation report (`report.json`), written by `kumul simulate` and drawn by report-html.ts.
 * Deterministic: no wall-clock times or run durations, so the same inputs and seed give the same bytes.
 */

export interface SimReport {
  format: 'kumul-sim-report';
  version: 1;
  scenario: string;
  /** Simulated period, ISO 8601 UTC. */
  from: string;
  to: string;
  slotMinutes: number;
  replanMinutes: number;
  /** Forecast noise σ as % of each series' mean, when the run overrode the scenario's; null = the scenario's own forecasts. */
  forecastErrorPct: number | null;
  seed: number;
  /** Jobs in the input file that fall in the period. */
  jobs: number;
  /** Hours each job may move before or after its requested time (temporal shifting experiments); 0 when unused. */
  shiftHours: number;
  /** Where `optimize` could run a job: `any` site, or only its `origin` (temporal shifting alone). */
  optimizeSites: 'any' | 'origin';
  /** Minutes on either side over which plans averaged the carbon and renewable forecasts (core/dispatch/forecast-smoothing.ts); 0: none. */
  forecastSmoothingMinutes: number;
  /** How cycles powered idle nodes when it was not always on (`--power sleep`): they packed work so that idle nodes slept. */
  power?: PowerPolicy;
  policies: PolicyResult[];
  /** Each policy against each other one: negative % means less. */
  savings: Saving[];
  /** Inference services run with the batch jobs (`--services --demand`); absent without them. */
  services?: ServicesReport;
}

/** Services in the simulation (docs/simulator.md "Services and batch together"). */
export interface ServicesReport {
  services: string[];
  /** Where the forecast (the demand file) and the actual demand came from. */
  forecast: string;
  actual: string;
  /** The baseline: every replica at the site nearest its users (same demand), with batch under the first policy. */
  baseline: ServicesResult & { policy: string; batch: { completed: number; missed: number; preempted: number } };
  /** Each policy's services against the baseline: negative % means less; attainment in percentage points. */
  versusBaseline: { policy: string; costPct: number; carbonPct: number; greenSharePts: number; attainmentPts: number }[];
}

/** What the services did under one policy (or the baseline), accounted with actual demand and signals. */
export interface ServicesResult {
  placement: 'objective' | 'nearest';
  totals: {
    energyKWh: number;
    greenKWh: number;
    greenShare: number;
    costYuan: number;
    carbonKg: number;
    requests: number;
    /** Requests served within the latency objective. */
    withinObjective: number;
    attainmentPct: number;
    replicaHours: number;
    /** Replica-hours started for bursts above the plan. */
    extraReplicaHours: number;
    coldStarts: number;
    /** Service, site and slot triples whose burst extra replicas could not wholly cover (units ran out). */
    burstsShort: number;
  };
  /**
   * Per user region: objective attainment, and the services' energy, green energy, cost and carbon charged to it
   * (each site's energy in each slot split among the regions by their requests routed there).
   */
  regions: { region: string; requests: number; withinObjective: number; attainmentPct: number; energyKWh: number; greenKWh: number; greenShare: number; costYuan: number; carbonKg: number }[];
  perService: { service: string; requests: number; withinObjective: number; attainmentPct: number; energyKWh: number; costYuan: number; carbonKg: number; replicaHours: number; extraReplicaHours: number; coldStarts: number }[];
  sites: { site: string; energyKWh: number; greenKWh: number; costYuan: number; carbonKg: number }[];
  /** Batch runs paused for bursts: count, distinct jobs, units × slots taken, and the first 100 with their reasons. */
  preemptions: {
    count: number;
    jobs: number;
    unitSlots: number;
    first: { start: string; job: string; pool: string; units: number; reasons: { service: string; site: string; region: string; requestsPerSOverForecast: number }[] }[];
  };
  /** The placement's bound on the forecasts (value null for the baseline). */
  bound: { value: number | null; planValue: number; gapPct: number | null; method: string };
}

import type { IdleFigures, PowerPolicy } from '../core/energy/idle.ts';
import type { BackupOutcome } from './backup.ts';

export interface PolicyResult {
  policy: string;
  objective: string;
  totals: {
    energyKWh: number;
    greenKWh: number;
    /** greenKWh / energyKWh (0..1). */
    greenShare: number;
    costYuan: number;
    carbonKg: number;
    transferGB: number;
  };
  jobs: {
    completed: number;
    /** Could not finish by their deadline (never started, or started too late). */
    missed: number;
    /** Still waiting or running when the period ended. */
    unfinished: number;
    /** Mean of (first start − release) over started jobs, seconds. */
    meanWaitS: number;
    /** Jobs that were paused at least once and resumed. */
    resumed: number;
    /** Jobs pre-empted at least once by a services burst (only with `--services`). */
    preempted?: number;
  };
  /**
   * Per site: what ran there (including transfer energy of the jobs it ran, and work committed in the
   * period that ran past its end), and utilisation: the mean over its pools of unit-hours used /
   * unit-hours available in the period (pools count equally: cores and accelerators do not add up).
   */
  sites: { site: string; energyKWh: number; greenKWh: number; costYuan: number; carbonKg: number; utilisation: number }[];
  /**
   * The operator's idle energy over the period, with the actual signals (src/core/energy/idle.ts): every node on, and
   * idle nodes asleep (pools with powerStates; 10 % of nodes kept awake for urgent work). Not part of `totals`.
   */
  idle: { alwaysOn: IdleFigures; asleep: IdleFigures };
  pools: { site: string; pool: string; utilisation: number }[];
  /** Input data moved over each link, GB (both directions). */
  links: { from: string; to: string; gb: number }[];
  /** Time series for charts, in buckets of `bucketHours`. */
  series: {
    bucketHours: number;
    /** Bucket start instants, ISO 8601. */
    starts: string[];
    /** Per site, slots within the period only: renewable energy used, grid energy used, renewable energy available, utilisation (0..1). */
    sites: Record<string, { greenKWh: number[]; gridKWh: number[]; renewableKWh: number[]; utilisation: number[] }>;
    /** Carbon intensity of the grid at each site, bucket mean, gCO2/kWh (actual). */
    carbonGPerKWh: Record<string, number[]>;
  };
  /** Dispatch cycles run and events processed. */
  cycles: number;
  events: number;
  /** The services run with this policy's batch (`--services`). */
  services?: ServicesResult;
  /** Backups planned around this policy's job transfers (`--datasets --policies`; src/sim/backup.ts). */
  backup?: BackupOutcome;
}

/** `policy` against `versus` on the jobs both completed (`jobsCompared`), so that running less is not a saving. */
export interface Saving {
  policy: string;
  versus: string;
  jobsCompared: number;
  costPct: number;
  carbonPct: number;
  energyPct: number;
  /** Difference of green shares, percentage points. */
  greenSharePts: number;
}
