/**
 * The Green Software Foundation's Carbon Aware SDK WebAPI (v1) on `kumul serve`, under its own paths and in its own
 * shapes, so that its generated clients, the Kubernetes carbon-intensity exporter and what builds on it can point at
 * Kumul unchanged (docs/carbon-aware-api.md). Locations are Kumul's sites; ratings are marginal carbon intensities
 * (src/service/carbon-aware.ts). Paths, parameters and status codes follow the SDK's
 * src/CarbonAware.WebApi/src/Controllers/CarbonAwareController.cs and LocationsController.cs; its rules are ported in
 * src/api/carbon-aware.ts, its shapes in src/api/schemas/carbon-aware.ts.
 *
 * No API key, like the SDK's WebAPI (its clients send none): the answers are aggregates of the network, as the
 * dashboard's are; the rate limit applies per client address. Errors leave in the SDK's shape (ValidationProblemDetails:
 * `title`, `status`, `detail`, `errors`, `traceId`), not Kumul's: this plugin has its own error handler.
 */
import type { FastifyError, FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Site } from '../../core/model/types.ts';
import { forecastRatings, MAX_RANGE_MS, observedRatings, siteOf, type CarbonAwareSource, type RatedSlot } from '../../service/carbon-aware.ts';
import {
  argumentException,
  averageOverPeriod,
  dotnetInstant,
  dotnetTimeSpan,
  modelValidation,
  optimalPoints,
  processForecast,
  roundRating,
  SdkProblem,
  unknownLocation,
  validateParameters,
  type RatedPoint,
} from '../carbon-aware.ts';
import type { ApiDeps } from '../deps.ts';
import { toApiError } from '../errors.ts';
import {
  AverageQuery,
  CarbonIntensityBatchParametersDTO,
  CarbonIntensityDTO,
  EmissionsData,
  EmissionsDataDTO,
  EmissionsForecastBatchParametersDTO,
  EmissionsForecastDTO,
  EmissionsOneQuery,
  EmissionsQuery,
  ForecastCurrentQuery,
  LocationMap,
  ValidationProblemDetails,
} from '../schemas/carbon-aware.ts';

const TAGS = ['carbon-aware'];
const DAY_MS = 86_400_000;

/** .NET's HttpStatusCode names, the titles the SDK's exception filter gives errors that are not its own. */
const STATUS_TITLE: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  501: 'NotImplemented',
  503: 'ServiceUnavailable',
};

/** A response as the OpenAPI document shows it: its description and its JSON body. */
function answer(description: string, schema: z.ZodType) {
  return { description, content: { 'application/json': { schema } } };
}
/** The error responses a route declares, all in the SDK's shape. */
function problems(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, answer(STATUS_TITLE[s], ValidationProblemDetails)]));
}
/** 204, no body (`type: 'null'` keeps a body out of the OpenAPI document). */
const noContent = (description: string) => ({ 204: z.null().meta({ type: 'null', description: `No Content: ${description}` }) });
const NO_CONTENT = noContent('no observed data for those locations and times');

/** Makes a single `?location=` a list, as ASP.NET binds a string[] parameter (fastify gives arrays only for repeated ones). */
const listLocation: preValidationAsyncHookHandler = async (request) => {
  const query = request.query as Record<string, unknown>;
  if (typeof query.location === 'string') query.location = [query.location];
};

/** Anything thrown while serving a Carbon Aware route, as the SDK would answer it. */
function problemOf(error: unknown, request: FastifyRequest): SdkProblem {
  if (error instanceof SdkProblem) return error;
  const apiError = toApiError(error);
  if (!apiError) {
    request.log.error({ err: error }, 'internal error');
    return new SdkProblem(500, STATUS_TITLE[500], null);
  }
  if (apiError.code === 'KUMUL_VALIDATION') {
    const errors: Record<string, string[]> = {};
    for (const f of apiError.fields ?? []) (errors[f.field] ??= []).push(f.message);
    return modelValidation(errors, apiError.message);
  }
  return new SdkProblem(apiError.statusCode, STATUS_TITLE[apiError.statusCode] ?? 'Error', apiError.message, {}, apiError.headers);
}

/** A slot rated at a site, as the SDK's points carry it (the rating rounded: roundRating). */
function point(site: Site, slot: RatedSlot): RatedPoint {
  return { location: site.id, timeMs: slot.timeMs, durationMs: slot.durationMs, rating: roundRating(slot.ratingGPerKWh) };
}

const emissionsData = (p: RatedPoint): z.input<typeof EmissionsData> => ({ location: p.location, time: dotnetInstant(p.timeMs), rating: p.rating, duration: dotnetTimeSpan(p.durationMs) });
const emissionsDataDto = (p: RatedPoint): z.input<typeof EmissionsDataDTO> => ({ location: p.location, timestamp: dotnetInstant(p.timeMs), duration: Math.round(p.durationMs / 60_000), value: roundRating(p.rating) });

export const carbonAwareRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { ctx, auth }) => {
  // The SDK's WebAPI also takes text/json and application/*+json bodies.
  const json = app.getDefaultJsonParser('error', 'ignore');
  app.addContentTypeParser('text/json', { parseAs: 'string' }, json);
  app.addContentTypeParser(/^application\/[^;\s/]+\+json/, { parseAs: 'string' }, json);
  app.setErrorHandler((error: FastifyError, request, reply: FastifyReply) => {
    const p = problemOf(error, request);
    return reply
      .code(p.status)
      .headers(p.headers)
      .type('application/json; charset=utf-8')
      .send({ title: p.title, status: p.status, detail: p.detail, errors: p.errors, traceId: request.id });
  });

  /** The store, the clock and the stored scenario; 501 without a scenario (tests of other routes). */
  function source(): CarbonAwareSource {
    if (!ctx.scenario) throw new SdkProblem(501, 'NotImplementedException', 'this service keeps no scenario document: it has no signals to rate');
    return { store: ctx.store, nowMs: ctx.clock.nowMs(), scenario: ctx.scenario };
  }
  /** The site a location names, or the SDK's unknown-location error. */
  function site(location: string): Site {
    const found = siteOf(ctx.network(), location);
    if (!found) throw unknownLocation(location);
    return found;
  }

  /** Observed ratings of the locations over [time, toTime) (the slot holding `time` alone; now by default), location by location. */
  async function observed(locations: string[], time: number | undefined, toTime: number | undefined): Promise<RatedPoint[]> {
    validateParameters({ required: { location: locations.length > 0 }, start: { name: 'time', ms: time }, end: { name: 'toTime', ms: toTime }, startRequiredIfEnd: true });
    const sites = locations.map(site);
    const src = source();
    const fromMs = time ?? src.nowMs;
    const toMs = toTime ?? fromMs;
    if (toMs - fromMs > MAX_RANGE_MS) throw argumentException('Invalid parameters', { toTime: [`toTime must be at most ${MAX_RANGE_MS / DAY_MS} days after time`] });
    const out: RatedPoint[] = [];
    for (const s of sites) for (const slot of await observedRatings(src, s, fromMs, toMs)) out.push(point(s, slot));
    return out;
  }

  /** A location's forecast as stored at `asOfMs`, processed as the SDK's ForecastHandler does, in EmissionsForecastDTO's shape. */
  async function forecast(
    location: string,
    asOfMs: number,
    scope: { dataStartMs: number | undefined; dataEndMs: number | undefined; windowMinutes: number | undefined },
  ): Promise<z.input<typeof EmissionsForecastDTO>> {
    const s = site(location);
    if (scope.windowMinutes !== undefined && scope.windowMinutes < 0) throw argumentException('Invalid parameters', { windowSize: ['windowSize must not be negative'] });
    const stored = await forecastRatings(source(), s, asOfMs);
    if (stored.generatedMs === null) {
      throw new SdkProblem(404, STATUS_TITLE[404], `no forecast of location '${location}' was stored as of ${dotnetInstant(asOfMs)} (pushed, or in the scenario document)`);
    }
    const points = stored.points.map((slot) => point(s, slot));
    const { dataStartMs, dataEndMs, forecastData, optimalDataPoints } = processForecast(points, {
      ...(scope.dataStartMs === undefined ? {} : { dataStartMs: scope.dataStartMs }),
      ...(scope.dataEndMs === undefined ? {} : { dataEndMs: scope.dataEndMs }),
      ...(scope.windowMinutes ? { windowMinutes: scope.windowMinutes } : {}),
    });
    return {
      generatedAt: dotnetInstant(stored.generatedMs),
      requestedAt: dotnetInstant(asOfMs),
      location,
      // EmissionsForecastDTO.FromEmissionsForecast: the bounds asked for, else the first and last points' times.
      dataStartAt: dotnetInstant(scope.dataStartMs ?? forecastData[0]?.timeMs ?? dataStartMs),
      dataEndAt: dotnetInstant(scope.dataEndMs ?? forecastData.at(-1)?.timeMs ?? dataEndMs),
      windowSize: scope.windowMinutes || Math.round(points[0].durationMs / 60_000),
      optimalDataPoints: optimalDataPoints.map(emissionsDataDto),
      forecastData: forecastData.map(emissionsDataDto),
    };
  }

  /** The mean observed rating of a location over [startTime, endTime), in CarbonIntensityDTO's shape. */
  async function average(location: string | null | undefined, startMs: number | null | undefined, endMs: number | null | undefined): Promise<z.input<typeof CarbonIntensityDTO>> {
    const start = startMs ?? undefined;
    const end = endMs ?? undefined;
    validateParameters({ required: { location: Boolean(location), startTime: start !== undefined, endTime: end !== undefined }, start: { name: 'startTime', ms: start }, end: { name: 'endTime', ms: end } });
    if (!location || start === undefined || end === undefined) throw new Error('validateParameters let a missing parameter through');
    const s = site(location);
    if (end - start > MAX_RANGE_MS) throw argumentException('Invalid parameters', { endTime: [`endTime must be at most ${MAX_RANGE_MS / DAY_MS} days after startTime`] });
    const points = (await observedRatings(source(), s, start, end)).map((slot) => point(s, slot));
    return { location, startTime: dotnetInstant(start), endTime: dotnetInstant(end), carbonIntensity: roundRating(averageOverPeriod(points, start, end)) };
  }

  const emissionsDescription =
    'Observed ratings per slot: the marginal carbon intensity (gCO2/kWh) a new unit of work saw at the site, from the actual signals. ' +
    'With `time` and `toTime`, every slot overlapping that period; with `time` alone, the slot holding it; with neither, the current slot. ' +
    'Slots that have not started, and slots whose actual carbon or renewables came from the fallback, have no observed rating; 204 when no slot has one.';

  app.get(
    '/emissions/bylocation',
    {
      onRequest: auth.anonymous,
      schema: {
        summary: 'Carbon Aware SDK: observed ratings of one location over a period',
        description: emissionsDescription,
        tags: TAGS,
        querystring: EmissionsOneQuery,
        response: { 200: answer('Success', EmissionsData.array()), ...NO_CONTENT, ...problems(400, 429, 500, 501) },
      },
    },
    async (request, reply) => {
      const { location, time, toTime } = request.query;
      if (!location) throw modelValidation({ location: ['The location field is required.'] });
      const data = await observed([location], time, toTime);
      return data.length > 0 ? data.map(emissionsData) : reply.code(204).send(null);
    },
  );

  app.get(
    '/emissions/bylocations',
    {
      onRequest: auth.anonymous,
      preValidation: listLocation,
      schema: {
        summary: 'Carbon Aware SDK: observed ratings of several locations over a period',
        description: emissionsDescription,
        tags: TAGS,
        querystring: EmissionsQuery,
        response: { 200: answer('Success', EmissionsData.array()), ...NO_CONTENT, ...problems(400, 429, 500, 501) },
      },
    },
    async (request, reply) => {
      const data = await observed(request.query.location, request.query.time, request.query.toTime);
      return data.length > 0 ? data.map(emissionsData) : reply.code(204).send(null);
    },
  );

  app.get(
    '/emissions/bylocations/best',
    {
      onRequest: auth.anonymous,
      preValidation: listLocation,
      schema: {
        summary: 'Carbon Aware SDK: the best (lowest) observed ratings among several locations over a period',
        description: `${emissionsDescription} Of those, every point with the lowest rating.`,
        tags: TAGS,
        querystring: EmissionsQuery,
        response: { 200: answer('Success', EmissionsData.array()), ...NO_CONTENT, ...problems(400, 429, 500, 501) },
      },
    },
    async (request, reply) => {
      const best = optimalPoints(await observed(request.query.location, request.query.time, request.query.toTime));
      return best.length > 0 ? best.map(emissionsData) : reply.code(204).send(null);
    },
  );

  const forecastDescription =
    "Forecast ratings per slot, from the forecasts stored for the site (pushed points over the scenario document's series; never the fallback), " +
    "from the slot holding the instant over the dispatch loop's horizon, scoped by dataStartAt and dataEndAt, averaged over windows of windowSize minutes; " +
    'optimalDataPoints are the windows with the lowest rating. 404 when no forecast is stored for the location.';

  app.get(
    '/emissions/forecasts/current',
    {
      onRequest: auth.anonymous,
      preValidation: listLocation,
      schema: {
        summary: 'Carbon Aware SDK: the current forecast of each location and its optimal windows',
        description: `${forecastDescription} The current forecast is the forecast as stored now.`,
        tags: TAGS,
        querystring: ForecastCurrentQuery,
        response: { 200: answer('The forecasts asked for', EmissionsForecastDTO.array()), ...problems(400, 404, 429, 500, 501) },
      },
    },
    async (request) => {
      const { location, dataStartAt, dataEndAt, windowSize } = request.query;
      validateParameters({ required: { location: location.length > 0 }, start: { name: 'dataStartAt', ms: dataStartAt }, end: { name: 'dataEndAt', ms: dataEndAt } });
      const nowMs = ctx.clock.nowMs();
      const out = [];
      for (const l of location) out.push(await forecast(l, nowMs, { dataStartMs: dataStartAt, dataEndMs: dataEndAt, windowMinutes: windowSize }));
      return out;
    },
  );

  app.post(
    '/emissions/forecasts/batch',
    {
      onRequest: auth.anonymous,
      schema: {
        summary: 'Carbon Aware SDK: forecasts as they were stored at past instants (requestedAt), with their optimal windows',
        description: `${forecastDescription} Each item reads the forecast as it was stored at its requestedAt: forecast points pushed with an issue (issuedAt) and recorded by then, over the scenario document version in force then (its series count as issued when that version was stored).`,
        tags: TAGS,
        body: EmissionsForecastBatchParametersDTO.array(),
        consumes: ['application/json', 'text/json', 'application/*+json'],
        response: { 200: answer('The forecasts asked for', EmissionsForecastDTO.array()), ...problems(400, 404, 413, 415, 429, 500, 501) },
      },
    },
    async (request) => {
      const out = [];
      for (const item of request.body) {
        const requestedAt = item.requestedAt ?? undefined;
        const dataStartMs = item.dataStartAt ?? undefined;
        const dataEndMs = item.dataEndAt ?? undefined;
        validateParameters({ required: { location: Boolean(item.location), requestedAt: requestedAt !== undefined }, start: { name: 'dataStartAt', ms: dataStartMs }, end: { name: 'dataEndAt', ms: dataEndMs } });
        if (!item.location || requestedAt === undefined) throw new Error('validateParameters let a missing parameter through');
        out.push(await forecast(item.location, requestedAt, { dataStartMs, dataEndMs, windowMinutes: item.windowSize ?? undefined }));
      }
      return out;
    },
  );

  const averageDescription =
    'The time-weighted mean of the observed ratings (gCO2/kWh) over [startTime, endTime); 400 "Period out of range" when observed ratings do not cover the whole period ' +
    '(a slot not started yet, or one whose actuals came from the fallback).';

  app.get(
    '/emissions/average-carbon-intensity',
    {
      onRequest: auth.anonymous,
      schema: {
        summary: 'Carbon Aware SDK: the mean observed rating of a location over a period',
        description: averageDescription,
        tags: TAGS,
        querystring: AverageQuery,
        response: { 200: answer('The location, the period and its mean rating', CarbonIntensityDTO), ...problems(400, 429, 500, 501) },
      },
    },
    async (request) => average(request.query.location, request.query.startTime, request.query.endTime),
  );

  app.post(
    '/emissions/average-carbon-intensity/batch',
    {
      onRequest: auth.anonymous,
      schema: {
        summary: 'Carbon Aware SDK: the mean observed rating of each location and period asked',
        description: `${averageDescription} One answer per item, in order; any item in error fails the request.`,
        tags: TAGS,
        body: CarbonIntensityBatchParametersDTO.array(),
        consumes: ['application/json', 'text/json', 'application/*+json'],
        response: { 200: answer('One answer per item, in order', CarbonIntensityDTO.array()), ...problems(400, 413, 415, 429, 500, 501) },
      },
    },
    async (request) => {
      const out = [];
      for (const item of request.body) out.push(await average(item.location, item.startTime, item.endTime));
      return out;
    },
  );

  app.get(
    '/locations',
    {
      onRequest: auth.anonymous,
      schema: {
        summary: "Carbon Aware SDK: the locations (Kumul's sites) by name, with their coordinates",
        description: "Each key is a site id, the `location` the other routes take (matched ignoring case); `name` is the site's name.",
        tags: TAGS,
        response: { 200: answer('Success', LocationMap), ...noContent('the network has no sites'), ...problems(429, 500) },
      },
    },
    async (_request, reply) => {
      const sites = ctx.network().sites;
      if (sites.length === 0) return reply.code(204).send(null);
      return Object.fromEntries(sites.map((s) => [s.id, { latitude: s.lat, longitude: s.lon, name: s.name }]));
    },
  );
};
