/**
 * The shipped load balancer configuration (deploy/haproxy.cfg, Debian's haproxy) in front of three `kumul serve`
 * instances on one PostgreSQL database (a fresh one for this file): requests reach every instance, jobs submitted
 * through it are planned and run by whichever instance leads, the event stream passes through, and when an instance
 * dies the others keep answering through the same address.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PG_URL } from '../store/harness.ts';
import { ROOT, exited, sleep, startServe, type ServeProcess } from '../support/serve-process.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('deploy/haproxy.cfg in front of three instances', () => {
  const database = `kumul_lb_${randomBytes(6).toString('hex')}`;
  let admin: pg.Client;
  const instances: ServeProcess[] = [];
  let haproxy: ChildProcess;
  let lb = '';
  let key = '';
  let haproxyOutput = '';

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
    await admin.connect();
    await admin.query(`create database ${database}`);
    const url = new URL(TEST_PG_URL);
    url.pathname = `/${database}`;
    for (let i = 0; i < 3; i++) instances.push(await startServe(['--db', url.toString(), '--no-demo', '--time-scale', '600', '--start', '2026-06-01T00:00Z', '--tick-ms', '100']));
    const port = await freePort();
    lb = `http://127.0.0.1:${port}`;
    const env = { ...process.env, KUMUL_LB_BIND: `127.0.0.1:${port}`, ...Object.fromEntries(instances.map((p, i) => [`KUMUL_${i + 1}`, new URL(p.url).host])) };
    haproxy = spawn('haproxy', ['-db', '-f', join(ROOT, 'deploy/haproxy.cfg')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    haproxy.stdout!.on('data', (b) => (haproxyOutput += String(b)));
    haproxy.stderr!.on('data', (b) => (haproxyOutput += String(b)));
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`${lb}/healthz`).then((r) => r.status === 200, () => false);
      if (up) break;
      await sleep(100);
    }
    const tenant = await fetch(`${lb}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${instances[0].operatorKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'lab', name: 'Lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }),
    });
    expect(tenant.status, haproxyOutput).toBe(201);
    key = ((await tenant.json()) as { apiKey: string }).apiKey;
  }, 120_000);

  afterAll(async () => {
    haproxy?.kill('SIGTERM');
    if (haproxy) await exited(haproxy);
    for (const p of instances) {
      p.child.kill('SIGTERM');
      await exited(p.child);
    }
    await admin?.query(`drop database if exists ${database} with (force)`);
    await admin?.end();
  }, 60_000);

  it('spreads requests over every instance, one of which leads', async () => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 12; i++) {
      const health = (await (await fetch(`${lb}/healthz`)).json()) as { instance: string; role: string };
      seen.set(health.instance, health.role);
    }
    expect(seen.size).toBe(3);
    expect([...seen.values()].filter((role) => role === 'leader').length).toBe(1);
  });

  it('runs jobs submitted through it, streams events, and keeps answering when an instance dies', async () => {
    const events = await fetch(`${lb}/v1/events`);
    expect(events.status).toBe(200);
    const reader = events.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(first).toMatch(/event: tick|: /);

    const submit = (id: string) =>
      fetch(`${lb}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id, class: 'batch', poolClass: 'general', units: 8, durationS: 600, release: '2026-06-01T00:00:00Z', origin: 'hami' }),
      });
    for (let i = 0; i < 6; i++) expect((await submit(`a${i}`)).status).toBe(201);
    // Kill an instance that does not lead: the load balancer takes it out; every request still answers.
    const views = await Promise.all(instances.map(async (p) => ((await (await fetch(`${p.url}/healthz`)).json()) as { role: string }).role));
    const victim = instances[views.indexOf('follower')];
    victim.child.kill('SIGKILL');
    await exited(victim.child);
    for (let i = 0; i < 12; i++) expect((await submit(`b${i}`)).status, haproxyOutput).toBe(201);
    const done = async () => {
      const page = (await (await fetch(`${lb}/v1/jobs?status=succeeded&limit=100`, { headers: { authorization: `Bearer ${key}` } })).json()) as { jobs: unknown[] };
      return page.jobs.length;
    };
    let succeeded = 0;
    for (let i = 0; i < 150 && succeeded < 18; i++) {
      succeeded = await done();
      await sleep(100);
    }
    expect(succeeded).toBe(18);
  }, 60_000);
});
