/**
 * Capability and speed. A job's duration is its run time at a pool's advertised speed; a pool's `speed` (stated
 * in the scenario, or measured) divides it, in the precision the job's class computes in. The planner, the bound,
 * the simulator and `scripts/verify-plan.mjs` all take run times from `runTimeMs`.
 *
 * Measured capability: the network with each probed pool's peak compute per node replaced by what a probe
 * measured on one of its nodes, precision by precision (unmeasured precisions keep the advertised figure), and
 * its speed set to measured ÷ advertised. Pure. The service applies it under `kumul serve --capability measured`
 * (src/probe/capability.ts gives the measured figures from the store) to what it plans and meters — PFLOP·h
 * delivered — and to the network its views show.
 */
import type { Job, JobClass, Network, Pool, Precision } from './types.ts';

/** The precision each job class computes in: what its speed on a pool is read in (docs/energy-model.md). */
export const JOB_PRECISION: Readonly<Record<JobClass, Precision>> = { training: 'bf16', inference: 'bf16', hpc: 'fp64', batch: 'fp32', backup: 'fp32' };

/** A pool's speed for a job class: its stated or measured factor in the class's precision, 1 when none is given. */
export function poolSpeed(pool: Pick<Pool, 'speed'>, jobClass: JobClass): number {
  const speed = pool.speed?.[JOB_PRECISION[jobClass]];
  return speed !== undefined && speed > 0 ? speed : 1;
}

/** A job's run time on a pool, whole ms (at least 1): its duration divided by the pool's speed for it. */
export function runTimeMs(job: Pick<Job, 'durationS' | 'class'>, pool: Pick<Pool, 'speed'>): number {
  return Math.max(1, Math.round((job.durationS * 1000) / poolSpeed(pool, job.class)));
}

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
          if (!peak) return pool;
          const measured = definedOnly(peak);
          const speed = { ...pool.speed };
          for (const [precision, tflops] of Object.entries(measured) as [Precision, number][]) {
            const advertised = pool.peakTflopsPerNode[precision];
            if (advertised > 0 && tflops > 0) speed[precision] = tflops / advertised;
          }
          return { ...pool, peakTflopsPerNode: { ...pool.peakTflopsPerNode, ...measured }, speed };
        }),
      };
    }),
  };
}

function definedOnly(peak: Partial<Record<Precision, number>>): Partial<Record<Precision, number>> {
  return Object.fromEntries(Object.entries(peak).filter(([, v]) => typeof v === 'number' && Number.isFinite(v) && v >= 0));
}
