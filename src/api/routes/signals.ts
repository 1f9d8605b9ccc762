/**
 * Operator routes for live signals: push actuals and forecasts of a site's signal as they arrive, and read them back.
 * Points are stored in the store (not in the scenario document: a push makes no new document version), overlaid on
 * the document's series by every later window of the service (src/service/scenario-state.ts), and the loop is woken
 * to plan on them. A push is all or nothing and idempotent; bad values, units or times are a 400 naming the field
 * (`points[3].value`), or the CSV line for `text/csv` bodies.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { parseCsvSeries } from '../../scenario/csv.ts';
import { ScenarioError } from '../../scenario/errors.ts';
import { SIGNAL_UNITS } from '../../scenario/schema.ts';
import type { ApiDeps } from '../deps.ts';
import { ApiError, fromRefusal, validationError, type FieldError } from '../errors.ts';
import { AUTH_ERRORS, SECURITY, errorResponses, iso } from '../schemas/common.ts';
import { PointsParams, PointsQuery, PointsView, PushBody, PushQuery, PushResult, ownUnit, pushUnits } from '../schemas/signals.ts';

const TAGS = ['network'];
const HOUR_MS = 3_600_000;
const DEFAULT_LIMIT = 10_000;
/** Signals that cannot be negative (prices can). */
const NON_NEGATIVE = new Set(['carbonGPerKWh', 'renewableKW']);

declare module 'fastify' {
  interface FastifyRequest {
    /** For a `text/csv` push: the CSV line of each point, so errors can name it. */
    csvLines?: number[];
  }
}

export const signalRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { ctx, auth }) => {
  // A CSV push is read into the JSON body's shape here, errors naming the line; the body schema then checks both alike.
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (request, text, done) => {
    try {
      const data = parseCsvSeries(String(text), 'time', 'value', 0, { scenarioFile: 'CSV', jsonPath: '', csvName: 'CSV' }, 1);
      const points: { time: string; value: number }[] = [];
      for (let r = 0; r < data.timesMs.length; r++) {
        if (Number.isNaN(data.values[r])) throw validationError([{ field: 'body', message: `CSV line ${data.lines[r]}: no value (leave a row out rather than push it empty)` }]);
        points.push({ time: new Date(data.timesMs[r]).toISOString(), value: data.values[r] });
      }
      request.csvLines = data.lines;
      done(null, { points });
    } catch (err) {
      if (err instanceof ScenarioError) done(validationError(err.issues.map((i) => ({ field: 'body', message: i.reason }))), undefined);
      else done(err as Error, undefined);
    }
  });

  app.post(
    '/v1/sites/:id/signals/:signal/points',
    {
      onRequest: auth.operator,
      schema: {
        summary: "Push actual or forecast points of a site's signal as they arrive (JSON or text/csv time,value): appended, or overwriting by time stamp",
        description:
          'Idempotent: points already stored as given change nothing. Actuals are overwritten by time stamp; forecasts are kept per issue (issuedAt, default now), ' +
          'the latest issue of a time stamp being the forecast. Stored apart from the scenario document (no new version); the next dispatch cycle plans on them. ' +
          'Where no forecast is stored the service falls back on history (docs/service.md, "Live signals").',
        tags: TAGS,
        security: SECURITY,
        params: PointsParams,
        querystring: PushQuery,
        body: PushBody,
        consumes: ['application/json', 'text/csv'],
        response: { 200: PushResult, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND', 'KUMUL_PAYLOAD_TOO_LARGE', 'KUMUL_UNSUPPORTED_MEDIA_TYPE') },
      },
    },
    async (request) => {
      const { id, signal } = request.params;
      const { series } = request.query;
      if (!ctx.network().sites.some((s) => s.id === id)) throw new ApiError('KUMUL_NOT_FOUND', `no site ${id}`);
      const body = request.body;
      const lines = request.csvLines;
      const twice = (['unit', 'issuedAt'] as const).filter((f) => body[f] !== undefined && request.query[f] !== undefined);
      if (twice.length > 0) throw validationError(twice.map((f) => ({ field: f, message: 'given both in the query and in the body: give it once' })));
      const unit = body.unit ?? request.query.unit ?? ownUnit(signal);
      const units = pushUnits(signal);
      if (!units.includes(unit)) throw validationError([{ field: 'unit', message: `must be one of ${units.join(', ')} for ${signal}` }]);
      const issuedMs = body.issuedAt ?? request.query.issuedAt;
      if (issuedMs !== undefined && series === 'actual') throw validationError([{ field: 'issuedAt', message: 'is for forecasts only (actuals are overwritten by time stamp)' }]);
      const factor = (SIGNAL_UNITS[signal] as Record<string, number>)[unit];
      const where = (i: number, field: 'time' | 'value'): ((message: string) => FieldError) =>
        lines ? (message) => ({ field: 'body', message: `CSV line ${lines[i]}: ${field} ${message}` }) : (message) => ({ field: `points[${i}].${field}`, message });
      const problems: FieldError[] = [];
      const seen = new Map<number, number>();
      const points = body.points.map((p, i) => {
        const value = p.value * factor;
        if (NON_NEGATIVE.has(signal) && value < 0) problems.push(where(i, 'value')(`${p.value} ${unit} is negative; ${signal} cannot be`));
        const earlier = seen.get(p.time);
        if (earlier !== undefined) problems.push(where(i, 'time')(`repeats the time of ${lines ? `line ${lines[earlier]}` : `points[${earlier}]`}`));
        seen.set(p.time, i);
        return { timeMs: p.time, value };
      });
      if (problems.length > 0) throw validationError(problems);
      const nowMs = ctx.clock.nowMs();
      const stored = await ctx.store.putSignalPoints({ siteId: id, signal, series, points, ...(issuedMs === undefined ? {} : { issuedMs }) }, nowMs);
      if (!stored.ok) throw fromRefusal(stored);
      if (stored.inserted + stored.updated > 0) {
        await ctx.scenario?.refreshSignals();
        ctx.wake();
      }
      return {
        site: id,
        signal,
        series,
        unit: ownUnit(signal),
        issuedAt: series === 'forecast' ? iso(issuedMs ?? nowMs) : null,
        inserted: stored.inserted,
        updated: stored.updated,
        unchanged: stored.unchanged,
      };
    },
  );

  app.get(
    '/v1/sites/:id/signals/:signal/points',
    {
      onRequest: auth.operator,
      schema: {
        summary: "The pushed points of a site's signal over a range: the current forecast (latest issue), every issue (history=true), or as stored at an instant (asOf)",
        tags: TAGS,
        security: SECURITY,
        params: PointsParams,
        querystring: PointsQuery,
        response: { 200: PointsView, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request) => {
      const { id, signal } = request.params;
      const { series, asOf, history, limit = DEFAULT_LIMIT } = request.query;
      if (!ctx.network().sites.some((s) => s.id === id)) throw new ApiError('KUMUL_NOT_FOUND', `no site ${id}`);
      const nowMs = ctx.clock.nowMs();
      const fromMs = request.query.from ?? nowMs - 24 * HOUR_MS;
      const toMs = request.query.to ?? nowMs + 48 * HOUR_MS;
      if (toMs < fromMs) throw validationError([{ field: 'to', message: 'is before from' }]);
      const read = await ctx.store.signalPoints({ siteId: id, signal, series, fromMs, toMs, limit: limit + 1, ...(asOf === undefined ? {} : { asOfMs: asOf }), ...(history ? { history } : {}) });
      if (!read.ok) throw fromRefusal(read);
      return {
        site: id,
        signal,
        series,
        unit: ownUnit(signal),
        points: read.points.slice(0, limit).map((p) => ({ time: iso(p.timeMs), value: p.value, issuedAt: p.issuedMs === null ? null : iso(p.issuedMs), recordedAt: iso(p.recordedMs) })),
        truncated: read.points.length > limit,
      };
    },
  );
};
