/**
 * The probe's benchmark (src/probe/kernel.ts): the FLOP count, the parser (rates computed from n, repetitions and
 * seconds; a wrong result or an unreadable line is an error, never a number), and the real script run here.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { matmulFlops, parseProbeOutput, probeScript } from '../../src/probe/kernel.ts';

describe('the matmul FLOP count', () => {
  it('is 2n³: n multiplies and n adds for each of the n² outputs', () => {
    expect(matmulFlops(1)).toBe(2);
    expect(matmulFlops(2)).toBe(16);
    expect(matmulFlops(512)).toBe(268_435_456);
  });
});

describe('parsing a probe', () => {
  it('computes GFLOP/s from n, repetitions and seconds; ignores other lines', () => {
    const out = parseProbeOutput(
      [
        'gcc: some warning',
        'KUMUL-PROBE node name=hami-cpu-1 cores=8',
        'KUMUL-PROBE matmul precision=fp64 threads=1 n=512 reps=10 seconds=0.5 maxRelErr=0',
        'KUMUL-PROBE matmul precision=fp32 threads=8 n=256 reps=100 seconds=0.25 maxRelErr=5e-07',
      ].join('\n'),
    );
    expect(out.errors).toEqual([]);
    expect(out.node).toEqual({ name: 'hami-cpu-1', cores: 8 });
    // 2·512³·10 / 0.5 s = 5.37 GFLOP/s; 2·256³·100 / 0.25 s = 13.4 GFLOP/s.
    expect(out.matmul.map((r) => [r.precision, r.threads, r.gflops])).toEqual([
      ['fp64', 1, (2 * 512 ** 3 * 10) / 0.5 / 1e9],
      ['fp32', 8, (2 * 256 ** 3 * 100) / 0.25 / 1e9],
    ]);
  });

  it('a result that fails its check, or an unreadable line, is an error and gives no figure', () => {
    const out = parseProbeOutput(
      [
        'KUMUL-PROBE matmul precision=fp64 threads=1 n=512 reps=10 seconds=0.5 maxRelErr=0.01',
        'KUMUL-PROBE matmul precision=fp32 threads=1 n=512 reps=10 seconds=0 maxRelErr=0',
        'KUMUL-PROBE matmul precision=fp16 threads=1 n=512 reps=10 seconds=1 maxRelErr=0',
        'KUMUL-PROBE teleport now',
        'KUMUL-PROBE error no C compiler (cc, gcc or clang) on the node',
      ].join('\n'),
    );
    expect(out.matmul).toEqual([]);
    expect(out.errors).toHaveLength(5);
    expect(out.errors[0]).toMatch(/fp64 on 1 threads computed wrong results/);
    expect(out.errors[1]).toMatch(/unreadable matmul line/);
    expect(out.errors[3]).toMatch(/unknown probe line: teleport now/);
    expect(out.errors[4]).toBe('no C compiler (cc, gcc or clang) on the node');
  });

  it('accelerators: visible devices, nvidia-smi lines, no runtime, or per-device throughput', () => {
    const none = parseProbeOutput('KUMUL-PROBE visible-devices 0,1,2,3\nKUMUL-PROBE runtime none no accelerator runtime on the node (nvidia-smi absent; no PyTorch with CUDA)\n');
    expect(none).toMatchObject({ visibleDevices: '0,1,2,3', runtime: null, runtimeNote: 'no accelerator runtime on the node (nvidia-smi absent; no PyTorch with CUDA)', accelerator: [] });
    const torch = parseProbeOutput(
      [
        'KUMUL-PROBE visible-devices unset',
        'KUMUL-PROBE device GPU 0: NVIDIA H200 (UUID: GPU-1)',
        'KUMUL-PROBE runtime torch',
        'KUMUL-PROBE accel device=0 precision=bf16 n=8192 reps=100 seconds=0.167',
      ].join('\n'),
    );
    expect(torch).toMatchObject({ visibleDevices: null, devices: ['GPU 0: NVIDIA H200 (UUID: GPU-1)'], runtime: 'torch', errors: [] });
    expect(torch.accelerator[0].tflops).toBeCloseTo((2 * 8192 ** 3 * 100) / 0.167 / 1e12, 6);
  });
});

describe('the probe script', () => {
  it('refuses a matrix order the kernel cannot tile', () => {
    expect(() => probeScript({ kind: 'cpu', n: 100, minSeconds: 0.1 })).toThrow(/multiple of 32/);
    expect(() => probeScript({ kind: 'cpu', n: 128, minSeconds: 0 })).toThrow(/minSeconds/);
  });

  it('compiles and runs the kernel here: FP64 and FP32, on one thread and on every CPU, each checked and timed', () => {
    const stdout = execFileSync('bash', ['-c', probeScript({ kind: 'cpu', n: 128, minSeconds: 0.05 })], { encoding: 'utf8', env: { ...process.env, SLURM_CPUS_ON_NODE: '2' } });
    const out = parseProbeOutput(stdout);
    expect(out.errors).toEqual([]);
    expect(out.node?.cores).toBe(2);
    expect(out.matmul.map((r) => `${r.precision}/${r.threads}`)).toEqual(['fp64/1', 'fp64/2', 'fp32/1', 'fp32/2']);
    for (const run of out.matmul) {
      expect(run.seconds).toBeGreaterThanOrEqual(0.05);
      expect(run.gflops).toBeGreaterThan(0.1);
      // A matmul cannot beat the hardware: far below 1 TFLOP/s on two cores of this kind of machine.
      expect(run.gflops).toBeLessThan(1000);
    }
  });

  it('counts the CPUs the OS gives it, not an OMP_NUM_THREADS or OMP_THREAD_LIMIT of the caller (nproc honours both)', () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLURM_')));
    const stdout = execFileSync('bash', ['-c', probeScript({ kind: 'cpu', n: 64, minSeconds: 0.01 })], { encoding: 'utf8', env: { ...env, OMP_NUM_THREADS: '1', OMP_THREAD_LIMIT: '1' } });
    const out = parseProbeOutput(stdout);
    expect(out.errors).toEqual([]);
    expect(out.node?.cores).toBe(availableParallelism());
    expect(Math.max(...out.matmul.map((r) => r.threads))).toBe(availableParallelism());
  });

  it('on a node without an accelerator runtime says so and measures nothing', () => {
    const stdout = execFileSync('bash', ['-c', probeScript({ kind: 'accelerator', n: 128, minSeconds: 0.05 })], { encoding: 'utf8', env: { ...process.env, CUDA_VISIBLE_DEVICES: '0,1', PATH: '/usr/bin:/bin' } });
    const out = parseProbeOutput(stdout);
    expect(out).toMatchObject({ visibleDevices: '0,1', runtime: null, accelerator: [], errors: [] });
    expect(out.runtimeNote).toMatch(/^no accelerator runtime on the node/);
  });
});
