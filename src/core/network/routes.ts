import type { Link, Network, TimeGrid } from '../model/types.ts';

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

/** Key of a directed hop, `from>to` (links are full duplex: each direction has its own capacity). */
export function hopKey(from: string, to: string): string {
  return `${from}>${to}`;
}

/**
 * Link capacity set aside for backups, GB per directed hop (`hopKey`) and slot of a grid: what backups must have to
 * meet every RPO (src/core/backup/planner.ts, `backupReservation`). The batch planner moves job input on what it leaves.
 */
export type LinkReserveGB = ReadonlyMap<string, ArrayLike<number>>;

/**
 * A reservation made on grid `from`, read on grid `to` (same slot length; `to` may start later or earlier):
 * slots of `to` outside `from` reserve nothing. The dispatch loop calls it with the backup loop's latest reservation.
 */
export function reserveOnGrid(reserve: LinkReserveGB, from: TimeGrid, to: TimeGrid): Map<string, Float64Array> {
  if (from.slotMinutes !== to.slotMinutes) throw new Error(`reserveOnGrid: slot lengths differ (${from.slotMinutes} and ${to.slotMinutes} min)`);
  const shift = Math.round((to.startMs - from.startMs) / (to.slotMinutes * 60_000));
  const out = new Map<string, Float64Array>();
  for (const [key, row] of reserve) {
    const moved = new Float64Array(to.slots);
    for (let t = 0; t < to.slots; t++) moved[t] = row[t + shift] ?? 0;
    out.set(key, moved);
  }
  return out;
}

/**
 * Bandwidth a reservation leaves on the path `path` (site ids) in slot `t` of `grid`, Gbit/s: the least over its hops
 * of the link's bandwidth minus what is reserved there. Used to move job input (`reservedTransferDurationS`) and to
 * spread a planned input transfer over its slots (core/backup/model.ts `fixedLinkUse`), by one rule.
 */
export function pathFreeGbps(links: readonly Link[], path: readonly string[], t: number, grid: TimeGrid, reserve: LinkReserveGB): number {
  const slotS = grid.slotMinutes * 60;
  let free = Infinity;
  for (let h = 0; h < links.length; h++) {
    const reservedGB = t >= 0 && t < grid.slots ? (reserve.get(hopKey(path[h], path[h + 1]))?.[t] ?? 0) : 0;
    free = Math.min(free, Math.max(0, links[h].bandwidthGbps - (reservedGB * 8) / slotS));
  }
  return free;
}

/** A piece of a planned transfer: `gb` moved at one rate from `startMs` to `endMs`, inside one slot of its grid. */
export interface TransferSegment {
  startMs: number;
  endMs: number;
  gb: number;
}

/**
 * Seconds to move `gb` over a route from `startMs` when `taken` GB of its links are already used per directed hop and
 * slot (the backup reservation, job transfers under way, and those the cycle placed before): in each slot the input
 * moves at what is left on the route (`pathFreeGbps`; nothing in a slot wholly taken, the whole bandwidth after the
 * grid), then the route's latency. Called by the dispatcher's cycle (core/dispatch/cycle.ts) for each job and site;
 * with nothing taken it is `transferDurationS`. Allocates nothing: `transferSegments` gives the pieces.
 */
export function reservedTransferDurationS(route: Route, gb: number, startMs: number, grid: TimeGrid, taken: LinkReserveGB | undefined): number {
  const plain = transferDurationS(route, gb);
  if (!taken || taken.size === 0 || plain === 0) return plain;
  return walkTransfer(route, gb, startMs, grid, taken, null);
}

/**
 * The pieces of the transfer `reservedTransferDurationS` times, one per slot it moves data in (the last one after the
 * grid may span several slots at the whole bandwidth). Called by the cycle when it commits a job, to add its GB to
 * what later jobs see taken, and by the plan, which states them (core/backup/model.ts `fixedLinkUse` reads them).
 */
export function transferSegments(route: Route, gb: number, startMs: number, grid: TimeGrid, taken: LinkReserveGB | undefined): TransferSegment[] {
  const segments: TransferSegment[] = [];
  if (route.links.length === 0 || gb <= 0) return segments;
  walkTransfer(route, gb, startMs, grid, taken ?? EMPTY, segments);
  return segments;
}

const EMPTY: LinkReserveGB = new Map();

/** Moves `gb` slot by slot at what `taken` leaves; returns the seconds with latency and notes the pieces in `out` when given. */
function walkTransfer(route: Route, gb: number, startMs: number, grid: TimeGrid, taken: LinkReserveGB, out: TransferSegment[] | null): number {
  const slotMs = grid.slotMinutes * 60_000;
  let leftGbit = gb * 8;
  let atMs = startMs;
  for (let t = Math.floor((startMs - grid.startMs) / slotMs); ; t++) {
    const rateGbps = t < grid.slots ? pathFreeGbps(route.links, route.path, t, grid, taken) : route.bottleneckGbps;
    const spanS = t < grid.slots ? (grid.startMs + (t + 1) * slotMs - atMs) / 1000 : Infinity;
    if (rateGbps * spanS >= leftGbit) {
      const lastS = leftGbit / rateGbps;
      if (out && leftGbit > 0) out.push({ startMs: atMs, endMs: atMs + lastS * 1000, gb: leftGbit / 8 });
      return (atMs - startMs) / 1000 + lastS + route.latencyMs / 1000;
    }
    const slotEndMs = grid.startMs + (t + 1) * slotMs;
    if (out && rateGbps > 0) out.push({ startMs: atMs, endMs: slotEndMs, gb: (rateGbps * spanS) / 8 });
    leftGbit -= rateGbps * spanS;
    atMs = slotEndMs;
  }
}

/**
 * Adds (`sign` +1) or removes (−1) the GB of transfer pieces on every directed hop of `path`, per slot of `grid` (a
 * piece is spread over the slots it covers, by time). The cycle calls it as it commits or takes back a job; the
 * simulator and the service to count transfers already under way (Snapshot.committedLinkGB).
 */
export function addSegmentsGB(use: Map<string, Float64Array>, path: readonly string[], segments: readonly TransferSegment[], grid: TimeGrid, sign: 1 | -1 = 1): void {
  const slotMs = grid.slotMinutes * 60_000;
  for (const seg of segments) {
    const lengthMs = seg.endMs - seg.startMs;
    if (seg.gb <= 0) continue;
    if (lengthMs <= 0) {
      // A piece shorter than the milliseconds an ISO instant keeps: all of it in the slot it starts in.
      const t = Math.floor((seg.startMs - grid.startMs) / slotMs);
      if (t >= 0 && t < grid.slots) for (let h = 1; h < path.length; h++) addGB(use, hopKey(path[h - 1], path[h]), grid.slots, t, sign * seg.gb);
      continue;
    }
    const first = Math.max(0, Math.floor((seg.startMs - grid.startMs) / slotMs));
    const last = Math.min(grid.slots - 1, Math.ceil((seg.endMs - grid.startMs) / slotMs) - 1);
    for (let t = first; t <= last; t++) {
      const coveredMs = Math.min(seg.endMs, grid.startMs + (t + 1) * slotMs) - Math.max(seg.startMs, grid.startMs + t * slotMs);
      if (coveredMs <= 0) continue;
      const gb = (seg.gb * coveredMs) / lengthMs;
      for (let h = 1; h < path.length; h++) addGB(use, hopKey(path[h - 1], path[h]), grid.slots, t, sign * gb);
    }
  }
}

function addGB(use: Map<string, Float64Array>, key: string, slots: number, t: number, gb: number): void {
  let row = use.get(key);
  if (!row) use.set(key, (row = new Float64Array(slots)));
  row[t] += gb;
}
