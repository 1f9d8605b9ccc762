/**
 * Judging a probe (src/probe/measure.ts): measured against advertised, flagged below the threshold or when a node
 * lacks accelerators, failed probes stored with their error; and the measured capability the service meters with.
 */
import { describe, expect, it } from 'vitest';
import { withMeasuredCapability } from '../../src/core/model/capability.ts';
import type { Pool } from '../../src/core/model/types.ts';
import type { ProbeResult } from '../../src/exec/port.ts';
import { MeasuredCapability, measuredPeaks } from '../../src/probe/capability.ts';
import { judgeProbe } from '../../src/probe/measure.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import { makePool, makeSite } from '../fixtures/scenario-builder.ts';

/** A CPU pool advertising 0.1 TFLOPS fp64 and 0.2 fp32 per node (100 and 200 GFLOP/s). */
const cpuPool: Pool = { ...makePool('general', 64), id: 'hami-general', unitsPerNode: 8, peakTflopsPerNode: { fp64: 0.1, fp32: 0.2, bf16: 0.4 } };
const aiPool: Pool = { ...makePool('ai', 64), id: 'hami-ai' };

function result(stdout: string, patch: Partial<ProbeResult> = {}): ProbeResult {
  return { ok: true, state: 'completed', stdout, node: 'hami-cpu-1', nodeGres: null, startedMs: 1000, endedMs: 5000, ...patch };
}

/** Kernel lines giving `fp64` and `fp32` GFLOP/s per node (8 threads), a quarter of that per core (n=256, 1 s each). */
function cpuOutput(fp64NodeGflops: number, fp32NodeGflops: number): string {
  const reps = (gflops: number) => (gflops * 1e9) / (2 * 256 ** 3);
  return [
    'KUMUL-PROBE node name=hami-cpu-1 cores=8',
    `KUMUL-PROBE matmul precision=fp64 threads=1 n=256 reps=${reps(fp64NodeGflops / 4)} seconds=1 maxRelErr=0`,
    `KUMUL-PROBE matmul precision=fp64 threads=8 n=256 reps=${reps(fp64NodeGflops)} seconds=1 maxRelErr=0`,
    `KUMUL-PROBE matmul precision=fp32 threads=1 n=256 reps=${reps(fp32NodeGflops / 4)} seconds=1 maxRelErr=1e-7`,
    `KUMUL-PROBE matmul precision=fp32 threads=8 n=256 reps=${reps(fp32NodeGflops)} seconds=1 maxRelErr=1e-7`,
  ].join('\n');
}

const judge = (pool: Pool, r: ProbeResult, threshold = 0.8) => judgeProbe({ id: 'p1', siteId: 'hami', pool, measuredMs: 1000, threshold, result: r });

describe('a CPU pool', () => {
  it('per core and per node, the ratio to advertised, flagged below the threshold', () => {
    const p = judge(cpuPool, result(cpuOutput(50, 180)));
    expect(p.perCoreGflops.fp64).toBeCloseTo(12.5, 9);
    expect(p.perNodeGflops.fp64).toBeCloseTo(50, 9);
    expect(p.perNodeGflops.bf16).toBeNull();
    expect(p.ratio.fp64).toBeCloseTo(0.5, 9);
    expect(p.ratio.fp32).toBeCloseTo(0.9, 9);
    expect(p.ratio.bf16).toBeNull();
    expect(p).toMatchObject({ kind: 'cpu', node: 'hami-cpu-1', cores: 8, flagged: true, error: null, advertisedPerNodeTflops: { fp64: 0.1, fp32: 0.2, bf16: 0.4 } });
    expect(p.note).toBe('fp64 0.5 of advertised < threshold 0.8');
  });

  it('not flagged when every measured precision reaches the threshold', () => {
    const p = judge(cpuPool, result(cpuOutput(90, 190)));
    expect(p).toMatchObject({ flagged: false, note: null, error: null });
    expect(judge(cpuPool, result(cpuOutput(90, 190)), 0.95).flagged).toBe(true);
  });

  it('a ratio exactly at the threshold is not flagged; just below it is', () => {
    expect(judge(cpuPool, result(cpuOutput(80, 160)))).toMatchObject({ flagged: false, note: null, ratio: { fp64: 0.8, fp32: 0.8 } });
    const below = judge(cpuPool, result(cpuOutput(79.9, 160)));
    expect(below.flagged).toBe(true);
    expect(below.note).toBe('fp64 0.799 of advertised < threshold 0.8');
  });

  it('a node-wide run on fewer threads than the node has CPUs (no OpenMP) is no per-node figure: a failed probe', () => {
    const oneThread = cpuOutput(50, 180).replaceAll('threads=8', 'threads=1');
    const p = judge(cpuPool, result(oneThread));
    expect(p).toMatchObject({ flagged: true, perNodeGflops: { fp64: null, fp32: null, bf16: null }, ratio: { fp64: null, fp32: null } });
    expect(p.error).toBe(
      "the node-wide fp64 run used 1 of the node's 8 CPUs (the kernel was built without OpenMP?): no per-node figure; the node-wide fp32 run used 1 of the node's 8 CPUs (the kernel was built without OpenMP?): no per-node figure",
    );
  });

  it('a failed job, or a kernel that computed wrong results, is a failed probe: flagged, nothing measured', () => {
    const failed = judge(cpuPool, result('KUMUL-PROBE node name=hami-cpu-1 cores=8\nKUMUL-PROBE error no C compiler (cc, gcc or clang) on the node\n', { ok: false, state: 'failed', reason: 'probe job 7 ended FAILED: exit status 3' }));
    expect(failed).toMatchObject({ flagged: true, perNodeGflops: { fp64: null, fp32: null, bf16: null }, ratio: { fp64: null, fp32: null, bf16: null } });
    expect(failed.error).toBe('probe job 7 ended FAILED: exit status 3; no C compiler (cc, gcc or clang) on the node');
    const wrong = judge(cpuPool, result(cpuOutput(50, 180).replace('maxRelErr=0', 'maxRelErr=0.5')));
    expect(wrong.error).toMatch(/computed wrong results/);
    expect(wrong.perNodeGflops.fp64).toBeNull();
    const silent = judge(cpuPool, result(cpuOutput(50, 180).split('\n').filter((l) => !l.includes('fp32')).join('\n')));
    expect(silent).toMatchObject({ flagged: true, error: 'the kernel printed no fp32 figure', perNodeGflops: { fp64: null } });
  });
});

describe('an accelerator pool', () => {
  it('Slurm gave the job the node’s 8 GPUs, no runtime: inventory recorded, throughput not measured, not flagged', () => {
    const p = judge(aiPool, result('KUMUL-PROBE node name=hami-1 cores=8\nKUMUL-PROBE visible-devices 0,1,2,3,4,5,6,7\nKUMUL-PROBE runtime none no accelerator runtime on the node (nvidia-smi absent; no PyTorch with CUDA)\n', { node: 'hami-1', nodeGres: 'gpu:a100:8' }));
    expect(p).toMatchObject({ kind: 'accelerator', flagged: false, perNodeGflops: { fp64: null, fp32: null, bf16: null }, ratio: { fp64: null, fp32: null, bf16: null }, error: null });
    expect(p.inventory).toMatchObject({ deviceCount: 8, deviceCountSource: 'CUDA_VISIBLE_DEVICES', nodeGres: 'gpu:a100:8', runtime: null });
    expect(p.note).toBe('no accelerator runtime on the node (nvidia-smi absent; no PyTorch with CUDA): throughput not measured');
  });

  it('a node with fewer accelerators than the pool claims is flagged', () => {
    const p = judge(aiPool, result('KUMUL-PROBE node name=vm cores=2\nKUMUL-PROBE visible-devices unset\nKUMUL-PROBE runtime none no accelerator runtime on the node\n', { node: 'vm' }));
    expect(p.flagged).toBe(true);
    expect(p.inventory).toMatchObject({ deviceCount: 0, deviceCountSource: 'none' });
    expect(p.note).toMatch(/^0 of the 8 accelerators a node should have were found/);
  });

  it('eight H200s at the rates measured in ../shared/data/accelerator-power (peak.json) deliver what hami-ai advertises per node', () => {
    // hami-ai advertises 424.8 / 407.2 / 5284.8 TFLOPS per node: 8 × the H200's 53.1 / 50.9 / 660.6 TFLOP/s per device.
    const hamiAi: Pool = { ...aiPool, peakTflopsPerNode: { fp64: 424.8, fp32: 407.2, bf16: 5284.8 } };
    const n = 8192;
    const reps = (tflops: number) => (tflops * 1e12) / (2 * n ** 3); // over 1 s
    const lines = ['KUMUL-PROBE node name=gpu-1 cores=64', 'KUMUL-PROBE runtime torch'];
    for (let d = 0; d < 8; d++) {
      lines.push(`KUMUL-PROBE device GPU ${d}: NVIDIA H200 (UUID: GPU-${d})`);
      for (const [precision, tflops] of [['fp64', 53.1], ['fp32', 50.9], ['bf16', 656.0]] as const) lines.push(`KUMUL-PROBE accel device=${d} precision=${precision} n=${n} reps=${reps(tflops)} seconds=1`);
    }
    const p = judge(hamiAi, result(lines.join('\n'), { node: 'gpu-1' }));
    expect(p.perNodeGflops.bf16).toBeCloseTo(8 * 656_000, 3);
    expect(p.ratio.fp64).toBeCloseTo(1, 9);
    expect(p.ratio.fp32).toBeCloseTo(1, 9);
    expect(p.ratio.bf16).toBeCloseTo(656 / 660.6, 9);
    expect(p).toMatchObject({ flagged: false, note: null, error: null });
    expect(measuredPeaks([{ ...p, recordedMs: 0 }])[0].peakTflopsPerNode.bf16).toBeCloseTo(8 * 656, 6);
  });

  it('with a runtime but neither nvidia-smi nor CUDA_VISIBLE_DEVICES, the devices it measured are the inventory', () => {
    const lines = ['KUMUL-PROBE node name=gpu-1 cores=64', 'KUMUL-PROBE visible-devices unset', 'KUMUL-PROBE runtime torch'];
    for (let d = 0; d < 8; d++) lines.push(`KUMUL-PROBE accel device=${d} precision=bf16 n=8192 reps=100 seconds=0.2`);
    const p = judge(aiPool, result(lines.join('\n'), { node: 'gpu-1' }));
    expect(p.inventory).toMatchObject({ deviceCount: 8, deviceCountSource: 'runtime' });
    expect(p.note ?? '').not.toMatch(/accelerators a node should have/);
  });

  it('with a runtime, the devices’ throughput summed per node against the advertised peak', () => {
    const lines = ['KUMUL-PROBE node name=gpu-1 cores=64', 'KUMUL-PROBE runtime torch'];
    for (let d = 0; d < 8; d++) {
      lines.push(`KUMUL-PROBE device GPU ${d}: NVIDIA A100`);
      // 2·4096³·10 / 0.05 s ≈ 27.5 TFLOP/s bf16 per device: 220 TFLOP/s per node against 661 advertised.
      lines.push(`KUMUL-PROBE accel device=${d} precision=bf16 n=4096 reps=10 seconds=0.05`);
    }
    const p = judge(aiPool, result(lines.join('\n'), { node: 'gpu-1' }));
    const perDevice = (2 * 4096 ** 3 * 10) / 0.05 / 1e9;
    expect(p.perNodeGflops.bf16).toBeCloseTo(8 * perDevice, 3);
    expect(p.ratio.bf16).toBeCloseTo((8 * perDevice) / 661_000, 9);
    expect(p.inventory).toMatchObject({ deviceCount: 8, deviceCountSource: 'nvidia-smi', runtime: 'torch' });
    expect(p.flagged).toBe(true);
    expect(p.note).toMatch(/^bf16 0\.333 of advertised < threshold 0\.8$/);
  });
});

describe('measured capability', () => {
  const network = { sites: [makeSite('hami').pool('general', 64).ai(8).site()], links: [] };

  it('replaces the measured precisions of probed pools; the rest keeps the advertised figures', () => {
    const measured = withMeasuredCapability(network, [{ siteId: 'hami', poolId: 'general', peakTflopsPerNode: { fp64: 0.03, fp32: 0.05 } }]);
    expect(measured.sites[0].pools.find((p) => p.id === 'general')!.peakTflopsPerNode).toEqual({ fp64: 0.03, fp32: 0.05, bf16: 661 });
    expect(measured.sites[0].pools.find((p) => p.id === 'ai')).toBe(network.sites[0].pools.find((p) => p.id === 'ai'));
    expect(network.sites[0].pools[0].peakTflopsPerNode.fp64).toBe(53);
    expect(withMeasuredCapability(network, [])).toBe(network);
  });

  it('comes from the latest probe of each pool in the store, refreshed on demand', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      const capability = new MeasuredCapability(store);
      await capability.refresh();
      expect(capability.network(network)).toBe(network);
      const probe = judgeProbe({ id: 'p1', siteId: 'hami', pool: network.sites[0].pools[0], measuredMs: 1000, threshold: 0.8, result: result(cpuOutput(30, 60)) });
      expect((await store.recordProbe(probe, 1000)).ok).toBe(true);
      const failed = judgeProbe({ id: 'p2', siteId: 'hami', pool: network.sites[0].pools[0], measuredMs: 2000, threshold: 0.8, result: result('', { ok: false, state: 'failed', reason: 'x' }) });
      expect((await store.recordProbe(failed, 2000)).ok).toBe(true);
      await capability.refresh();
      const peak = capability.network(network).sites[0].pools[0].peakTflopsPerNode;
      expect(peak.fp64).toBeCloseTo(0.03, 9);
      expect(peak.fp32).toBeCloseTo(0.06, 9);
      expect(peak.bf16).toBe(661);
      expect(measuredPeaks(await store.latestProbes())).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
