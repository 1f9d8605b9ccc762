/**
 * Probing a site: one probe job per pool (or the one asked for), one after the other so that benchmarks on a
 * shared machine do not measure each other, each judged and stored as it ends. `kumul probe` (src/cli/probe-command.ts)
 * and POST /v1/probes (src/api/routes/probes.ts) call it with the service's or the command's executor.
 */
import type { Network, Pool, Site } from '../core/model/types.ts';
import type { Executor, ProbeResult } from '../exec/port.ts';
import type { ProbeInput, ProbeRecord, Store } from '../store/port.ts';
import { DEFAULT_PROBE_SIZES, probeScript } from './kernel.ts';
import { judgeProbe, probeKindOf } from './measure.ts';

export interface ProbeRunOptions {
  threshold: number;
  /** Matrix orders and seconds per timed run (DEFAULT_PROBE_SIZES when absent; tests make them small). */
  sizes?: { n: number; minSeconds: number; acceleratorN?: number };
  /** Longest one probe job may run, seconds (600 when absent). */
  timeLimitS?: number;
  /** Longest to wait for a free node, seconds (the executor's default when absent). */
  maxQueueS?: number;
  /** The caller's clock: the probe's instant and id. */
  nowMs: () => number;
  /** Told about each probe as it is stored (the CLI prints it). */
  onProbe?: (probe: ProbeRecord) => void;
}

/** A site and the pools to probe, or why not: names the site or pool that does not exist and what does. */
export function probeTargets(network: Network, siteId: string, poolId?: string): { site: Site; pools: Pool[] } | { error: string } {
  const site = network.sites.find((s) => s.id === siteId);
  if (!site) return { error: `no site ${JSON.stringify(siteId)} in the network (sites: ${network.sites.map((s) => s.id).join(', ')})` };
  if (poolId === undefined) return { site, pools: site.pools };
  const pool = site.pools.find((p) => p.id === poolId);
  if (!pool) return { error: `site ${siteId} has no pool ${JSON.stringify(poolId)} (pools: ${site.pools.map((p) => p.id).join(', ')})` };
  return { site, pools: [pool] };
}

/** The id (and executor ref) of a probe: site, pool and instant. */
export function probeId(siteId: string, poolId: string, measuredMs: number): string {
  return `probe.${siteId}.${poolId}.${measuredMs}`;
}

/** Probes each pool through `executor`, stores each result (failed probes too, with their error) and returns them. */
export async function probeSite(executor: Executor, store: Store, site: Site, pools: Pool[], o: ProbeRunOptions): Promise<ProbeRecord[]> {
  const out: ProbeRecord[] = [];
  for (const pool of pools) {
    const measuredMs = o.nowMs();
    const id = probeId(site.id, pool.id, measuredMs);
    const script = probeScript({ kind: probeKindOf(pool), ...DEFAULT_PROBE_SIZES, ...o.sizes });
    const request = {
      ref: id,
      siteId: site.id,
      poolId: pool.id,
      script,
      timeLimitS: o.timeLimitS ?? 600,
      acceleratorsPerNode: pool.unit === 'accelerator' ? pool.unitsPerNode : 0,
      ...(o.maxQueueS !== undefined ? { maxQueueS: o.maxQueueS } : {}),
    };
    // An engine that cannot be reached is a failed probe of this pool (stored with why), not the end of the others.
    const result: ProbeResult = await executor.runProbe(request).catch((err: Error) => ({
      ok: false,
      state: 'failed' as const,
      stdout: '',
      node: null,
      nodeGres: null,
      startedMs: null,
      endedMs: null,
      reason: `executor ${executor.name}: ${err.message}`,
    }));
    const probe: ProbeInput = judgeProbe({ id, siteId: site.id, pool, measuredMs, threshold: o.threshold, result });
    const stored = await store.recordProbe(probe, o.nowMs());
    if (!stored.ok) throw new Error(`storing probe ${id}: ${stored.reason}`);
    o.onProbe?.(stored.probe);
    out.push(stored.probe);
  }
  return out;
}
