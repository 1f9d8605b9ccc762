/**
 * A probe script run on this machine as a child process: how the simulated executor (whose sites are this
 * machine) runs `runProbe`. The script gets the machine's environment without Slurm's job variables (Kumul
 * itself may run inside a Slurm job), runs in its own process group and is killed with it after its time limit.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProbeRequest, ProbeResult } from './port.ts';

/** Most stdout kept from a probe (its lines are short; anything beyond is a runaway script). */
const MAX_OUTPUT_BYTES = 1 << 20;
/** Longest delay setTimeout honours (~24.8 days); a longer one fires at once, which would kill the probe at its start. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function runLocalProbe(request: ProbeRequest): Promise<ProbeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kumul-probe-'));
  const file = join(dir, 'probe.sh');
  writeFileSync(file, request.script, { mode: 0o700 });
  // TMPDIR is the probe's directory, so that what the script makes there (the compiled kernel) goes with it even when
  // the script is killed past its time limit before its own clean-up runs.
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLURM_') && k !== 'CUDA_VISIBLE_DEVICES')), TMPDIR: dir };
  const startedMs = Date.now();
  try {
    return await new Promise<ProbeResult>((resolve) => {
      const child = spawn('bash', [file], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.on('data', (chunk: Buffer) => {
        if (stdout.length < MAX_OUTPUT_BYTES) stdout += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-2000);
      });
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, Math.min(request.timeLimitS * 1000, MAX_TIMER_MS));
      const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        clearTimeout(timer);
        const endedMs = Date.now();
        const base = { stdout, node: hostname(), nodeGres: null, startedMs, endedMs };
        if (spawnError) resolve({ ...base, ok: false, state: 'failed', reason: `could not start bash: ${spawnError.message}` });
        else if (timedOut) resolve({ ...base, ok: false, state: 'timeout', reason: `probe ${request.ref} ran longer than ${request.timeLimitS} s and was stopped` });
        else if (code === 0) resolve({ ...base, ok: true, state: 'completed' });
        else resolve({ ...base, ok: false, state: 'failed', reason: `probe script exited ${code ?? `on ${signal}`}${stderr.trim() ? `: ${stderr.trim().slice(-300)}` : ''}` });
      };
      child.once('error', (err) => finish(null, null, err));
      child.once('close', (code, signal) => finish(code, signal));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
