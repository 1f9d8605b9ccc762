/**
 * Two real `kumul serve` processes on one PostgreSQL database (a fresh one for this file, dropped at the end) and one
 * Redis: what one instance's dispatch loop publishes reaches the event streams of the other (LISTEN/NOTIFY), and a
 * key's requests split over both instances meet the 429 at the combined limit (counters in Redis).
 *
 * The second ticks once an hour (`--tick-ms 3600000`), so it never asks for the dispatch lease within the test: the
 * first leads, and every tick either stream gets comes from its loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts';
import { TEST_REDIS_URL, checkTestRedis } from '../support/redis.ts';
import { exited, startServe, type ServeProcess } from '../support/serve-process.ts';

const LIMIT_PER_MINUTE = 8;

/** An open `GET /v1/events` stream and the text it has received so far. */
class EventStream {
  text = '';
  private readonly abort = new AbortController();
  private reading: Promise<void> = Promise.resolve();

  async open(url: string): Promise<void> {
    const response = await fetch(`${url}/v1/events`, { signal: this.abort.signal });
    if (response.status !== 200) throw new Error(`GET /v1/events: ${response.status} ${await response.text()}`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    this.reading = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          this.text += decoder.decode(value, { stream: true });
        }
      } catch {
        // aborted
      }
    })();
  }

  /** The `nowMs` of every tick received so far, in order. */
  ticks(): number[] {
    return [...this.text.matchAll(/event: tick\ndata: (.*)\n\n/g)].map((m) => (JSON.parse(m[1]) as { nowMs: number }).nowMs);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.reading;
  }
}

async function eventually(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('two kumul serve instances on one PostgreSQL and one Redis', () => {
  let database: FreshDatabase;
  let leader: ServeProcess;
  let other: ServeProcess;
  let operatorKey = '';

  beforeAll(async () => {
    await checkTestRedis();
    database = await freshDatabase('kumul_instances');
    const prefix = `kumul-test:${new URL(database.url).pathname.slice(1)}:`; // counters of this file only
    const common = ['--db', database.url, '--no-demo', '--redis', TEST_REDIS_URL, '--redis-prefix', prefix, '--rate-limit-per-minute', String(LIMIT_PER_MINUTE)];
    // One after the other: the first start creates the operator and the scenario document.
    leader = await startServe([...common, '--tick-ms', '200']);
    other = await startServe([...common, '--tick-ms', '3600000']);
    operatorKey = leader.operatorKey!;
    expect(operatorKey).toMatch(/^kml_/);
    expect(other.operatorKey).toBeNull();
  }, 90_000);

  afterAll(async () => {
    for (const p of [leader, other]) {
      if (!p) continue;
      p.child.kill('SIGTERM');
      await exited(p.child);
    }
    await database?.drop();
  }, 30_000);

  it('streams the ticks of the instance that runs the loop from either instance', async () => {
    const atLeader = new EventStream();
    const atOther = new EventStream();
    await atLeader.open(leader.url);
    await atOther.open(other.url);
    try {
      await eventually(() => atOther.ticks().length >= 3, 'three ticks on the other instance’s stream');
      // The other instance's loop has not ticked (its first tick is an hour away): these came from the leader's loop,
      // and they are the same ticks, in the same order, that the leader's own stream shows.
      const seen = atOther.ticks().slice(0, 3);
      await eventually(() => seen.every((t) => atLeader.ticks().includes(t)), 'the same ticks on the leader’s stream');
      const atLeaderTicks = atLeader.ticks();
      const from = atLeaderTicks.indexOf(seen[0]);
      expect(atLeaderTicks.slice(from, from + 3)).toEqual(seen);
      expect(seen[1]).toBeGreaterThan(seen[0]);
      const metrics = await (await fetch(`${other.url}/metrics`)).text();
      expect(metrics).toMatch(/^kumul_live_events_listening 1$/m);
      expect(metrics).not.toMatch(/^kumul_cycles_total [1-9]/m);
    } finally {
      await atLeader.close();
      await atOther.close();
    }
  });

  it('holds a key to its limit over both instances: requests split over them get the 429 at the combined limit', async () => {
    const codes: number[] = [];
    const retryAfter: string[] = [];
    for (let i = 0; i < LIMIT_PER_MINUTE + 2; i++) {
      const url = i % 2 === 0 ? leader.url : other.url;
      const res = await fetch(`${url}/v1/tenants`, { headers: { authorization: `Bearer ${operatorKey}` } });
      codes.push(res.status);
      if (res.status === 429) {
        retryAfter.push(res.headers.get('retry-after') ?? '');
        const body = (await res.json()) as { error: { code: string; status: number; message: string } };
        expect(body.error).toMatchObject({ code: 'KUMUL_RATE_LIMITED', status: 429, message: expect.stringMatching(/^too many requests with this key; retry in \d+ s$/) });
      } else await res.arrayBuffer();
    }
    expect(codes).toEqual([...Array(LIMIT_PER_MINUTE).fill(200), 429, 429]);
    for (const s of retryAfter) expect(Number(s)).toBeGreaterThanOrEqual(1);
    for (const s of retryAfter) expect(Number(s)).toBeLessThanOrEqual(60);
  });
});
