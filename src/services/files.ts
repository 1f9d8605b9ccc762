/**
 * The services file and the demand file (docs/services.md "Formats"): zod schemas that validate them, give their
 * types and generate docs/services.schema.json and docs/demand.schema.json (scripts/write-schemas.ts), and their
 * readers, which check cross-references against the scenario and throw a ServicesFileError naming the file, the
 * field and the reason. Called by `kumul services plan` and tests.
 */
import { z } from 'zod';
import { POOL_CLASSES, type Scenario } from '../core/model/types.ts';
import type { DemandSeries, ServiceSpec } from '../core/services/model.ts';
import { ScenarioError, type ScenarioIssue } from '../scenario/errors.ts';
import { issuesFromZod } from '../scenario/issues.ts';
import { readScenarioJson } from '../scenario/load.ts';
import { anyText, between, doc, idSchema, isoInstant, nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, said, text } from '../scenario/schema-parts.ts';
import { parseIsoInstant } from '../scenario/time.ts';

export const SERVICES_FORMAT_VERSION = 1;

/** A services or demand file is invalid: one line per problem, `<file>: <JSON path>: <reason>`. */
export class ServicesFileError extends ScenarioError {
  constructor(file: string, issues: ScenarioIssue[]) {
    super(file, issues);
    this.name = 'ServicesFileError';
  }
}

const TokenMixSchema = doc(
  z.strictObject({
    inputTokens: doc(positiveNumber(), 'Mean prompt (input) tokens per request.'),
    outputTokens: doc(positiveNumber(), 'Mean generated (output) tokens per request.'),
  }),
  'Mean tokens per request; e.g. from the Azure LLM traces (docs/services.md).',
  'TokenMix',
);

const ThroughputSchema = doc(
  z.union(
    [
      z.strictObject({ requestsPerS: doc(positiveNumber(), 'Requests/s one replica serves within its service time.') }),
      z.strictObject({
        tokensPerS: doc(positiveNumber(), 'Tokens/s (input + output) one replica processes within its service time.'),
        tokenMix: TokenMixSchema,
      }),
    ],
    { error: said('must be {requestsPerS} or {tokensPerS, tokenMix}') },
  ),
  'Throughput of one replica at its latency objective: requests/s, or tokens/s with a token mix (requests/s = tokensPerS ÷ (inputTokens + outputTokens)).',
  'Throughput',
);

export const ServiceSchema = doc(
  z.strictObject({
    id: idSchema(),
    model: doc(text(), 'The model served.'),
    poolClass: doc(z.enum(POOL_CLASSES, { error: said(`must be one of ${POOL_CLASSES.join(', ')}`) }), 'Pool class its replicas run on (ai: accelerators).'),
    unitsPerReplica: doc(positiveInt(), 'Units of the pool one replica holds (accelerators for ai pools).'),
    throughput: ThroughputSchema,
    latency: doc(
      z.strictObject({
        objectiveMs: doc(positiveNumber(), 'Round trip from the user region to the site plus service time must be at most this, ms.'),
        percentile: doc(between(50, 100), 'The percentile the objective is stated at, e.g. 95.'),
        serviceTimeMs: doc(nonNegativeNumber(), 'Service time of a replica loaded up to its throughput, at that percentile, ms.'),
      }),
      'The latency objective.',
      'LatencyObjective',
    ),
    coldStart: doc(
      z.strictObject({
        warmUpS: doc(nonNegativeNumber(), 'Seconds a started replica takes before it serves.'),
        energyKWh: doc(nonNegativeNumber(), 'IT energy of one cold start, kWh (before PUE).'),
      }),
      'What starting a replica costs.',
      'ColdStart',
    ),
    minReplicas: doc(
      z
        .strictObject({
          total: doc(nonNegativeInt().optional(), 'Replicas in every slot over all sites. Default 0.'),
          perSite: doc(z.record(idSchema(), nonNegativeInt(), { error: said('must be an object of site id → replicas') }).optional(), 'Replicas in every slot at these sites.'),
        })
        .optional(),
      'Minimum replicas for availability. Default none.',
    ),
    sites: doc(z.array(idSchema(), { error: said('must be a list of site ids') }).min(1, { error: 'must not be empty' }).optional(), 'Sites it may run at. Default: any site with a pool of its class.'),
  }),
  'An inference service.',
  'Service',
);

export const ServicesFileSchema = doc(
  z.strictObject({
    $schema: doc(anyText().optional(), 'Optional link to the JSON Schema, for editors.'),
    $comment: doc(anyText().optional(), 'Optional comment.'),
    version: doc(z.literal(SERVICES_FORMAT_VERSION, { error: said(`must be ${SERVICES_FORMAT_VERSION}`) }), 'Format version.'),
    services: doc(z.array(ServiceSchema, { error: said('must be a list of services') }).min(1, { error: 'must have at least one service' }), 'The services.'),
  }),
  'A Kumul services file, format version 1 (docs/services.md).',
  'ServicesFile',
);

export const DemandFileSchema = doc(
  z.strictObject({
    $schema: doc(anyText().optional(), 'Optional link to the JSON Schema, for editors.'),
    version: doc(z.literal(SERVICES_FORMAT_VERSION, { error: said(`must be ${SERVICES_FORMAT_VERSION}`) }), 'Format version.'),
    start: doc(isoInstant(), 'Start of the first value, an instant with a zone.'),
    slotMinutes: doc(positiveInt().max(1440, { error: 'must be at most 1440 (one day)' }), 'Minutes each value covers.'),
    source: doc(anyText().optional(), 'How the demand was made (kumul demand import writes it).'),
    series: doc(
      z
        .array(
          doc(
            z.strictObject({
              service: idSchema(),
              region: idSchema(),
              requestsPerS: doc(z.array(nonNegativeNumber(), { error: said('must be a list of numbers ≥ 0') }).min(1, { error: 'must not be empty' }), 'Mean requests/s in each slot from start.'),
            }),
            'Demand of one service from one user region.',
            'DemandSeries',
          ),
          { error: said('must be a list of demand series') },
        )
        .min(1, { error: 'must have at least one series' }),
      'Requests/s per service, user region and slot.',
    ),
  }),
  'A Kumul demand file, format version 1 (docs/services.md).',
  'DemandFile',
);

export type DemandFile = z.output<typeof DemandFileSchema>;

/** The services of a services file, checked against the scenario's sites and pools. */
export function readServicesFile(file: string, scenario: Scenario): ServiceSpec[] {
  return servicesFromJson(readScenarioJson(file), scenario, file);
}

export function servicesFromJson(json: unknown, scenario: Pick<Scenario, 'network'>, file: string): ServiceSpec[] {
  const parsed = ServicesFileSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new ServicesFileError(file, issuesFromZod(parsed.error));
  const issues: ScenarioIssue[] = [];
  const sites = new Map(scenario.network.sites.map((s) => [s.id, s]));
  const known = [...sites.keys()].join(', ');
  const seen = new Map<string, number>();
  parsed.data.services.forEach((s, i) => {
    const at = `services[${i}]`;
    if (seen.has(s.id)) issues.push({ path: `${at}.id`, reason: `duplicate service id '${s.id}' (also services[${seen.get(s.id)}].id)` });
    seen.set(s.id, i);
    (s.sites ?? []).forEach((id, k) => {
      if (!sites.has(id)) issues.push({ path: `${at}.sites[${k}]`, reason: `unknown site '${id}'; sites are ${known}` });
    });
    for (const id of Object.keys(s.minReplicas?.perSite ?? {}))
      if (!sites.has(id)) issues.push({ path: `${at}.minReplicas.perSite.${id}`, reason: `unknown site '${id}'; sites are ${known}` });
    const fits = [...sites.values()].some((site) => (s.sites === undefined || s.sites.includes(site.id)) && site.pools.some((p) => p.class === s.poolClass && p.units >= s.unitsPerReplica));
    if (!fits) issues.push({ path: `${at}.unitsPerReplica`, reason: `no allowed site has a ${s.poolClass} pool of ${s.unitsPerReplica} units or more` });
    if (s.latency.serviceTimeMs >= s.latency.objectiveMs)
      issues.push({ path: `${at}.latency.serviceTimeMs`, reason: `must be below objectiveMs (${s.latency.objectiveMs} ms): the network round trip needs some of the budget` });
  });
  if (issues.length > 0) throw new ServicesFileError(file, issues);
  return parsed.data.services.map((s) => ({
    id: s.id,
    model: s.model,
    poolClass: s.poolClass,
    unitsPerReplica: s.unitsPerReplica,
    throughput: s.throughput,
    latency: s.latency,
    coldStart: s.coldStart,
    minReplicas: { total: s.minReplicas?.total ?? 0, perSite: s.minReplicas?.perSite ?? {} },
    sites: s.sites ?? null,
  }));
}

/** The demand of a demand file on the scenario's grid, checked against the services and the scenario's user regions. */
export function readDemandFile(file: string, scenario: Scenario, services: readonly ServiceSpec[]): DemandSeries[] {
  return demandFromJson(readScenarioJson(file), scenario, services, file);
}

export function demandFromJson(json: unknown, scenario: Pick<Scenario, 'id' | 'grid' | 'userRegions'>, services: readonly ServiceSpec[], file: string): DemandSeries[] {
  const parsed = DemandFileSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new ServicesFileError(file, issuesFromZod(parsed.error));
  const d = parsed.data;
  const issues: ScenarioIssue[] = [];
  const regions = (scenario.userRegions ?? []).map((r) => r.id);
  const serviceIds = services.map((s) => s.id);
  const pairs = new Map<string, number>();
  const length = d.series[0].requestsPerS.length;
  d.series.forEach((s, i) => {
    const at = `series[${i}]`;
    if (!serviceIds.includes(s.service)) issues.push({ path: `${at}.service`, reason: `unknown service '${s.service}'; the services file has ${serviceIds.join(', ')}` });
    if (!regions.includes(s.region))
      issues.push({ path: `${at}.region`, reason: regions.length === 0 ? `scenario '${scenario.id}' has no userRegions` : `unknown user region '${s.region}'; scenario '${scenario.id}' has ${regions.join(', ')}` });
    const key = `${s.service}|${s.region}`;
    if (pairs.has(key)) issues.push({ path: at, reason: `duplicate series for service '${s.service}' and region '${s.region}' (also series[${pairs.get(key)}])` });
    pairs.set(key, i);
    if (s.requestsPerS.length !== length) issues.push({ path: `${at}.requestsPerS`, reason: `has ${s.requestsPerS.length} values; series[0] has ${length}: every series covers the same slots` });
  });
  // The plan's grid must be a window of the demand's, on its slot boundaries.
  const startMs = parseIsoInstant(d.start) as number;
  const slotMs = d.slotMinutes * 60_000;
  const offset = (scenario.grid.startMs - startMs) / slotMs;
  const iso = (ms: number) => new Date(ms).toISOString();
  if (d.slotMinutes !== scenario.grid.slotMinutes) issues.push({ path: 'slotMinutes', reason: `is ${d.slotMinutes}; the plan's slots are ${scenario.grid.slotMinutes} minutes` });
  else if (!Number.isInteger(offset) || offset < 0 || offset + scenario.grid.slots > length)
    issues.push({
      path: 'start',
      reason: `the demand covers ${iso(startMs)} to ${iso(startMs + length * slotMs)}; the plan needs ${iso(scenario.grid.startMs)} to ${iso(scenario.grid.startMs + scenario.grid.slots * slotMs)} on the demand's slot boundaries`,
    });
  if (issues.length > 0) throw new ServicesFileError(file, issues);
  return d.series.map((s) => ({ service: s.service, region: s.region, requestsPerS: s.requestsPerS.slice(offset, offset + scenario.grid.slots) }));
}
