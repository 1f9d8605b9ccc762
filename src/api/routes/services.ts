/**
 * Tenant routes on inference services (issue 12, docs/services.md "The service"): create one (a services file's
 * entry, checked as in files: the same field names and reasons), list, read (replicas per site now, routing,
 * attainment per region), post its demand forecast (a demand file), read its routing in a shape a load balancer reads,
 * delete it (the dispatch loop stops its replicas). The tenant is the key's; an operator sees every tenant's services
 * and may name one with `?tenant=`. A service of another tenant is answered like one that does not exist (404).
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { replicaRequestsPerS, type ServiceSpec } from '../../core/services/model.ts';
import { ServicesFileError, demandFromJson, servicesFromJson } from '../../services/files.ts';
import { parseIsoInstant } from '../../scenario/time.ts';
import type { ScenarioState } from '../../service/scenario-state.ts';
import type { StoredService } from '../../store/port.ts';
import { principalOf, scopeTenantId } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { ApiError, fromRefusal, validationError, type FieldError } from '../errors.ts';
import { queryInt } from '../schemas/dashboard.ts';
import { AUTH_ERRORS, Id, Instant, SECURITY, TenantScope, errorResponses, iso } from '../schemas/common.ts';
import { DemandBody, LoadBody, PlacementsView, RoutingView, ServiceBody, ServiceDetail, ServiceView, burstView, currentView, routingView, toServiceView } from '../schemas/services.ts';

const TAGS = ['services'];
const Params = z.strictObject({ id: Id });
/** Slots of the last placement GET /v1/services/{id} lists after the current one. */
const UPCOMING_SLOTS = 24;

/** The checks of a services or demand file as request fields: `services[0].latency.serviceTimeMs` → `latency.serviceTimeMs`. */
function fieldsOfFile(error: unknown, prefix = ''): FieldError[] {
  if (!(error instanceof ServicesFileError)) throw error;
  return error.issues.map((i) => ({ field: (prefix && i.path.startsWith(prefix) ? i.path.slice(prefix.length) : i.path) || 'body', message: i.reason }));
}

/** The id of the scenario in force, as errors name it. */
function scenarioId(state: ScenarioState): string {
  const id = (state.document.scenario as { id?: unknown }).id;
  return typeof id === 'string' ? id : 'in force';
}

export const serviceRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { ctx, auth }) => {
  const { store, clock } = ctx;

  function scenario(): ScenarioState {
    if (!ctx.scenario) throw new ApiError('KUMUL_NOT_FOUND', 'this service keeps no scenario document: services need its user regions');
    return ctx.scenario;
  }

  async function findService(request: FastifyRequest, id: string, tenant: string | undefined): Promise<StoredService> {
    const service = await store.getService({ tenantId: scopeTenantId(request, tenant), serviceId: id });
    if (!service) throw new ApiError('KUMUL_NOT_FOUND', `no service ${id}`);
    return service;
  }

  /** The field a service's minimum would break the tenant's quota with (as POST /v1/jobs refuses a job that could never run), or null. */
  async function quotaProblem(tenantId: string, spec: ServiceSpec): Promise<FieldError | null> {
    const tenant = await store.getTenant(tenantId);
    const limit = tenant?.maxConcurrentUnits[spec.poolClass] ?? null;
    if (limit === null) return null;
    const perSite = Object.values(spec.minReplicas.perSite).reduce((a, n) => a + n, 0);
    const least = Math.max(spec.minReplicas.total, perSite, 0) * spec.unitsPerReplica;
    if (spec.unitsPerReplica > limit) return { field: 'unitsPerReplica', message: `${spec.unitsPerReplica} units a replica exceed tenant ${tenantId}'s maxConcurrentUnits.${spec.poolClass} (${limit})` };
    if (least > limit) return { field: spec.minReplicas.total * spec.unitsPerReplica === least ? 'minReplicas.total' : 'minReplicas.perSite', message: `the minimum replicas need ${least} units, over tenant ${tenantId}'s maxConcurrentUnits.${spec.poolClass} (${limit})` };
    return null;
  }

  const slotMsNow = () => {
    const slotMs = scenario().slotMinutes * 60_000;
    return { slotMs, startMs: Math.floor(clock.nowMs() / slotMs) * slotMs };
  };

  app.post(
    '/v1/services',
    {
      onRequest: auth.tenant,
      schema: {
        summary: 'Create an inference service: one entry of a services file (docs/services.md)',
        description:
          "Checked as services files are (the same field names and reasons): sites and pools against the service's network. " +
          'The dispatch loop places it from its next cycle, with the demand posted to /v1/services/{id}/demand (none: its minimum replicas only). ' +
          "A service whose minimum replicas need more units than the tenant's maxConcurrentUnits for its pool class is refused (422).",
        tags: TAGS,
        security: SECURITY,
        querystring: TenantScope,
        body: ServiceBody,
        response: { 201: ServiceView, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND', 'KUMUL_CONFLICT', 'KUMUL_PAYLOAD_TOO_LARGE', 'KUMUL_UNSUPPORTED_MEDIA_TYPE', 'KUMUL_QUOTA_EXCEEDED') },
      },
    },
    async (request, reply) => {
      const tenantId = scopeTenantId(request, request.query.tenant);
      scenario();
      let spec;
      try {
        [spec] = servicesFromJson({ version: 1, services: [request.body] }, { network: ctx.network() }, 'body');
      } catch (error) {
        throw validationError(fieldsOfFile(error, 'services[0].'));
      }
      const overQuota = await quotaProblem(tenantId, spec);
      if (overQuota) throw new ApiError('KUMUL_QUOTA_EXCEEDED', overQuota.message, [overQuota]);
      const created = await store.createService(tenantId, spec, clock.nowMs());
      if (!created.ok) throw created.code === 'not-found' ? new ApiError('KUMUL_NOT_FOUND', created.reason) : fromRefusal(created, 'id');
      ctx.wake();
      return reply.code(201).send(toServiceView(created.service));
    },
  );

  app.get(
    '/v1/services',
    {
      onRequest: auth.tenant,
      schema: {
        summary: 'List services by tenant and id',
        description: "A tenant sees its own; an operator sees every tenant's unless ?tenant= names one. Deleted services are listed with ?status=deleted.",
        tags: TAGS,
        security: SECURITY,
        querystring: TenantScope.extend({ status: z.enum(['active', 'deleted']).optional().meta({ description: 'Only services in this state (default: both)' }) }),
        response: { 200: z.object({ services: z.array(ServiceView) }), ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { tenant, status } = request.query;
      const everyone = principalOf(request).tenant.role === 'operator' && tenant === undefined;
      const services = await store.listServices({ ...(everyone ? {} : { tenantId: scopeTenantId(request, tenant) }), ...(status ? { statuses: [status] } : {}) });
      return { services: services.map(toServiceView) };
    },
  );

  app.get(
    '/v1/services/:id',
    {
      onRequest: auth.tenant,
      schema: {
        summary: 'Read a service: its replicas per site now (placed and running), routing, attainment per region, and the replicas of the next slots',
        tags: TAGS,
        security: SECURITY,
        params: Params,
        querystring: TenantScope,
        response: { 200: ServiceDetail, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request) => {
      const service = await findService(request, request.params.id, request.query.tenant);
      const ref = { tenantId: service.tenantId, serviceId: service.serviceId };
      const { slotMs, startMs } = slotMsNow();
      const placed = service.status === 'active' ? await store.servicePlacements(ref, startMs, startMs + (UPCOMING_SLOTS + 1) * slotMs) : [];
      const running: Record<string, number> = {};
      for (const r of await store.replicaRuns({ ...ref, live: true })) if (r.startedMs !== null) running[r.site] = (running[r.site] ?? 0) + 1;
      const now = placed[0]?.slotMs === startMs ? placed[0] : null;
      const burst = await store.serviceBurst(ref);
      return {
        ...toServiceView(service),
        current: now ? currentView(now, running) : null,
        upcoming: placed.filter((s) => s.slotMs > startMs).map((s) => ({ slotStart: iso(s.slotMs), replicas: s.replicas })),
        burst: burst ? burstView(burst) : null,
      };
    },
  );

  app.post(
    '/v1/services/:id/demand',
    {
      onRequest: auth.tenant,
      schema: {
        summary: "Post a service's demand forecast: a demand file (docs/services.md) whose series are this service's",
        description:
          "Requests/s per user region and slot from `start` (a slot boundary, the service's slot length). Values replace those stored for the same region and slot; " +
          'a bad value refuses the whole post. Wakes the dispatch loop.',
        tags: TAGS,
        security: SECURITY,
        params: Params,
        querystring: TenantScope,
        body: DemandBody,
        response: { 200: z.object({ values: z.number().int().meta({ description: 'Region-slot values stored' }) }), ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND', 'KUMUL_PAYLOAD_TOO_LARGE', 'KUMUL_UNSUPPORTED_MEDIA_TYPE') },
      },
    },
    async (request) => {
      const service = await findService(request, request.params.id, request.query.tenant);
      if (service.status !== 'active') throw new ApiError('KUMUL_NOT_FOUND', `no service ${service.serviceId}`);
      const state = scenario();
      const body = request.body;
      const startMs = parseIsoInstant(body.start) as number;
      const slotMs = state.slotMinutes * 60_000;
      if (startMs % slotMs !== 0) throw validationError([{ field: 'start', message: `${body.start} is not on a ${state.slotMinutes}-minute slot boundary` }]);
      const grid = { startMs, slotMinutes: state.slotMinutes, slots: body.series[0].requestsPerS.length };
      let series;
      try {
        series = demandFromJson(body, { id: scenarioId(state), grid, userRegions: state.userRegions() }, [service.spec], 'body');
      } catch (error) {
        throw validationError(fieldsOfFile(error));
      }
      const stored = await store.putServiceDemand(
        { ref: { tenantId: service.tenantId, serviceId: service.serviceId }, slotMinutes: state.slotMinutes, series: series.map((s) => ({ region: s.region, startMs, requestsPerS: s.requestsPerS })) },
        clock.nowMs(),
      );
      if (!stored.ok) throw stored.code === 'not-found' ? new ApiError('KUMUL_NOT_FOUND', stored.reason) : fromRefusal(stored);
      ctx.wake();
      return { values: stored.values };
    },
  );

  app.post(
    '/v1/services/:id/load',
    {
      onRequest: auth.tenant,
      schema: {
        summary: "Report a service's load now: requests/s observed per user region (a load balancer or the service's gateway posts it every minute or so)",
        description:
          "Each region's value replaces its last report. At every tick the dispatch loop compares fresh reports (the last few minutes) with what the replicas of the slot serve " +
          'within the objective; on a shortfall it starts extra replicas (free units first, then units of interruptible batch runs, which pause) and stops them when the load falls back. docs/services.md, "Bursts in the service".',
        tags: TAGS,
        security: SECURITY,
        params: Params,
        querystring: TenantScope,
        body: LoadBody,
        response: { 200: z.object({ regions: z.number().int().meta({ description: 'Regions whose load was stored' }), reportedAt: Instant }), ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND', 'KUMUL_PAYLOAD_TOO_LARGE', 'KUMUL_UNSUPPORTED_MEDIA_TYPE') },
      },
    },
    async (request) => {
      const service = await findService(request, request.params.id, request.query.tenant);
      if (service.status !== 'active') throw new ApiError('KUMUL_NOT_FOUND', `no service ${service.serviceId}`);
      const state = scenario();
      const known = state.userRegions().map((r) => r.id);
      const fields: FieldError[] = [];
      const seen = new Set<string>();
      request.body.load.forEach((l, i) => {
        if (!known.includes(l.region)) fields.push({ field: `load[${i}].region`, message: `unknown user region '${l.region}'; scenario '${scenarioId(state)}' has ${known.join(', ')}` });
        else if (seen.has(l.region)) fields.push({ field: `load[${i}].region`, message: `region '${l.region}' is reported twice` });
        seen.add(l.region);
      });
      if (fields.length > 0) throw validationError(fields);
      const nowMs = clock.nowMs();
      const stored = await store.putServiceLoad({ tenantId: service.tenantId, serviceId: service.serviceId }, request.body.load, nowMs);
      if (!stored.ok) throw stored.code === 'not-found' ? new ApiError('KUMUL_NOT_FOUND', stored.reason) : fromRefusal(stored);
      return { regions: stored.regions, reportedAt: iso(nowMs) };
    },
  );

  app.get(
    '/v1/services/:id/routing',
    {
      onRequest: auth.tenant,
      schema: {
        summary: "A service's routing now: per user region, the sites to send its requests to and their weights (for a load balancer)",
        description: 'Valid until `validUntil` (the end of the slot); 404 before the dispatch loop placed the service. docs/services.md, "Routing for load balancers".',
        tags: TAGS,
        security: SECURITY,
        params: Params,
        querystring: TenantScope,
        response: { 200: RoutingView, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request) => {
      const service = await findService(request, request.params.id, request.query.tenant);
      const { slotMs, startMs } = slotMsNow();
      const [now] = service.status === 'active' ? await store.servicePlacements({ tenantId: service.tenantId, serviceId: service.serviceId }, startMs, startMs + slotMs) : [];
      if (!now) throw new ApiError('KUMUL_NOT_FOUND', `service ${service.serviceId} has no placement for the slot from ${new Date(startMs).toISOString()} yet${service.status === 'deleted' ? ' (deleted)' : ': the dispatch loop places it at its next cycle'}`);
      return routingView(service, now, slotMs, await store.serviceBurst({ tenantId: service.tenantId, serviceId: service.serviceId }));
    },
  );

  app.get(
    '/v1/services/:id/placements',
    {
      onRequest: auth.tenant,
      schema: {
        summary: "A service's placement per slot over a window around now: replicas per site, routing, demand served per region (the dashboard's services view)",
        description: 'Past slots as the last cycle that placed them left them; future ones as the last cycle placed them.',
        tags: TAGS,
        security: SECURITY,
        params: Params,
        querystring: TenantScope.extend({
          hoursBack: queryInt(0, 24 * 14, 'Hours before now (default 24)').optional(),
          hoursAhead: queryInt(1, 24 * 7, 'Hours from now (default 48)').optional(),
        }),
        response: { 200: PlacementsView, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request) => {
      const { tenant, hoursBack = 24, hoursAhead = 48 } = request.query;
      const service = await findService(request, request.params.id, tenant);
      const state = scenario();
      const { startMs } = slotMsNow();
      const slots = await store.servicePlacements({ tenantId: service.tenantId, serviceId: service.serviceId }, startMs - hoursBack * 3_600_000, startMs + hoursAhead * 3_600_000);
      return {
        service: service.serviceId,
        tenant: service.tenantId,
        now: iso(clock.nowMs()),
        slotMinutes: state.slotMinutes,
        replicaRequestsPerS: replicaRequestsPerS(service.spec.throughput),
        regions: state.userRegions().map((r) => ({ id: r.id, name: r.name, lat: r.lat, lon: r.lon })),
        slots: slots.map((s) => ({ slotStart: iso(s.slotMs), plannedAt: iso(s.plannedMs), replicas: s.replicas, routes: s.routes, regions: s.regions })),
      };
    },
  );

  app.delete(
    '/v1/services/:id',
    {
      onRequest: auth.tenant,
      schema: {
        summary: 'Delete a service: the dispatch loop stops its replicas at its next tick',
        description: 'Its metering stays in the bills. Its id may be used again.',
        tags: TAGS,
        security: SECURITY,
        params: Params,
        querystring: TenantScope,
        response: { 200: ServiceView, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request) => {
      const ref = { tenantId: scopeTenantId(request, request.query.tenant), serviceId: request.params.id };
      const deleted = await store.deleteService(ref, clock.nowMs());
      if (!deleted.ok) throw new ApiError('KUMUL_NOT_FOUND', `no service ${ref.serviceId}`);
      ctx.wake();
      return toServiceView(deleted.service);
    },
  );
};
