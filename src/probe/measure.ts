/**
 * From what a probe job printed to a stored probe: measured GFLOP/s per core and per node, the ratio to what
 * the pool advertises, the node's inventory, and whether the pool is flagged (delivering less than the
 * threshold, or fewer accelerators than it claims). Pure; src/probe/run.ts calls it after each probe job.
 */
import type { Pool, Precision } from '../core/model/types.ts';
import { gpuCount } from '../exec/slurm-probe.ts';
import type { ProbeResult } from '../exec/port.ts';
import type { ProbeInput } from '../store/port.ts';
import { parseProbeOutput, type ProbeKind, type ProbeOutput } from './kernel.ts';

/** Flag pools delivering less than this fraction of their advertised peak (`--threshold`). */
export const DEFAULT_THRESHOLD = 0.8;

/** Accelerator pools get the device probe; CPU (`general`) and supercomputing (`hpc`) pools the matmul kernel. */
export function probeKindOf(pool: Pool): ProbeKind {
  return pool.class === 'ai' ? 'accelerator' : 'cpu';
}

export interface JudgeArgs {
  id: string;
  siteId: string;
  pool: Pool;
  measuredMs: number;
  threshold: number;
  result: ProbeResult;
}

const NONE: Record<Precision, number | null> = { fp64: null, fp32: null, bf16: null };

/** The probe as it is stored: measurements, ratios, inventory, flag and note (or the error of a failed probe). */
export function judgeProbe(a: JudgeArgs): ProbeInput {
  const kind = probeKindOf(a.pool);
  const output = parseProbeOutput(a.result.stdout);
  const base = {
    id: a.id,
    siteId: a.siteId,
    poolId: a.pool.id,
    measuredMs: a.measuredMs,
    kind,
    node: a.result.node ?? output.node?.name ?? null,
    cores: output.node?.cores ?? null,
    advertisedPerNodeTflops: { ...a.pool.peakTflopsPerNode },
    threshold: a.threshold,
  };
  // A CPU probe that ran but printed no figure for a precision failed too (a kernel that died quietly, lost output).
  const missing = kind === 'cpu' && a.result.ok && output.errors.length === 0 ? (['fp64', 'fp32'] as const).filter((p) => !output.matmul.some((r) => r.precision === p)) : [];
  // A node-wide run on fewer threads than the node's CPUs (a kernel built without OpenMP runs one) is no per-node
  // figure: stored as one, it would read as the node delivering a core's worth and be flagged and metered so.
  const cores = output.node?.cores ?? null;
  const narrow =
    kind === 'cpu' && cores !== null && missing.length === 0
      ? (['fp64', 'fp32'] as const).flatMap((p) => {
          const widest = Math.max(0, ...output.matmul.filter((r) => r.precision === p).map((r) => r.threads));
          return widest > 0 && widest < cores ? [`the node-wide ${p} run used ${widest} of the node's ${cores} CPUs (the kernel was built without OpenMP?): no per-node figure`] : [];
        })
      : [];
  const failure = [
    a.result.ok ? null : (a.result.reason ?? `probe job ended ${a.result.state}`),
    ...output.errors,
    missing.length ? `the kernel printed no ${missing.join(' or ')} figure` : null,
    ...narrow,
  ].filter((x): x is string => !!x);
  if (failure.length > 0) {
    return {
      ...base,
      perCoreGflops: { fp64: null, fp32: null },
      perNodeGflops: { ...NONE },
      ratio: { ...NONE },
      flagged: true,
      note: 'the probe failed: nothing measured',
      inventory: inventoryOf(kind, a.result, output, a.pool),
      error: failure.join('; '),
    };
  }
  return kind === 'cpu' ? judgeCpu(base, a, output) : judgeAccelerator(base, a, output);
}

type Base = Omit<ProbeInput, 'perCoreGflops' | 'perNodeGflops' | 'ratio' | 'flagged' | 'note' | 'inventory' | 'error'>;

function judgeCpu(base: Base, a: JudgeArgs, output: ProbeOutput): ProbeInput {
  const perCore = { fp64: null as number | null, fp32: null as number | null };
  const perNode: Record<Precision, number | null> = { ...NONE };
  for (const precision of ['fp64', 'fp32'] as const) {
    const runs = output.matmul.filter((r) => r.precision === precision);
    const single = runs.filter((r) => r.threads === 1);
    if (single.length > 0) perCore[precision] = Math.max(...single.map((r) => r.gflops));
    // The node figure is the run on the most threads: all the job's CPUs (judgeProbe fails a probe whose widest run had fewer).
    const widest = runs.reduce<(typeof runs)[number] | null>((best, r) => (best === null || r.threads > best.threads ? r : best), null);
    if (widest) perNode[precision] = widest.gflops;
  }
  const ratio = ratios(perNode, a.pool);
  const low = lowRatios(ratio, a.threshold);
  return {
    ...base,
    perCoreGflops: perCore,
    perNodeGflops: perNode,
    ratio,
    flagged: low !== null,
    note: low,
    inventory: inventoryOf('cpu', a.result, output, a.pool),
    error: null,
  };
}

function judgeAccelerator(base: Base, a: JudgeArgs, output: ProbeOutput): ProbeInput {
  const perNode: Record<Precision, number | null> = { ...NONE };
  for (const run of output.accelerator) perNode[run.precision] = (perNode[run.precision] ?? 0) + run.tflops * 1000;
  const ratio = ratios(perNode, a.pool);
  const inventory = inventoryOf('accelerator', a.result, output, a.pool);
  const found = inventory.deviceCount as number;
  const expected = a.pool.unit === 'accelerator' ? a.pool.unitsPerNode : null;
  const notes: string[] = [];
  let flagged = false;
  if (expected !== null && found < expected) {
    flagged = true;
    notes.push(`${found} of the ${expected} accelerators a node should have were found`);
  }
  const low = lowRatios(ratio, a.threshold);
  if (low) {
    flagged = true;
    notes.push(low);
  }
  if (output.runtime === null) notes.push(`${output.runtimeNote ?? 'no accelerator runtime on the node'}: throughput not measured`);
  return { ...base, perCoreGflops: { fp64: null, fp32: null }, perNodeGflops: perNode, ratio, flagged, note: notes.length ? notes.join('; ') : null, inventory, error: null };
}

/** measured GFLOP/s ÷ (advertised TFLOPS × 1000), where both exist (an advertised 0 gives no ratio). */
function ratios(perNodeGflops: Record<Precision, number | null>, pool: Pool): Record<Precision, number | null> {
  const out: Record<Precision, number | null> = { ...NONE };
  for (const p of Object.keys(out) as Precision[]) {
    const measured = perNodeGflops[p];
    const advertised = pool.peakTflopsPerNode[p] * 1000;
    out[p] = measured === null || !(advertised > 0) ? null : measured / advertised;
  }
  return out;
}

/** "fp64 0.004, fp32 0.003 of advertised < threshold 0.8", or null when every measured ratio reaches it. */
function lowRatios(ratio: Record<Precision, number | null>, threshold: number): string | null {
  const low = (Object.entries(ratio) as [Precision, number | null][]).filter(([, r]) => r !== null && r < threshold);
  if (low.length === 0) return null;
  return `${low.map(([p, r]) => `${p} ${formatRatio(r!)}`).join(', ')} of advertised < threshold ${threshold}`;
}

/** Ratios as people read them: 3 significant digits. */
export function formatRatio(r: number): string {
  return Number(r.toPrecision(3)).toString();
}

/** What the node has, as far as the engine and the job could see. */
function inventoryOf(kind: ProbeKind, result: ProbeResult, output: ProbeOutput, pool: Pool): Record<string, unknown> {
  if (kind === 'cpu') return { cores: output.node?.cores ?? null, nodeGres: result.nodeGres, threads: [...new Set(output.matmul.map((r) => r.threads))] };
  // Devices: what nvidia-smi listed, else the job's CUDA_VISIBLE_DEVICES, else the devices the runtime measured,
  // else the node's GPUs in Slurm's records.
  const visible = output.visibleDevices === null || output.visibleDevices === '' || output.visibleDevices === 'NoDevFiles' ? [] : output.visibleDevices.split(',');
  const measured = new Set(output.accelerator.map((r) => r.device)).size;
  const [deviceCount, source] =
    output.devices.length > 0
      ? [output.devices.length, 'nvidia-smi']
      : visible.length > 0
        ? [visible.length, 'CUDA_VISIBLE_DEVICES']
        : measured > 0
          ? [measured, 'runtime']
          : [gpuCount(result.nodeGres), result.nodeGres ? 'slurm-gres' : 'none'];
  return {
    deviceCount,
    deviceCountSource: source,
    unitsPerNodeAdvertised: pool.unitsPerNode,
    nodeGres: result.nodeGres,
    visibleDevices: output.visibleDevices,
    devices: output.devices,
    runtime: output.runtime,
    ...(output.runtimeNote ? { runtimeNote: output.runtimeNote } : {}),
  };
}
