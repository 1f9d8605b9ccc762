/**
 * The CLI as an API client against a real `kumul serve` (child process, port 0, SQLite): submit a
 * jobs file, list, get, cancel, read the bill; bad keys and bad files exit 2 naming the problem.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startServe, type ServeProcess } from '../support/serve-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'kumul-client-'));
let server: ServeProcess;
let url = '';
let operatorKey = '';
let labKey = '';

function kumul(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'bin/kumul.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, KUMUL_URL: url, KUMUL_KEY: labKey } });
}

beforeAll(async () => {
  server = await startServe(['--db', `sqlite:${join(dir, 'k.db')}`, '--no-demo', '--time-scale', '600', '--start', '2026-06-01T00:00Z', '--tick-ms', '100']);
  url = server.url;
  operatorKey = server.operatorKey!;
  const created = await fetch(`${url}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'lab', name: 'Lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }),
  });
  expect(created.status).toBe(201);
  labKey = ((await created.json()) as { apiKey: string }).apiKey;
}, 60_000);

afterAll(() => {
  server?.child.kill('SIGTERM');
});

describe('kumul as an API client', () => {
  it('submits a jobs file, lists, gets and cancels jobs, and reads the bill', () => {
    const file = join(dir, 'jobs.csv');
    writeFileSync(
      file,
      'id,tenant,class,pool_class,units,duration_s,release,deadline,origin,input_gb,interruptible,allowed_sites\n' +
        'a,lab,training,ai,4,3600,2026-06-01T00:00:00Z,2026-06-03T00:00:00Z,beijing,10,true,\n' +
        'b,lab,batch,general,64,7200,2026-06-01T00:00:00Z,2026-06-02T00:00:00Z,zhengzhou,0,false,\n' +
        'c,lab,training,ai,8,3600,2026-06-02T00:00:00Z,2026-06-05T00:00:00Z,hami,0,true,hami\n',
    );
    const submit = kumul('jobs', 'submit', file);
    expect(submit.status, submit.stderr).toBe(0);
    expect(submit.stdout).toMatch(/submitted 3 jobs/);
    const list = kumul('jobs', 'list');
    expect(list.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]).sort()).toEqual(['a', 'b', 'c']);
    const got = kumul('jobs', 'get', 'a');
    expect(got.status).toBe(0);
    expect(JSON.parse(got.stdout).job.id).toBe('a');
    const cancel = kumul('jobs', 'cancel', 'c');
    expect(cancel.status, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(/c: cancelled/);
    const bill = kumul('bill', 'lab', '--month', '2026-06');
    expect(bill.status, bill.stderr).toBe(0);
    expect(JSON.parse(bill.stdout)).toHaveProperty('totals');
  }, 180_000); // each `kumul` call starts a Node process: slow on a machine loaded by other tests

  it('takes a no-slack deadline, and `jobs get` says why a job has no place or was missed', async () => {
    const file = join(dir, 'why.csv');
    writeFileSync(
      file,
      'id,tenant,class,pool_class,units,duration_s,release,deadline,origin,input_gb,interruptible,allowed_sites\n' +
        // No slack: deadline = release + duration ("run it now").
        'now,lab,batch,general,8,3600,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z,hami,0,false,\n' +
        // Fits urumqi's 32 accelerators today; the operator shrinks the pool below.
        'narrow,lab,training,ai,32,3600,2026-06-03T00:00:00Z,2026-06-05T00:00:00Z,urumqi,0,true,urumqi\n',
    );
    const submit = kumul('jobs', 'submit', file);
    expect(submit.status, submit.stderr).toBe(0);
    expect(submit.stdout).toMatch(/submitted 2 jobs/);
    // A job whose input cannot arrive in time, released now on the service's clock (10 simulated minutes a second,
    // read from the submit event): 50,000 GB from beijing to hami at 10 Gbit/s take 11.1 h, its deadline is 10 h on (a minute of real time, for a loaded machine).
    const at = Date.parse((JSON.parse(kumul('jobs', 'get', 'now').stdout) as { events: { at: string }[] }).events[0].at);
    const farFile = join(dir, 'far.csv');
    writeFileSync(
      farFile,
      'id,tenant,class,pool_class,units,duration_s,release,deadline,origin,input_gb,interruptible,allowed_sites\n' +
        `far,lab,training,ai,8,3600,${new Date(at).toISOString()},${new Date(at + 10 * 3_600_000).toISOString()},beijing,50000,false,hami\n`,
    );
    expect(kumul('jobs', 'submit', farFile).status).toBe(0);

    const operator = { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json' };
    const { scenario } = (await (await fetch(`${url}/v1/scenario`, { headers: operator })).json()) as { scenario: { sites: { id: string; pools: { class: string; units: number }[] }[] } };
    const { id: _id, signals: _signals, ...urumqi } = scenario.sites.find((x) => x.id === 'urumqi') as { id: string; signals: unknown; pools: { class: string; units: number }[] };
    const put = await fetch(`${url}/v1/sites/urumqi`, { method: 'PUT', headers: operator, body: JSON.stringify({ ...urumqi, pools: urumqi.pools.map((p) => (p.class === 'ai' ? { ...p, units: 16 } : p)) }) });
    expect(put.status, await put.text()).toBe(200);

    type Got = { job: { status: string; unplaced: unknown }; plan: unknown; unplaced: { codes: string[]; reasons: string[] } | null; events: { name: string }[] };
    const get = async (id: string, until: (g: Got) => boolean): Promise<{ got: Got; stderr: string }> => {
      for (let i = 0; ; i++) {
        const run = kumul('jobs', 'get', id);
        expect(run.status, run.stderr).toBe(0);
        const got = JSON.parse(run.stdout) as Got;
        if (until(got) || i === 40) return { got, stderr: run.stderr };
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const narrow = await get('narrow', (g) => g.unplaced?.codes.includes('too few units') ?? false);
    expect(narrow.got).toMatchObject({ job: { status: 'submitted' }, plan: null, unplaced: { codes: ['not allowed', 'too few units'] } });
    expect(narrow.got.unplaced!.reasons).toContain('urumqi: needs 32 units, ai pool has 16');
    expect(narrow.got.job.unplaced).toEqual(narrow.got.unplaced);
    expect(narrow.stderr).toBe('narrow: no place: 0/6 sites can run it: 5 not allowed, 1 too few units\n');

    const far = await get('far', (g) => g.job.status === 'missed');
    expect(far.got).toMatchObject({ job: { status: 'missed' }, plan: null });
    expect(far.got.unplaced!.codes).toContain('cannot finish by the deadline');
    expect(far.got.unplaced!.reasons.some((r) => r.startsWith('hami: cannot finish by the deadline after moving 50000 GB (11.1 h)'))).toBe(true);
    expect(far.got.events.map((e) => e.name)).toEqual(['submit', 'markMissed']);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/kumul_jobs_unplaced\{reason="too few units"\} 1/);
    expect(metrics).toMatch(/kumul_jobs_missed_total\{reason="cannot finish by the deadline"\} 1/);
  }, 180_000); // each `kumul` call starts a Node process: slow on a machine loaded by other tests

  it('exits 2 with the API error for a bad key or an unknown job', () => {
    const bad = spawnSync(process.execPath, [join(ROOT, 'bin/kumul.js'), 'jobs', 'list', '--url', url, '--key', 'kml_nonsense'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/KUMUL_UNAUTHORIZED \(401\)/);
    const missing = kumul('jobs', 'get', 'nope');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/KUMUL_NOT_FOUND \(404\)/);
  }, 180_000); // each `kumul` call starts a Node process: slow on a machine loaded by other tests

  it('names the line and column of a bad jobs file before sending anything', () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(file, 'id,tenant,class,pool_class,units,duration_s,release,deadline,origin,input_gb,interruptible,allowed_sites\nx,lab,training,ai,zero,3600,2026-06-01T00:00:00Z,,hami,0,false,\n');
    const run = kumul('jobs', 'submit', file);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/bad\.csv line 2, column units/);
  }, 180_000); // each `kumul` call starts a Node process: slow on a machine loaded by other tests
});
