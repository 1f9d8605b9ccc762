/**
 * Requests and answers of the Carbon Aware SDK WebAPI (v1) routes (routes/carbon-aware.ts), in the SDK's names,
 * casing and field order. Sources in Green-Software-Foundation/carbon-aware-sdk, src/CarbonAware.WebApi/src/:
 * Controllers/CarbonAwareController.cs and LocationsController.cs (paths, parameters, status codes),
 * Models/EmissionsDataForLocationsParametersDTO.cs (`location`, `time`, `toTime`),
 * Models/Parameters.EmissionsForecastCurrentDTO.cs (`location`, `dataStartAt`, `dataEndAt`, `windowSize`),
 * Models/Parameters.EmissionsForecastBatchDTO.cs (`requestedAt`, `location`, `dataStartAt`, `dataEndAt`, `windowSize`),
 * Models/Parameters.CarbonIntensityDTO.cs and CarbonIntensityBatchDTO (`location`, `startTime`, `endTime`),
 * Models/EmissionsDataDTO.cs, EmissionsForecastDTO.cs, CarbonIntensityDTO.cs; the answers of the emissions routes are
 * the SDK's EmissionsData model (`location`, `time`, `rating`, `duration` as a TimeSpan) and /locations its Location
 * (`latitude`, `longitude`, `name`), as in the WebAPI's generated OpenAPI document (swagger.yaml, version 1.0).
 *
 * As in ASP.NET, unknown query parameters and JSON fields are ignored (the schemas are not strict). Instants in the
 * query are read as ASP.NET's model binding reads them (`2022-01-01`, `2022-1-1T04:05:06Z`); in JSON bodies as
 * System.Text.Json does (ISO 8601 with two-digit fields); without a zone they are UTC here (ASP.NET takes the server's
 * zone). Answers write instants as System.Text.Json does: `2022-07-19T14:00:00+00:00`.
 */
import { z } from 'zod';
import { parseInstantMs } from '../../jobs/instant.ts';

/** ASP.NET's DateTimeOffset binding from a query string: a date, or a date and time, fields of one or two digits, zone optional. */
const QUERY_INSTANT = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(\.\d{1,7})?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
/** System.Text.Json's DateTimeOffset: ISO 8601 with two-digit fields, the time (and zone) optional. */
const JSON_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,7})?)?)?(Z|[+-]\d{2}:\d{2})?$/;

/** Epoch ms of an instant in one of the two forms, UTC when it has no zone; null when it is not one (or no such date). */
function instantMs(text: string, form: RegExp): number | null {
  const m = form.exec(text);
  if (!m) return null;
  const two = (v: string | undefined) => (v ?? '0').padStart(2, '0');
  const zone = m[8] === undefined ? 'Z' : m[8].toUpperCase();
  return parseInstantMs(`${m[1]}-${two(m[2])}-${two(m[3])}T${two(m[4])}:${two(m[5])}:${two(m[6])}${m[7] ?? ''}${zone}`);
}

/**
 * The `location` query parameter, repeated for several (`?location=a&location=b`; the route's `listParameter` hook
 * makes a single one a list): the non-empty values, in order.
 */
const LocationNames = z
  .array(z.string())
  .optional()
  .transform((v) => (v ?? []).filter((s) => s !== ''))
  .meta({ description: 'Location names (Kumul site ids, any case: GET /locations); repeat the parameter for several', example: ['hami'] });

/** An instant query parameter, as ASP.NET binds a DateTimeOffset; ASP.NET's message when it cannot. */
function queryInstant(name: string, description: string) {
  return z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text === '') return undefined;
      const ms = instantMs(text.trim(), QUERY_INSTANT);
      if (ms !== null) return ms;
      ctx.issues.push({ code: 'custom', input: text, message: `The value '${text}' is not valid for ${name}.` });
      return z.NEVER;
    })
    .meta({ description, format: 'date-time', example: '2026-06-01T03:00:00Z' });
}

/** An instant in a JSON body, as System.Text.Json reads a DateTimeOffset. */
function bodyInstant(description: string) {
  return z
    .string()
    .transform((text, ctx) => {
      const ms = instantMs(text, JSON_INSTANT);
      if (ms !== null) return ms;
      ctx.issues.push({ code: 'custom', input: text, message: `The JSON value could not be converted to System.DateTimeOffset: ${JSON.stringify(text)} is not an ISO 8601 date and time (two-digit fields)` });
      return z.NEVER;
    })
    .nullish()
    .meta({ description, format: 'date-time', example: '2026-06-01T03:00:00Z' });
}

const WINDOW_SIZE = 'The estimated duration (in minutes) of the workload; default the duration of a single forecast data point (the scenario slot)';
const WindowSizeQuery = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text === '') return undefined;
    if (/^\s*[+-]?\d{1,10}\s*$/.test(text) && Math.abs(Number(text)) <= 2 ** 31 - 1) return Number(text);
    ctx.issues.push({ code: 'custom', input: text, message: `The value '${text}' is not valid for windowSize.` });
    return z.NEVER;
  })
  .meta({ description: WINDOW_SIZE, type: 'integer', example: 60 });

// ---- requests ----

export const EmissionsQuery = z.object({
  location: LocationNames,
  time: queryInstant('time', 'Start of the period (default now); alone, the slot holding it'),
  toTime: queryInstant('toTime', 'End of the period; needs `time`'),
});

export const EmissionsOneQuery = z.object({
  location: z.string().optional().meta({ description: 'Location name (a Kumul site id, any case)', example: 'hami' }),
  time: EmissionsQuery.shape.time,
  toTime: EmissionsQuery.shape.toTime,
});

export const ForecastCurrentQuery = z.object({
  location: LocationNames,
  dataStartAt: queryInstant('dataStartAt', 'Start time boundary of forecasted data points; default the earliest time in the forecast data'),
  dataEndAt: queryInstant('dataEndAt', 'End time boundary of forecasted data points; default the latest time in the forecast data'),
  windowSize: WindowSizeQuery,
});

export const AverageQuery = z.object({
  location: EmissionsOneQuery.shape.location,
  startTime: queryInstant('startTime', 'The time at which the workload and its carbon usage begin'),
  endTime: queryInstant('endTime', 'The time at which the workload and its carbon usage end'),
});

export const EmissionsForecastBatchParametersDTO = z
  .object({
    requestedAt: bodyInstant('The instant the forecast is read as it was stored at (required)'),
    location: z.string().nullish().meta({ description: 'The location of the forecast (required)', example: 'hami' }),
    dataStartAt: bodyInstant('Start time boundary of forecasted data points; default the earliest time in the forecast data'),
    dataEndAt: bodyInstant('End time boundary of forecasted data points; default the latest time in the forecast data'),
    windowSize: z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1).nullish().meta({ description: WINDOW_SIZE, example: 60 }),
  })
  .meta({ id: 'EmissionsForecastBatchParametersDTO' });

export const CarbonIntensityBatchParametersDTO = z
  .object({
    location: z.string().nullish().meta({ description: 'The location name where the workload runs (required)', example: 'hami' }),
    startTime: bodyInstant('The time at which the workload started (required)'),
    endTime: bodyInstant('The time at which the workload ended (required)'),
  })
  .meta({ id: 'CarbonIntensityBatchParametersDTO' });

// ---- answers ----

const DotnetInstant = z.string().meta({ format: 'date-time', example: '2026-06-01T03:00:00+00:00' });

export const EmissionsData = z
  .object({
    location: z.string().meta({ description: 'The site (Kumul site id)' }),
    time: DotnetInstant.meta({ description: 'Start of the slot' }),
    rating: z.number().meta({ description: 'Marginal carbon intensity a new unit of work sees there, gCO2/kWh (docs/carbon-aware-api.md)' }),
    duration: z.string().meta({ format: 'time-span', description: 'Length of the slot, as a .NET TimeSpan (`01:00:00`)', example: '01:00:00' }),
  })
  .meta({ id: 'EmissionsData' });

export const EmissionsDataDTO = z
  .object({
    location: z.string(),
    timestamp: DotnetInstant,
    duration: z.number().int().meta({ description: 'Minutes' }),
    value: z.number().meta({ description: 'gCO2/kWh' }),
  })
  .meta({ id: 'EmissionsDataDTO' });

export const EmissionsForecastDTO = z
  .object({
    generatedAt: DotnetInstant.meta({ description: 'When the forecast was issued: the latest issue of the carbon and renewables forecasts behind it' }),
    requestedAt: DotnetInstant.meta({ description: 'When the forecast was asked for (current), or the instant it is read as stored at (batch)' }),
    location: z.string(),
    dataStartAt: DotnetInstant,
    dataEndAt: DotnetInstant,
    windowSize: z.number().int(),
    optimalDataPoints: z.array(EmissionsDataDTO).meta({ description: 'The points of forecastData with the lowest value' }),
    forecastData: z.array(EmissionsDataDTO).meta({ description: 'The forecast points in the scope, averaged over windowSize' }),
  })
  .meta({ id: 'EmissionsForecastDTO' });

export const CarbonIntensityDTO = z
  .object({
    location: z.string(),
    startTime: DotnetInstant,
    endTime: DotnetInstant,
    carbonIntensity: z.number().meta({ description: 'Time-weighted mean of the observed ratings over the period, gCO2/kWh' }),
  })
  .meta({ id: 'CarbonIntensityDTO' });

export const Location = z
  .object({
    latitude: z.number().nullable(),
    longitude: z.number().nullable(),
    name: z.string().nullable(),
  })
  .meta({ id: 'Location' });

export const LocationMap = z.record(z.string(), Location).meta({ description: 'Location name (Kumul site id) → its coordinates and the site name' });

export const ValidationProblemDetails = z
  .object({
    title: z.string(),
    status: z.number().int(),
    detail: z.string().nullable(),
    errors: z.record(z.string(), z.array(z.string())),
    traceId: z.string(),
  })
  .meta({ id: 'ValidationProblemDetails', description: "The SDK's error body (ASP.NET's ValidationProblemDetails): `errors` maps each bad parameter to its messages" });
