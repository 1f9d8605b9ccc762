/**
 * Per-key request limits for the API (auth.ts calls `take` before looking a key up): one token bucket per key,
 * in memory, holding a minute's worth of requests and refilled continuously. Several service instances each
 * keep their own buckets, so the limit is per instance.
 */
export interface RateLimitOptions {
  perMinute: number;
  /** A monotonic clock in ms (real time, not the service clock: a simulated clock must not stretch the limit). */
  nowMs: () => number;
  /** Buckets kept at most; full (idle) buckets are dropped first when there are more. */
  maxBuckets?: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly capacity: number;
  private readonly maxBuckets: number;

  constructor(private readonly options: RateLimitOptions) {
    if (!(options.perMinute > 0)) throw new Error(`rate limit must be positive, got ${options.perMinute}`);
    this.capacity = options.perMinute;
    this.perMs = options.perMinute / 60_000;
    this.maxBuckets = options.maxBuckets ?? 100_000;
  }

  /** Takes one token for `key`: 0 when the request may go ahead, else the seconds until a token is back (for Retry-After). */
  take(key: string): number {
    const nowMs = this.options.nowMs();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxBuckets) this.dropFull(nowMs);
      this.buckets.set(key, (bucket = { tokens: this.capacity, atMs: nowMs }));
    } else {
      bucket.tokens = Math.min(this.capacity, bucket.tokens + (nowMs - bucket.atMs) * this.perMs);
      bucket.atMs = nowMs;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }

  private dropFull(nowMs: number): void {
    for (const [key, b] of this.buckets) if (b.tokens + (nowMs - b.atMs) * this.perMs >= this.capacity) this.buckets.delete(key);
    // Everyone is busy: forget the oldest half rather than grow without bound.
    if (this.buckets.size >= this.maxBuckets) [...this.buckets.keys()].slice(0, this.maxBuckets / 2).forEach((k) => this.buckets.delete(k));
  }
}
