/**
 * Live events across the instances of one PostgreSQL store (the `LiveEvents` port of live-events.ts, chosen by
 * src/service/runtime.ts when `--db` is `postgres://…`). Every instance holds one dedicated connection that
 * LISTENs on the store's channel; `publish` hands the event to this instance's subscribers at once and sends it to
 * the others with NOTIFY on the same connection. So a client of any instance streams the ticks of whichever
 * instance runs the dispatch loop.
 *
 * - The channel is named after the store's schema (`kumul_events_<schema>`): NOTIFY reaches every session of a
 *   database, and two stores in two schemas of one database must not hear each other.
 * - A payload is `{"from":<instance id>,"name":"tick","data":{…}}`, about 120 bytes; PostgreSQL refuses payloads of
 *   8000 bytes or more, so anything above `MAX_PAYLOAD_BYTES` is not sent (counted and logged). An instance ignores
 *   its own notifications (its subscribers had the event already).
 * - A lost connection (a PostgreSQL restart, a network cut, a terminated backend) is reconnected after
 *   `reconnectMs`, doubling up to `maxReconnectMs`, and LISTENs again. Events published while it is down are not
 *   sent, and those other instances publish meanwhile are not received: the dashboard refreshes at the next tick
 *   that arrives. `kumul_live_events_listening` says whether the connection is up.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Metrics } from './metrics.ts';
import { InProcessLiveEvents, liveEventFrom, type LiveEvent, type LiveEvents, type LiveEventsOptions, type LiveListener } from './live-events.ts';

/** Largest NOTIFY payload sent, bytes (PostgreSQL's limit is 8000, exclusive). */
export const MAX_PAYLOAD_BYTES = 7900;
export const DEFAULT_RECONNECT_MS = 250;
export const DEFAULT_MAX_RECONNECT_MS = 5000;

export interface PostgresLiveEventsOptions extends LiveEventsOptions {
  /** The store's `postgres://…` URL. */
  connectionString: string;
  /** The store's schema when it is not the connection's default (tests: one per file); it names the channel. */
  schema?: string;
  /** Where the listener's losses and recoveries and refused payloads are reported (the runtime's log). */
  log?: (line: string) => void;
  /** Counters and gauges of the listener (`kumul_live_events_*`); none when absent. */
  metrics?: Metrics;
  /** First delay before reconnecting, ms (default 250); doubles after each failed attempt. */
  reconnectMs?: number;
  /** Longest delay between reconnection attempts, ms (default 5000). */
  maxReconnectMs?: number;
  /** This instance's id in payloads (default: random); notifications carrying it are its own. */
  instanceId?: string;
}

/** The NOTIFY channel of a schema: lower-case letters, digits and `_`, at most 63 bytes (PostgreSQL's identifier length). */
export function channelFor(schema: string | null): string {
  const clean = (schema ?? 'none').toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return `kumul_events_${clean}`.slice(0, 63);
}

export class PostgresLiveEvents implements LiveEvents {
  readonly instanceId: string;
  private readonly local: InProcessLiveEvents;
  private client: pg.Client | null = null;
  private channel: string | null = null;
  private closed = false;
  private delayMs: number;
  private timer: NodeJS.Timeout | null = null;
  /** Whether the last attempt failed or the connection was lost (so the recovery is logged once). */
  private down = false;
  private readonly count;

  private constructor(private readonly options: PostgresLiveEventsOptions) {
    if (options.schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(options.schema)) throw new Error(`live events: bad schema name ${JSON.stringify(options.schema)}`);
    this.local = new InProcessLiveEvents(options);
    this.instanceId = options.instanceId ?? randomBytes(8).toString('hex');
    this.delayMs = options.reconnectMs ?? DEFAULT_RECONNECT_MS;
    const m = options.metrics;
    this.count = {
      listening: m?.gauge('kumul_live_events_listening', 'Whether this instance LISTENs for the live events of the others (1) or is reconnecting (0)') ?? (() => {}),
      reconnects: m?.counter('kumul_live_events_reconnects_total', 'Times the live-events connection to PostgreSQL was made again after a loss') ?? (() => {}),
      dropped: m?.counter('kumul_live_events_dropped_total', 'Live events not sent to or not taken from other instances, by reason') ?? (() => {}),
    };
  }

  /**
   * Connects and LISTENs; resolves once this instance hears the others. Called by the runtime at startup (after the
   * store opened, so PostgreSQL is reachable): a failure there is thrown, later losses are reconnected.
   */
  static async open(options: PostgresLiveEventsOptions): Promise<PostgresLiveEvents> {
    const live = new PostgresLiveEvents(options);
    await live.connect();
    return live;
  }

  get maxSubscribers(): number {
    return this.local.maxSubscribers;
  }

  get heartbeatMs(): number {
    return this.local.heartbeatMs;
  }

  get size(): number {
    return this.local.size;
  }

  /** Whether the LISTEN connection is up now. */
  get listening(): boolean {
    return this.client !== null;
  }

  subscribe(listener: LiveListener): (() => void) | null {
    return this.local.subscribe(listener);
  }

  publish(event: LiveEvent): void {
    this.local.publish(event);
    const payload = JSON.stringify({ from: this.instanceId, name: event.name, data: event.data });
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
      this.count.dropped(1, { reason: 'too-large' });
      this.options.log?.(`live events: a ${event.name} event of ${Buffer.byteLength(payload)} bytes is above ${MAX_PAYLOAD_BYTES}; not sent to other instances`);
      return;
    }
    const { client, channel } = this;
    if (!client || !channel) {
      this.count.dropped(1, { reason: 'not-connected' });
      return;
    }
    // The connection's error and end events handle a loss; this only counts the event that did not go out.
    client.query('select pg_notify($1, $2)', [channel, payload]).catch(() => this.count.dropped(1, { reason: 'notify-failed' }));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.local.close();
    const client = this.client;
    this.client = null;
    this.count.listening(0);
    await client?.end().catch(() => {});
  }

  /** One connection attempt: connect, find the channel, LISTEN, then hand on notifications. Throws on failure. */
  private async connect(): Promise<void> {
    const { connectionString, schema } = this.options;
    const client = new pg.Client({
      connectionString,
      application_name: 'kumul-live-events',
      keepAlive: true,
      connectionTimeoutMillis: 5000,
      ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
    });
    let established = false;
    let lost = false;
    const onLost = (why: string) => {
      if (!established || lost) return;
      lost = true;
      if (this.client === client) this.client = null;
      client.end().catch(() => {});
      if (this.closed) return;
      this.count.listening(0);
      if (!this.down) this.options.log?.(`live events: lost the PostgreSQL connection (${why}); reconnecting`);
      this.down = true;
      this.scheduleReconnect();
    };
    // Before connect: an error while connecting must not be an unhandled 'error' event.
    client.on('error', (err) => onLost(err.message));
    try {
      await client.connect();
      const found = await client.query<{ schema: string | null }>('select current_schema() as schema');
      const channel = channelFor(found.rows[0]?.schema ?? null);
      await client.query(`listen "${channel}"`);
      if (this.closed) throw new Error('closed');
      client.on('notification', (message) => this.receive(message));
      client.on('end', () => onLost('connection ended'));
      this.client = client;
      this.channel = channel;
      established = true;
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    this.count.listening(1);
    this.delayMs = this.options.reconnectMs ?? DEFAULT_RECONNECT_MS;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.options.maxReconnectMs ?? DEFAULT_MAX_RECONNECT_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closed) return;
      this.connect().then(
        () => {
          this.count.reconnects(1);
          if (this.down) this.options.log?.(`live events: listening on ${this.channel} again`);
          this.down = false;
        },
        () => this.scheduleReconnect(),
      );
    }, delay);
    this.timer.unref();
  }

  /** A notification from another instance, handed to this instance's subscribers. */
  private receive(message: pg.Notification): void {
    if (message.channel !== this.channel || message.payload === undefined) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.payload);
    } catch {
      parsed = null;
    }
    const from = typeof parsed === 'object' && parsed !== null ? (parsed as { from?: unknown }).from : undefined;
    if (from === this.instanceId) return;
    const event = liveEventFrom(parsed);
    if (!event) {
      this.count.dropped(1, { reason: 'bad-payload' });
      return;
    }
    this.local.publish(event);
  }
}
