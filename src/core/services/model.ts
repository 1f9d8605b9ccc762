/**
 * Inference services as the dispatcher sees them (issue 12, docs/services.md): a service runs replicas of
 * one model on a pool class and serves the requests of user regions within a latency objective.
 * Pure data and the small pure rules placement and accounting share: a replica's capacity, round trips from
 * user regions to sites, and the convex lower envelope of a power curve that the LP prices energy with.
 * Loaders at the edge (src/services) build these from files.
 */
import type { Network, PoolClass, PowerPoint, UserRegion } from '../model/types.ts';
import { computeRoutes } from '../network/routes.ts';
import { powerAtLoadW } from '../model/power.ts';

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

/** A concave lower bound of how far a power curve lies above its idle-to-full chord: at a load, W per unit, and its steepest slope. */
export interface ChordGap {
  atW(load: number): number;
  /** The largest |d gap / d load|, W per unit of load (at load 0 or 1: the gap is concave). */
  steepestW: number;
}

/**
 * A concave function γ, zero at loads 0 and 1, below the gap δ = P − chord between a per-unit power curve P and its
 * chord from idle to full load (the LP's price of a replica: the curve's convex envelope when P lies above the chord).
 * γ = λ × (the least concave majorant of δ), with λ the largest scale that keeps it below δ at every breakpoint (both
 * are piecewise linear, so that suffices); λ = 1 for a concave curve. Null when the curve dips to or below its chord
 * inside (0, 1): nothing is charged then. Placement's bound charges γ for the one replica a service must run at
 * partial load (placement.ts, `partialReplicaPremium`).
 */
export function chordGap(curve: readonly PowerPoint[]): ChordGap | null {
  if (curve.length === 0) return null;
  const loads = [...new Set([0, ...curve.map((p) => Math.min(1, Math.max(0, p.load))), 1])].sort((a, b) => a - b);
  const idleW = powerAtLoadW(curve as PowerPoint[], 0);
  const chordW = powerAtLoadW(curve as PowerPoint[], 1) - idleW;
  const gapW = loads.map((u) => powerAtLoadW(curve as PowerPoint[], u) - idleW - chordW * u);
  if (loads.length < 3 || gapW.slice(1, -1).some((g) => !(g > 1e-9))) return null;
  // Upper hull of the gap's points: its least concave majorant.
  const hull: number[] = [];
  loads.forEach((u, i) => {
    while (hull.length >= 2) {
      const a = hull[hull.length - 2];
      const b = hull[hull.length - 1];
      if ((gapW[b] - gapW[a]) * (u - loads[a]) <= (gapW[i] - gapW[a]) * (loads[b] - loads[a])) hull.pop();
      else break;
    }
    hull.push(i);
  });
  const majorantW = (u: number) => {
    for (let h = 1; h < hull.length; h++) {
      const a = hull[h - 1];
      const b = hull[h];
      if (u <= loads[b]) return gapW[a] + ((gapW[b] - gapW[a]) * (u - loads[a])) / (loads[b] - loads[a]);
    }
    return 0;
  };
  // Both are linear next to loads 0 and 1, so the ratios at the inner breakpoints bound it everywhere.
  let scale = 1;
  for (let i = 1; i < loads.length - 1; i++) scale = Math.min(scale, gapW[i] / majorantW(loads[i]));
  const slopeIn = majorantW(loads[hull[1]]) / loads[hull[1]];
  const slopeOut = majorantW(loads[hull[hull.length - 2]]) / (1 - loads[hull[hull.length - 2]]);
  return { atW: (load) => scale * majorantW(Math.min(1, Math.max(0, load))), steepestW: scale * Math.max(slopeIn, slopeOut) };
}
