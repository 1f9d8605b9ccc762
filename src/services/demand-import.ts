/**
 * `kumul demand import`: a demand file (files.ts) from the hourly Wikipedia page requests of
 * ../shared/data/workloads/inference/ (docs/services.md "Demand from traces" says every step), and the token mix of an
 * Azure LLM request trace for a service's throughput in tokens/s. Called by the CLI and the benchmark.
 */
import { csvRecords } from '../csv/read.ts';
import type { UserRegion } from '../core/model/types.ts';
import type { DemandFile } from './files.ts';
import { SERVICES_FORMAT_VERSION } from './files.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A trace of hourly request counts: per UTC hour start (ms), the requests in that hour. */
export type HourlyTrace = Map<number, number>;

/**
 * The hourly Wikipedia trace (`period_end_utc,requests,…`), cleaned as its README advises: each period is the hour
 * ending at its time rounded to the hour; an hour whose requests are below half the median of the 24 hours around it
 * is dropped (partial dump files); dropped and missing hours are filled by linear interpolation between the nearest
 * hours kept. Throws an Error naming the line of a row it cannot read.
 */
export function readWikipediaTrace(text: string, file: string): HourlyTrace {
  const rows: [number, number][] = [];
  let header: string[] | null = null;
  for (const record of csvRecords(text)) {
    if (record.syntaxError) throw new Error(`${file} line ${record.line}: ${record.syntaxError}`);
    if (header === null) {
      header = record.fields;
      if (!header.includes('period_end_utc') || !header.includes('requests')) throw new Error(`${file}: needs columns period_end_utc and requests; found ${header.join(', ')}`);
      continue;
    }
    const endMs = Date.parse(record.fields[header.indexOf('period_end_utc')]);
    const requests = Number(record.fields[header.indexOf('requests')]);
    if (!Number.isFinite(endMs) || !Number.isFinite(requests)) throw new Error(`${file} line ${record.line}: cannot read period_end_utc and requests`);
    rows.push([Math.round(endMs / HOUR_MS) * HOUR_MS - HOUR_MS, requests]);
  }
  if (rows.length < 48) throw new Error(`${file}: needs at least 48 hourly rows; found ${rows.length}`);
  const kept = rows.filter(([, v], i) => {
    const around = rows.slice(Math.max(0, i - 12), i + 13).map(([, x]) => x).sort((a, b) => a - b);
    return v >= around[Math.floor(around.length / 2)] / 2;
  });
  const trace: HourlyTrace = new Map();
  for (let i = 0; i < kept.length; i++) {
    const [t, v] = kept[i];
    trace.set(t, v);
    const next = kept[i + 1];
    if (next) for (let h = t + HOUR_MS; h < next[0]; h += HOUR_MS) trace.set(h, v + ((next[1] - v) * (h - t)) / (next[0] - t));
  }
  return trace;
}

export interface DemandImport {
  trace: HourlyTrace;
  /** Where the trace came from, for the demand file's `source`. */
  traceName: string;
  /** Offset of the trace's audience, hours: its hour of day read as local time there (default 0). */
  traceUtcOffsetH: number;
  /** The first trace day (UTC midnight, ms) a demand's first local day may map to; whole weeks keep the weekday. */
  traceFromMs: number;
  regions: readonly UserRegion[];
  /** Peak requests/s of each service over all regions. */
  peakRps: Record<string, number>;
  startMs: number;
  slots: number;
  slotMinutes: number;
}

/**
 * The demand file: for each service and region, the trace at the same local time of day and weekday as the region's
 * slot (its middle, in the region's own utcOffset), scaled so that the service's total over regions peaks at its
 * stated requests/s, and split among regions in proportion to their population (equally when none is given).
 */
export function importDemand(req: DemandImport): DemandFile {
  const slotMs = req.slotMinutes * 60_000;
  const firstLocalDayMs = (offsetH: number) => Math.floor((req.startMs + offsetH * HOUR_MS) / DAY_MS) * DAY_MS;
  const traceAt = (region: UserRegion) => {
    const offsetH = utcOffsetHours(region.utcOffset);
    // Whole weeks between the region's first local day and the first trace day it maps to (weekday kept).
    const shiftMs = Math.floor((firstLocalDayMs(offsetH) - req.traceFromMs) / (7 * DAY_MS)) * 7 * DAY_MS;
    return Array.from({ length: req.slots }, (_, t) => {
      const localMs = req.startMs + (t + 0.5) * slotMs + offsetH * HOUR_MS;
      const traceUtcMs = localMs - shiftMs - req.traceUtcOffsetH * HOUR_MS;
      const hour = Math.floor(traceUtcMs / HOUR_MS) * HOUR_MS;
      const v = req.trace.get(hour);
      if (v === undefined) throw new Error(`${req.traceName}: has no hour ${new Date(hour).toISOString()} (for region '${region.id}', slot ${t}); choose --trace-from inside the trace`);
      return v;
    });
  };
  const shapes = req.regions.map(traceAt);
  const weights = req.regions.map((r) => r.populationM ?? 1);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  // The total over regions, per slot, in trace units: its highest slot is scaled to the stated peak.
  const total = Array.from({ length: req.slots }, (_, t) => shapes.reduce((sum, s, i) => sum + (s[t] * weights[i]) / weightSum, 0));
  const highest = Math.max(...total);
  const series = Object.entries(req.peakRps).flatMap(([service, peak]) =>
    req.regions.map((region, i) => ({
      service,
      region: region.id,
      requestsPerS: shapes[i].map((v) => round((peak * v * weights[i]) / weightSum / highest, 4)),
    })),
  );
  return {
    version: SERVICES_FORMAT_VERSION,
    start: new Date(req.startMs).toISOString(),
    slotMinutes: req.slotMinutes,
    source: `kumul demand import: hourly shape of ${req.traceName} (hour of day read at UTC${formatOffset(req.traceUtcOffsetH)}), mapped to each region's local time and weekday from ${new Date(req.traceFromMs).toISOString().slice(0, 10)}, scaled to peaks ${Object.entries(req.peakRps).map(([s, p]) => `${s} ${p} req/s`).join(', ')}, split by population`,
    series,
  };
}

/** '+08:00' → 8. */
export function utcOffsetHours(offset: string): number {
  const sign = offset.startsWith('-') ? -1 : 1;
  const [h, m] = offset.slice(1).split(':').map(Number);
  return sign * (h + m / 60);
}

function formatOffset(h: number): string {
  const sign = h < 0 ? '-' : '+';
  const abs = Math.abs(h);
  return `${sign}${String(Math.floor(abs)).padStart(2, '0')}:${String(Math.round((abs % 1) * 60)).padStart(2, '0')}`;
}

function round(v: number, digits: number): number {
  return Number(v.toFixed(digits));
}

/**
 * The requests of an Azure LLM trace (TIMESTAMP, ContextTokens, GeneratedTokens), in file order; errors name the file
 * and line. Read by `tokenMixOf` and the simulator's burst profile (actual-demand.ts).
 */
export function* azureRequests(text: string, file: string): Generator<{ ms: number; inputTokens: number; outputTokens: number }> {
  let header: string[] | null = null;
  for (const record of csvRecords(text)) {
    if (record.syntaxError) throw new Error(`${file} line ${record.line}: ${record.syntaxError}`);
    if (header === null) {
      header = record.fields;
      for (const c of ['TIMESTAMP', 'ContextTokens', 'GeneratedTokens']) if (!header.includes(c)) throw new Error(`${file}: needs column ${c}; found ${header.join(', ')}`);
      continue;
    }
    const ms = Date.parse(`${record.fields[header.indexOf('TIMESTAMP')].slice(0, 23).replace(' ', 'T')}Z`);
    const inputTokens = Number(record.fields[header.indexOf('ContextTokens')]);
    const outputTokens = Number(record.fields[header.indexOf('GeneratedTokens')]);
    if (!Number.isFinite(ms) || !Number.isFinite(inputTokens) || !Number.isFinite(outputTokens)) throw new Error(`${file} line ${record.line}: cannot read TIMESTAMP, ContextTokens and GeneratedTokens`);
    yield { ms, inputTokens, outputTokens };
  }
}

/** Mean input and output tokens per request of an Azure LLM trace (`TIMESTAMP,ContextTokens,GeneratedTokens`), and its request rate. */
export function tokenMixOf(text: string, file: string): { inputTokens: number; outputTokens: number; requests: number; requestsPerMinute: number } {
  let inputs = 0;
  let outputs = 0;
  let n = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const { ms, inputTokens, outputTokens } of azureRequests(text, file)) {
    inputs += inputTokens;
    outputs += outputTokens;
    n++;
    first = Math.min(first, ms);
    last = Math.max(last, ms);
  }
  if (n === 0) throw new Error(`${file}: has no requests`);
  return { inputTokens: round(inputs / n, 1), outputTokens: round(outputs / n, 1), requests: n, requestsPerMinute: round((n / Math.max(1, last - first)) * 60_000, 1) };
}
