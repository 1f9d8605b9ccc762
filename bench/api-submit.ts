/**
 * `node --import tsx bench/api-submit.ts [--pg URL | --pg-only] [--duration S] [--connections N] [--batch N]`: how fast
 * `POST /v1/jobs` stores jobs over HTTP. A child process serves the API on a random port of 127.0.0.1 (a temporary
 * SQLite file, and then a fresh PostgreSQL schema when `--pg URL` or KUMUL_TEST_PG is given); this process runs
 * autocannon against it for 10 s with 10 connections, each request one new job, and prints req/s and p99 latency
 * with their ratios to the targets (≥ 5,000 req/s, p99 ≤ 25 ms), after checking that every 201 stored its job.
 * A second run posts batches of 100 jobs (jobs/s through the batch path). On PostgreSQL a third run serves the API
 * from three processes on the same schema (as three `kumul serve` instances behind a load balancer) and spreads the
 * connections over them (issue 11's figure). Every process shares this machine's cores, and so does PostgreSQL.
 *
 * The server's rate limit is raised for the run (the default, 6,000/min per key, would hold one key to 100/s):
 * this measures the API and its store, not the limit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import pg from 'pg';

const TARGET_REQ_PER_S = 5000;
const TARGET_P99_MS = 25;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Served {
  port: number;
  key: string;
}

/** The child: the API on a store URL, listening on a random port; prints `{ port, key }` once ready. With `joinKey`, another instance on a store the first one set up. */
async function serve(url: string, schema: string | undefined, joinKey: string | undefined): Promise<void> {
  const { buildApp } = await import('../src/api/app.ts');
  const { listen } = await import('../src/api/server.ts');
  const { openStore } = await import('../src/store/kysely-store.ts');
  const { Metrics } = await import('../src/service/metrics.ts');
  const { loadScenario } = await import('../src/scenario/index.ts');
  const store = await openStore(url, schema ? { schema } : {});
  const network = (await loadScenario('hami')).network;
  const nowMs = Date.parse('2026-06-01T00:00:00Z');
  const quotas = { ai: null, general: null, hpc: null };
  let plaintext = joinKey;
  if (plaintext === undefined) {
    for (const r of [await store.createTenant({ id: 'bench', name: 'Bench', role: 'tenant', maxConcurrentUnits: quotas }, nowMs)]) if (!r.ok) throw new Error(r.reason);
    const key = await store.createApiKey('bench', 'bench', nowMs);
    if (!key.ok) throw new Error(key.reason);
    plaintext = key.plaintext;
  }
  const ctx = { store, clock: { nowMs: () => Date.now() }, metrics: new Metrics(), network: () => network, wake: () => {} };
  const app = buildApp(ctx, { rateLimitPerMinute: 1e9 });
  const { port } = await listen(app, { host: '127.0.0.1', port: 0 });
  console.log(JSON.stringify({ port, key: plaintext } satisfies Served));
  process.on('SIGTERM', () => void app.close().then(() => store.close()).then(() => process.exit(0)));
}

/** Starts the child and waits for its `{ port, key }` line. */
async function startServer(url: string, schema?: string, joinKey?: string): Promise<{ child: ChildProcess; served: Served }> {
  const self = fileURLToPath(import.meta.url);
  // KUMUL_BENCH_SERVER_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, profiles the server.
  const nodeArgs = (process.env.KUMUL_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', self, '--serve', url, ...(schema ? ['--schema', schema] : []), ...(joinKey ? ['--key', joinKey] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const served = await new Promise<Served>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the API process exited (${code}) before listening`)));
    lines.once('line', (line) => resolve(JSON.parse(line)));
  });
  return { child, served };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * CPU seconds (user + system) used so far by the processes whose pid is given, and by every `postgres` process of
 * this machine, read from /proc (Linux): where a run's CPU goes, so the figure can be set against the cores there are.
 */
function cpuSeconds(pids: readonly number[]): { servers: number; postgres: number } {
  const ticksPerS = 100; // USER_HZ on Linux
  const read = (pid: string): { comm: string; s: number } | null => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      return { comm: stat.slice(stat.indexOf('(') + 1, close), s: (Number(fields[11]) + Number(fields[12])) / ticksPerS };
    } catch {
      return null; // gone, or no /proc
    }
  };
  let servers = 0;
  for (const pid of pids) servers += read(String(pid))?.s ?? 0;
  let postgres = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const p = read(pid);
    if (p?.comm === 'postgres') postgres += p.s;
  }
  return { servers, postgres };
}

/** What a run cost in CPU per request answered: the API processes, PostgreSQL, and this client (autocannon). */
async function withCpu<T>(pids: readonly number[], run: () => Promise<T>): Promise<{ result: T; cpuMsPerRequest: (requests: number) => string }> {
  const before = cpuSeconds(pids);
  const client = process.cpuUsage();
  const result = await run();
  const after = cpuSeconds(pids);
  const clientS = (() => {
    const u = process.cpuUsage(client);
    return (u.user + u.system) / 1e6;
  })();
  return {
    result,
    cpuMsPerRequest: (requests) => {
      const us = (s: number) => `${Math.round((s / Math.max(requests, 1)) * 1e6)} µs`;
      const servers = after.servers - before.servers;
      const postgres = after.postgres - before.postgres;
      const total = servers + postgres + clientS;
      const ceiling = (availableParallelism() / Math.max(total / Math.max(requests, 1), 1e-9)).toLocaleString('en-US', { maximumFractionDigits: 0 });
      return `CPU per request: API ${us(servers)}, PostgreSQL ${us(postgres)}, client ${us(clientS)} (${availableParallelism()} cores: at most ${ceiling} req/s at this cost)`;
    },
  };
}

/** One new job per request: unique ids over the run, otherwise the jobs of the Alibaba trace's typical shape. */
function jobJson(n: number): string {
  const origins = ['hami', 'beijing', 'zhengzhou', 'chongqing', 'urumqi', 'qingyang'];
  return JSON.stringify({
    id: `bench-${n}`,
    class: 'training',
    poolClass: 'ai',
    units: 1 + (n % 8),
    durationS: 600 + (n % 7200),
    release: '2026-06-01T03:00:00Z',
    origin: origins[n % origins.length],
    inputGb: 40.6,
    interruptible: n % 2 === 0,
  });
}

/**
 * One autocannon run against a fresh server: single-job requests (the figure with targets), or batches of
 * `jobsPerRequest` (jobs/s through the batch path, for comparison).
 */
async function measure(label: string, url: string, schema: string | undefined, jobsPerRequest: number): Promise<void> {
  const { child, served } = await startServer(url, schema);
  const durationS = Number(arg('--duration') ?? 10);
  const connections = Number(arg('--connections') ?? 10);
  let next = 0;
  const body = () => {
    if (jobsPerRequest === 1) return jobJson(next++);
    const jobs = Array.from({ length: jobsPerRequest }, () => jobJson(next++));
    return `{"jobs":[${jobs.join(',')}]}`;
  };
  try {
    const { result, cpuMsPerRequest } = await withCpu([child.pid!], () => autocannon({
      url: `http://127.0.0.1:${served.port}`,
      connections,
      duration: durationS,
      requests: [
        {
          method: 'POST',
          path: '/v1/jobs',
          headers: { authorization: `Bearer ${served.key}`, 'content-type': 'application/json' },
          setupRequest: (request) => ({ ...request, body: body() }),
        },
      ],
    }));
    const stored = await countJobs(served);
    const ok = result['2xx'];
    const reqPerS = ok / durationS;
    const { p50, p99 } = result.latency;
    const counts = `${ok * jobsPerRequest} jobs stored in ${durationS} s with ${connections} connections, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`;
    if (jobsPerRequest === 1) {
      console.log(
        `POST /v1/jobs on ${label}: ${Math.round(reqPerS).toLocaleString('en-US')} req/s (target ≥ ${TARGET_REQ_PER_S.toLocaleString('en-US')}/s; ratio ${(reqPerS / TARGET_REQ_PER_S).toFixed(2)}) · ` +
          `p99 ${p99} ms (target ≤ ${TARGET_P99_MS} ms; ratio ${(TARGET_P99_MS / Math.max(p99, 0.001)).toFixed(2)}) · p50 ${p50} ms · ${counts}`,
      );
      console.log(`  ${cpuMsPerRequest(ok)}`);
    } else {
      console.log(`  batches of ${jobsPerRequest} on ${label}: ${Math.round(reqPerS * jobsPerRequest).toLocaleString('en-US')} jobs/s · ${Math.round(reqPerS)} req/s · p99 ${p99} ms · p50 ${p50} ms · ${counts}`);
    }
    // Requests still in flight when the run ends are stored but not counted by autocannon.
    if (result.non2xx > 0 || result.errors > 0 || stored < ok * jobsPerRequest || stored > next) {
      throw new Error(`${ok} requests answered 201 (${next} jobs sent, ${result.non2xx} non-2xx, ${result.errors} errors) but the store holds ${stored} jobs`);
    }
  } finally {
    await stop(child);
  }
}

/** Jobs the store holds, counted through the API's own list. */
async function countJobs(served: Served): Promise<number> {
  let n = 0;
  let after: string | null = null;
  do {
    const res = await fetch(`http://127.0.0.1:${served.port}/v1/jobs?limit=1000${after ? `&after=${after}` : ''}`, { headers: { authorization: `Bearer ${served.key}` } });
    const page = (await res.json()) as { jobs: unknown[]; next: string | null };
    n += page.jobs.length;
    after = page.next;
  } while (after);
  return n;
}

/** Both runs on one backend; `open` gives a fresh store URL (and schema) per run, `done` removes it. */
async function measureBackend(label: string, open: () => Promise<{ url: string; schema?: string; done: () => Promise<void> }>): Promise<void> {
  for (const jobsPerRequest of [1, Number(arg('--batch') ?? 100)]) {
    const { url, schema, done } = await open();
    try {
      await measure(label, url, schema, jobsPerRequest);
    } finally {
      await done();
    }
  }
}

/**
 * Single-job submissions spread over `instances` API processes on one store: each gets its share of the connections;
 * req/s is the sum, p99 the largest of the instances' p99s (an upper bound of the combined p99).
 */
async function measureInstances(label: string, url: string, schema: string | undefined, instances: number): Promise<void> {
  const first = await startServer(url, schema);
  const servers = [first, ...(await Promise.all(Array.from({ length: instances - 1 }, () => startServer(url, schema, first.served.key))))];
  const durationS = Number(arg('--duration') ?? 10);
  const connections = Number(arg('--connections') ?? 10);
  let next = 0;
  try {
    const { result: results, cpuMsPerRequest } = await withCpu(servers.map(({ child }) => child.pid!), () => Promise.all(
      servers.map(({ served }, i) =>
        autocannon({
          url: `http://127.0.0.1:${served.port}`,
          connections: Math.floor(connections / instances) + (i < connections % instances ? 1 : 0),
          duration: durationS,
          requests: [{ method: 'POST', path: '/v1/jobs', headers: { authorization: `Bearer ${served.key}`, 'content-type': 'application/json' }, setupRequest: (request) => ({ ...request, body: jobJson(next++) }) }],
        }),
      ),
    ));
    const ok = results.reduce((n, r) => n + r['2xx'], 0);
    const bad = results.reduce((n, r) => n + r.non2xx + r.errors, 0);
    const reqPerS = ok / durationS;
    const p99 = Math.max(...results.map((r) => r.latency.p99));
    const stored = await countJobs(first.served);
    console.log(
      `POST /v1/jobs over ${instances} instances on ${label}: ${Math.round(reqPerS).toLocaleString('en-US')} req/s (target ≥ ${TARGET_REQ_PER_S.toLocaleString('en-US')}/s; ratio ${(reqPerS / TARGET_REQ_PER_S).toFixed(2)}) · ` +
        `p99 ${p99} ms, the largest instance's (target ≤ ${TARGET_P99_MS} ms; ratio ${(TARGET_P99_MS / Math.max(p99, 0.001)).toFixed(2)}) · ${ok} jobs stored in ${durationS} s with ${connections} connections, ${bad} non-2xx or errors`,
    );
    console.log(`  ${cpuMsPerRequest(ok)}`);
    if (bad > 0 || stored < ok || stored > next) throw new Error(`${ok} requests answered 201 (${next} jobs sent, ${bad} failed) but the store holds ${stored} jobs`);
  } finally {
    for (const { child } of servers) await stop(child);
  }
}

if (process.argv.includes('--serve')) {
  await serve(arg('--serve')!, arg('--schema'), arg('--key'));
} else {
  if (!process.argv.includes('--pg-only')) {
    await measureBackend('SQLite (temporary file, WAL, synchronous FULL)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kumul-bench-api-'));
      return { url: `sqlite:${join(dir, 'kumul.db')}`, done: async () => rmSync(dir, { recursive: true, force: true }) };
    });
  }
  const pgUrl = arg('--pg') ?? process.env.KUMUL_TEST_PG;
  if (pgUrl) {
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    try {
      const fresh = async () => {
        const schema = `kumul_bench_${randomBytes(6).toString('hex')}`;
        await admin.query(`create schema ${schema}`);
        return { url: pgUrl, schema, done: async () => void (await admin.query(`drop schema ${schema} cascade`)) };
      };
      await measureBackend('PostgreSQL (synchronous commit on)', fresh);
      const { url, schema, done } = await fresh();
      try {
        await measureInstances('PostgreSQL (synchronous commit on)', url, schema, 3);
      } finally {
        await done();
      }
    } finally {
      await admin.end();
    }
  }
}
