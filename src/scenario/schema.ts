/**
 * The scenario file format, version 1 (docs/scenario-format.md): one zod schema that validates
 * files, gives the TypeScript types and generates docs/scenario.schema.json.
 * Cross-references (unknown sites, duplicate ids) are checked after parsing, in refs.ts.
 */
import { z } from 'zod';
import {
  AssumptionSchema,
  LinkSchema,
  PowerCurveSchema,
  anyNumber,
  anyText,
  doc,
  idSchema,
  isoInstant,
  nonNegativeInt,
  nonNegativeNumber,
  poolFields,
  positiveInt,
  positiveNumber,
  said,
  siteFields,
  text,
  UserRegionSchema,
} from './schema-parts.ts';
import { TIME_ZONE_PATTERN, parseClockMinutes } from './time.ts';

export const SCENARIO_FORMAT_VERSION = 1;
export const MAX_SLOTS = 100_000;

/** The three per-site signals and, for each, the units a CSV column may be in (factor to the signal's unit). */
export const SIGNAL_UNITS = {
  priceYuanPerKWh: { 'yuan/kWh': 1, 'yuan/MWh': 0.001 },
  carbonGPerKWh: { 'gCO2/kWh': 1, 'kgCO2/MWh': 1, 'kgCO2/kWh': 1000 },
  renewableKW: { W: 0.001, kW: 1, MW: 1000, GW: 1_000_000, 'fraction-of-peak': 1 },
} as const;
export type SignalName = keyof typeof SIGNAL_UNITS;
export const SIGNAL_NAMES = Object.keys(SIGNAL_UNITS) as SignalName[];

const timeZone = () =>
  doc(
    z.string({ error: said('must be a string') }).regex(TIME_ZONE_PATTERN, { error: "must be 'UTC' or a fixed offset such as '+08:00'" }),
    "Time zone of local times: 'UTC' or a fixed offset such as '+08:00' (no daylight saving).",
  );

const TimeMappingSchema = doc(
  z.discriminatedUnion(
    'kind',
    [
      z.strictObject({ kind: z.literal('exact') }),
      z.strictObject({
        kind: z.literal('repeat-year'),
        dataYear: doc(z.int({ error: said('must be a year') }).min(1900, { error: 'must be a year' }).max(2200, { error: 'must be a year' }), 'The data year every requested year maps to.'),
      }),
      z.strictObject({
        kind: z.literal('repeat-day'),
        dataDay: doc(
          z.string({ error: said('must be a date YYYY-MM-DD') }).refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), { error: 'must be a date YYYY-MM-DD' }),
          'The data day every requested day maps to.',
        ),
      }),
    ],
    { error: said("kind must be 'exact', 'repeat-year' or 'repeat-day'") },
  ),
  'How requested instants map onto the data, in the data time zone: exact; repeat-year (same month, day and time in dataYear); repeat-day (same time of day on dataDay).',
  'TimeMapping',
);

function csvSourceSchema(signal: SignalName) {
  return doc(
    z
      .strictObject({
        source: z.literal('csv'),
        file: doc(text(), 'CSV file, relative to the scenario file.'),
        timeColumn: doc(text(), 'Header of the time column (YYYY-MM-DD HH:MM[:SS], optionally with a zone).'),
        valueColumn: doc(text(), 'Header of the value column.'),
        unit: unitSchema(signal),
        scale: doc(positiveNumber().optional(), 'Multiplier applied after unit conversion; with fraction-of-peak, the peak in kW. Default 1.'),
        timeZone: timeZone(),
        timeLabel: timeLabelSchema(),
        timeMapping: TimeMappingSchema.optional(),
        shiftMinutes: doc(z.int({ error: said('must be an integer') }).optional(), 'Moves the series later by this many minutes (e.g. 4 min per degree of longitude for a solar shape). Default 0.'),
      })
      .superRefine(requirePeakScale),
    'A series read from a CSV file, resolved onto the time grid.',
    `${signal}CsvSource`,
  );
}

/** What a sample's time marks (CSV rows and inline series alike). */
const timeLabelSchema = () =>
  doc(
    z.enum(['interval-start', 'interval-end', 'instant'], { error: said('must be one of interval-start, interval-end, instant') }).optional(),
    'What a row time stamp marks: the start (default) or end of the interval its value averages, or an instant.',
  );

function unitSchema(signal: SignalName) {
  const units = Object.keys(SIGNAL_UNITS[signal]) as [string, ...string[]];
  return doc(z.enum(units, { error: said(`must be one of ${units.join(', ')}`) }), `Unit of the values, converted to ${signal}.`);
}

/** `fraction-of-peak` needs the peak as `scale`; shared by CSV and inline series sources. */
function requirePeakScale(src: { unit: string; scale?: number }, ctx: z.RefinementCtx): void {
  if (src.unit === 'fraction-of-peak' && src.scale === undefined)
    ctx.addIssue({ code: 'custom', path: ['scale'], message: 'is required when unit is fraction-of-peak (the peak in kW)' });
}

/** Inline values kept in the document itself (the operator API stores uploaded CSV signals this way). */
function seriesSourceSchema(signal: SignalName) {
  return doc(
    z
      .strictObject({
        source: z.literal('series'),
        start: doc(isoInstant(), 'Time of the first value.'),
        stepMinutes: doc(positiveInt(), 'Minutes between consecutive values.'),
        values: doc(
          z.array(z.union([anyNumber(), z.null()], { error: said('must be a number or null (missing)') }), { error: said('must be a list of numbers') }).min(2, { error: 'must have at least two values' }),
          'The values, one per step from start; null is a missing value.',
        ),
        unit: unitSchema(signal),
        scale: doc(positiveNumber().optional(), 'Multiplier applied after unit conversion; with fraction-of-peak, the peak in kW. Default 1.'),
        timeLabel: timeLabelSchema(),
      })
      .superRefine(requirePeakScale),
    'A series of values at a fixed step, kept inline in the scenario, resolved onto the time grid like a CSV column.',
    `${signal}SeriesSource`,
  );
}

const ConstantSourceSchema = doc(
  z.strictObject({ source: z.literal('constant'), value: doc(anyNumber(), "The value in every slot, in the signal's unit.") }),
  'The same value in every slot.',
  'ConstantSource',
);

const TouPeriodSchema = z.strictObject({
  from: doc(anyText().refine((s) => parseClockMinutes(s) !== null, { error: 'must be a local time HH:MM' }), 'Local start time HH:MM (inclusive).'),
  to: doc(anyText().refine((s) => parseClockMinutes(s) !== null, { error: 'must be a local time HH:MM (24:00 for the end of the day)' }), 'Local end time HH:MM (exclusive; 24:00 ends the day).'),
  tier: doc(text(), 'Name of a tier in pricesYuanPerKWh.'),
});

export const TimeOfUseSchema = doc(
  z
    .strictObject({
      source: z.literal('time-of-use'),
      timeZone: timeZone(),
      pricesYuanPerKWh: doc(z.record(z.string(), nonNegativeNumber(), { error: said('must be an object of tier prices') }), 'Price of each tier (e.g. peak, flat, valley), yuan/kWh.'),
      periods: doc(z.array(TouPeriodSchema, { error: said('must be a list of periods') }).min(1, { error: 'must not be empty' }), 'Daily periods in local time, in order, covering 00:00 to 24:00 without gaps or overlaps.'),
    })
    .superRefine((tou, ctx) => {
      let expected = 0;
      tou.periods.forEach((p, i) => {
        const from = parseClockMinutes(p.from) as number;
        const to = parseClockMinutes(p.to) as number;
        if (from !== expected)
          ctx.addIssue({ code: 'custom', path: ['periods', i, 'from'], message: `periods must cover the day in order without gaps or overlaps; expected ${clock(expected)}, found ${p.from}` });
        if (to <= from) ctx.addIssue({ code: 'custom', path: ['periods', i, 'to'], message: `must be after from (${p.from}); split periods that cross midnight` });
        if (!(p.tier in tou.pricesYuanPerKWh))
          ctx.addIssue({ code: 'custom', path: ['periods', i, 'tier'], message: `unknown tier '${p.tier}'; tiers are ${Object.keys(tou.pricesYuanPerKWh).join(', ')}` });
        expected = to;
      });
      if (expected !== 1440) ctx.addIssue({ code: 'custom', path: ['periods', tou.periods.length - 1, 'to'], message: 'the last period must end at 24:00' });
    }),
  'A daily time-of-use tariff in local time (price only).',
  'TimeOfUseSource',
);

function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

export const NoiseSchema = doc(
  z.strictObject({
    source: z.literal('actual-plus-noise'),
    sigmaPercentOfMean: doc(nonNegativeNumber(), 'Standard deviation of the Gaussian noise, % of the mean of the actual series over the period.'),
    seed: doc(nonNegativeInt(), 'Seed of the noise; the same seed gives the same forecast.'),
  }),
  'A forecast made from the actual series plus seeded Gaussian noise, independent per slot.',
  'ActualPlusNoise',
);

const SOURCE_KINDS_MESSAGE = "source must be 'csv', 'constant', 'series'";
function sourceSchema(signal: SignalName) {
  const options = [csvSourceSchema(signal), seriesSourceSchema(signal), ConstantSourceSchema] as const;
  const allowed = signal === 'priceYuanPerKWh' ? `${SOURCE_KINDS_MESSAGE} or 'time-of-use'` : `${SOURCE_KINDS_MESSAGE} (time-of-use is for priceYuanPerKWh only)`;
  const source =
    signal === 'priceYuanPerKWh'
      ? z.discriminatedUnion('source', [...options, TimeOfUseSchema], { error: said(allowed) })
      : z.discriminatedUnion('source', [...options], { error: said(allowed) });
  const forecastSource =
    signal === 'priceYuanPerKWh'
      ? z.discriminatedUnion('source', [...options, TimeOfUseSchema, NoiseSchema], { error: said(`${allowed} or 'actual-plus-noise'`) })
      : z.discriminatedUnion('source', [...options, NoiseSchema], { error: said(`${allowed} or 'actual-plus-noise'`) });
  const list = z.array(source, { error: said('must be a source or a list of sources') }).min(1, { error: 'must not be empty' });
  return {
    series: doc(z.union([source, list], { error: said('must be a source or a list of sources') }), 'A source, or a list of sources whose values are added.'),
    forecast: doc(
      z.union([forecastSource, list], { error: said('must be a source or a list of sources') }).optional(),
      'The forecast: its own series, or actual-plus-noise. Omitted: the forecast equals the actual.',
    ),
  };
}

function signalSchema(signal: SignalName, description: string) {
  const { series, forecast } = sourceSchema(signal);
  return doc(z.strictObject({ actual: series, forecast }), description, `${signal}Signal`);
}

export const SiteSignalsSpecSchema = doc(
  z.strictObject({
    priceYuanPerKWh: signalSchema('priceYuanPerKWh', 'Grid electricity price, yuan/kWh.'),
    carbonGPerKWh: signalSchema('carbonGPerKWh', 'Grid carbon intensity, gCO2/kWh.'),
    renewableKW: signalSchema('renewableKW', 'Renewable power available to the site, kW (facility side); negative values are clipped to 0.'),
  }),
  'Energy signals of one site; forecasts drive plans, actuals drive accounting.',
  'SiteSignals',
);

export const PoolSpecSchema = doc(
  z.strictObject({
    id: doc(idSchema().optional(), 'Pool id, unique in the scenario. Default: <site id>-<class>.'),
    ...poolFields,
    powerCurve: doc(
      z.union([idSchema(), PowerCurveSchema], { error: said('must be the name of a curve in powerCurves or a list of {load, powerW} points') }),
      'Per-unit power curve (IT side), or the name of one in powerCurves.',
    ),
  }),
  'A pool: identical nodes of one class at one site.',
  'Pool',
);

export const SiteSpecSchema = doc(
  z.strictObject({
    ...siteFields,
    pools: doc(z.array(PoolSpecSchema, { error: said('must be a list of pools') }), 'At most one pool of each class.'),
    signals: SiteSignalsSpecSchema,
  }),
  'A computing centre.',
  'Site',
);

export const PeriodSchema = doc(
  z.strictObject({
    start: isoInstant(),
    slots: doc(positiveInt().max(MAX_SLOTS, { error: `must be at most ${MAX_SLOTS}` }), 'Number of slots.'),
    slotMinutes: doc(positiveInt().max(1440, { error: 'must be at most 1440 (one day)' }), 'Length of a slot, minutes.'),
  }),
  'A time grid: slots of slotMinutes from start (UTC).',
  'Period',
);

/** Optional user regions (inference services' users); shared by the scenario file and the export. */
export const userRegionsSchema = () =>
  doc(
    z.array(UserRegionSchema, { error: said('must be a list of user regions') }).optional(),
    'Regions whose users call inference services, with their access links to sites (docs/services.md). Optional.',
  );

export const ScenarioFileSchema = doc(
  z.strictObject({
    $schema: doc(anyText().optional(), 'Optional link to the JSON Schema, for editors.'),
    $comment: doc(anyText().optional(), 'Optional comment.'),
    version: doc(z.literal(SCENARIO_FORMAT_VERSION, { error: said(`must be ${SCENARIO_FORMAT_VERSION} (the format version this program reads)`) }), 'Format version.'),
    id: idSchema(),
    name: doc(text(), 'Display name.'),
    description: doc(anyText(), 'What the scenario is and where its facts come from.'),
    period: PeriodSchema,
    powerCurves: doc(z.record(idSchema(), PowerCurveSchema, { error: said('must be an object of named power curves') }).optional(), 'Named power curves that pools can refer to.'),
    sites: doc(z.array(SiteSpecSchema, { error: said('must be a list of sites') }).min(1, { error: 'must have at least one site' }), 'The computing centres.'),
    links: doc(z.array(LinkSchema, { error: said('must be a list of links') }), 'Network links; at most one per pair of sites.'),
    userRegions: userRegionsSchema(),
    assumptions: doc(z.array(AssumptionSchema, { error: said('must be a list of assumptions') }), 'Stated assumptions.'),
  }),
  'A Kumul scenario file, format version 1.',
  'ScenarioFile',
);

export type ScenarioFile = z.output<typeof ScenarioFileSchema>;
export type SiteSpec = ScenarioFile['sites'][number];
export type PoolSpec = SiteSpec['pools'][number];
export type SignalSpec = SiteSpec['signals'][SignalName];
export type SeriesSpec = SignalSpec['actual'];
export type SourceSpec = Exclude<SeriesSpec, unknown[]>;
export type ForecastSpec = NonNullable<SignalSpec['forecast']>;
export type CsvSourceSpec = Extract<SourceSpec, { source: 'csv' }>;
export type SeriesSourceSpec = Extract<SourceSpec, { source: 'series' }>;
export type TimeOfUseSpec = z.output<typeof TimeOfUseSchema>;
export type NoiseSpec = z.output<typeof NoiseSchema>;
export type PeriodSpec = z.output<typeof PeriodSchema>;
