/**
 * Measured capability: the network with each probed pool's peak compute per node replaced by what a probe
 * measured on one of its nodes, precision by precision (unmeasured precisions keep the advertised figure).
 * Pure. The service applies it under `kumul serve --capability measured` (src/probe/capability.ts gives the
 * measured figures from the store) to what it meters — PFLOP·h delivered — and to the network its views show.
 * The dispatcher does not read peak compute (jobs carry their run time), so plans do not change with it.
 */
import type { Network, Precision } from './types.ts';

/** What a pool delivered per node, TFLOPS, in the precisions that were measured. */
export interface MeasuredPeak {
  siteId: string;
  poolId: string;
  peakTflopsPerNode: Partial<Record<Precision, number>>;
}

/** A copy of the network with measured peaks in place of advertised ones; pools nothing measured are shared as they are. */
export function withMeasuredCapability(network: Network, measured: readonly MeasuredPeak[]): Network {
  if (measured.length === 0) return network;
  const byPool = new Map(measured.map((m) => [`${m.siteId}\u0000${m.poolId}`, m.peakTflopsPerNode]));
  return {
    ...network,
    sites: network.sites.map((site) => {
      if (!site.pools.some((p) => byPool.has(`${site.id}\u0000${p.id}`))) return site;
      return {
        ...site,
        pools: site.pools.map((pool) => {
          const peak = byPool.get(`${site.id}\u0000${pool.id}`);
          return peak ? { ...pool, peakTflopsPerNode: { ...pool.peakTflopsPerNode, ...definedOnly(peak) } } : pool;
        }),
      };
    }),
  };
}

function definedOnly(peak: Partial<Record<Precision, number>>): Partial<Record<Precision, number>> {
  return Object.fromEntries(Object.entries(peak).filter(([, v]) => typeof v === 'number' && Number.isFinite(v) && v >= 0));
}
