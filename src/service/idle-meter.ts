/**
 * Idle power in the service (issue 14; docs/energy-model.md). At the end of every tick the dispatch loop hands it the
 * units its work holds per pool. Under `kumul serve --power sleep --reserve R`, each pool with power states is asked,
 * through its engine (`Executor.setAwakeNodes`), to keep awake the nodes that work needs now or within the pool's
 * wake-up time, plus the reserve (`nodesOn`, as plans count them); the engine reports how many are awake. Then the
 * idle draw of what is awake (idle units at their idle power, sleeping nodes at their sleep power) is metered from
 * this tick to the next, and each node woken adds its wake energy. Under `always-on` every node is on.
 */
import { nodesOn, type PowerPolicy } from '../core/energy/idle.ts';
import { idleFacilityW } from '../core/model/power.ts';
import type { Site } from '../core/model/types.ts';
import type { Executor } from '../exec/port.ts';
import { JOULES_PER_KWH, type Metrics } from './metrics.ts';


/** What the service's work holds of a pool (key `site/pool`), in units. */
export interface PoolHold {
  /** Units of runs running now. */
  busy: number;
  /** Units of runs planned to start within the pool's wake-up time (their nodes must be awake by then). */
  soon: number;
}

export class IdleMeter {
  /** Idle facility power per site at the last update, W, and when (service time): metered until the next. */
  private idleW = new Map<string, number>();
  private sinceMs: number | null = null;
  /** Nodes awake per pool (`site/pool`) at the last update, as the engines reported. */
  private readonly awake = new Map<string, number>();
  private readonly said = new Set<string>();
  private readonly count;

  constructor(
    metrics: Metrics,
    private readonly executor: Executor,
    readonly power: PowerPolicy,
    private readonly log: (line: string) => void,
  ) {
    const asleep = power.policy === 'sleep' ? `nodes asleep under --power sleep (reserve ${power.reserveShare})` : 'every node on';
    this.count = {
      idlePower: metrics.gauge('kumul_site_idle_power_watts', `Facility power of the units that are on and not busy at a site now, and of its nodes asleep (${asleep}), watts`),
      idleEnergy: metrics.counter('kumul_idle_energy_joules_total', "Facility energy of idle units, sleeping nodes and wake-ups, by site, joules: the operator's cost, not billed to tenants (docs/energy-model.md)"),
      awake: metrics.gauge('kumul_pool_nodes_awake', 'Nodes of a pool that are on (busy, idle or waking), by site and pool'),
      wakes: metrics.counter('kumul_node_wakes_total', 'Nodes woken from sleep by the service, by site and pool'),
    };
  }

  /**
   * Meters the idle draw since the last update, then sets this tick's power states and notes the draw of now.
   * `hold` gives the service's work per pool; a pool it does not name holds nothing.
   */
  async update(nowMs: number, sites: readonly Site[], hold: ReadonlyMap<string, PoolHold>): Promise<void> {
    // Every site's counter exists from the first update (at 0), so that Prometheus sees its first increase.
    if (this.sinceMs === null) for (const site of sites) this.count.idleEnergy(0, { site: site.id });
    else if (nowMs > this.sinceMs) for (const [siteId, watts] of this.idleW) this.count.idleEnergy((watts * (nowMs - this.sinceMs)) / 1000, { site: siteId });
    for (const site of sites) {
      for (const pool of site.pools) {
        const key = `${site.id}/${pool.id}`;
        const nodes = Math.floor(pool.units / pool.unitsPerNode);
        const held = hold.get(key) ?? { busy: 0, soon: 0 };
        let awake = nodes;
        if (this.power.policy === 'sleep' && pool.powerStates) awake = await this.setAwake(site, pool.id, pool.unitsPerNode, nodes, held, nodesOn(pool, held.busy + held.soon, this.power), nowMs);
        const before = this.awake.get(key);
        if (before !== undefined && awake > before && pool.powerStates) {
          this.count.wakes(awake - before, { site: site.id, pool: pool.id });
          this.count.idleEnergy((awake - before) * pool.powerStates.wakeKWhPerNode * site.pue * JOULES_PER_KWH, { site: site.id });
        }
        this.awake.set(key, awake);
        this.count.awake(awake, { site: site.id, pool: pool.id });
      }
    }
    this.idleW = new Map(sites.map((site) => [site.id, idleFacilityW(site, (poolId) => hold.get(`${site.id}/${poolId}`)?.busy ?? 0, (poolId) => this.awake.get(`${site.id}/${poolId}`) ?? null)]));
    this.sinceMs = nowMs;
    for (const [siteId, watts] of this.idleW) this.count.idlePower(watts, { site: siteId });
  }

  /** The engine's answer; every node when it cannot be reached this tick (said once per pool until it answers again). */
  private async setAwake(site: Site, poolId: string, unitsPerNode: number, nodes: number, held: PoolHold, awakeNodes: number, nowMs: number): Promise<number> {
    const key = `${site.id}/${poolId}`;
    try {
      const awake = (await this.executor.setAwakeNodes?.({ siteId: site.id, poolId, awakeNodes, nodes, busyUnits: held.busy, unitsPerNode }, nowMs)) ?? nodes;
      this.said.delete(key);
      return awake;
    } catch (err) {
      if (!this.said.has(key)) this.log(`power: ${key}: could not set the nodes awake (${(err as Error).message}); metered as all on`);
      this.said.add(key);
      return nodes;
    }
  }
}
