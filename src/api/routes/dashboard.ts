/**
 * The web dashboard's routes, no API key (aggregates only, never a tenant's data): the network now, one site's
 * energy over time, the savings against asap-origin (computed in src/service/dashboard.ts), and `GET /v1/events`,
 * the live stream of dispatch-loop ticks as server-sent events (from ctx.live, src/service/live-events.ts).
 * Without a scenario document (tests of other routes) the views answer 404; without live events, so does the stream.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ScenarioError } from '../../scenario/index.ts';
import { networkNow, savings, siteEnergy, unplacedSummary, type DashboardSource } from '../../service/dashboard.ts';
import { ALWAYS_ON } from '../../core/energy/idle.ts';
import type { ApiDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { errorResponses } from '../schemas/common.ts';
import { EnergyParams, EnergyQuery, EnergyView, NetworkView, SavingsQuery, SavingsView, TickEvent, UnplacedSummaryView } from '../schemas/dashboard.ts';

const TAGS = ['dashboard'];
const DEFAULT_HOURS_BACK = 24;
const DEFAULT_HOURS_AHEAD = 48;

export const dashboardRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { ctx, auth }) => {
  /** The store, the clock's instant and the stored scenario's windows; 404 when the service keeps no scenario. */
  function source(): DashboardSource {
    const scenario = ctx.scenario;
    if (!scenario) throw new ApiError('KUMUL_NOT_FOUND', 'this service keeps no scenario document');
    return { store: ctx.store, nowMs: ctx.clock.nowMs(), slotMinutes: scenario.slotMinutes, window: (startMs, slots) => scenario.window(startMs, slots), outages: ctx.outages?.() ?? [], power: ctx.power ?? ALWAYS_ON, backupLoads: async () => (await ctx.store.backupLinkLoads())?.loads ?? [] };
  }

  app.get(
    '/v1/dashboard/network',
    {
      onRequest: auth.anonymous,
      schema: {
        summary: 'The network now: per site its pools’ busy units, utilisation, demand, renewables and signals; per link the transfers in progress',
        tags: TAGS,
        response: { 200: NetworkView, ...errorResponses('KUMUL_NOT_FOUND', 'KUMUL_RATE_LIMITED', 'KUMUL_UNAVAILABLE', 'KUMUL_INTERNAL') },
      },
    },
    async () => {
      try {
        return await networkNow(source());
      } catch (error) {
        // Windows never fail for lack of data (pushed points and the fallback fill in); a source that cannot be read
        // any more (a CSV file gone) can: nothing can be shown until the document is mended.
        if (!(error instanceof ScenarioError)) throw error;
        throw new ApiError('KUMUL_UNAVAILABLE', `the scenario's signals cannot be read: ${error.issues[0]?.reason ?? error.message}`);
      }
    },
  );

  app.get(
    '/v1/dashboard/unplaced',
    {
      onRequest: auth.anonymous,
      schema: {
        summary: 'Why waiting jobs have no place: how many submitted jobs the last dispatch cycle could not place, by reason code (every tenant, no job ids)',
        tags: TAGS,
        response: { 200: UnplacedSummaryView, ...errorResponses('KUMUL_RATE_LIMITED', 'KUMUL_INTERNAL') },
      },
    },
    async () => unplacedSummary(ctx.store, ctx.clock.nowMs()),
  );

  app.get(
    '/v1/dashboard/energy/:siteId',
    {
      onRequest: auth.anonymous,
      schema: {
        summary: 'One site’s energy per slot: forecast and actual renewables, price and carbon, and the demand of finished and planned work',
        description: `From the slot hoursBack (default ${DEFAULT_HOURS_BACK}) before now to the end of the slot hoursAhead (default ${DEFAULT_HOURS_AHEAD}) after; actuals are null for slots that start after now. Slots where no data is stored take the documented fallback, marked per slot (forecastFallback, actualFallback) and named in signalNotes.`,
        tags: TAGS,
        params: EnergyParams,
        querystring: EnergyQuery,
        response: { 200: EnergyView, ...errorResponses('KUMUL_VALIDATION', 'KUMUL_NOT_FOUND', 'KUMUL_RATE_LIMITED', 'KUMUL_UNAVAILABLE', 'KUMUL_INTERNAL') },
      },
    },
    async (request) => {
      const src = source();
      const { siteId } = request.params;
      const hoursBack = request.query.hoursBack ?? DEFAULT_HOURS_BACK;
      const hoursAhead = request.query.hoursAhead ?? DEFAULT_HOURS_AHEAD;
      if (!ctx.network().sites.some((s) => s.id === siteId)) throw new ApiError('KUMUL_NOT_FOUND', `no site ${siteId}`);
      let view;
      try {
        view = await siteEnergy(src, siteId, hoursBack, hoursAhead);
      } catch (error) {
        if (!(error instanceof ScenarioError)) throw error;
        throw new ApiError('KUMUL_UNAVAILABLE', `the scenario's signals cannot be read: ${error.issues[0]?.reason ?? error.message}`);
      }
      if (!view) throw new ApiError('KUMUL_NOT_FOUND', `no site ${siteId}`);
      return view;
    },
  );

  app.get(
    '/v1/dashboard/savings',
    {
      onRequest: auth.anonymous,
      schema: {
        summary: 'Finished runs per hour or day against the carbon-agnostic baseline asap-origin, and the totals saved',
        description: 'Each run is compared with the same work at its origin as soon as released, priced with the actual signals (docs/api.md states the approximations). Runs without a baseline are counted apart.',
        tags: TAGS,
        querystring: SavingsQuery,
        response: { 200: SavingsView, ...errorResponses('KUMUL_VALIDATION', 'KUMUL_RATE_LIMITED', 'KUMUL_INTERNAL') },
      },
    },
    async (request) => savings(ctx.store, request.query.bucket ?? 'day'),
  );

  /** Open event streams, ended when the app closes (a stream never ends on its own, so the server would wait for it). */
  const streams = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const end of [...streams]) end();
    done();
  });

  app.get(
    '/v1/events',
    {
      onRequest: auth.anonymous,
      schema: {
        summary: 'Live events as server-sent events (text/event-stream): `event: tick` after each dispatch-loop tick',
        description:
          'Each tick is `event: tick` with `data:` a TickEvent JSON object; a comment line (`: heartbeat`) keeps the connection open every 15 s. ' +
          'At most 100 streams at once per instance: beyond, 503 KUMUL_UNAVAILABLE with Retry-After.',
        tags: TAGS,
        response: {
          200: { description: 'The event stream; each `data:` is a TickEvent', content: { 'text/event-stream': { schema: TickEvent } } },
          ...errorResponses('KUMUL_NOT_FOUND', 'KUMUL_RATE_LIMITED', 'KUMUL_UNAVAILABLE'),
        },
      },
    },
    async (request, reply) => {
      const live = ctx.live;
      if (!live) throw new ApiError('KUMUL_NOT_FOUND', 'this service publishes no live events');
      const res: ServerResponse = reply.raw;
      let end = () => {};
      const unsubscribe = live.subscribe((event) => {
        if (res.writableEnded || res.destroyed) return end();
        res.write(`event: ${event.name}\ndata: ${JSON.stringify(TickEvent.parse(event.data))}\n\n`);
      });
      if (!unsubscribe) {
        throw new ApiError('KUMUL_UNAVAILABLE', `${live.maxSubscribers} event streams are open, the most this instance serves; try again later`, undefined, {
          'retry-after': String(Math.ceil(live.heartbeatMs / 1000)),
        });
      }
      reply.hijack();
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': connected\n\n');
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), live.heartbeatMs);
      end = () => {
        clearInterval(heartbeat);
        unsubscribe();
        streams.delete(end);
        if (!res.writableEnded) res.end();
      };
      streams.add(end);
      res.on('close', end);
      request.log.debug({ subscribers: live.size }, 'event stream opened');
      return reply;
    },
  );
};

