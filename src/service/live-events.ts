/**
 * Live events, a small port: the dispatch loop publishes a `tick` after each tick (src/service/loop.ts, through
 * `ctx.live`), and `GET /v1/events` (src/api/routes/dashboard.ts) streams them to the web dashboard as server-sent
 * events. Two implementations, chosen by the store's backend in src/service/runtime.ts:
 *   - `InProcessLiveEvents` (here): publish/subscribe in memory, for one instance (SQLite, tests);
 *   - `PostgresLiveEvents` (live-events-pg.ts): the same hub for this instance's subscribers, plus PostgreSQL
 *     LISTEN/NOTIFY so that every instance on one database streams the ticks any instance's loop publishes.
 * Delivery is best effort: an event is for whoever is subscribed when it arrives; nothing is replayed.
 */
import type { TickReport } from './loop.ts';

export type LiveEvent = { name: 'tick'; data: TickReport };
export type LiveListener = (event: LiveEvent) => void;

/** What the loop publishes to and what the event stream route subscribes to. */
export interface LiveEvents {
  /** Most subscribers at once on this instance; `subscribe` refuses more. */
  readonly maxSubscribers: number;
  /** Real milliseconds between the heartbeat comments of each event stream. */
  readonly heartbeatMs: number;
  /** Subscribers on this instance now. */
  readonly size: number;
  /** Adds a listener; returns its unsubscribe function (safe to call twice), or null when `maxSubscribers` are already subscribed. */
  subscribe(listener: LiveListener): (() => void) | null;
  /** Hands `event` to every subscriber (on every instance, for implementations that span several); never throws. */
  publish(event: LiveEvent): void;
  /** Drops the subscribers and releases connections (the runtime calls it when the service stops). */
  close(): Promise<void>;
}

export interface LiveEventsOptions {
  /** Most subscribers at once (default 100); `subscribe` refuses more. */
  maxSubscribers?: number;
  /** Real milliseconds between the heartbeat comments of each event stream (default 15,000). */
  heartbeatMs?: number;
}

export const DEFAULT_MAX_SUBSCRIBERS = 100;
export const DEFAULT_HEARTBEAT_MS = 15_000;

/**
 * In-process publish/subscribe. Synchronous and in memory: a subscriber that is slow to write only buffers in its own
 * socket, and one that throws is dropped without disturbing the loop or the others.
 */
export class InProcessLiveEvents implements LiveEvents {
  readonly maxSubscribers: number;
  readonly heartbeatMs: number;
  private readonly listeners = new Set<LiveListener>();

  constructor(options: LiveEventsOptions = {}) {
    this.maxSubscribers = options.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  get size(): number {
    return this.listeners.size;
  }

  subscribe(listener: LiveListener): (() => void) | null {
    if (this.listeners.size >= this.maxSubscribers) return null;
    // A wrapper per subscription, so the same function subscribed twice is two subscribers.
    const entry: LiveListener = (event) => listener(event);
    this.listeners.add(entry);
    return () => void this.listeners.delete(entry);
  }

  /** Hands `event` to every subscriber now; a subscriber that throws is removed. */
  publish(event: LiveEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

/**
 * The event as other processes receive it, or null when `value` is not one (a payload from an older or foreign
 * writer): only the fields a tick has, with their types checked, so a bad payload never reaches a stream.
 */
export function liveEventFrom(value: unknown): LiveEvent | null {
  if (typeof value !== 'object' || value === null) return null;
  const { name, data } = value as { name?: unknown; data?: unknown };
  if (name !== 'tick' || typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  const ints = ['nowMs', 'started', 'finished', 'planned'] as const;
  if (!ints.every((k) => Number.isSafeInteger(d[k])) || typeof d.replanned !== 'boolean') return null;
  return { name, data: { nowMs: d.nowMs as number, started: d.started as number, finished: d.finished as number, planned: d.planned as number, replanned: d.replanned } };
}
