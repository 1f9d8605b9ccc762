/**
 * Inference services as the API takes and shows them (routes/services.ts, docs/services.md "The service"): the body
 * of POST /v1/services is one entry of a services file (ServiceSchema, the same checks and field names), the body of
 * POST /v1/services/{id}/demand a demand file (DemandFileSchema); the views below are what the routes answer.
 */
import { z } from 'zod';
import type { ServiceSpec } from '../../core/services/model.ts';
import type { ServiceBurst, ServicePlacementSlot, StoredService } from '../../store/port.ts';
import { ServiceSchema } from '../../services/files.ts';
import { Instant, iso } from './common.ts';

export { DemandFileSchema as DemandBody, ServiceSchema as ServiceBody } from '../../services/files.ts';

const PerSite = z.record(z.string(), z.number()).meta({ description: 'By site id' });

export const ServiceView = z
  .object({
    id: z.string(),
    tenant: z.string(),
    status: z.enum(['active', 'deleted']),
    spec: ServiceSchema,
    createdAt: Instant,
    updatedAt: Instant,
    deletedAt: Instant.nullable(),
  })
  .meta({ id: 'ServiceView' });

const RegionNow = z.object({
  demandRps: z.number().meta({ description: 'Forecast demand in the slot, requests/s' }),
  servedRps: z.number().meta({ description: 'Routed to sites within the latency objective, requests/s' }),
  unservedRps: z.number(),
  latencyMs: z.number().nullable().meta({ description: 'Worst round trip + service time over the sites serving it, ms; null when nothing is served' }),
  unservedReason: z.enum(['latency', 'quota', 'capacity']).optional().meta({ description: "Why demand is unserved (only when some is): no site within the objective, the tenant's maxConcurrentUnits (with its batch work), or full pools" }),
  attainmentPct: z.number().meta({ description: 'servedRps / demandRps × 100 (100 without demand)' }),
});

const Route = z.object({ region: z.string(), site: z.string(), requestsPerS: z.number(), weight: z.number() });

/** The body of POST /v1/services/{id}/load: what a load balancer (or the service's gateway) observes now. */
export const LoadBody = z
  .strictObject({
    load: z
      .array(z.strictObject({ region: z.string().meta({ description: 'A user region of the scenario' }), requestsPerS: z.number().min(0).meta({ description: 'Requests/s observed from the region now (e.g. over the last minute)' }) }))
      .min(1)
      .meta({ description: 'One entry per user region; each replaces that region’s last report' }),
  })
  .meta({ id: 'ServiceLoad' });

const BurstReason = z.object({ service: z.string(), site: z.string(), region: z.string(), observedRps: z.number(), forecastRps: z.number() });

export const BurstView = z
  .object({
    active: z.boolean().meta({ description: 'True while replicas beyond the placement run for it' }),
    startedAt: Instant,
    endedAt: Instant.nullable(),
    judgedAt: Instant.meta({ description: 'The last tick that judged it' }),
    regions: z.record(z.string(), z.object({ observedRps: z.number(), forecastRps: z.number() })).meta({ description: 'Load reported (fresh reports) against the placement’s forecast, per region' }),
    extraReplicas: PerSite.meta({ description: 'Replicas run beyond the placement, per site' }),
    routes: z.array(Route).meta({ description: 'The routing over the observed load with the extra replicas' }),
    unservedRps: z.number(),
    unservedReason: z.enum(['units', 'quota']).nullable(),
    preempted: z.array(z.object({ tenant: z.string(), job: z.string(), site: z.string(), pool: z.string(), units: z.number(), at: Instant, reasons: z.array(BurstReason) })).meta({ description: 'Batch runs paused for it, and why' }),
  })
  .meta({ id: 'ServiceBurst' });

export const ServiceDetail = ServiceView.extend({
  current: z
    .object({
      slotStart: Instant,
      plannedAt: Instant.meta({ description: 'When the dispatch cycle that placed this slot ran' }),
      replicas: PerSite.meta({ description: 'Replicas the placement keeps at each site in this slot' }),
      running: PerSite.meta({ description: 'Replica runs started and not stopped at each site now' }),
      routes: z.array(z.object({ region: z.string(), site: z.string(), requestsPerS: z.number(), weight: z.number() })),
      regions: z.record(z.string(), RegionNow),
    })
    .nullable()
    .meta({ description: 'The slot now; null before a dispatch cycle placed the service (or after it was deleted)' }),
  upcoming: z.array(z.object({ slotStart: Instant, replicas: PerSite })).meta({ description: 'Replicas per site in the slots the last cycle placed after this one' }),
  burst: BurstView.nullable().meta({ description: 'The last demand burst over the planned capacity (POST /v1/services/{id}/load) and what it pre-empted; null when none was seen' }),
}).meta({ id: 'ServiceDetail' });

export const RoutingView = z
  .object({
    service: z.string(),
    tenant: z.string(),
    slotStart: Instant,
    validUntil: Instant.meta({ description: 'End of the slot: read the routing again by then' }),
    plannedAt: Instant,
    regions: z.array(
      z.object({
        region: z.string(),
        backends: z.array(z.object({ site: z.string(), weight: z.number().meta({ description: 'Share of the region’s requests to send there, 0 to 1; the weights of a region sum to 1' }) })),
        unservedShare: z.number().meta({ description: 'Share of the region’s forecast demand no site can take within the objective (0 to 1)' }),
      }),
    ),
  })
  .meta({ id: 'ServiceRouting' });

const RegionSlot = z.object({ demandRps: z.number(), servedRps: z.number(), unservedRps: z.number(), latencyMs: z.number().nullable(), unservedReason: z.enum(['latency', 'quota', 'capacity']).optional() });

export const PlacementsView = z
  .object({
    service: z.string(),
    tenant: z.string(),
    now: Instant.meta({ description: "The service's clock" }),
    slotMinutes: z.number().int(),
    replicaRequestsPerS: z.number().meta({ description: 'Requests/s one replica serves within its service time' }),
    regions: z.array(z.object({ id: z.string(), name: z.string(), lat: z.number(), lon: z.number() })).meta({ description: "The scenario's user regions" }),
    slots: z.array(
      z.object({
        slotStart: Instant,
        plannedAt: Instant,
        replicas: PerSite,
        routes: z.array(z.object({ region: z.string(), site: z.string(), requestsPerS: z.number(), weight: z.number() })),
        regions: z.record(z.string(), RegionSlot),
      }),
    ),
  })
  .meta({ id: 'ServicePlacements' });

/** A stored spec in the services file's form (sites null: left out). */
export function specView(spec: ServiceSpec): z.input<typeof ServiceSchema> {
  const { sites, ...rest } = spec;
  return { ...rest, minReplicas: { total: spec.minReplicas.total, perSite: { ...spec.minReplicas.perSite } }, ...(sites === null ? {} : { sites: [...sites] }) };
}

export function toServiceView(s: StoredService): z.input<typeof ServiceView> {
  return { id: s.serviceId, tenant: s.tenantId, status: s.status, spec: specView(s.spec), createdAt: iso(s.createdMs), updatedAt: iso(s.updatedMs), deletedAt: s.deletedMs === null ? null : iso(s.deletedMs) };
}

/** The placement of the slot now with the replicas running, as GET /v1/services/{id} shows it. */
export function currentView(slot: ServicePlacementSlot, running: Record<string, number>): z.input<typeof ServiceDetail>['current'] {
  const regions = Object.fromEntries(
    Object.entries(slot.regions).map(([region, r]) => [region, { ...r, attainmentPct: r.demandRps > 0 ? (Math.min(r.servedRps, r.demandRps) / r.demandRps) * 100 : 100 }]),
  );
  return { slotStart: iso(slot.slotMs), plannedAt: iso(slot.plannedMs), replicas: slot.replicas, running, routes: slot.routes, regions };
}

/** The routing a load balancer reads: per region, the sites and their weights in the slot now. */
export function routingView(s: StoredService, slot: ServicePlacementSlot, slotMs: number, burst: ServiceBurst | null = null): z.input<typeof RoutingView> {
  // While a burst runs extra replicas in this slot, its routing over the observed load (extra sites included) holds.
  const routes = burst?.active && burst.slotMs === slot.slotMs ? burst.routes : slot.routes;
  const regions = Object.entries(slot.regions).map(([region, r]) => ({
    region,
    backends: routes.filter((route) => route.region === region).map((route) => ({ site: route.site, weight: route.weight })),
    unservedShare: r.demandRps > 0 ? Math.max(0, r.unservedRps) / r.demandRps : 0,
  }));
  return { service: s.serviceId, tenant: s.tenantId, slotStart: iso(slot.slotMs), validUntil: iso(slot.slotMs + slotMs), plannedAt: iso(slot.plannedMs), regions: regions.sort((a, b) => (a.region < b.region ? -1 : 1)) };
}

/** A burst as GET /v1/services/{id} shows it. */
export function burstView(b: ServiceBurst): z.input<typeof BurstView> {
  return {
    active: b.active,
    startedAt: iso(b.startedMs),
    endedAt: b.endedMs === null ? null : iso(b.endedMs),
    judgedAt: iso(b.atMs),
    regions: b.regions,
    extraReplicas: b.extraReplicas,
    routes: b.routes,
    unservedRps: b.unservedRps,
    unservedReason: b.unservedReason,
    preempted: b.preempted.map((p) => ({ tenant: p.tenantId, job: p.jobId, site: p.site, pool: p.pool, units: p.units, at: iso(p.atMs), reasons: p.reasons })),
  };
}
