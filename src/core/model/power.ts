import type { Pool, PowerPoint, Site } from './types.ts';

/**
 * Power of one unit at `load` (0..1), linear between the curve's points.
 * Called by accounting and the dispatcher to price a unit of work.
 */
export function powerAtLoadW(curve: PowerPoint[], load: number): number {
  if (curve.length === 0) return 0;
  if (load <= curve[0].load) return curve[0].powerW;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1];
    const b = curve[i];
    if (load <= b.load) return a.powerW + ((b.powerW - a.powerW) * (load - a.load)) / (b.load - a.load);
  }
  return curve[curve.length - 1].powerW;
}

/** Facility power (IT × PUE) of one unit that is on and not busy (its curve at load 0), kW. */
export function idleUnitFacilityKW(pool: Pool, pue: number): number {
  return (powerAtLoadW(pool.powerCurve, 0) * pue) / 1000;
}

/** Facility power (IT × PUE) of one unit running a job at full load, kW. */
export function busyUnitFacilityKW(pool: Pool, pue: number): number {
  return (powerAtLoadW(pool.powerCurve, 1) * pue) / 1000;
}

/**
 * What the work running at a site draws now: the facility power of its busy units (kW), the power with every unit
 * busy (kW), and the share of the draw the site's renewables cover, min(1, renewableKW / demandKW) (null when nothing
 * runs). The dashboard's network view and the dispatch loop's `kumul_site_green_share_ratio` gauge read it.
 */
export function siteLoadNow(site: Site, busyUnits: (poolId: string) => number, renewableKW: number): { demandKW: number; capacityKW: number; greenShare: number | null } {
  let demandKW = 0;
  let capacityKW = 0;
  for (const pool of site.pools) {
    const unitKW = busyUnitFacilityKW(pool, site.pue);
    demandKW += busyUnits(pool.id) * unitKW;
    capacityKW += pool.units * unitKW;
  }
  return { demandKW, capacityKW, greenShare: demandKW > 0 ? Math.min(1, renewableKW / demandKW) : null };
}

/**
 * Facility power of a site's idle units and sleeping nodes, W: each unit on and not busy draws its curve's idle point
 * (load 0), each node asleep its `powerStates.sleepWPerNode`, × PUE. `awakeNodes` gives a pool's nodes on (null or
 * absent: all of them). The service's idle meter reads it (src/service/loop.ts).
 */
export function idleFacilityW(site: Site, busyUnits: (poolId: string) => number, awakeNodes?: (poolId: string) => number | null): number {
  let watts = 0;
  for (const pool of site.pools) {
    const nodes = Math.floor(pool.units / pool.unitsPerNode);
    const awake = Math.min(nodes, awakeNodes?.(pool.id) ?? nodes);
    const onUnits = awake === nodes ? pool.units : awake * pool.unitsPerNode;
    watts += Math.max(0, onUnits - busyUnits(pool.id)) * idleUnitFacilityKW(pool, site.pue) * 1000;
    watts += (nodes - awake) * (pool.powerStates?.sleepWPerNode ?? 0) * site.pue;
  }
  return watts;
}
