/**
 * Where the tests' local Slurm is: the env file scripts/slurm-up.sh writes (scripts/test.sh exports its path).
 * Sites map to the partitions of the same name; units are GPUs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SlurmOptions } from '../../src/exec/slurm.ts';

function envFile(): Map<string, string> {
  const file = process.env.KUMUL_SLURM_ENV ?? '/tmp/kumul-slurm/env';
  return new Map(readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** Runs scontrol on the local cluster (draining and resuming nodes has no REST endpoint in 22.05). */
export function scontrol(...args: string[]): void {
  execFileSync('scontrol', args, { env: { ...process.env, SLURM_CONF: envFile().get('SLURM_CONF')! }, stdio: 'pipe' });
}

export function localSlurm(): SlurmOptions {
  const env = envFile();
  return {
    url: env.get('KUMUL_SLURM_URL')!,
    user: env.get('KUMUL_SLURM_USER')!,
    token: env.get('KUMUL_SLURM_TOKEN')!,
    target: (siteId) => ({ partition: siteId, units: siteId.endsWith('-cpu') ? 'tasks' : 'gpus' }),
    pools: env.get('KUMUL_SLURM_PARTITIONS')!.split(',').map((siteId) => ({ siteId, poolId: siteId.endsWith('-cpu') ? 'general' : 'ai' })),
  };
}

/** The local Slurm's jobs (GET /jobs), as the tests check what the executor did. */
export async function slurmJobs(options: SlurmOptions): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${options.url}/slurm/v0.0.38/jobs`, { headers: { 'X-SLURM-USER-NAME': options.user, 'X-SLURM-USER-TOKEN': options.token } });
  return ((await res.json()) as { jobs: Record<string, unknown>[] }).jobs;
}

/** Which local partition each site pool runs on, by site: `{ hami: { 'hami-ai': 'hami' } }`; `-cpu` partitions take tasks, the others GPUs. */
export type SlurmSites = Record<string, Record<string, string>>;

/** Writes a `kumul serve --executors` file mapping `sites` onto the local Slurm into `dir`; returns its path. */
export function writeExecutorsFile(dir: string, sites: SlurmSites): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'executors.json');
  const pools = (partitions: Record<string, string>) =>
    Object.fromEntries(Object.entries(partitions).map(([pool, partition]) => [pool, { partition, units: partition.endsWith('-cpu') ? 'tasks' : 'gpus' }]));
  writeFileSync(
    file,
    JSON.stringify({
      clusters: { local: { url: localSlurm().url, user: 'root', tokenFile: process.env.KUMUL_SLURM_ENV ?? '/tmp/kumul-slurm/env' } },
      sites: Object.fromEntries(Object.entries(sites).map(([site, partitions]) => [site, { cluster: 'local', pools: pools(partitions) }])),
    }),
  );
  return file;
}
