/**
 * The executors file (src/exec/config.ts) and the site-routed executor it builds: errors name the file and the
 * field; tokens come from files in either form; runs go to their pool's engine and are found again after a
 * restart; an engine that cannot be reached puts its pools out of service.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildExecutor, checkAgainstNetwork, loadExecutorsConfig, readToken } from '../../src/exec/config.ts';
import type { Executor, Outage, RunRequest, RunStatus } from '../../src/exec/port.ts';
import { SimulatedExecutor } from '../../src/exec/simulated.ts';
import { SiteRoutedExecutor } from '../../src/exec/site-routed.ts';
import { loadScenario } from '../../src/scenario/index.ts';
import { ROOT } from '../support/serve-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'kumul-executors-'));
const network = loadScenario('hami', { start: '2026-06-01T00:00Z', slots: 1 }).network;

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const good = {
  clusters: { east: { url: 'http://127.0.0.1:1', user: 'kumul', tokenFile: 'east.jwt' } },
  sites: { hami: { cluster: 'east', pools: { 'hami-ai': { partition: 'gpu', units: 'gpus' }, 'hami-general': { partition: 'cpu', units: 'tasks', account: 'green' } } } },
};

describe('executors file', () => {
  it('reads a good file; paths are relative to it', () => {
    const config = loadExecutorsConfig(file('good.json', good));
    expect(config.baseDir).toBe(dir);
    expect(config.sites.hami.pools['hami-general']).toEqual({ partition: 'cpu', units: 'tasks', account: 'green' });
    expect(() => checkAgainstNetwork(config, network, 'good.json')).not.toThrow();
  });

  it.each([
    ['not JSON', '{"clusters":', /bad\.json: .*JSON/],
    ['no token', { ...good, clusters: { east: { url: 'http://x:1', user: 'k' } } }, /bad\.json: clusters\.east: give exactly one of token and tokenFile/],
    ['both tokens', { ...good, clusters: { east: { url: 'http://x:1', user: 'k', token: 't', tokenFile: 'f' } } }, /clusters\.east: give exactly one/],
    ['bad url', { ...good, clusters: { east: { url: 'ftp://x', user: 'k', token: 't' } } }, /bad\.json: clusters\.east\.url/],
    ['bad units', { ...good, sites: { hami: { cluster: 'east', pools: { 'hami-ai': { partition: 'gpu', units: 'cores' } } } } }, /bad\.json: sites\.hami\.pools\.hami-ai\.units/],
    ['unknown cluster', { ...good, sites: { hami: { cluster: 'west', pools: {} } } }, /bad\.json: sites\.hami\.cluster: no cluster named "west"/],
    ['unknown key', { ...good, extra: 1 }, /bad\.json: \(top level\): Unrecognized key: "extra"/],
  ])('%s: an error naming the file and the field', (_, content, message) => {
    expect(() => loadExecutorsConfig(file('bad.json', content))).toThrow(message);
  });

  it('a site or pool the network does not have is named with the ones it has', () => {
    const site = loadExecutorsConfig(file('site.json', { ...good, sites: { atlantis: { cluster: 'east', pools: {} } } }));
    expect(() => checkAgainstNetwork(site, network, 'site.json')).toThrow(/site\.json: sites\.atlantis: the network has no site atlantis \(sites: hami, qingyang/);
    const pool = loadExecutorsConfig(file('pool.json', { ...good, sites: { hami: { cluster: 'east', pools: { 'hami-tpu': { partition: 'x', units: 'gpus' } } } } }));
    expect(() => checkAgainstNetwork(pool, network, 'pool.json')).toThrow(/sites\.hami\.pools\.hami-tpu: site hami has no pool hami-tpu \(pools: hami-ai, hami-general, hami-hpc\)/);
  });

  it('kumul serve refuses a bad file before it starts, naming file and field (exit 2)', () => {
    const bad = file('serve-bad.json', { ...good, sites: { hami: { cluster: 'east', pools: { 'hami-tpu': { partition: 'x', units: 'gpus' } } } } });
    writeFileSync(join(dir, 'east.jwt'), 'a.b.c');
    const run = spawnSync(process.execPath, [join(ROOT, 'bin/kumul.js'), 'serve', '--db', 'sqlite::memory:', '--port', '0', '--no-demo', '--executors', bad], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/serve-bad\.json: sites\.hami\.pools\.hami-tpu: site hami has no pool hami-tpu/);
    expect(run.stderr).not.toMatch(/ at /);
  });

  it('reads a token alone or from an env-file line; a missing or empty file is an error naming it', () => {
    expect(readToken(file('plain.jwt', 'abc.def.ghi\n'))).toBe('abc.def.ghi');
    expect(readToken(file('env', 'KUMUL_SLURM_URL=http://x\nKUMUL_SLURM_TOKEN=tok.en.1\nSLURM_CONF=/x\n'))).toBe('tok.en.1');
    expect(readToken(file('jwt.sh', 'SLURM_JWT=tok.en.2\n'))).toBe('tok.en.2');
    expect(() => readToken(join(dir, 'missing.jwt'))).toThrow(/token file .*missing\.jwt/);
    expect(() => readToken(file('empty.jwt', '\n'))).toThrow(/empty\.jwt: no token in it/);
  });
});

/** An engine that runs the pools it is given, remembers runs in memory, and can be made unreachable. */
class FakeEngine implements Executor {
  readonly runs = new Map<string, RunRequest>();
  reachable = true;
  constructor(readonly name: string) {}
  async submit(request: RunRequest): Promise<RunStatus> {
    this.runs.set(request.ref, request);
    return { ref: request.ref, state: 'running', startedMs: 0, endedMs: null };
  }
  async status(ref: string): Promise<RunStatus | null> {
    if (!this.reachable) throw new Error('connection refused');
    return this.runs.has(ref) ? { ref, state: 'running', startedMs: 0, endedMs: null } : null;
  }
  async cancel(): Promise<void> {}
  async outages(): Promise<Outage[]> {
    if (!this.reachable) throw new Error('connection refused');
    return [];
  }
  async runProbe(): Promise<never> {
    throw new Error('not in this test');
  }
}

describe('site-routed executor', () => {
  const request = (ref: string, siteId: string, poolId: string): RunRequest => ({ ref, tenantId: 't', jobId: 'j', siteId, poolId, units: 1, durationS: 60 });

  it('sends each run to its pool engine and finds runs again from a fresh instance', async () => {
    const slurm = new FakeEngine('slurm');
    const simulated = new SimulatedExecutor();
    const routes = [{ executor: slurm, pools: [{ siteId: 'hami', poolId: 'hami-ai' }] }];
    const routed = new SiteRoutedExecutor(simulated, routes);
    expect(routed.name).toBe('simulated+slurm');
    await routed.submit(request('t/a/0', 'hami', 'hami-ai'), 0);
    await routed.submit(request('t/b/0', 'beijing', 'beijing-ai'), 0);
    expect([...slurm.runs.keys()]).toEqual(['t/a/0']);
    expect(await simulated.status('t/b/0', 0)).not.toBeNull();
    const restarted = new SiteRoutedExecutor(simulated, routes);
    expect((await restarted.status('t/a/0', 0))!.state).toBe('running');
    expect((await restarted.status('t/b/0', 0))!.state).toBe('running');
    expect(await restarted.status('t/never/0', 0)).toBeNull();
  });

  it('an engine that cannot be reached makes its pools out of service', async () => {
    const slurm = new FakeEngine('slurm');
    const routed = new SiteRoutedExecutor(new SimulatedExecutor(), [{ executor: slurm, pools: [{ siteId: 'hami', poolId: 'hami-ai' }, { siteId: 'zhengzhou', poolId: 'zhengzhou-ai' }] }]);
    expect(await routed.outages(0)).toEqual([]);
    slurm.reachable = false;
    const outages = await routed.outages(0);
    expect(outages.map((o) => `${o.siteId}/${o.poolId}`)).toEqual(['hami/hami-ai', 'zhengzhou/zhengzhou-ai']);
    expect(outages[0].reason).toMatch(/slurm cannot be reached: connection refused/);
  });

  it('without a file every pool runs simulated', async () => {
    const simulated = new SimulatedExecutor();
    const routed = buildExecutor(null, simulated, { workSecondsPerSecond: 1, serviceMs: (ms) => ms });
    expect(routed.executorFor('hami', 'hami-ai')).toBe(simulated);
  });
});
