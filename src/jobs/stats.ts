/**
 * A summary of a set of jobs (counts by class, units, durations, release span, origins), printed by
 * `kumul jobs stats` so the figures in docs/jobs-format.md can be reproduced by anyone.
 */
import type { Job } from '../core/model/types.ts';
import { formatInstant } from './instant.ts';

export interface JobStats {
  jobs: number;
  byClass: Record<string, number>;
  byPoolClass: Record<string, number>;
  /** Jobs by "pool class/units", e.g. "ai/1". */
  byUnits: Record<string, number>;
  byOrigin: Record<string, number>;
  tenants: number;
  /** Fewest and most jobs of one tenant. */
  jobsPerTenant: { min: number; max: number };
  interruptible: number;
  durationS: Percentiles;
  durationSByClass: Record<string, Percentiles>;
  inputGb: Percentiles;
  /** Unit-hours of work by pool class (units × duration). */
  unitHoursByPoolClass: Record<string, number>;
  firstReleaseMs: number;
  lastReleaseMs: number;
}

/** Nearest-rank percentiles of a job figure. */
export interface Percentiles {
  p10: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Summary of `jobs` (which must not be empty). */
export function summarizeJobs(jobs: Job[]): JobStats {
  const unitHours: Record<string, number> = {};
  for (const j of jobs) unitHours[j.poolClass] = (unitHours[j.poolClass] ?? 0) + (j.units * j.durationS) / 3600;
  const releases = jobs.map((j) => j.releaseMs);
  const perTenant = Object.values(countBy(jobs, (j) => j.tenant));
  return {
    jobs: jobs.length,
    byClass: countBy(jobs, (j) => j.class),
    byPoolClass: countBy(jobs, (j) => j.poolClass),
    byUnits: countBy(jobs, (j) => `${j.poolClass}/${j.units}`),
    byOrigin: countBy(jobs, (j) => j.origin),
    tenants: perTenant.length,
    jobsPerTenant: { min: Math.min(...perTenant), max: Math.max(...perTenant) },
    interruptible: jobs.filter((j) => j.interruptible).length,
    durationS: percentiles(jobs.map((j) => j.durationS)),
    durationSByClass: Object.fromEntries(
      Object.keys(countBy(jobs, (j) => j.class)).map((c) => [c, percentiles(jobs.filter((j) => j.class === c).map((j) => j.durationS))]),
    ),
    inputGb: percentiles(jobs.map((j) => j.inputGb)),
    unitHoursByPoolClass: Object.fromEntries(Object.entries(unitHours).map(([k, v]) => [k, Math.round(v)])),
    firstReleaseMs: releases.reduce((a, b) => Math.min(a, b)),
    lastReleaseMs: releases.reduce((a, b) => Math.max(a, b)),
  };
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
  return { p10: at(0.1), p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] };
}

function countBy(jobs: Job[], key: (job: Job) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const job of jobs) counts[key(job)] = (counts[key(job)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)));
}

/** The summary as readable lines. */
export function formatJobStats(s: JobStats): string {
  const share = (n: number): string => `${n} (${((100 * n) / s.jobs).toFixed(1)} %)`;
  const counts = (r: Record<string, number>): string => Object.entries(r).map(([k, n]) => `${k} ${share(n)}`).join(', ');
  const spanDays = (s.lastReleaseMs - s.firstReleaseMs) / 86_400_000;
  return [
    `jobs: ${s.jobs}`,
    `class: ${counts(s.byClass)}`,
    `pool class: ${counts(s.byPoolClass)}`,
    `units (pool class/units): ${counts(s.byUnits)}`,
    `unit-hours: ${Object.entries(s.unitHoursByPoolClass).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `interruptible: ${share(s.interruptible)}`,
    `duration_s: ${formatPercentiles(s.durationS)}`,
    ...Object.entries(s.durationSByClass).map(([c, p]) => `duration_s of ${c}: ${formatPercentiles(p)}`),
    `release: ${formatInstant(s.firstReleaseMs)} to ${formatInstant(s.lastReleaseMs)} (${spanDays.toFixed(2)} days)`,
    `origin: ${counts(s.byOrigin)}`,
    `input_gb: ${formatPercentiles(s.inputGb)}`,
    `tenants: ${s.tenants} (${s.jobsPerTenant.min} to ${s.jobsPerTenant.max} jobs each)`,
  ]
    .map((line) => `${line}\n`)
    .join('');
}

function formatPercentiles(p: Percentiles): string {
  return `p10 ${p.p10}, median ${p.p50}, p90 ${p.p90}, p99 ${p.p99}, max ${p.max}`;
}
