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
  server = await startServe(['--db', `sqlite:${join(dir, 'k.db')}`, '--data', dir, '--no-demo', '--time-scale', '600', '--start', '2026-06-01T00:00Z', '--tick-ms', '100']);
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
  });

  it('exits 2 with the API error for a bad key or an unknown job', () => {
    const bad = spawnSync(process.execPath, [join(ROOT, 'bin/kumul.js'), 'jobs', 'list', '--url', url, '--key', 'kml_nonsense'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/KUMUL_UNAUTHORIZED \(401\)/);
    const missing = kumul('jobs', 'get', 'nope');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/KUMUL_NOT_FOUND \(404\)/);
  });

  it('names the line and column of a bad jobs file before sending anything', () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(file, 'id,tenant,class,pool_class,units,duration_s,release,deadline,origin,input_gb,interruptible,allowed_sites\nx,lab,training,ai,zero,3600,2026-06-01T00:00:00Z,,hami,0,false,\n');
    const run = kumul('jobs', 'submit', file);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/bad\.csv line 2, column units/);
  });
});
