/**
 * The executors file of `kumul serve --executors FILE` (and `kumul probe`): which Slurm clusters exist
 * and which site pools run on which of their partitions; pools it does not name run on the simulated
 * executor. docs/slurm.md describes it:
 *
 *   { "clusters": { "east": { "url": "http://127.0.0.1:6820", "user": "kumul", "tokenFile": "slurm.jwt" } },
 *     "sites": { "hami": { "cluster": "east", "pools": { "ai": { "partition": "hami", "units": "gpus" } } } } }
 *
 * A token file holds the JWT alone or as a `KUMUL_SLURM_TOKEN=` / `SLURM_JWT=` line (scripts/slurm-up.sh's env
 * file); it is read again when slurmrestd refuses the token, so renewing the file renews the service's token.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { Network } from '../core/model/types.ts';
import type { Executor } from './port.ts';
import { SiteRoutedExecutor } from './site-routed.ts';
import { SlurmExecutor, type SlurmTarget } from './slurm.ts';

const Cluster = z
  .strictObject({
    url: z.url({ protocol: /^https?$/ }),
    user: z.string().min(1),
    token: z.string().min(1).optional(),
    tokenFile: z.string().min(1).optional(),
    /** Where probe jobs (`kumul probe`) write their output: a directory the cluster's nodes and Kumul both see. */
    probeDir: z.string().min(1).optional(),
  })
  .refine((c) => (c.token === undefined) !== (c.tokenFile === undefined), { message: 'give exactly one of token and tokenFile' });

const Target = z.strictObject({
  partition: z.string().min(1),
  account: z.string().min(1).optional(),
  units: z.enum(['gpus', 'tasks']),
});

export const ExecutorsFile = z.strictObject({
  clusters: z.record(z.string(), Cluster),
  sites: z.record(z.string(), z.strictObject({ cluster: z.string(), pools: z.record(z.string(), Target) })),
});
export type ExecutorsConfig = z.infer<typeof ExecutorsFile>;

export class ExecutorsConfigError extends Error {}

/** Reads and checks an executors file; errors name the file and the field. */
export function loadExecutorsConfig(file: string): ExecutorsConfig & { baseDir: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ExecutorsConfigError(`${file}: ${(err as Error).message}`);
  }
  const parsed = ExecutorsFile.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ExecutorsConfigError(`${file}: ${first.path.join('.') || '(top level)'}: ${first.message}`);
  }
  for (const [siteId, site] of Object.entries(parsed.data.sites)) {
    if (!parsed.data.clusters[site.cluster]) throw new ExecutorsConfigError(`${file}: sites.${siteId}.cluster: no cluster named ${JSON.stringify(site.cluster)} in clusters`);
  }
  return { ...parsed.data, baseDir: dirname(resolve(file)) };
}

/** Checks that every site and pool the file names is in the network the service runs. */
export function checkAgainstNetwork(config: ExecutorsConfig, network: Network, file: string): void {
  for (const [siteId, site] of Object.entries(config.sites)) {
    const known = network.sites.find((s) => s.id === siteId);
    if (!known) throw new ExecutorsConfigError(`${file}: sites.${siteId}: the network has no site ${siteId} (sites: ${network.sites.map((s) => s.id).join(', ')})`);
    for (const poolId of Object.keys(site.pools)) {
      if (!known.pools.some((p) => p.id === poolId)) {
        throw new ExecutorsConfigError(`${file}: sites.${siteId}.pools.${poolId}: site ${siteId} has no pool ${poolId} (pools: ${known.pools.map((p) => p.id).join(', ')})`);
      }
    }
  }
}

export interface ExecutorTiming {
  /** Real seconds a job without a command waits per second of work (1/time-scale under an accelerated clock). */
  workSecondsPerSecond: number;
  /** Maps a wall-clock instant onto the service's clock. */
  serviceMs(realMs: number): number;
}

/** The executor of a running service: one Slurm executor per cluster for the pools the file names, `fallback` for the rest. */
export function buildExecutor(config: (ExecutorsConfig & { baseDir: string }) | null, fallback: Executor, timing: ExecutorTiming): SiteRoutedExecutor {
  if (!config) return new SiteRoutedExecutor(fallback, []);
  const routes = Object.entries(config.clusters).map(([name, cluster]) => {
    const pools = Object.entries(config.sites)
      .filter(([, site]) => site.cluster === name)
      .flatMap(([siteId, site]) => Object.keys(site.pools).map((poolId) => ({ siteId, poolId })));
    const tokenFile = cluster.tokenFile === undefined ? null : resolve(config.baseDir, cluster.tokenFile);
    const executor = new SlurmExecutor({
      url: cluster.url,
      user: cluster.user,
      token: tokenFile ? readToken(tokenFile) : cluster.token!,
      ...(tokenFile ? { renewToken: async () => readToken(tokenFile) } : {}),
      target: (siteId: string, poolId: string): SlurmTarget => {
        const target = config.sites[siteId]?.pools[poolId];
        if (!target || config.sites[siteId].cluster !== name) throw new Error(`cluster ${name} does not run pool ${poolId} of site ${siteId}`);
        return target;
      },
      pools,
      timeScale: timing.workSecondsPerSecond,
      serviceMs: timing.serviceMs,
      ...(cluster.probeDir ? { probeDir: resolve(config.baseDir, cluster.probeDir) } : {}),
    });
    return { executor, pools };
  });
  return new SiteRoutedExecutor(fallback, routes);
}

/** The JWT in a token file: the whole file, or the value of its KUMUL_SLURM_TOKEN= or SLURM_JWT= line. */
export function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ExecutorsConfigError(`token file ${file}: ${(err as Error).message}`);
  }
  const line = text.split('\n').find((l) => /^(KUMUL_SLURM_TOKEN|SLURM_JWT)=/.test(l));
  const token = (line ? line.slice(line.indexOf('=') + 1) : text).trim();
  if (!token) throw new ExecutorsConfigError(`token file ${file}: no token in it`);
  return token;
}
