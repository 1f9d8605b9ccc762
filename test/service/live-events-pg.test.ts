/**
 * The PostgreSQL live events (src/service/live-events-pg.ts) on a real server: instances in one schema hear each
 * other's events once, their own subscribers get their own events once (not again through NOTIFY), another schema
 * hears nothing, bad payloads never reach a subscriber, and a listener whose connection is killed reconnects by itself.
 * Each test gets a fresh schema in the database KUMUL_TEST_PG names (default postgres://postgres@127.0.0.1:5432/test).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresLiveEvents, channelFor, type PostgresLiveEventsOptions } from '../../src/service/live-events-pg.ts';
import type { LiveEvent } from '../../src/service/live-events.ts';
import { Metrics } from '../../src/service/metrics.ts';
import { TEST_PG_URL } from '../store/harness.ts';

const tick = (nowMs: number): LiveEvent => ({ name: 'tick', data: { nowMs, started: 1, finished: 2, planned: 3, replanned: true } });

/** Waits until `check` holds, polling (notifications and reconnections arrive on their own time). */
async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgresLiveEvents', () => {
  let admin: pg.Client;
  const schemas: string[] = [];
  const opened: PostgresLiveEvents[] = [];

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
    await admin.connect().catch((error: Error) => {
      throw new Error(`PostgreSQL at ${TEST_PG_URL} is unreachable (${error.message}); start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`);
    });
  });
  afterEach(async () => {
    for (const live of opened.splice(0)) await live.close();
  });
  afterAll(async () => {
    for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  });

  async function newSchema(): Promise<string> {
    const schema = `kumul_test_${randomBytes(6).toString('hex')}`;
    await admin.query(`create schema ${schema}`);
    schemas.push(schema);
    return schema;
  }

  async function open(schema: string, options: Partial<PostgresLiveEventsOptions> = {}): Promise<PostgresLiveEvents> {
    const live = await PostgresLiveEvents.open({ connectionString: TEST_PG_URL, schema, ...options });
    opened.push(live);
    return live;
  }

  /** Subscribes and collects the nowMs of every event the subscriber gets. */
  function collect(live: PostgresLiveEvents): number[] {
    const seen: number[] = [];
    live.subscribe((event) => void seen.push(event.data.nowMs));
    return seen;
  }

  it('hands an event to its own subscribers at once and once, and to the other instances of the schema through NOTIFY', async () => {
    const schema = await newSchema();
    const a = await open(schema);
    const b = await open(schema);
    const other = await open(await newSchema());
    const [seenA, seenB, seenOther] = [collect(a), collect(b), collect(other)];

    a.publish(tick(1));
    expect(seenA).toEqual([1]); // synchronously, before any round trip
    await eventually(() => seenB.length === 1, 'b to hear a');
    b.publish(tick(2));
    await eventually(() => seenA.length === 2, 'a to hear b');
    // A round trip through the server after both: anything still on its way (a duplicate, a leak into the other schema) has arrived by now.
    await admin.query(`select pg_notify($1, 'flush')`, [channelFor(schema)]);
    await sleep(200);
    expect(seenA).toEqual([1, 2]);
    expect(seenB).toEqual([1, 2]);
    expect(seenOther).toEqual([]);
  });

  it('passes on a well-formed event from any writer, drops malformed or foreign payloads and counts them', async () => {
    const schema = await newSchema();
    const metrics = new Metrics();
    const b = await open(schema, { metrics });
    const received: LiveEvent[] = [];
    b.subscribe((event) => void received.push(event));
    const channel = channelFor(schema);
    const notify = (payload: string) => admin.query('select pg_notify($1, $2)', [channel, payload]);
    await notify('not json');
    await notify(JSON.stringify({ from: 'x', name: 'tick', data: { nowMs: 'soon', started: 0, finished: 0, planned: 0, replanned: false } }));
    await notify(JSON.stringify({ from: 'x', name: 'cycle', data: tick(5).data }));
    await notify(JSON.stringify({ from: 'x', name: 'tick', data: { ...tick(6).data, extra: 'dropped' } }));
    await eventually(() => received.length === 1, 'the well-formed event');
    expect(received).toEqual([tick(6)]);
    expect(metrics.render()).toContain('kumul_live_events_dropped_total{reason="bad-payload"} 3');
    // An instance's own payloads come back to it through LISTEN and are ignored.
    await notify(JSON.stringify({ from: b.instanceId, name: 'tick', data: tick(7).data }));
    await notify(JSON.stringify({ from: 'y', name: 'tick', data: tick(8).data }));
    await eventually(() => received.length === 2, 'the next event');
    expect(received.map((e) => e.data.nowMs)).toEqual([6, 8]);
  });

  it('keeps an event above the payload limit to its own instance and says so', async () => {
    const schema = await newSchema();
    const metrics = new Metrics();
    const lines: string[] = [];
    const a = await open(schema, { metrics, log: (line) => lines.push(line) });
    const b = await open(schema);
    const [seenA, seenB] = [collect(a), collect(b)];
    const huge = { name: 'tick', data: { ...tick(9).data, padding: 'x'.repeat(8000) } } as LiveEvent;
    a.publish(huge);
    a.publish(tick(10));
    await eventually(() => seenB.length === 1, 'the small event');
    expect(seenA).toEqual([9, 10]);
    expect(seenB).toEqual([10]);
    expect(metrics.render()).toContain('kumul_live_events_dropped_total{reason="too-large"} 1');
    expect(lines.join('\n')).toMatch(/above 7900; not sent to other instances/);
  });

  it('reconnects and LISTENs again after its connection is killed, and logs the loss and the recovery once', async () => {
    const schema = await newSchema();
    const metrics = new Metrics();
    const lines: string[] = [];
    const a = await open(schema);
    const b = await open(schema, { metrics, log: (line) => lines.push(line), reconnectMs: 300, maxReconnectMs: 600 });
    const seenB = collect(b);
    expect(metrics.render()).toContain('kumul_live_events_listening 1');

    const pid = (b as unknown as { client: { processID: number } }).client.processID;
    await admin.query('select pg_terminate_backend($1)', [pid]);
    await eventually(() => !b.listening, 'the loss to be noticed');
    expect(metrics.render()).toContain('kumul_live_events_listening 0');
    b.publish(tick(11)); // while down: its own subscribers still get it, the others cannot
    expect(seenB).toEqual([11]);
    await eventually(() => b.listening, 'the reconnection');
    expect(metrics.render()).toContain('kumul_live_events_listening 1');
    expect(metrics.render()).toContain('kumul_live_events_reconnects_total 1');
    expect(metrics.render()).toContain('kumul_live_events_dropped_total{reason="not-connected"} 1');

    a.publish(tick(12));
    await eventually(() => seenB.length === 2, 'an event after the reconnection');
    expect(seenB).toEqual([11, 12]);
    expect(lines).toEqual([expect.stringMatching(/^live events: lost the PostgreSQL connection .*; reconnecting$/), `live events: listening on ${channelFor(schema)} again`]);
  });

  it('closes: its connection ends, its subscribers are dropped, publishing afterwards is harmless', async () => {
    const schema = await newSchema();
    const a = await open(schema);
    const seen = collect(a);
    expect(a.size).toBe(1);
    await a.close();
    expect(a.size).toBe(0);
    expect(a.listening).toBe(false);
    a.publish(tick(13));
    expect(seen).toEqual([]);
    const left = await admin.query(`select count(*)::int as n from pg_stat_activity where application_name = 'kumul-live-events' and query = $1`, [`listen "${channelFor(schema)}"`]);
    expect(left.rows[0].n).toBe(0);
  });

  it('refuses a schema name that could not be a plain identifier, naming it', async () => {
    await expect(PostgresLiveEvents.open({ connectionString: TEST_PG_URL, schema: 'x; drop' })).rejects.toThrow(/bad schema name "x; drop"/);
  });
});

describe('channelFor', () => {
  it('is one lower-case identifier of at most 63 bytes per schema', () => {
    expect(channelFor('kumul_test_ab12')).toBe('kumul_events_kumul_test_ab12');
    expect(channelFor('Public')).toBe('kumul_events_public');
    expect(channelFor(null)).toBe('kumul_events_none');
    expect(channelFor('s'.repeat(100))).toHaveLength(63);
  });
});
