/**
 * Bodies and answers of the operator's signal push routes (routes/signals.ts): points of one site's signal and series
 * as they arrive, in JSON `{ points: [{ time, value }], unit?, issuedAt? }` or a `time,value` CSV (turned into the same
 * shape by the route's CSV parser), and the points read back over a range.
 */
import { z } from 'zod';
import { SIGNAL_NAMES, SIGNAL_UNITS, type SignalName } from '../../scenario/schema.ts';
import { MAX_POINTS_PER_PUSH } from '../../store/signal-points.ts';
import { Instant, InstantInput } from './common.ts';

/** Units a push may use for a signal: the scenario format's, except fraction-of-peak (which needs the peak as a scale). */
export function pushUnits(signal: SignalName): string[] {
  return Object.keys(SIGNAL_UNITS[signal]).filter((u) => u !== 'fraction-of-peak');
}

/** The signal's own unit (the one its values are stored in): yuan/kWh, gCO2/kWh, kW. */
export function ownUnit(signal: SignalName): string {
  return { priceYuanPerKWh: 'yuan/kWh', carbonGPerKWh: 'gCO2/kWh', renewableKW: 'kW' }[signal];
}

export const PointsParams = z.strictObject({
  id: z.string().min(1).max(128).meta({ description: 'Site id' }),
  signal: z.enum(SIGNAL_NAMES, { error: `must be one of ${SIGNAL_NAMES.join(', ')}` }),
});

const Series = z.enum(['actual', 'forecast'], { error: 'must be actual or forecast' });

export const PushQuery = z.strictObject({
  series: Series.default('actual').meta({ description: 'Which series the points are: actual (metering) or forecast (plans)' }),
  unit: z.string().optional().meta({ description: "Unit of the values (CSV bodies; JSON bodies may say it in the body). Default the signal's own: yuan/kWh, gCO2/kWh, kW" }),
  issuedAt: InstantInput.optional().meta({ description: 'Forecasts only (CSV bodies; JSON bodies may say it in the body): when the forecast was issued; default now on the service clock' }),
});

export const PushPoint = z.strictObject({
  time: InstantInput.meta({ description: 'Start of the interval the value averages (ISO 8601 with Z or an offset)' }),
  value: z.number({ error: 'must be a number' }).meta({ description: 'The value, in `unit`' }),
});

export const PushBody = z
  .strictObject({
    points: z.array(PushPoint).min(1, { error: 'must have at least one point' }).max(MAX_POINTS_PER_PUSH, { error: `at most ${MAX_POINTS_PER_PUSH} points a push` }),
    unit: z.string().optional().meta({ description: "Unit of the values; default the signal's own (yuan/kWh, gCO2/kWh, kW)" }),
    issuedAt: InstantInput.optional().meta({ description: 'Forecasts only: when the forecast was issued; default now on the service clock' }),
  })
  .meta({
    description:
      'application/json as here, or text/csv with a header `time,value` and one row per point (ISO instants; without a zone, UTC), with `unit` and `issuedAt` in the query',
  });

export const PushResult = z.object({
  site: z.string(),
  signal: z.enum(SIGNAL_NAMES),
  series: Series,
  unit: z.string().meta({ description: "The signal's own unit, in which the values were stored" }),
  issuedAt: Instant.nullable().meta({ description: 'The forecast issue the points were stored under; null for actuals' }),
  inserted: z.number().int().meta({ description: 'New points (or new forecast issues of a time stamp)' }),
  updated: z.number().int().meta({ description: 'Points whose stored value changed (actuals, or the same forecast issue)' }),
  unchanged: z.number().int().meta({ description: 'Points already stored as given (a forecast point equal to the current forecast of its time stamp adds no issue)' }),
});

const BooleanText = z.enum(['true', 'false']).transform((v) => v === 'true');

export const PointsQuery = z.strictObject({
  series: Series.default('actual'),
  from: InstantInput.optional().meta({ description: 'First time stamp (inclusive); default 24 h before now' }),
  to: InstantInput.optional().meta({ description: 'End of the range (exclusive); default 48 h after now' }),
  asOf: InstantInput.optional().meta({ description: 'Forecasts as they were stored at this instant (the issues issued and recorded by then); actuals keep no history' }),
  history: BooleanText.optional().meta({ description: 'true: every forecast issue of each time stamp, not only the latest' }),
  limit: z
    .string()
    .regex(/^[0-9]{1,6}$/, 'not a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(100_000))
    .optional()
    .meta({ description: 'At most this many points, earliest first (default 10000, at most 100000)' }),
});

export const PointsView = z.object({
  site: z.string(),
  signal: z.enum(SIGNAL_NAMES),
  series: Series,
  unit: z.string(),
  points: z.array(
    z.object({
      time: Instant,
      value: z.number(),
      issuedAt: Instant.nullable().meta({ description: "The forecast's issue; null for actuals" }),
      recordedAt: Instant.meta({ description: 'When the service stored it' }),
    }),
  ),
  truncated: z.boolean().meta({ description: 'More points matched than `limit`: narrow the range' }),
});
