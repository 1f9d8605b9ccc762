/**
 * Computing-power probes as the API shows them (routes/probes.ts): a stored probe (measured against advertised,
 * ratio, flag) and a probe run started by POST /v1/probes.
 */
import { z } from 'zod';
import type { ProbeRecord } from '../../store/port.ts';
import type { ProbeRun } from '../../probe/runs.ts';
import { Id, Instant, iso } from './common.ts';

const Gflops = z.number().nullable();
const PerPrecision = <T extends z.ZodType>(value: T) => z.object({ fp64: value, fp32: value, bf16: value });

export const ProbeView = z
  .object({
    id: z.string(),
    site: z.string(),
    pool: z.string(),
    measuredAt: Instant,
    kind: z.enum(['cpu', 'accelerator']).meta({ description: 'cpu: the matmul kernel on the CPUs; accelerator: device inventory and, where a runtime is present, throughput' }),
    node: z.string().nullable(),
    cores: z.number().int().nullable().meta({ description: 'CPUs the probe ran on (all the job got on the node)' }),
    perCoreGflops: z.object({ fp64: Gflops, fp32: Gflops }).meta({ description: 'Matmul GFLOP/s on one thread; null where not measured' }),
    perNodeGflops: PerPrecision(Gflops).meta({ description: 'GFLOP/s of the whole node; null where not measured' }),
    advertisedPerNodeTflops: PerPrecision(z.number()).meta({ description: "The pool's stated peak per node, TFLOPS" }),
    ratio: PerPrecision(z.number().nullable()).meta({ description: 'Measured per node ÷ advertised, where measured' }),
    threshold: z.number(),
    flagged: z.boolean().meta({ description: 'A ratio below the threshold, fewer accelerators than advertised, or a failed probe' }),
    note: z.string().nullable(),
    inventory: z.record(z.string(), z.unknown()).meta({ description: "What the node has: cores, Slurm GRES, visible devices, nvidia-smi's list, the accelerator runtime" }),
    error: z.string().nullable().meta({ description: 'Why the probe failed; nothing was measured then' }),
    recordedAt: Instant,
  })
  .meta({ id: 'Probe' });

export function toProbeView(p: ProbeRecord): z.infer<typeof ProbeView> {
  return {
    id: p.id,
    site: p.siteId,
    pool: p.poolId,
    measuredAt: iso(p.measuredMs),
    kind: p.kind,
    node: p.node,
    cores: p.cores,
    perCoreGflops: p.perCoreGflops,
    perNodeGflops: p.perNodeGflops,
    advertisedPerNodeTflops: p.advertisedPerNodeTflops,
    ratio: p.ratio,
    threshold: p.threshold,
    flagged: p.flagged,
    note: p.note,
    inventory: p.inventory,
    error: p.error,
    recordedAt: iso(p.recordedMs),
  };
}

export const ProbeRunView = z
  .object({
    id: z.string(),
    site: z.string(),
    pools: z.array(z.string()),
    state: z.enum(['running', 'done', 'failed']),
    startedAt: Instant,
    endedAt: Instant.nullable(),
    probes: z.array(z.string()).meta({ description: 'Ids of the probes stored so far (GET /v1/probes lists them)' }),
    error: z.string().nullable(),
  })
  .meta({ id: 'ProbeRun' });

export function toProbeRunView(r: ProbeRun): z.infer<typeof ProbeRunView> {
  return { id: r.id, site: r.siteId, pools: r.poolIds, state: r.state, startedAt: iso(r.startedMs), endedAt: r.endedMs === null ? null : iso(r.endedMs), probes: [...r.probeIds], error: r.error };
}

export const ProbeStartBody = z.strictObject({
  site: Id.meta({ description: 'The site whose pools are probed' }),
  pool: Id.optional().meta({ description: 'Only this pool of the site' }),
  threshold: z.number().gt(0).max(1).optional().meta({ description: 'Flag pools below this fraction of their advertised peak (default 0.8)' }),
});
