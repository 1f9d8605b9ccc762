/**
 * Idle energy: what a centre draws beyond its jobs. Units that are on and not busy draw the idle point of their
 * pool's power curve (load 0: the unit's share of its node, host included); under the `sleep` policy a pool with
 * `powerStates` keeps on only the nodes its held units need plus a reserve for urgent work, the rest sleep at their
 * sleep power, and each node woken costs its wake energy. Facility energy = IT energy × PUE, as for jobs.
 * Priced renewable first after the jobs (whose figures do not change), grid for the rest. It is the operator's
 * cost, not billed to tenants. Plans (src/core/dispatch/plan.ts) and the simulator report it; docs/energy-model.md.
 */
import { idleUnitFacilityKW } from '../model/power.ts';
import type { Pool, Site, SiteSignals, TimeGrid } from '../model/types.ts';

export const POWER_POLICIES = ['always-on', 'sleep'] as const;
export type PowerPolicyName = (typeof POWER_POLICIES)[number];

export interface PowerPolicy {
  policy: PowerPolicyName;
  /** Under `sleep`: the share of a pool's nodes kept awake beyond what its work holds (rounded up to whole nodes), for urgent work. */
  reserveShare: number;
}

export const ALWAYS_ON: PowerPolicy = { policy: 'always-on', reserveShare: 0 };

/** Nodes kept awake under the policy for work that holds `heldUnits` of the pool: every node, or (sleep, pools with powerStates) the nodes the work fills plus the reserve. */
export function nodesOn(pool: Pool, heldUnits: number, power: PowerPolicy): number {
  const nodes = Math.floor(pool.units / pool.unitsPerNode);
  if (power.policy !== 'sleep' || !pool.powerStates) return nodes;
  return Math.min(nodes, Math.ceil(heldUnits / pool.unitsPerNode - 1e-9) + reserveNodes(pool, power));
}

/** Nodes kept awake beyond the work's under the sleep policy: the reserve share of the pool's nodes, rounded up. */
export function reserveNodes(pool: Pool, power: PowerPolicy): number {
  return Math.ceil(power.reserveShare * Math.floor(pool.units / pool.unitsPerNode) - 1e-9);
}

/** What the work holds of one pool per slot. */
export interface PoolLoad {
  siteId: string;
  poolId: string;
  /** Units held per slot (a job holds its units in every slot it touches). */
  heldUnits: Float64Array;
  /** Unit-hours of work run per slot (units × hours run). */
  busyUnitHours: Float64Array;
}

export interface IdleFigures {
  /** Facility energy of idle units, sleeping nodes and wake-ups, kWh, and the renewable part of it. */
  energyKWh: number;
  greenKWh: number;
  costYuan: number;
  carbonKg: number;
  /** Unit-hours on but not busy; node-hours asleep; nodes woken. */
  idleUnitHours: number;
  sleepingNodeHours: number;
  wakes: number;
}

export function zeroIdle(): IdleFigures {
  return { energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0, idleUnitHours: 0, sleepingNodeHours: 0, wakes: 0 };
}

/**
 * A site's idle facility energy per slot of the grid, kWh (0 outside `range`): idle units, sleeping nodes and nodes
 * woken since the slot before (the range's first slot starts as it is). Adds the unit-hours, node-hours and wakes to
 * `figures` when given. `loads` is keyed `site/pool`. Called by `idleFigures` and the dashboard's energy view.
 */
export function siteIdleKWh(
  grid: TimeGrid,
  site: Site,
  loads: ReadonlyMap<string, PoolLoad>,
  power: PowerPolicy,
  range: { from: number; to: number } = { from: 0, to: grid.slots },
  figures: IdleFigures = zeroIdle(),
): Float64Array {
  const h = grid.slotMinutes / 60;
  const energy = new Float64Array(grid.slots);
  for (const pool of site.pools) {
    const load = loads.get(`${site.id}/${pool.id}`);
    const nodes = Math.floor(pool.units / pool.unitsPerNode);
    const idleKW = idleUnitFacilityKW(pool, site.pue);
    const states = power.policy === 'sleep' ? pool.powerStates : undefined;
    let onBefore = -1;
    for (let t = range.from; t < range.to; t++) {
      const held = load?.heldUnits[t] ?? 0;
      const busy = load?.busyUnitHours[t] ?? 0;
      const on = nodesOn(pool, held, power);
      const idleUnitHours = Math.max(0, on * pool.unitsPerNode * h - busy);
      let kWh = idleUnitHours * idleKW;
      figures.idleUnitHours += idleUnitHours;
      if (states) {
        const asleep = nodes - on;
        figures.sleepingNodeHours += asleep * h;
        kWh += (asleep * states.sleepWPerNode * site.pue * h) / 1000;
        const woken = onBefore < 0 ? 0 : Math.max(0, on - onBefore);
        figures.wakes += woken;
        kWh += woken * states.wakeKWhPerNode * site.pue;
        onBefore = on;
      }
      energy[t] += kWh;
    }
  }
  return energy;
}

/**
 * Idle figures of every pool of `sites` over the grid's slots `from` to `to` (exclusive; default all), per site and in
 * total. `loads` gives the work's hold on each pool (pools without one are idle throughout); `jobsKWh` the facility
 * energy of the jobs (and of work committed before) per site and slot, which has first claim on the renewables.
 */
export function idleFigures(
  grid: TimeGrid,
  sites: readonly Site[],
  signals: Record<string, SiteSignals>,
  loads: readonly PoolLoad[],
  jobsKWh: ReadonlyMap<string, ArrayLike<number>>,
  power: PowerPolicy,
  range: { from: number; to: number } = { from: 0, to: grid.slots },
): { total: IdleFigures; bySite: Map<string, IdleFigures> } {
  const h = grid.slotMinutes / 60;
  const byPool = new Map(loads.map((l) => [`${l.siteId}/${l.poolId}`, l]));
  const total = zeroIdle();
  const bySite = new Map<string, IdleFigures>();
  for (const site of sites) {
    const figures = zeroIdle();
    const energy = siteIdleKWh(grid, site, byPool, power, range, figures);
    const sig = signals[site.id];
    const jobs = jobsKWh.get(site.id);
    for (let t = range.from; t < range.to; t++) {
      const left = Math.max(0, Math.max(0, sig.renewableKW[t]) * h - (jobs?.[t] ?? 0));
      const green = Math.min(energy[t], left);
      const gridKWh = energy[t] - green;
      figures.energyKWh += energy[t];
      figures.greenKWh += green;
      figures.costYuan += green * site.renewable.priceYuanPerKWh + gridKWh * sig.priceYuanPerKWh[t];
      figures.carbonKg += (green * site.renewable.carbonGPerKWh + gridKWh * sig.carbonGPerKWh[t]) / 1000;
    }
    bySite.set(site.id, figures);
    for (const key of Object.keys(total) as (keyof IdleFigures)[]) total[key] += figures[key];
  }
  return { total, bySite };
}
