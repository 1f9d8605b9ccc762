/**
 * Inference services as the dispatcher sees them (issue 12, docs/services.md): a service runs replicas of
 * one model on a pool class and serves the requests of user regions within a latency objective.
 * Pure data and the small pure rules placement and accounting share: a replica's capacity, round trips from
 * user regions to sites, and the convex lower envelope of a power curve that the LP prices energy with.
 * Loaders at the edge (src/services) build these from files.
 */
import type { Network, PoolClass, PowerPoint, UserRegion } from '../model/types.ts';
import { computeRoutes } from '../network/routes.ts';

/** Throughput of one replica at its latency objective: requests/s, or tokens/s (input + output) with a token mix. */
export type Throughput = { requestsPerS: number } | { tokensPerS: number; tokenMix: { inputTokens: number; outputTokens: number } };

/** A long-running inference service. */
export interface ServiceSpec {
  id: string;
  /** The model it serves (display, metering). */
  model: string;
  poolClass: PoolClass;
  /** Units (accelerators) one replica holds. */
  unitsPerReplica: number;
  throughput: Throughput;
  latency: {
    /** Network round trip plus service time must stay within this, ms, at `percentile`. */
    objectiveMs: number;
    /** The percentile the objective is stated at, e.g. 95. */
    percentile: number;
    /** Service time of a replica loaded up to its throughput, at that percentile, ms. */
    serviceTimeMs: number;
  };
  coldStart: {
    /** Seconds a started replica takes before it serves (loading weights). */
    warmUpS: number;
    /** IT energy of one cold start, kWh (before PUE). */
    energyKWh: number;
  };
  minReplicas: {
    /** Replicas that must run in every slot, over all sites. */
    total: number;
    /** Replicas that must run in every slot at a site, by site id. */
    perSite: Readonly<Record<string, number>>;
  };
  /** Sites the service may run at; null: any site with a pool of its class. */
  sites: readonly string[] | null;
}

/** Demand of one service from one user region: requests/s in each slot of the plan's grid (slot mean). */
export interface DemandSeries {
  service: string;
  region: string;
  requestsPerS: readonly number[];
}

/** Requests/s one replica serves within its service time. */
export function replicaRequestsPerS(t: Throughput): number {
  return 'requestsPerS' in t ? t.requestsPerS : t.tokensPerS / (t.tokenMix.inputTokens + t.tokenMix.outputTokens);
}

/**
 * Round trip from each user region to each reachable site, ms: twice the best of (access latency + route
 * latency over the links from the access site). Called once per plan by placement and by the CLI's checks.
 */
export function roundTripsMs(network: Network, regions: readonly UserRegion[]): Map<string, Map<string, number>> {
  const routes = computeRoutes(network);
  const out = new Map<string, Map<string, number>>();
  for (const region of regions) {
    const best = new Map<string, number>();
    for (const access of region.access) {
      const from = routes.get(access.site);
      if (!from) continue;
      for (const [site, route] of from) {
        const oneWayMs = access.latencyMs + route.latencyMs;
        if (oneWayMs < (best.get(site) ?? Infinity)) best.set(site, oneWayMs);
      }
    }
    out.set(region.id, new Map([...best].map(([site, oneWayMs]) => [site, 2 * oneWayMs])));
  }
  return out;
}

/** Whether a region may be served at a site: round trip plus service time within the objective (to a micro-second). */
export function withinObjective(roundTripMs: number | undefined, latency: ServiceSpec['latency']): boolean {
  return roundTripMs !== undefined && roundTripMs + latency.serviceTimeMs <= latency.objectiveMs + 1e-3;
}

/** One line below a power curve: power ≥ interceptW + slopeW × load for every load in 0..1. */
export interface PowerLine {
  interceptW: number;
  slopeW: number;
}

/**
 * The lines of the lower convex envelope of a per-unit power curve (its convex minorant). A replica group's
 * power, replicas × P(served ÷ capacity), is at least replicas × intercept + slope × served ÷ capacity for each
 * line, which an LP can state; for a concave curve (the measured accelerators) it is the one chord from idle
 * to full load. Placement's LP and bound price energy with it; accounting uses the curve itself.
 */
export function powerEnvelope(curve: readonly PowerPoint[]): PowerLine[] {
  const hull: PowerPoint[] = [];
  for (const p of curve) {
    while (hull.length >= 2) {
      const a = hull[hull.length - 2];
      const b = hull[hull.length - 1];
      // b lies on or above the segment a → p: not on the lower hull.
      if ((b.powerW - a.powerW) * (p.load - a.load) >= (p.powerW - a.powerW) * (b.load - a.load)) hull.pop();
      else break;
    }
    hull.push(p);
  }
  if (hull.length === 1) return [{ interceptW: hull[0].powerW, slopeW: 0 }];
  const lines: PowerLine[] = [];
  for (let i = 1; i < hull.length; i++) {
    const a = hull[i - 1];
    const b = hull[i];
    const slopeW = (b.powerW - a.powerW) / (b.load - a.load);
    lines.push({ interceptW: a.powerW - slopeW * a.load, slopeW });
  }
  return lines;
}
