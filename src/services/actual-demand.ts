/**
 * Actual demand for the simulator (docs/simulator.md "Services and batch together"): the demand file is the forecast;
 * what arrives is the forecast × an hour-level error × a within-slot burst profile, both taken from real traces and
 * drawn with a seed. Called by `kumul simulate --services` and the benchmark; the simulator itself stays pure.
 *
 * - Burstiness within a slot: the Azure LLM trace (../shared/data/workloads/inference/azure_llm_2023_*.csv, 57–58
 *   minutes of real requests) as tokens (input + output) per whole minute ÷ the trace's mean: the work a replica sees
 *   minute by minute. Each slot of each service takes `slotMinutes` consecutive minutes of it, from a seeded start
 *   (wrapping round), rescaled to mean 1, so the slot's mean stays the actual mean.
 * - Error of the slot's mean: the Azure traces span one hour, so they hold no hour-to-hour error; it comes from the
 *   hourly Wikipedia trace the forecast's shape comes from: the ratio of each hour to the same hour a week before
 *   (the error of a seasonal week-ahead forecast, the simplest honest forecast of such demand). Each service reads
 *   consecutive hours of those ratios from a seeded start, so errors keep their real persistence from hour to hour.
 */
import type { ActualDemand } from '../sim/services.ts';
import { hashSeed, mulberry32 } from '../scenario/random.ts';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { azureRequests, readWikipediaTrace, type HourlyTrace } from './demand-import.ts';

const HOUR_MS = 3_600_000;
const WEEK_MS = 168 * HOUR_MS;

/** Tokens (input + output) per whole minute of an Azure LLM trace, ÷ their mean (partial first and last minutes dropped). */
export function burstProfile(text: string, file: string): Float64Array {
  const perMinute = new Map<number, number>();
  for (const { ms, inputTokens, outputTokens } of azureRequests(text, file)) {
    const tokens = inputTokens + outputTokens;
    const minute = Math.floor(ms / 60_000);
    perMinute.set(minute, (perMinute.get(minute) ?? 0) + tokens);
  }
  const minutes = [...perMinute.keys()].sort((a, b) => a - b);
  if (minutes.length < 12) throw new Error(`${file}: needs at least 12 minutes of requests; found ${minutes.length}`);
  // Whole minutes only: the first and last are partial; minutes without a request in between count as 0.
  const first = minutes[0] + 1;
  const last = minutes[minutes.length - 1] - 1;
  const values = Float64Array.from({ length: last - first + 1 }, (_, i) => perMinute.get(first + i) ?? 0);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.map((v) => v / mean);
}

/** The ratio of each hour of the trace to the same hour a week before, in time order (hours with both). */
export function weekAheadRatios(trace: HourlyTrace): Float64Array {
  const hours = [...trace.keys()].sort((a, b) => a - b);
  const out: number[] = [];
  for (const h of hours) {
    const before = trace.get(h - WEEK_MS);
    if (before !== undefined && before > 0) out.push(trace.get(h)! / before);
  }
  if (out.length === 0) throw new Error('the trace has no hour with the same hour a week before');
  return Float64Array.from(out);
}

export interface ActualDemandRequest {
  services: readonly string[];
  slots: number;
  slotMinutes: number;
  /** burstProfile of a trace. */
  profile: Float64Array;
  /** weekAheadRatios of the forecast's trace (hourly). */
  ratios: Float64Array;
  seed: number;
  /** Says which traces, for the report. */
  source: string;
}

/** Per service and slot: the actual ÷ forecast factor and the minute profile (mean 1). */
export function actualDemand(req: ActualDemandRequest): ActualDemand {
  const factor: ActualDemand['factor'] = {};
  const minuteProfile: ActualDemand['minuteProfile'] = {};
  const hoursPerSlot = req.slotMinutes / 60;
  for (const service of req.services) {
    const start = Math.floor(mulberry32(hashSeed(req.seed, service, 'demand-error'))() * req.ratios.length);
    factor[service] = Float64Array.from({ length: req.slots }, (_, t) => req.ratios[(start + Math.floor(t * hoursPerSlot)) % req.ratios.length]);
    minuteProfile[service] = Array.from({ length: req.slots }, (_, t) => {
      const from = Math.floor(mulberry32(hashSeed(req.seed, service, 'burst', t))() * req.profile.length);
      const window = Float64Array.from({ length: req.slotMinutes }, (_, m) => req.profile[(from + m) % req.profile.length]);
      const mean = window.reduce((a, b) => a + b, 0) / window.length;
      return mean > 0 ? window.map((v) => v / mean) : window.fill(1);
    });
  }
  return { factor, minuteProfile, history: req.profile, source: req.source };
}

/** The traces shipped in datasets/ (copies of ../shared/data/workloads/inference/; datasets/README.md). */
export const DEFAULT_BURST_TRACE = fileURLToPath(new URL('../../datasets/azure-llm-2023/conv.csv', import.meta.url));
export const DEFAULT_ERROR_TRACE = fileURLToPath(new URL('../../datasets/wikipedia-pagecounts/hourly-2008-2009.csv', import.meta.url));

/** Actual demand from trace files (the burst trace for minutes, the hourly trace for the error), seeded. */
export function actualDemandFromTraces(req: Omit<ActualDemandRequest, 'profile' | 'ratios' | 'source'> & { burstTrace: string; errorTrace: string }): ActualDemand {
  const profile = burstProfile(readFileSync(req.burstTrace, 'utf8'), req.burstTrace);
  const ratios = weekAheadRatios(readWikipediaTrace(readFileSync(req.errorTrace, 'utf8'), req.errorTrace));
  const cv = (xs: Float64Array) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) / mean;
  };
  const source =
    `forecast × the ratio of an hour to the same hour a week before in ${basename(req.errorTrace)} (consecutive hours from a seeded start per service; σ ${(100 * cv(ratios)).toFixed(1)} %) ` +
    `× tokens per minute of ${basename(req.burstTrace)} ÷ their mean (a seeded window per slot; ${profile.length} minutes, coefficient of variation ${(100 * cv(profile)).toFixed(1)} %), seed ${req.seed}`;
  return actualDemand({ ...req, profile, ratios, source });
}
