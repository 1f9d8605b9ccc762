/**
 * Building blocks shared by the scenario file schema (schema.ts) and the export document
 * schema (export-schema.ts): primitives with readable error messages, and the network parts
 * (pools, sites, links, assumptions) that both documents describe the same way.
 */
import { z } from 'zod';
import { POOL_CLASSES } from '../core/model/types.ts';
import { parseIsoInstant } from './time.ts';

/** Descriptions and $defs names for the generated JSON Schemas (docs/*.schema.json). */
export const schemaRegistry = z.registry<{ id?: string; description?: string }>();

/** Attaches a description (and optionally a $defs name) to a schema for the JSON Schema. */
export function doc<T extends z.ZodType>(schema: T, description: string, id?: string): T {
  schemaRegistry.add(schema, id === undefined ? { description } : { id, description });
  return schema;
}

/** An error message that says "is required" when the field is missing, else `reason`. */
export function said(reason: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : reason);
}

export const positiveInt = () =>
  z.int({ error: said('must be a positive integer') }).positive({ error: 'must be a positive integer' });
export const nonNegativeInt = () =>
  z.int({ error: said('must be a non-negative integer') }).min(0, { error: 'must be a non-negative integer' });
export const positiveNumber = () =>
  z.number({ error: said('must be a positive number') }).positive({ error: 'must be a positive number' });
export const nonNegativeNumber = () =>
  z.number({ error: said('must be a number ≥ 0') }).min(0, { error: 'must be a number ≥ 0' });
export const anyNumber = () => z.number({ error: said('must be a number') });
export const between = (min: number, max: number) =>
  z
    .number({ error: said(`must be a number from ${min} to ${max}`) })
    .min(min, { error: `must be a number from ${min} to ${max}` })
    .max(max, { error: `must be a number from ${min} to ${max}` });
export const text = () => z.string({ error: said('must be a string') }).min(1, { error: 'must not be empty' });
export const anyText = () => z.string({ error: said('must be a string') });

/** Identifiers of scenarios, sites, pools and power curves. */
export const idSchema = () =>
  doc(
    z
      .string({ error: said('must be a string') })
      .regex(/^[a-z0-9][a-z0-9-]*$/, { error: "must be lower-case letters, digits and '-' (e.g. 'hami', 'hami-ai')" }),
    "Identifier: lower-case letters, digits and '-'.",
  );

export const isoInstant = () =>
  doc(
    z
      .string({ error: said('must be a string') })
      .refine((s) => parseIsoInstant(s) !== null, { error: 'must be an ISO 8601 instant with a time zone, e.g. 2026-06-01T00:00Z' }),
    'ISO 8601 instant with a zone designator, e.g. 2026-06-01T00:00Z.',
  );

export const PowerPointSchema = doc(
  z.strictObject({
    load: doc(between(0, 1), 'Load of the unit, 0 = idle, 1 = full.'),
    powerW: doc(nonNegativeNumber(), 'Power of one unit at that load, W, IT side (before PUE).'),
  }),
  'One point of a per-unit power curve.',
  'PowerPoint',
);

export const PowerCurveSchema = doc(
  z
    .array(PowerPointSchema, { error: said('must be a list of {load, powerW} points') })
    .min(2, { error: 'must have at least two points (load 0 and load 1)' })
    .superRefine((points, ctx) => {
      if (points[0].load !== 0) ctx.addIssue({ code: 'custom', path: [0, 'load'], message: 'the power curve must start at load 0' });
      if (points[points.length - 1].load !== 1)
        ctx.addIssue({ code: 'custom', path: [points.length - 1, 'load'], message: 'the power curve must end at load 1' });
      for (let i = 1; i < points.length; i++) {
        if (points[i].load <= points[i - 1].load)
          ctx.addIssue({ code: 'custom', path: [i, 'load'], message: `loads must ascend; ${points[i].load} follows ${points[i - 1].load}` });
        else if (points[i].powerW < points[i - 1].powerW)
          ctx.addIssue({ code: 'custom', path: [i, 'powerW'], message: `power must not fall as load rises; ${points[i].powerW} W follows ${points[i - 1].powerW} W` });
      }
    }),
  'Per-unit power versus load: points with loads ascending from 0 to 1, power not falling; linear between points.',
  'PowerCurve',
);

const PeaksSchema = doc(
  z.strictObject({
    fp64: doc(nonNegativeNumber(), 'Peak fp64 TFLOPS of one node.'),
    fp32: doc(nonNegativeNumber(), 'Peak fp32 TFLOPS of one node.'),
    bf16: doc(nonNegativeNumber(), 'Peak bf16 TFLOPS of one node.'),
  }),
  'Peak compute of one node by precision, TFLOPS.',
  'PeakTflopsPerNode',
);

const SpeedSchema = doc(
  z.strictObject({
    fp64: doc(between(0.01, 100).optional(), 'Speed in fp64 (hpc jobs), against the advertised peak.'),
    fp32: doc(between(0.01, 100).optional(), 'Speed in fp32 (batch and backup jobs), against the advertised peak.'),
    bf16: doc(between(0.01, 100).optional(), 'Speed in bf16 (training and inference jobs), against the advertised peak.'),
  }),
  'Speed against the advertised peak by precision (1 = as advertised; omitted precisions run at 1): a job runs its duration ÷ speed here.',
  'PoolSpeed',
);

const PowerStatesSchema = doc(
  z.strictObject({
    sleepWPerNode: doc(nonNegativeNumber(), 'Power of one sleeping (or soft-off) node, W, IT side.'),
    wakeS: doc(nonNegativeNumber(), 'Time to wake one node, seconds.'),
    wakeKWhPerNode: doc(nonNegativeNumber(), 'Energy of waking one node, kWh, IT side.'),
  }),
  "Low-power state of the pool's nodes: under the sleep power policy, nodes no work holds (beyond a reserve) sleep.",
  'PowerStates',
);

/** Pool fields common to the scenario file and the export (the power curve differs). */
export const poolFields = {
  class: doc(z.enum(POOL_CLASSES, { error: said(`must be one of ${POOL_CLASSES.join(', ')}`) }), 'ai: accelerator servers; general: CPU servers; hpc: supercomputing nodes.'),
  unit: doc(z.enum(['accelerator', 'core', 'node'], { error: said('must be one of accelerator, core, node') }), 'What one unit of capacity is.'),
  units: doc(positiveInt(), 'Capacity in units (accelerators, cores or nodes); a whole number of nodes.'),
  unitsPerNode: doc(positiveInt(), 'Units in one node (1 when unit is node).'),
  peakTflopsPerNode: PeaksSchema,
  speed: SpeedSchema.optional(),
  powerStates: PowerStatesSchema.optional(),
};

export const RenewableTermsSchema = doc(
  z.strictObject({
    priceYuanPerKWh: doc(nonNegativeNumber(), 'Price of renewable energy used, yuan/kWh.'),
    carbonGPerKWh: doc(nonNegativeNumber(), 'Carbon intensity of renewable energy used (lifecycle), gCO2/kWh.'),
  }),
  'Terms of the renewable power available to the site (on-site or contracted); it is used before grid power.',
  'RenewableTerms',
);

/** Site fields common to the scenario file and the export (pools and signals differ). */
export const siteFields = {
  id: idSchema(),
  name: doc(text(), 'Display name.'),
  region: doc(text(), 'Province or region, for data residency and display.'),
  lat: doc(between(-90, 90), 'Latitude, degrees north.'),
  lon: doc(between(-180, 180), 'Longitude, degrees east.'),
  pue: doc(between(1, 5), 'Power usage effectiveness: facility power / IT power.'),
  renewable: RenewableTermsSchema,
};

export const LinkSchema = doc(
  z.strictObject({
    from: doc(idSchema(), 'Site id at one end.'),
    to: doc(idSchema(), 'Site id at the other end (links are bidirectional).'),
    bandwidthGbps: doc(positiveNumber(), 'Bandwidth available to Kumul, Gbit/s.'),
    latencyMs: doc(nonNegativeNumber(), 'One-way latency, ms.'),
    costYuanPerGB: doc(nonNegativeNumber(), 'Cost of moving one GB over the link, yuan.'),
    energyKWhPerGB: doc(nonNegativeNumber(), 'Network energy of moving one GB over the link, kWh.'),
  }),
  'A bidirectional network link between two sites.',
  'Link',
);

export const AssumptionSchema = doc(
  z.strictObject({
    what: doc(text(), 'What is assumed.'),
    value: doc(text(), 'The value used, with units.'),
    reasoning: doc(text(), 'Why, and from which source.'),
  }),
  'A stated assumption where public figures are missing.',
  'Assumption',
);

export const UserRegionSchema = doc(
  z.strictObject({
    id: idSchema(),
    name: doc(text(), 'Display name.'),
    lat: doc(between(-90, 90), 'Latitude, degrees north.'),
    lon: doc(between(-180, 180), 'Longitude, degrees east.'),
    utcOffset: doc(
      z.string({ error: said('must be a string') }).regex(/^[+-]\d{2}:\d{2}$/, { error: "must be a fixed offset such as '+08:00'" }),
      "The region's own time zone as a fixed offset from UTC (China: '+08:00' all year).",
    ),
    populationM: doc(positiveNumber().optional(), 'Residents, millions: splits a total demand among regions (kumul demand import).'),
    access: doc(
      z
        .array(
          doc(
            z.strictObject({
              site: doc(idSchema(), 'Site where the region\'s traffic enters the network.'),
              latencyMs: doc(nonNegativeNumber(), 'One-way latency from the region\'s users to that site, ms.'),
            }),
            'An access link from a user region to a site.',
            'AccessLink',
          ),
          { error: said('must be a list of access links') },
        )
        .min(1, { error: 'must have at least one access link' }),
      "Where the region's traffic enters the site network; round trips to other sites continue over the scenario's links.",
    ),
  }),
  'A region whose users call inference services (docs/services.md).',
  'UserRegion',
);
