/**
 * `kumul serve`: the running service — REST API in front (src/api), the dispatch loop and the
 * simulated executor behind (src/service), on SQLite by default (`--db postgres://…` at scale).
 * On a first start it prints the URL and the operator API key it created.
 */
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_STORE_URL } from '../store/kysely-store.ts';
import { DeploymentIdRefused, startRuntime } from '../service/runtime.ts';
import { buildApp } from '../api/app.ts';
import { listen } from '../api/server.ts';
import { DEFAULT_RATE_LIMIT_NAMESPACE, connectRedis, redactUrl } from '../api/rate-limit.ts';
import { instant, numberAtLeast, positiveInteger, powerPolicy } from './options.ts';
import { CliError } from './errors.ts';
import { ExecutorsConfigError, loadExecutorsConfig } from '../exec/config.ts';
import { CAPABILITIES, type Capability } from '../probe/capability.ts';
import { BackupInputError, loadEndpoints } from '../backup/load.ts';

interface ServeOptions {
  port: string;
  host: string;
  db: string;
  scenario: string;
  timeScale: string;
  start?: string;
  demo: boolean;
  objective: string;
  policy: string;
  replanMinutes: string;
  horizonHours: string;
  forecastSmoothingMinutes: string;
  tickMs: string;
  executors?: string;
  capability: string;
  power: string;
  reserve: string;
  redis?: string;
  redisPrefix: string;
  rateLimitPerMinute: string;
  newDeploymentId?: boolean;
  requeueRunning?: boolean;
  backupEndpoints?: string;
  backupVerifyMinutes: string;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the service: REST API, dispatch loop, simulated executor and (by default) a demo workload')
    .option('--port <n>', 'TCP port (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .addOption(new Option('--db <url>', 'store: sqlite:FILE, sqlite::memory: or postgres://…').env('KUMUL_DB').default(DEFAULT_STORE_URL))
    .option('--scenario <name|file>', 'the network to run', 'hami')
    .option('--time-scale <x>', 'simulated seconds per real second (1: real time)', '60')
    .option('--start <iso>', 'simulated start on a first start (default: now)')
    .option('--no-demo', 'no demo workload')
    .option('--objective <objective>', 'cost | carbon | green | a mix', 'cost')
    .option('--policy <name>', 'optimize | asap-origin | asap-any', 'optimize')
    .option('--replan-minutes <m>', 'simulated minutes between dispatch cycles', '15')
    .option('--horizon-hours <h>', 'hours each dispatch cycle looks ahead', '48')
    .option('--forecast-smoothing-minutes <m>', 'plan on carbon and renewable forecasts averaged over ± m minutes around each slot (for forecasts with independent errors; docs/temporal-shifting.md)', '0')
    .option('--tick-ms <ms>', 'real milliseconds between loop ticks', '1000')
    .option('--executors <file>', 'JSON file mapping site pools to Slurm partitions (docs/slurm.md); other pools run simulated')
    .option('--power <policy>', "idle nodes: always-on, or sleep (pools with powerStates keep awake only the nodes their work needs soon, plus the reserve; cycles pack work accordingly)", 'always-on')
    .option('--reserve <share>', "under --power sleep: share of each pool's nodes kept awake for urgent work", '0.1')
    .option('--capability <which>', 'peak compute for metering and views: advertised | measured (the latest kumul probe of each pool)', 'advertised')
    .addOption(new Option('--redis <url>', 'Redis (redis://HOST:PORT[/DB]) where the instances share rate-limit counters; without it each instance counts its own').env('KUMUL_REDIS_URL'))
    .addOption(new Option('--redis-prefix <prefix>', 'prefix of the counters\' Redis keys: deployments sharing one Redis each need their own').env('KUMUL_REDIS_PREFIX').default(DEFAULT_RATE_LIMIT_NAMESPACE))
    .option('--rate-limit-per-minute <n>', 'API requests per key (per client address without a key) per minute', '6000')
    .option('--new-deployment-id', 'give the store a new deployment id (a copied or restored store running beside the original); refused while jobs run')
    .option('--backup-endpoints <file>', "sites' storage endpoints (JSON naming an rclone config with a remote per site; docs/backup.md): the loop runs tenants' backups with rclone")
    .option('--backup-verify-minutes <m>', 'simulated minutes between two verifications (rclone check) of each replica', '360')
    .option('--requeue-running', 'with --new-deployment-id: return running jobs to the queue first, leaving their runs to the deployment that started them')
    .action(serve);
}

async function serve(o: ServeOptions): Promise<void> {
  const startMs = o.start === undefined ? Math.floor(Date.now() / 3_600_000) * 3_600_000 : instant('--start', o.start);
  const rateLimitPerMinute = positiveInteger('--rate-limit-per-minute', o.rateLimitPerMinute);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // Before the runtime: a Redis that does not answer only delays the start by its wait, and is said on stderr.
  const redis = o.redis === undefined ? null : await connectRedis(o.redis, log).catch((err: Error) => {
    throw new CliError(err.message);
  });
  const runtime = await startRuntime({
    dbUrl: o.db,
    scenario: o.scenario,
    timeScale: numberAtLeast('--time-scale', o.timeScale, 0),
    startMs,
    demo: o.demo,
    objective: o.objective,
    policy: o.policy,
    replanMinutes: numberAtLeast('--replan-minutes', o.replanMinutes, 1),
    horizonHours: numberAtLeast('--horizon-hours', o.horizonHours, 1),
    forecastSmoothingMinutes: numberAtLeast('--forecast-smoothing-minutes', o.forecastSmoothingMinutes, 0),
    tickMs: numberAtLeast('--tick-ms', o.tickMs, 10),
    executors: o.executors === undefined ? null : executorsFile(o.executors),
    capability: capabilityOption(o.capability),
    power: powerPolicy(o.power, o.reserve),
    newDeploymentId: o.newDeploymentId === true,
    requeueRunning: o.requeueRunning === true,
    backup: o.backupEndpoints === undefined ? null : { endpoints: backupEndpointsFile(o.backupEndpoints), verifyMinutes: numberAtLeast('--backup-verify-minutes', o.backupVerifyMinutes, 1) },
    log,
  }).catch((err: unknown) => {
    redis?.disconnect();
    throw err instanceof ExecutorsConfigError || err instanceof DeploymentIdRefused || err instanceof BackupInputError ? new CliError(err.message) : err;
  });
  const app = buildApp(runtime.ctx, { rateLimitPerMinute, rateLimitRedis: redis, rateLimitNamespace: o.redisPrefix, warn: log });
  const { url } = await listen(app, { host: o.host, port: numberAtLeast('--port', o.port, 0) });
  // The key line comes first: whoever waits for the URL line has the key too.
  if (runtime.operatorKey) process.stdout.write(`Operator API key (shown once; keep it): ${runtime.operatorKey}\n`);
  const limits = redis ? `rate limits shared in Redis at ${redactUrl(o.redis!)}` : 'rate limits per instance';
  process.stdout.write(`Kumul is serving at ${url} (deployment ${runtime.deployment.id}, store ${o.db}, scenario ${o.scenario}, time ×${o.timeScale}; ${limits})\n`);
  const shutdown = async () => {
    await app.close();
    redis?.disconnect();
    await runtime.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/** `--backup-endpoints`: the storage endpoints file, schema-checked (its sites are checked against the network at start). */
function backupEndpointsFile(file: string) {
  try {
    return loadEndpoints(file);
  } catch (err) {
    throw err instanceof BackupInputError ? new CliError(err.message) : err;
  }
}

function executorsFile(file: string) {
  try {
    return { ...loadExecutorsConfig(file), file };
  } catch (err) {
    throw err instanceof ExecutorsConfigError ? new CliError(err.message) : err;
  }
}

/** `--capability`: advertised or measured (docs/probes.md). */
function capabilityOption(text: string): Capability {
  if (!(CAPABILITIES as readonly string[]).includes(text)) throw new CliError(`--capability: '${text}' must be one of ${CAPABILITIES.join(', ')}`);
  return text as Capability;
}
