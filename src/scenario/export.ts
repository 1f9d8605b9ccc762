/**
 * The export document: a scenario resolved onto its time grid, as printed by
 * `kumul scenario export` and read back by `loadScenario` (detected by its `format` field).
 * Its schema is docs/scenario-export.schema.json; docs/scenario-format.md describes it.
 */
import { z } from 'zod';
import type { Scenario, SiteSignals } from '../core/model/types.ts';
import { ScenarioError, type ScenarioIssue } from './errors.ts';
import { issuesFromZod } from './issues.ts';
import { networkIssues } from './refs.ts';
import {
  AssumptionSchema,
  LinkSchema,
  PowerCurveSchema,
  anyNumber,
  anyText,
  doc,
  idSchema,
  isoInstant,
  nonNegativeNumber,
  poolFields,
  positiveInt,
  siteFields,
  text,
} from './schema-parts.ts';
import { SCENARIO_FORMAT_VERSION, SIGNAL_NAMES, userRegionsSchema } from './schema.ts';
import { formatIsoMinute, parseIsoInstant } from './time.ts';

export const EXPORT_FORMAT = 'kumul-scenario-export';

const SignalArraysSchema = doc(
  z.strictObject({
    priceYuanPerKWh: doc(z.array(anyNumber()), 'Grid price per slot, yuan/kWh (slot mean).'),
    carbonGPerKWh: doc(z.array(nonNegativeNumber()), 'Grid carbon intensity per slot, gCO2/kWh (slot mean).'),
    renewableKW: doc(z.array(nonNegativeNumber()), 'Renewable power available per slot, kW, facility side (slot mean).'),
  }),
  'Per-slot signal values; every array has `slots` numbers.',
  'SignalArrays',
);

export const ExportSchema = doc(
  z.strictObject({
    format: doc(z.literal(EXPORT_FORMAT), 'Marks an export document.'),
    version: doc(z.literal(SCENARIO_FORMAT_VERSION), 'Format version.'),
    id: idSchema(),
    name: doc(text(), 'Display name.'),
    description: doc(anyText(), 'Description.'),
    start: doc(isoInstant(), 'Start of slot 0, ISO UTC.'),
    slotMinutes: doc(positiveInt(), 'Length of a slot, minutes.'),
    slots: doc(positiveInt(), 'Number of slots.'),
    sites: z.array(
      doc(
        z.strictObject({
          ...siteFields,
          pools: z.array(
            doc(z.strictObject({ id: idSchema(), ...poolFields, powerCurve: PowerCurveSchema }), 'A pool with its power curve inlined.', 'ExportPool'),
          ),
        }),
        'A site with its pools.',
        'ExportSite',
      ),
    ),
    links: z.array(LinkSchema),
    userRegions: userRegionsSchema(),
    signals: doc(
      z.record(z.string(), z.strictObject({ forecast: SignalArraysSchema, actual: SignalArraysSchema })),
      'Per site id: forecast and actual signal arrays.',
    ),
    assumptions: z.array(AssumptionSchema),
  }),
  'A Kumul scenario resolved onto a time grid (output of `kumul scenario export`).',
  'ScenarioExport',
);

export type ScenarioExport = z.output<typeof ExportSchema>;

/** The export document of a resolved scenario. Called by `kumul scenario export` and by tests. */
export function scenarioToExportJson(s: Scenario): ScenarioExport {
  return {
    format: EXPORT_FORMAT,
    version: SCENARIO_FORMAT_VERSION,
    id: s.id,
    name: s.name,
    description: s.description,
    start: formatIsoMinute(s.grid.startMs),
    slotMinutes: s.grid.slotMinutes,
    slots: s.grid.slots,
    sites: s.network.sites.map(({ id, name, region, lat, lon, pue, renewable, pools }) => ({
      id,
      name,
      region,
      lat,
      lon,
      pue,
      renewable: { ...renewable },
      pools: pools.map((p) => ({ ...p })),
    })),
    links: s.network.links.map((l) => ({ ...l })),
    ...(s.userRegions ? { userRegions: s.userRegions.map((r) => ({ ...r, access: r.access.map((a) => ({ ...a })) })) } : {}),
    signals: Object.fromEntries(s.network.sites.map((site) => [site.id, s.signals[site.id]])),
    assumptions: s.assumptions.map((a) => ({ ...a })),
  };
}

/**
 * The scenario of an export document; throws ScenarioError naming `file` and the JSON path
 * of each problem. Called by `loadScenario` for files with `"format": "kumul-scenario-export"`.
 */
export function scenarioFromExportJson(json: unknown, file = '<export document>'): Scenario {
  const parsed = ExportSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new ScenarioError(file, issuesFromZod(parsed.error));
  const doc = parsed.data;
  const issues = [...networkIssues(doc.sites, doc.links, doc.userRegions), ...signalIssues(doc)];
  if (issues.length > 0) throw new ScenarioError(file, issues);
  return {
    id: doc.id,
    name: doc.name,
    description: doc.description,
    network: { sites: doc.sites, links: doc.links },
    grid: { startMs: parseIsoInstant(doc.start) as number, slotMinutes: doc.slotMinutes, slots: doc.slots },
    signals: doc.signals,
    assumptions: doc.assumptions,
    ...(doc.userRegions ? { userRegions: doc.userRegions } : {}),
  };
}

function signalIssues(doc: ScenarioExport): ScenarioIssue[] {
  const issues: ScenarioIssue[] = [];
  const siteIds = new Set(doc.sites.map((s) => s.id));
  for (const id of siteIds) if (!(id in doc.signals)) issues.push({ path: `signals.${id}`, reason: `is required (site '${id}' has no signals)` });
  for (const [id, pair] of Object.entries(doc.signals)) {
    if (!siteIds.has(id)) issues.push({ path: `signals.${id}`, reason: `unknown site '${id}'` });
    for (const kind of ['forecast', 'actual'] as const) {
      for (const name of SIGNAL_NAMES) {
        const values = (pair[kind] as SiteSignals)[name];
        if (values.length !== doc.slots) issues.push({ path: `signals.${id}.${kind}.${name}`, reason: `has ${values.length} values; slots is ${doc.slots}` });
      }
    }
  }
  return issues;
}
