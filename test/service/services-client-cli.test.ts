/**
 * `kumul services create|demand|load|routing|delete` against a real `kumul serve` (child process, port 0, SQLite, the hami
 * scenario): the example services file and week of demand go in through the API, the loop places them, the routing
 * comes back; a bad services file exits 2 naming the file and the field. (`list` and `get` are the same kind of call.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, sleep, startServe, type ServeProcess } from '../support/serve-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'kumul-services-client-'));
let server: ServeProcess;
let labKey = '';

function kumul(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'bin/kumul.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, KUMUL_URL: server.url, KUMUL_KEY: labKey } });
}

beforeAll(async () => {
  server = await startServe(['--db', `sqlite:${join(dir, 'k.db')}`, '--no-demo', '--time-scale', '60', '--start', '2026-06-01T00:00Z', '--tick-ms', '200']);
  const created = await fetch(`${server.url}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.operatorKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'lab', name: 'Lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }),
  });
  expect(created.status).toBe(201);
  labKey = ((await created.json()) as { apiKey: string }).apiKey;
}, 60_000);

afterAll(() => {
  server?.child.kill('SIGTERM');
});

describe('kumul services as an API client', () => {
  it('creates the example services, posts their week of demand, reads their routing once the loop placed them, deletes one', async () => {
    const created = kumul('services', 'create', 'datasets/services/hami-services.json');
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toBe('created chat-8b\ncreated code-70b\ncreated voice-8b\n');
    const posted = kumul('services', 'demand', 'datasets/services/hami-demand-week.json');
    expect(posted.status, posted.stderr).toBe(0);
    expect(posted.stdout).toBe('chat-8b: 1680 values\ncode-70b: 1680 values\nvoice-8b: 1680 values\n');
    // The loop places them at its next cycle (woken by the posts).
    const placed = async () => (await fetch(`${server.url}/v1/services/voice-8b/routing`, { headers: { authorization: `Bearer ${labKey}` } })).status === 200;
    for (let i = 0; i < 120 && !(await placed()); i++) await sleep(500);
    const routing = kumul('services', 'routing', 'voice-8b');
    expect(routing.status, `${routing.stderr}\nserve: ${server.stderr().slice(-2000)}`).toBe(0);
    const view = JSON.parse(routing.stdout) as { regions: { region: string; backends: { weight: number }[] }[] };
    expect(view.regions.length).toBe(10);
    for (const r of view.regions) expect(r.backends.reduce((a, b) => a + b.weight, 0)).toBeCloseTo(1, 9);
    expect(kumul('services', 'delete', 'voice-8b').stdout).toBe('voice-8b: deleted\n');
  }, 180_000);

  it('reports a load per region (chat-8b, created above); a refused report exits 2 naming each --region at fault', () => {
    const ok = kumul('services', 'load', '--service', 'chat-8b', '--region', 'beijing=240.5', 'shanghai=120');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^chat-8b: load of 2 region\(s\) reported at 2026-06-\d\dT/);
    // Refused by the service: the whole report, each field mapped back to its --region.
    const refused = kumul('services', 'load', '--service', 'chat-8b', '--region', 'lhasa=5', 'beijing=1', '--region', 'beijing=2');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("--region lhasa=5: unknown user region 'lhasa'; scenario 'hami' has beijing");
    expect(refused.stderr).toContain("--region beijing=2: region 'beijing' is reported twice");
    // Refused before any request.
    const negative = kumul('services', 'load', '--service', 'chat-8b', '--region', 'beijing=-1');
    expect(negative.status).toBe(2);
    expect(negative.stderr).toContain("--region beijing: '-1' must be a number ≥ 0");
  }, 180_000);

  it('a bad services file exits 2 naming the file and the field', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ version: 1, services: [{ id: 'x', model: 'm', poolClass: 'ai', unitsPerReplica: 1, throughput: { requestsPerS: 1 }, latency: { objectiveMs: 100, percentile: 95, serviceTimeMs: 100 }, coldStart: { warmUpS: 1, energyKWh: 0 } }] }));
    const run = kumul('services', 'create', file);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${file}: services[0].latency.serviceTimeMs: must be below objectiveMs (100 ms)`);
  });
});
