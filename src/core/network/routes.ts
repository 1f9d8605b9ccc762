import type { Link, Network } from '../model/types.ts';

/** A path through the link graph that a job's input data takes from its origin to the site that runs it. */
export interface Route {
  /** Site ids from origin to destination; one id when no data moves. */
  path: string[];
  links: Link[];
  latencyMs: number;
  bottleneckGbps: number;
  costYuanPerGB: number;
  energyKWhPerGB: number;
}

/** Routes between every pair of sites, computed once per network. */
export type RouteTable = Map<string, Map<string, Route>>;

/**
 * Lowest-latency routes between all pairs of sites (Dijkstra; ties broken by fewer hops, then
 * site order), over bidirectional links. Called once per planning cycle by the dispatcher.
 */
export function computeRoutes(network: Network): RouteTable {
  const ids = network.sites.map((s) => s.id);
  const adjacency = new Map<string, { to: string; link: Link }[]>(ids.map((id) => [id, []]));
  for (const link of network.links) {
    adjacency.get(link.from)?.push({ to: link.to, link });
    adjacency.get(link.to)?.push({ to: link.from, link });
  }
  const order = new Map(ids.map((id, i) => [id, i]));
  const table: RouteTable = new Map();
  for (const source of ids) {
    const best = new Map<string, { latencyMs: number; hops: number; prev: string | null; link: Link | null }>();
    best.set(source, { latencyMs: 0, hops: 0, prev: null, link: null });
    const done = new Set<string>();
    for (;;) {
      let current: string | null = null;
      for (const [id, b] of best) {
        if (done.has(id)) continue;
        const c = current === null ? null : best.get(current)!;
        if (c === null || b.latencyMs < c.latencyMs || (b.latencyMs === c.latencyMs && (b.hops < c.hops || (b.hops === c.hops && order.get(id)! < order.get(current!)!)))) current = id;
      }
      if (current === null) break;
      done.add(current);
      const here = best.get(current)!;
      for (const { to, link } of adjacency.get(current)!) {
        const latencyMs = here.latencyMs + link.latencyMs;
        const known = best.get(to);
        if (!known || latencyMs < known.latencyMs || (latencyMs === known.latencyMs && here.hops + 1 < known.hops)) {
          best.set(to, { latencyMs, hops: here.hops + 1, prev: current, link });
        }
      }
    }
    const routes = new Map<string, Route>();
    for (const [target] of best) {
      const path: string[] = [];
      const links: Link[] = [];
      for (let at: string | null = target; at !== null; at = best.get(at)!.prev) {
        path.unshift(at);
        const link = best.get(at)!.link;
        if (link) links.unshift(link);
      }
      routes.set(target, {
        path,
        links,
        latencyMs: best.get(target)!.latencyMs,
        bottleneckGbps: links.length === 0 ? Infinity : Math.min(...links.map((l) => l.bandwidthGbps)),
        costYuanPerGB: links.reduce((sum, l) => sum + l.costYuanPerGB, 0),
        energyKWhPerGB: links.reduce((sum, l) => sum + l.energyKWhPerGB, 0),
      });
    }
    table.set(source, routes);
  }
  return table;
}

/** Seconds to move `gb` gigabytes over a route: size over the bottleneck bandwidth, plus latency. Zero when nothing moves. */
export function transferDurationS(route: Route, gb: number): number {
  if (route.links.length === 0 || gb <= 0) return 0;
  return (gb * 8) / route.bottleneckGbps + route.latencyMs / 1000;
}
