/**
 * `npm pack` makes a package whose `kumul` works after `npm i -g` on a clean machine: packed into a temporary folder
 * (prepack builds the dashboard into it), installed globally under a temporary prefix (npm's cache first), then run
 * from a folder outside the repository: --version, `kumul plan` on the built-in scenario, and
 * `kumul serve` on its store from KUMUL_DB (as in the Dockerfile), answering /healthz and serving the dashboard.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, exited, startServe, type ServeProcess } from '../support/serve-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'kumul-package-'));
const prefix = join(dir, 'prefix');
/** Where the installed kumul runs: outside the repository. */
const work = join(dir, 'work');
const kumulBin = join(prefix, 'bin/kumul');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
/**
 * The environment without npm's own variables (`npm test` sets npm_config_*, which the inner npm would obey), but
 * with a local prebuild of better-sqlite3: its install script (prebuild-install) fetches its binary from GitHub, which
 * this machine cannot reach, and would compile SQLite from source instead (two minutes of both cores, more beside
 * other tests). The prebuild is the binary this repository's own install made, packed the way prebuild-install
 * looks for it in `npm_config_<package>_local_prebuilds`.
 */
const prebuilds = join(dir, 'prebuilds');
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_'))),
  npm_config_better_sqlite3_local_prebuilds: prebuilds,
};
let tarball = '';
let server: ServeProcess | null = null;

function run(command: string, args: string[], cwd: string, timeoutMs = 60_000) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

beforeAll(() => {
  mkdirSync(work);
  mkdirSync(prebuilds);
  const sqlite = JSON.parse(readFileSync(join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string };
  const prebuild = join(prebuilds, `better-sqlite3-v${sqlite.version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`);
  const packedBinary = run('tar', ['czf', prebuild, '-C', join(ROOT, 'node_modules/better-sqlite3'), 'build/Release/better_sqlite3.node'], ROOT);
  expect(packedBinary.status, packedBinary.output).toBe(0);
  const packed = run('npm', ['pack', '--pack-destination', dir], ROOT, 120_000);
  expect(packed.status, packed.output).toBe(0);
  tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
  // Scripts of better-sqlite3 (its binary) and esbuild (tsx's) are allowed by name, as npm 12 will require.
  const installed = run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--allow-scripts=better-sqlite3,esbuild', tarball], dir, 540_000);
  expect(installed.status, installed.output).toBe(0);
}, 600_000);

afterAll(async () => {
  if (server) {
    server.child.kill('SIGTERM');
    await exited(server.child);
  }
  // The installed package with its node_modules: some seconds.
  await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('the package npm pack makes, installed with npm i -g', () => {
  it('carries the code, the scenarios, the demo trace and the built dashboard, and no tests', () => {
    const files = run('tar', ['tzf', tarball], dir).stdout.split('\n');
    for (const f of ['package/bin/kumul.js', 'package/src/cli/main.ts', 'package/scenarios/hami/scenario.json', 'package/datasets/alibaba-gpu-2023/pods.csv', 'package/dist/web/index.html', 'package/deploy/prometheus/kumul-rules.yml']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^package\/(test|bench|node_modules|web)\//.test(f))).toEqual([]);
  });

  it('prints its version', () => {
    const out = run(kumulBin, ['--version'], work);
    expect(out.status, out.output).toBe(0);
    expect(out.stdout.trim()).toBe(version);
  });

  it('plans a jobs file on the built-in scenario', () => {
    writeFileSync(
      join(work, 'jobs.csv'),
      'id,tenant,class,pool_class,units,duration_s,release,deadline,origin,input_gb,interruptible,allowed_sites\n' +
        'a,lab,training,ai,8,7200,2026-06-01T00:00:00Z,2026-06-02T00:00:00Z,beijing,10,true,\n' +
        'b,lab,batch,general,64,3600,2026-06-01T00:00:00Z,2026-06-01T12:00:00Z,zhengzhou,0,false,\n',
    );
    const out = run(kumulBin, ['plan', '--scenario', 'hami', '--jobs', 'jobs.csv', '--objective', 'carbon', '--out', 'plan.json'], work);
    expect(out.status, out.output).toBe(0);
    const plan = JSON.parse(readFileSync(join(work, 'plan.json'), 'utf8')) as { format: string; jobs: { id: string }[] };
    expect(plan.format).toBe('kumul-plan');
    expect(plan.jobs.map((j) => j.id).sort()).toEqual(['a', 'b']);
  });

  it('serves: /healthz answers, the dashboard is there, the store is where KUMUL_DB says', async () => {
    server = await startServe(['--no-demo'], 60_000, { command: [kumulBin], cwd: work, env: { ...env, KUMUL_DB: `sqlite:${join(work, 'store.db')}` } });
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'ok' });
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset, html).toBeDefined();
    expect((await fetch(`${server.url}${asset}`)).status).toBe(200);
    expect(existsSync(join(work, 'store.db'))).toBe(true);
  });
});
