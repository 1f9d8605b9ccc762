/**
 * The computing-power probe's benchmark: the batch script a probe job runs on one whole node of a pool
 * (`kumul probe`, `POST /v1/probes`, through any executor's `runProbe`), and the parser of what it prints.
 *
 * CPU pools: a dense matrix-multiply kernel in C, compiled on the node itself at probe time
 * (`cc -O3 -march=native -fopenmp`), run in FP64 and FP32 on one thread (per core) and on every CPU the job
 * got (per node). It prints n, repetitions and seconds; GFLOP/s are computed here (2n³ per product), so the
 * FLOP count is in one tested place. Accelerator pools: the device inventory (CUDA_VISIBLE_DEVICES,
 * `nvidia-smi -L`) and, only where a runtime is present (PyTorch with CUDA), a matmul throughput per device;
 * otherwise the script says there is no accelerator runtime and no number is made up. docs/probes.md.
 */
import type { Precision } from '../core/model/types.ts';

/** What a probe measures: a CPU pool's matmul, or an accelerator pool's devices. */
export type ProbeKind = 'cpu' | 'accelerator';

/** FLOPs of one n×n by n×n dense matrix product: n² outputs, each n multiplies and n adds. */
export function matmulFlops(n: number): number {
  return 2 * n ** 3;
}

/** Every line the script prints for Kumul starts with this; anything else (compiler chatter) is ignored. */
export const PROBE_LINE_PREFIX = 'KUMUL-PROBE ';

/**
 * The kernel: C = A·B on n×n row-major matrices. Threads take C's MC×NR blocks one at a time (dynamic, so a
 * thread slowed by a neighbour does not hold the others back): (n/NR)·(n/MC) blocks, so that every core of a
 * large node has work even at the default n (column blocks alone would be 16 in FP32 at n=512, leaving the
 * other cores of a 64-core node idle). For each, a thread packs a KC×NR panel of B (contiguous, stays in
 * cache) and sweeps the block's MC rows of A over it with an MR×NR tile of C in vector
 * registers (gcc/clang vector extensions; the node's compiler picks its own instructions with -march=native).
 * It checks 16 entries against a plain dot product (maxRelErr) so a broken build cannot report speed.
 */
export const MATMUL_C_SOURCE = String.raw`/* kumul-matmul: dense C = A*B (n x n), timed; one KUMUL-PROBE line per run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#define MR 4
#define MC 32
#define KC 256
static double now_s(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
#define KERNEL(T, V, W, NAME) \
typedef T V __attribute__((vector_size(64))); \
static void NAME(int n, const T *restrict A, const T *restrict B, T *restrict C) { \
  enum { NR = 2 * W }; \
  memset(C, 0, sizeof(T) * (size_t)n * n); \
  _Pragma("omp parallel") { \
    V *panel = aligned_alloc(64, sizeof(T) * KC * NR); \
    const int rowBlocks = n / MC; \
    _Pragma("omp for schedule(dynamic, 1)") \
    for (int task = 0; task < (n / NR) * rowBlocks; task++) { \
      const int j0 = task / rowBlocks * NR, r0 = task % rowBlocks * MC; \
      for (int k0 = 0; k0 < n; k0 += KC) { \
        int kc = k0 + KC < n ? KC : n - k0; \
        for (int k = 0; k < kc; k++) memcpy(panel + 2 * k, B + (size_t)(k0 + k) * n + j0, sizeof(T) * NR); \
        for (int i0 = r0; i0 < r0 + MC; i0 += MR) { \
          V c[MR][2]; \
          for (int r = 0; r < MR; r++) { memcpy(&c[r][0], C + (size_t)(i0 + r) * n + j0, sizeof(V)); memcpy(&c[r][1], C + (size_t)(i0 + r) * n + j0 + W, sizeof(V)); } \
          const T *a = A + (size_t)i0 * n + k0; \
          for (int k = 0; k < kc; k++) { \
            V b0 = panel[2 * k], b1 = panel[2 * k + 1]; \
            for (int r = 0; r < MR; r++) { T s = a[(size_t)r * n + k]; c[r][0] += s * b0; c[r][1] += s * b1; } \
          } \
          for (int r = 0; r < MR; r++) { memcpy(C + (size_t)(i0 + r) * n + j0, &c[r][0], sizeof(V)); memcpy(C + (size_t)(i0 + r) * n + j0 + W, &c[r][1], sizeof(V)); } \
        } \
      } \
    } \
    free(panel); \
  } \
}
KERNEL(double, v64, 8, mm64)
KERNEL(float, v32, 16, mm32)
#define RUN(T, MM, LABEL) { \
  T *A = aligned_alloc(64, sizeof(T) * (size_t)n * n), *B = aligned_alloc(64, sizeof(T) * (size_t)n * n), *C = aligned_alloc(64, sizeof(T) * (size_t)n * n); \
  for (size_t i = 0; i < (size_t)n * n; i++) { A[i] = (T)((i * 7 + 3) % 13) / 13; B[i] = (T)((i * 5 + 1) % 11) / 11; } \
  MM(n, A, B, C); \
  long reps = 0; double t0 = now_s(), t; \
  do { MM(n, A, B, C); reps++; t = now_s() - t0; } while (t < min_s); \
  double err = 0; \
  for (int s = 0; s < 16; s++) { int i = (s * 37) % n, j = (s * 91) % n; double ref = 0; \
    for (int k = 0; k < n; k++) ref += (double)A[(size_t)i * n + k] * (double)B[(size_t)k * n + j]; \
    double e = fabs(C[(size_t)i * n + j] - ref) / (fabs(ref) + 1e-30); if (e > err) err = e; } \
  printf("KUMUL-PROBE matmul precision=%s threads=%d n=%d reps=%ld seconds=%.6f maxRelErr=%.3g\n", LABEL, threads, n, reps, t, err); \
  fflush(stdout); free(A); free(B); free(C); }
int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: kumul-matmul fp64|fp32 N THREADS MIN_SECONDS\n"); return 2; }
  int n = atoi(argv[2]), threads = atoi(argv[3]); double min_s = atof(argv[4]);
  if (n <= 0 || n % 32 || threads <= 0) { fprintf(stderr, "kumul-matmul: N must be a positive multiple of 32, THREADS positive\n"); return 2; }
#ifdef _OPENMP
  omp_set_num_threads(threads);
  threads = omp_get_max_threads();
#else
  threads = 1;
#endif
  if (!strcmp(argv[1], "fp64")) RUN(double, mm64, "fp64") else if (!strcmp(argv[1], "fp32")) RUN(float, mm32, "fp32") else { fprintf(stderr, "kumul-matmul: precision must be fp64 or fp32\n"); return 2; }
  return 0;
}
`;

/** The accelerator throughput probe (PyTorch), run only when `torch.cuda.is_available()`: a matmul per device and precision. */
const TORCH_PROBE = String.raw`import sys, time, torch
n, min_s = int(sys.argv[1]), float(sys.argv[2])
for d in range(torch.cuda.device_count()):
    print("KUMUL-PROBE device-name index=%d %s" % (d, torch.cuda.get_device_name(d)), flush=True)
    for label, dtype in (("fp64", torch.float64), ("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a = torch.randn(n, n, device=d, dtype=dtype); b = torch.randn(n, n, device=d, dtype=dtype)
        torch.matmul(a, b); torch.cuda.synchronize(d)
        reps, t0 = 0, time.perf_counter()
        while True:
            for _ in range(5): torch.matmul(a, b)
            torch.cuda.synchronize(d); reps += 5; t = time.perf_counter() - t0
            if t >= min_s: break
        print("KUMUL-PROBE accel device=%d precision=%s n=%d reps=%d seconds=%.6f" % (d, label, n, reps, t), flush=True)
`;

export interface ProbeScriptOptions {
  kind: ProbeKind;
  /** Matrix order of the CPU kernel (a multiple of 32). */
  n: number;
  /** Each timed run repeats the product until this many seconds have passed. */
  minSeconds: number;
  /** Matrix order of the accelerator probe. */
  acceleratorN?: number;
}

/** The default sizes: a few seconds per CPU pool (4 timed runs of ≥ 0.5 s plus compiling). */
export const DEFAULT_PROBE_SIZES = { n: 512, minSeconds: 0.5, acceleratorN: 8192 } as const;

/** The bash script a probe job runs (it starts with `#!`, prints KUMUL-PROBE lines, exits non-zero on failure). */
export function probeScript(o: ProbeScriptOptions): string {
  if (!Number.isInteger(o.n) || o.n <= 0 || o.n % 32 !== 0) throw new Error(`probe matrix order n=${o.n} must be a positive multiple of 32`);
  if (!(o.minSeconds > 0 && Number.isFinite(o.minSeconds))) throw new Error(`probe minSeconds=${o.minSeconds} must be a finite number > 0`);
  const head = [
    '#!/bin/bash',
    `# kumul probe (${o.kind}): written by src/probe/kernel.ts; prints KUMUL-PROBE lines`,
    'set -u',
    'say() { echo "KUMUL-PROBE $*"; }',
    // The CPUs the job got: Slurm's count on a cluster (the job has the whole node), else what the OS gives this process.
    // OpenMP's variables from the caller's environment go first: nproc honours them (OMP_NUM_THREADS=1 makes it say 1),
    // and OMP_THREAD_LIMIT would cap the node-wide run below the node's CPUs.
    'unset OMP_NUM_THREADS OMP_THREAD_LIMIT',
    'cores=${SLURM_CPUS_ON_NODE:-$(nproc)}',
    'say node name=${SLURMD_NODENAME:-$(hostname)} cores=$cores',
    'dir=$(mktemp -d "${TMPDIR:-/tmp}/kumul-probe.XXXXXX") || { say error "cannot create a temporary directory"; exit 3; }',
    'trap \'rm -rf "$dir"\' EXIT',
  ];
  if (o.kind === 'cpu') {
    return [
      ...head,
      'cat >"$dir/matmul.c" <<\'KUMUL_MATMUL_EOF\'',
      MATMUL_C_SOURCE.trimEnd(),
      'KUMUL_MATMUL_EOF',
      'CC=$(command -v cc || command -v gcc || command -v clang) || { say error "no C compiler (cc, gcc or clang) on the node"; exit 3; }',
      '"$CC" -O3 -march=native -fopenmp -o "$dir/matmul" "$dir/matmul.c" -lm 2>"$dir/cc.log" \\',
      '  || "$CC" -O3 -fopenmp -o "$dir/matmul" "$dir/matmul.c" -lm 2>>"$dir/cc.log" \\',
      '  || "$CC" -O3 -o "$dir/matmul" "$dir/matmul.c" -lm 2>>"$dir/cc.log" \\',
      '  || { say error "compiling the matmul kernel failed: $(tail -c 300 "$dir/cc.log" | tr \'\\n\' \' \')"; exit 3; }',
      // Idle OpenMP threads sleep instead of spinning: on a node whose cores are shared (or oversubscribed, as 8 Slurm
      // CPUs on 2 real cores here) spinning threads steal the cycles the working ones need (3-4x slower measured here).
      'export OMP_WAIT_POLICY=passive',
      `for p in fp64 fp32; do`,
      `  "$dir/matmul" $p ${o.n} 1 ${o.minSeconds} || { say error "matmul $p on 1 thread failed"; exit 4; }`,
      `  "$dir/matmul" $p ${o.n} $cores ${o.minSeconds} || { say error "matmul $p on $cores threads failed"; exit 4; }`,
      'done',
      '',
    ].join('\n');
  }
  const accelN = o.acceleratorN ?? DEFAULT_PROBE_SIZES.acceleratorN;
  if (!Number.isInteger(accelN) || accelN <= 0) throw new Error(`probe accelerator matrix order acceleratorN=${accelN} must be a positive integer`);
  return [
    ...head,
    'say visible-devices ${CUDA_VISIBLE_DEVICES-unset}',
    'smi=absent',
    'if command -v nvidia-smi >/dev/null 2>&1; then smi=present; nvidia-smi -L 2>&1 | while IFS= read -r line; do say device "$line"; done; fi',
    'py=""',
    'for candidate in /usr/bin/python3 python3; do',
    '  if "$candidate" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" >/dev/null 2>&1; then py=$candidate; break; fi',
    'done',
    'if [ -z "$py" ]; then say runtime none "no accelerator runtime on the node (nvidia-smi $smi; no PyTorch with CUDA)"; exit 0; fi',
    'say runtime torch',
    'cat >"$dir/probe.py" <<\'KUMUL_TORCH_EOF\'',
    TORCH_PROBE.trimEnd(),
    'KUMUL_TORCH_EOF',
    `"$py" "$dir/probe.py" ${accelN} ${o.minSeconds} || { say error "the PyTorch throughput probe failed"; exit 4; }`,
    '',
  ].join('\n');
}

/** One timed matmul run of the CPU kernel, with its rate. */
export interface MatmulRun {
  precision: 'fp64' | 'fp32';
  threads: number;
  n: number;
  reps: number;
  seconds: number;
  maxRelErr: number;
  /** matmulFlops(n) × reps / seconds / 1e9. */
  gflops: number;
}

/** One device's timed matmul (accelerator probe). */
export interface AcceleratorRun {
  device: number;
  precision: Precision;
  n: number;
  reps: number;
  seconds: number;
  tflops: number;
}

/** Everything a probe's output says. */
export interface ProbeOutput {
  node: { name: string; cores: number } | null;
  matmul: MatmulRun[];
  /** CUDA_VISIBLE_DEVICES as the job saw it; null when it was unset (or the probe did not look). */
  visibleDevices: string | null;
  /** `nvidia-smi -L` lines (the runtime's `device-name` lines are not kept: its `accel` lines name the devices it measured). */
  devices: string[];
  /** `torch`, or null with `runtimeNote` saying why there is none. */
  runtime: string | null;
  runtimeNote: string | null;
  accelerator: AcceleratorRun[];
  /** What the script reported as failing. */
  errors: string[];
}

/** Largest relative error of a checked matmul entry that still counts: FP32 sums of 10³-10⁴ terms stay far below. */
export const MAX_MATMUL_REL_ERR = { fp64: 1e-9, fp32: 1e-3 } as const;

/**
 * Reads a probe's stdout. Lines without the prefix are ignored; a KUMUL-PROBE line that does not parse, or a
 * matmul whose check failed, becomes an error (a wrong number is worse than none).
 */
export function parseProbeOutput(stdout: string): ProbeOutput {
  const out: ProbeOutput = { node: null, matmul: [], visibleDevices: null, devices: [], runtime: null, runtimeNote: null, accelerator: [], errors: [] };
  for (const raw of stdout.split('\n')) {
    const line = raw.trimEnd();
    if (!line.startsWith(PROBE_LINE_PREFIX)) continue;
    const body = line.slice(PROBE_LINE_PREFIX.length);
    const space = body.indexOf(' ');
    const tag = space < 0 ? body : body.slice(0, space);
    const rest = space < 0 ? '' : body.slice(space + 1);
    switch (tag) {
      case 'node': {
        const f = fields(rest);
        const cores = Number(f.cores);
        if (f.name && Number.isInteger(cores) && cores > 0) out.node = { name: f.name, cores };
        else out.errors.push(`unreadable node line: ${rest}`);
        break;
      }
      case 'matmul': {
        const f = fields(rest);
        const [threads, n, reps, seconds, maxRelErr] = [f.threads, f.n, f.reps, f.seconds, f.maxRelErr].map(Number);
        const precision = f.precision;
        if ((precision !== 'fp64' && precision !== 'fp32') || !(threads > 0) || !(n > 0) || !(reps > 0) || !(seconds > 0) || !Number.isFinite(maxRelErr)) {
          out.errors.push(`unreadable matmul line: ${rest}`);
        } else if (maxRelErr > MAX_MATMUL_REL_ERR[precision]) {
          out.errors.push(`matmul ${precision} on ${threads} threads computed wrong results (relative error ${maxRelErr})`);
        } else {
          out.matmul.push({ precision, threads, n, reps, seconds, maxRelErr, gflops: (matmulFlops(n) * reps) / seconds / 1e9 });
        }
        break;
      }
      case 'visible-devices':
        out.visibleDevices = rest === 'unset' ? null : rest;
        break;
      case 'device':
        if (rest) out.devices.push(rest);
        break;
      case 'device-name':
        break;
      case 'runtime': {
        const name = rest.split(' ')[0];
        if (name === 'none') out.runtimeNote = rest.slice(5).trim() || 'no accelerator runtime on the node';
        else out.runtime = name;
        break;
      }
      case 'accel': {
        const f = fields(rest);
        const [device, n, reps, seconds] = [f.device, f.n, f.reps, f.seconds].map(Number);
        const precision = f.precision as Precision;
        if (!['fp64', 'fp32', 'bf16'].includes(precision) || !Number.isInteger(device) || !(n > 0) || !(reps > 0) || !(seconds > 0)) out.errors.push(`unreadable accel line: ${rest}`);
        else out.accelerator.push({ device, precision, n, reps, seconds, tflops: (matmulFlops(n) * reps) / seconds / 1e12 });
        break;
      }
      case 'error':
        out.errors.push(rest);
        break;
      default:
        out.errors.push(`unknown probe line: ${body}`);
    }
  }
  return out;
}

/** `a=1 b=x` → { a: '1', b: 'x' }. */
function fields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}
