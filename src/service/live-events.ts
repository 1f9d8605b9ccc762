/**
 * In-process publish/subscribe of the service's live events: the dispatch loop publishes a `tick` after each tick
 * (src/service/loop.ts), and `GET /v1/events` (src/api/routes/dashboard.ts) streams them to the web dashboard as
 * server-sent events. Synchronous and in memory: a subscriber that is slow to write only buffers in its own socket,
 * and one that throws is dropped without disturbing the loop or the others. Per instance (several instances on
 * PostgreSQL each publish their own loop's ticks).
 */
import type { TickReport } from './loop.ts';

export type LiveEvent = { name: 'tick'; data: TickReport };
export type LiveListener = (event: LiveEvent) => void;

export interface LiveEventsOptions {
  /** Most subscribers at once (default 100); `subscribe` refuses more. */
  maxSubscribers?: number;
  /** Real milliseconds between the heartbeat comments of each event stream (default 15,000). */
  heartbeatMs?: number;
}

export const DEFAULT_MAX_SUBSCRIBERS = 100;
export const DEFAULT_HEARTBEAT_MS = 15_000;

export class LiveEvents {
  readonly maxSubscribers: number;
  readonly heartbeatMs: number;
  private readonly listeners = new Set<LiveListener>();

  constructor(options: LiveEventsOptions = {}) {
    this.maxSubscribers = options.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  /** Subscribers now. */
  get size(): number {
    return this.listeners.size;
  }

  /** Adds a listener; returns its unsubscribe function (safe to call twice), or null when `maxSubscribers` are already subscribed. */
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
}
