/**
 * `kumul probe SITE`: computing-power testing. Runs the benchmark job (src/probe/kernel.ts) on one node of each
 * pool of the site (or `--pool`) through the site's executor — the simulated one (this machine), or a Slurm
 * partition named by `--executors FILE` — prints measured against advertised with the ratio, FLAGGED below
 * `--threshold`, and stores every result in the store (`--db`, the service's by default) for GET /v1/probes and
 * `kumul serve --capability measured`. docs/probes.md.
 */
import type { Command } from 'commander';
import type { Network, Precision } from '../core/model/types.ts';
import { buildExecutor, checkAgainstNetwork, ExecutorsConfigError, loadExecutorsConfig } from '../exec/config.ts';
import { SimulatedExecutor } from '../exec/simulated.ts';
import { formatRatio, DEFAULT_THRESHOLD } from '../probe/measure.ts';
import { probeSite, probeTargets } from '../probe/run.ts';
import { documentOutline, readScenarioJson, scenarioPath } from '../scenario/index.ts';
import { DEFAULT_STORE_URL, openStore } from '../store/kysely-store.ts';
import type { ProbeRecord, Store } from '../store/port.ts';
import { CliError } from './errors.ts';
import { numberAtLeast, positiveInteger, userInput } from './options.ts';

interface ProbeOptions {
  pool?: string;
  threshold: string;
  executors?: string;
  db: string;
  scenario?: string;
  matrixN: string;
  minSeconds: string;
  timeLimitS: string;
  json: boolean;
}

export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .description("Computing-power testing: run a benchmark job on each pool of a site, compare with the advertised peak, store the results")
    .argument('<site>', 'site id (e.g. hami)')
    .option('--pool <id>', 'only this pool of the site')
    .option('--threshold <ratio>', 'flag pools delivering less than this fraction of their advertised peak, in (0, 1]', String(DEFAULT_THRESHOLD))
    .option('--executors <file>', 'JSON file mapping site pools to Slurm partitions (as for kumul serve); other pools run on this machine')
    .option('--db <url>', 'store the results here: sqlite:FILE or postgres://…', DEFAULT_STORE_URL)
    .option('--scenario <name|file>', "the network (default: the store's, as kumul serve runs it, else hami)")
    .option('--matrix-n <n>', 'order of the CPU matmul (a multiple of 32)', '512')
    .option('--min-seconds <s>', 'each timed matmul repeats for at least this long', '0.5')
    .option('--time-limit-s <s>', 'longest one probe job may run', '600')
    .option('--json', 'print the stored probes as JSON instead of a table')
    .action(probe);
}

async function probe(siteId: string, o: ProbeOptions): Promise<void> {
  const threshold = numberAtLeast('--threshold', o.threshold, 0, true);
  if (threshold > 1) throw new CliError(`--threshold: '${o.threshold}' must be a number in (0, 1]`);
  const n = positiveInteger('--matrix-n', o.matrixN);
  if (n % 32 !== 0) throw new CliError(`--matrix-n: '${o.matrixN}' must be a multiple of 32`);
  const minSeconds = numberAtLeast('--min-seconds', o.minSeconds, 0, true);
  const timeLimitS = positiveInteger('--time-limit-s', o.timeLimitS);
  const config = o.executors === undefined ? null : executorsFile(o.executors);

  const store = await open(o.db);
  try {
    const network = await networkOf(store, o.scenario);
    const targets = probeTargets(network, siteId, o.pool);
    if ('error' in targets) throw new CliError(targets.error);
    if (config) {
      try {
        checkAgainstNetwork(config, network, o.executors!);
      } catch (err) {
        throw err instanceof ExecutorsConfigError ? new CliError(err.message) : err;
      }
    }
    const executor = buildExecutor(config, new SimulatedExecutor(), { workSecondsPerSecond: 1, serviceMs: (ms) => ms });
    const engines = [...new Set(targets.pools.map((p) => `${p.id} on ${executor.executorFor(siteId, p.id).name}`))];
    if (!o.json) process.stdout.write(`Probing site ${siteId}: ${engines.join(', ')}; flagged below ${threshold} of advertised\n`);
    const probes = await probeSite(executor, store, targets.site, targets.pools, {
      threshold,
      sizes: { n, minSeconds },
      timeLimitS,
      nowMs: () => Date.now(),
      onProbe: (p) => {
        if (!o.json) process.stdout.write(formatProbe(p));
      },
    });
    if (o.json) process.stdout.write(`${JSON.stringify({ probes }, null, 2)}\n`);
    else {
      const flagged = probes.filter((p) => p.flagged).length;
      process.stdout.write(`${probes.length} probe${probes.length === 1 ? '' : 's'} stored in ${o.db}; ${flagged} flagged\n`);
    }
    const failed = probes.filter((p) => p.error !== null);
    if (failed.length > 0) throw new CliError(`${failed.length} probe${failed.length === 1 ? '' : 's'} failed: ${failed.map((p) => `${p.poolId}: ${p.error}`).join('; ')}`, 1);
  } finally {
    await store.close();
  }
}

/** The network probes compare against: `--scenario`, else the service's stored document, else the built-in hami. */
async function networkOf(store: Store, scenario: string | undefined): Promise<Network> {
  if (scenario === undefined) {
    const stored = await store.currentScenario();
    if (stored) return userInput(() => documentOutline((stored.document as { scenario: unknown }).scenario, `the stored scenario (version ${stored.version})`).network);
  }
  const name = scenario ?? 'hami';
  return userInput(() => {
    const file = scenarioPath(name);
    return documentOutline(readScenarioJson(file), file).network;
  });
}

function executorsFile(file: string) {
  try {
    return loadExecutorsConfig(file);
  } catch (err) {
    throw err instanceof ExecutorsConfigError ? new CliError(err.message) : err;
  }
}

async function open(url: string): Promise<Store> {
  try {
    return await openStore(url);
  } catch (err) {
    throw new CliError(`--db ${url}: cannot open the store: ${(err as Error).message}`);
  }
}

const gflops = (v: number | null) => (v === null ? '—' : v >= 100 ? v.toFixed(0) : v.toPrecision(3));

/** One pool's result: measured against advertised per precision, the ratio, and FLAGGED with why. */
export function formatProbe(p: ProbeRecord): string {
  const lines = [`${p.poolId}  ${p.kind}  node ${p.node ?? '?'}${p.cores !== null ? ` (${p.cores} cores)` : ''}`];
  if (p.kind === 'accelerator') {
    const inv = p.inventory as { deviceCount?: number; deviceCountSource?: string; nodeGres?: string | null };
    lines.push(`  devices ${inv.deviceCount ?? '?'} (from ${inv.deviceCountSource ?? '?'}${inv.nodeGres ? `; Slurm GRES ${inv.nodeGres}` : ''})`);
  }
  for (const precision of ['fp64', 'fp32', 'bf16'] as Precision[]) {
    const node = p.perNodeGflops[precision];
    if (node === null) continue;
    const core = precision === 'bf16' ? null : p.perCoreGflops[precision];
    const advertised = p.advertisedPerNodeTflops[precision] * 1000;
    const ratio = p.ratio[precision];
    lines.push(
      `  ${precision}  ${core !== null ? `per core ${gflops(core)} GFLOP/s  ` : ''}per node ${gflops(node)} GFLOP/s  advertised ${gflops(advertised)} GFLOP/s  ratio ${ratio === null ? '—' : formatRatio(ratio)}`,
    );
  }
  if (p.error) lines.push(`  FAILED: ${p.error}`);
  else if (p.flagged) lines.push(`  FLAGGED: ${p.note ?? 'below the threshold'}`);
  else lines.push(`  ok${p.note ? `: ${p.note}` : ''}`);
  return `${lines.join('\n')}\n`;
}
