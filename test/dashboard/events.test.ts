/**
 * `GET /v1/events` for real: the app listening on 127.0.0.1 (port 0), streams read with fetch. A dispatch-loop tick
 * reaches every open stream as an `event: tick`; heartbeats are comments; a stream beyond the cap is a 503 from the
 * catalogue; a client that aborts is unsubscribed; closing the app ends the streams still open.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listen } from '../../src/api/server.ts';
import { InProcessLiveEvents } from '../../src/service/live-events.ts';
import { NOW, dispatchLoop, openDashboard, type DashboardFixture } from './fixtures.ts';

/** An open event stream: what it has received so far, and a way to wait for more. */
class Stream {
  text = '';
  private readonly decoder = new TextDecoder();

  constructor(
    readonly response: Response,
    readonly abort: AbortController,
  ) {}

  /** Reads until the received text matches `pattern` (or fails after `timeoutMs`); returns the match. */
  async until(pattern: RegExp, timeoutMs = 5000): Promise<RegExpMatchArray> {
    const reader = this.response.body!.getReader();
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const match = this.text.match(pattern);
        if (match) return match;
        if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(this.text)}`);
        const timer = new Promise<{ done: true; value: undefined }>((resolve) => setTimeout(() => resolve({ done: true, value: undefined }), deadline - Date.now()));
        const { done, value } = await Promise.race([reader.read(), timer]);
        if (value) this.text += this.decoder.decode(value, { stream: true });
        if (done && !value && Date.now() < deadline) throw new Error(`the stream ended without ${pattern}: ${JSON.stringify(this.text)}`);
      }
    } finally {
      reader.releaseLock();
    }
  }
}

/** Waits until `check` holds, polling (for effects of a socket closing, which arrive on their own time). */
async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('GET /v1/events', () => {
  let f: DashboardFixture;
  let url = '';
  const open: AbortController[] = [];

  beforeEach(async () => {
    f = await openDashboard({ live: { maxSubscribers: 2, heartbeatMs: 100 } });
    url = (await listen(f.app, { host: '127.0.0.1', port: 0 })).url;
  });
  afterEach(async () => {
    for (const a of open.splice(0)) a.abort();
    // After an abort, fetch's pool opens a spare connection that carries no request: the server's close would wait for
    // the client to drop it (4 s). Not a stream: close it here.
    f.app.server.closeAllConnections();
    await f.close();
  });

  async function connect(): Promise<Stream> {
    const abort = new AbortController();
    open.push(abort);
    const response = await fetch(`${url}/v1/events`, { signal: abort.signal });
    return new Stream(response, abort);
  }

  it('streams a tick event after each dispatch-loop tick to every subscriber, with heartbeats between', async () => {
    const a = await connect();
    expect(a.response.status).toBe(200);
    expect(a.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(a.response.headers.get('cache-control')).toBe('no-cache');
    await a.until(/^: connected\n\n/);
    const b = await connect();
    await b.until(/: connected\n\n/);
    expect(f.live.size).toBe(2);

    await f.store.submitJobs('lab', [{ id: 'j', class: 'training', poolClass: 'ai', units: 8, durationS: 3600, releaseMs: NOW, deadlineMs: NOW + 24 * 3_600_000, origin: 'hami', inputGb: 0, interruptible: false, allowedSites: null }], NOW);
    const report = await dispatchLoop(f).tick();
    for (const stream of [a, b]) {
      const [, data] = await stream.until(/event: tick\ndata: (.*)\n\n/);
      expect(JSON.parse(data)).toEqual(report);
    }
    expect(report).toMatchObject({ nowMs: NOW, planned: 1, replanned: true });
    await a.until(/\n: heartbeat\n\n/);
  });

  it('refuses a stream beyond the cap with the catalogue’s 503, and removes subscribers whose client went away', async () => {
    const a = await connect();
    const b = await connect();
    await a.until(/: connected/);
    await b.until(/: connected/);
    const refused = await fetch(`${url}/v1/events`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await refused.json()).error).toMatchObject({ code: 'KUMUL_UNAVAILABLE', status: 503, message: expect.stringContaining('2 event streams') });

    a.abort.abort();
    await eventually(() => f.live.size === 1);
    const c = await connect(); // room again
    await c.until(/: connected/);
    expect(f.live.size).toBe(2);
    b.abort.abort();
    c.abort.abort();
    await eventually(() => f.live.size === 0);
    // Ticks with nobody listening go nowhere, and nothing breaks.
    await dispatchLoop(f).tick();
  });

  it('ends the open streams when the app closes', async () => {
    const a = await connect();
    await a.until(/: connected/);
    await f.app.close(); // would wait for the stream forever if it were not ended
    expect(f.live.size).toBe(0);
    const reader = a.response.body!.getReader();
    for (;;) if ((await reader.read()).done) break;
  });

  it('answers 404 on a service without live events', async () => {
    const ctx = { ...f.ctx, live: undefined };
    const { buildApp } = await import('../../src/api/app.ts');
    const app = buildApp(ctx);
    const res = await app.inject({ method: 'GET', url: '/v1/events' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('KUMUL_NOT_FOUND');
    await app.close();
  });
});

describe('InProcessLiveEvents', () => {
  it('hands each event to every subscriber once, drops one that throws, and keeps to its cap', () => {
    const live = new InProcessLiveEvents({ maxSubscribers: 3 });
    const seen: number[] = [];
    const listener = (e: { data: { nowMs: number } }) => void seen.push(e.data.nowMs);
    const first = live.subscribe(listener)!;
    live.subscribe(listener); // the same function twice is two subscribers
    live.subscribe(() => {
      throw new Error('a broken subscriber');
    });
    expect(live.subscribe(listener)).toBeNull();
    const tick = (nowMs: number) => ({ name: 'tick' as const, data: { nowMs, started: 0, finished: 0, planned: 0, replanned: false } });
    live.publish(tick(1));
    expect(seen).toEqual([1, 1]);
    expect(live.size).toBe(2);
    first();
    first(); // twice is harmless
    live.publish(tick(2));
    expect(seen).toEqual([1, 1, 2]);
    expect(live.size).toBe(1);
  });
});
