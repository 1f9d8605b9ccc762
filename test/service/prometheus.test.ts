/**
 * Kumul under a real Prometheus (Debian's `prometheus` and `promtool`, installed by scripts/test.sh): `kumul serve`
 * (SQLite, the demo workload at ×600) scraped every second by a Prometheus of the test's own on a free port of
 * 127.0.0.1 (never the system service of Debian's package on :9090), which runs deploy/prometheus/kumul-rules.yml.
 * Checks the series of docs/metrics.md through Prometheus's HTTP API, `promtool check metrics` on /metrics,
 * `promtool check rules` and `promtool test rules`, every rule evaluating without error, and an alert raised live.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, exited, freePort, sleep, startServe, type ServeProcess } from '../support/serve-process.ts';

const RULES = join(ROOT, 'deploy/prometheus/kumul-rules.yml');
const RULE_TESTS = join(ROOT, 'deploy/prometheus/kumul-rules.test.yml');
/** The shipped green-share policy, which the live copy of the rules raises above any share so that the alert shows. */
const POLICY = 'expr: vector(0.5)';
const SITES = ['beijing', 'chongqing', 'hami', 'qingyang', 'urumqi', 'zhengzhou'];

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

const dir = mkdtempSync(join(tmpdir(), 'kumul-prometheus-'));
let server: ServeProcess;
let prometheus: ChildProcess;
let prometheusLog = '';
let prom = '';

/** Runs promtool; its exit status and output. */
function promtool(args: string[], input?: string) {
  const run = spawnSync('promtool', args, { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

async function api<T>(path: string): Promise<T> {
  const body = (await (await fetch(`${prom}${path}`)).json()) as { status: string; data: T };
  expect(body.status).toBe('success');
  return body.data;
}

/** An instant query's samples. */
async function query(expr: string): Promise<Sample[]> {
  return (await api<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result;
}

/** Polls `get` every 250 ms until it gives a value (not undefined) or `timeoutMs` passes. */
async function eventually<T>(what: string, get: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\nprometheus: ${prometheusLog.slice(-2000)}`);
    await sleep(250);
  }
}

/** The samples of `expr` once there are at least `atLeast` of them. */
const samples = (expr: string, atLeast = 1) => eventually(expr, async () => ((await query(expr)).length >= atLeast ? query(expr) : undefined));

beforeAll(async () => {
  server = await startServe(['--db', `sqlite:${join(dir, 'k.db')}`, '--time-scale', '600', '--start', '2026-06-01T00:00Z', '--tick-ms', '200']);
  const rules = readFileSync(RULES, 'utf8');
  expect(rules).toContain(POLICY);
  writeFileSync(join(dir, 'rules.yml'), rules.replace(POLICY, 'expr: vector(1.01)'));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'rule_files: [rules.yml]', 'scrape_configs:', '  - job_name: kumul', `    static_configs: [{ targets: ["${new URL(server.url).host}"] }]`, ''].join('\n'),
  );
  const port = await freePort();
  prom = `http://127.0.0.1:${port}`;
  prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  prometheus.stderr!.on('data', (b) => (prometheusLog += String(b)));
  await eventually('prometheus to be ready', async () => ((await fetch(`${prom}/-/ready`).catch(() => null))?.ok ? true : undefined));
}, 60_000);

afterAll(async () => {
  for (const child of [prometheus, server?.child]) {
    if (!child) continue;
    child.kill('SIGTERM');
    await exited(child);
  }
});

describe('Kumul scraped by Prometheus', () => {
  it('exports jobs by state, tick durations, the plan gap, energy, green share and carbon per site, and errors by code', async () => {
    // An error answer for the counter by code: a job that does not exist.
    expect((await fetch(`${server.url}/v1/jobs/nope`, { headers: { authorization: `Bearer ${server.operatorKey}` } })).status).toBe(404);

    const states = await samples('kumul_jobs', 5);
    expect(states.map((s) => s.metric.state).sort()).toEqual(['paused', 'planned', 'running', 'submitted', 'transferring']);
    const leader = await samples('kumul_leader');
    expect(leader).toHaveLength(1);
    expect(leader[0].metric).toMatchObject({ job: 'kumul', instance: new URL(server.url).host });
    expect(leader[0].metric.instance_id).toMatch(/^.+:\d+:[0-9a-f]{6}$/);
    expect(leader[0].value[1]).toBe('1');
    await samples('kumul_jobs_at_risk');
    await samples('kumul_plan_gap_percent');
    const ticks = await samples('histogram_quantile(0.9, rate(kumul_loop_tick_duration_seconds_bucket[10s]))');
    expect(Number(ticks[0].value[1])).toBeGreaterThan(0);
    expect(Number((await samples('kumul_loop_tick_interval_seconds'))[0].value[1])).toBe(0.2);
    for (const name of ['kumul_energy_joules_total', 'kumul_green_energy_joules_total', 'kumul_carbon_grams_total']) {
      expect((await samples(name, SITES.length)).map((s) => s.metric.site).sort(), name).toEqual(SITES);
    }
    // Runs finish every few seconds at ×600: energy is metered.
    await samples('sum(kumul_energy_joules_total) > 0');
    const shares = await samples('kumul_site_green_share_ratio');
    for (const s of shares) {
      expect(SITES).toContain(s.metric.site);
      expect(Number(s.value[1])).toBeGreaterThanOrEqual(0);
      expect(Number(s.value[1])).toBeLessThanOrEqual(1);
    }
    const notFound = await samples('kumul_api_errors_total{code="KUMUL_NOT_FOUND"} >= 1');
    expect(notFound[0].metric.code).toBe('KUMUL_NOT_FOUND');
    await samples('kumul_api_errors_total{code="KUMUL_CONFLICT"} == 0');
  });

  it('what /metrics says passes promtool check metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('# TYPE kumul_loop_tick_duration_seconds histogram');
    const checked = promtool(['check', 'metrics'], text);
    expect(checked.output).toBe('');
    expect(checked.status).toBe(0);
  });

  it('the shipped rules pass promtool check rules and their unit tests', () => {
    const checked = promtool(['check', 'rules', RULES]);
    expect(checked.status, checked.output).toBe(0);
    expect(checked.output).toMatch(/SUCCESS: 10 rules found/);
    const tested = promtool(['test', 'rules', RULE_TESTS]);
    expect(tested.status, tested.output).toBe(0);
    expect(tested.output).toMatch(/SUCCESS/);
  });

  it('runs every rule without error on the live series, and raises KumulGreenShareLow under a policy above any share', async () => {
    type Rule = { name: string; type: string; health: string; lastError?: string };
    const rules = await eventually('every rule evaluated', async () => {
      const all = (await api<{ groups: { rules: Rule[] }[] }>('/api/v1/rules')).groups.flatMap((g) => g.rules);
      return all.length === 10 && all.every((r) => r.health !== 'unknown') ? all : undefined;
    });
    for (const r of rules) expect(r.health, `${r.name}: ${r.lastError}`).toBe('ok');
    expect(rules.filter((r) => r.type === 'alerting').map((r) => r.name).sort()).toEqual(['KumulGreenShareLow', 'KumulJobsAtRisk', 'KumulLoopStalled', 'KumulNoLeader', 'KumulTickTooSlow']);
    // The green share per site over the last hour is recorded from the metered counters, 0 to 1.
    const recorded = await samples('kumul:site_green_share:ratio_1h');
    for (const s of recorded) expect(Number(s.value[1])).toBeLessThanOrEqual(1);
    // Every site that metered energy is below a policy of 1.01: its alert is pending (for: 30m), with the site.
    type Alert = { labels: Record<string, string>; state: string };
    const alerts = await eventually('KumulGreenShareLow', async () => {
      const all = (await api<{ alerts: Alert[] }>('/api/v1/alerts')).alerts;
      return all.some((a) => a.labels.alertname === 'KumulGreenShareLow') ? all : undefined;
    });
    for (const a of alerts.filter((x) => x.labels.alertname === 'KumulGreenShareLow')) {
      expect(SITES).toContain(a.labels.site);
      expect(a).toMatchObject({ state: 'pending', labels: { severity: 'warning' } });
    }
    // A leader runs and ticks (whether ticks are slow or jobs at risk depends on this machine and the demo's work).
    expect(alerts.filter((a) => ['KumulNoLeader', 'KumulLoopStalled'].includes(a.labels.alertname))).toEqual([]);
  });
});
