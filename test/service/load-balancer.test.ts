/**
 * The shipped load balancer configuration (deploy/haproxy.cfg, Debian's haproxy) in front of three `kumul serve`
 * instances on one PostgreSQL database (a fresh one for this file): requests reach every instance, jobs submitted
 * through it are planned and run by whichever instance leads, the event stream passes through, and when an instance
 * dies the others keep answering through the same address.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts';
import { ROOT, exited, freePort, sleep, startServe, type ServeProcess } from '../support/serve-process.ts';

describe('deploy/haproxy.cfg in front of three instances', () => {
  let database: FreshDatabase;
  const instances: ServeProcess[] = [];
  let haproxy: ChildProcess;
  let lb = '';
  let key = '';
  let haproxyOutput = '';

  beforeAll(async () => {
    database = await freshDatabase('kumul_lb');
    for (let i = 0; i < 3; i++) instances.push(await startServe(['--db', database.url, '--no-demo', '--time-scale', '600', '--start', '2026-06-01T00:00Z', '--tick-ms', '100']));
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
    await database?.drop();
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
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // The leader's ticks come through the tunnel (from whichever instance serves the stream).
    const reader = events.body!.getReader();
    let received = '';
    const until = Date.now() + 10_000;
    while (!received.includes('event: tick') && Date.now() < until) received += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(received).toContain('event: tick');

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
