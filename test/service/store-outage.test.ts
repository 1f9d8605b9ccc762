/**
 * `kumul serve` on a PostgreSQL that stops (`pg_ctl stop`, the issue's `pg_ctlcluster … stop`) and starts again: while
 * it is down, writes answer 503 KUMUL_UNAVAILABLE with a clear error and Retry-After, /healthz answers 503; once it
 * is back, the instance recovers by itself: writes succeed and the dispatch loop plans again. The server is the
 * test's own (test/support/private-postgres.ts), so the machine's cluster that other tests use stays up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, sleep, startServe, type ServeProcess } from '../support/serve-process.ts';
import { privatePostgres, type PrivatePostgres } from '../support/private-postgres.ts';

describe('kumul serve when its PostgreSQL stops and starts again', () => {
  let postgres: PrivatePostgres;
  let serve: ServeProcess;
  let key = '';

  beforeAll(async () => {
    postgres = await privatePostgres();
    serve = await startServe(['--db', postgres.url, '--no-demo', '--time-scale', '600', '--start', '2026-06-01T00:00Z', '--tick-ms', '100']);
    const tenant = await fetch(`${serve.url}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serve.operatorKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'lab', name: 'Lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }),
    });
    key = ((await tenant.json()) as { apiKey: string }).apiKey;
  }, 120_000);

  afterAll(async () => {
    serve?.child.kill('SIGTERM');
    if (serve) await exited(serve.child);
    postgres?.remove();
  }, 60_000);

  const submit = (id: string) =>
    fetch(`${serve.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id, class: 'batch', poolClass: 'general', units: 8, durationS: 600, release: '2026-06-01T00:00:00Z', origin: 'hami' }),
    });
  const status = async (id: string) => ((await (await fetch(`${serve.url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { status?: string }).status;

  it('answers 503 with a clear error while the store is down, and recovers by itself', async () => {
    expect((await submit('before')).status).toBe(201);
    postgres.stop();
    const down = await submit('during');
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    const body = (await down.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('KUMUL_UNAVAILABLE');
    expect(body.error.message).toMatch(/^the store cannot be reached \(.+\); nothing was changed: retry later$/);
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(503);
    await sleep(500); // the loop's ticks fail meanwhile; the process stays up
    expect(serve.child.exitCode).toBeNull();

    postgres.start();
    let answer = 0;
    for (let i = 0; i < 100 && answer !== 201; i++) {
      answer = (await submit('after')).status;
      if (answer !== 201) await sleep(100);
    }
    expect(answer).toBe(201);
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
    // The dispatch loop goes on: both jobs stored before and after the outage are planned and run.
    let states: (string | undefined)[] = [];
    for (let i = 0; i < 100; i++) {
      states = [await status('before'), await status('after')];
      if (states.every((s) => s === 'succeeded' || s === 'running')) break;
      await sleep(100);
    }
    expect(states.every((s) => s === 'succeeded' || s === 'running'), `states ${states}`).toBe(true);
    expect(await status('during')).toBeUndefined();
  }, 120_000);
});
