/**
 * Which `kumul serve` instance runs the dispatch loop: the holder of the store's `dispatch` lease (docs/deploy.md).
 * Every instance serves the whole API; at each tick each one calls `renew`: the leader renews its lease (and keeps it
 * alive between ticks, so a long cycle does not lose it), the others take it once it has expired, or at once when
 * its holder is a process of this host that is gone. The leader's writes go through a store fenced by the lease's
 * token, so a leader that was paused or cut off and wakes up late changes nothing. Called by the runtime; its view
 * feeds `GET /healthz` and `/metrics`.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Fence, Lease, LeaseLost, Store } from '../store/port.ts';
import type { Metrics } from './metrics.ts';

export const DISPATCH_LEASE = 'dispatch';

/** What `/healthz` says about leadership. */
export interface LeadershipView {
  /** This instance's id: `<host>:<pid>:<random>`. */
  instance: string;
  /** The instance that holds the dispatch lease, or null when none does (or it has expired). */
  leader: string | null;
  role: 'leader' | 'follower';
  /** The lease's fencing token when this instance leads. */
  token: number | null;
}

export class Leadership {
  readonly instance = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  /** How long a lease lasts without renewal: two ticks, so that a dead leader is replaced within about two ticks. */
  readonly leaseMs: number;
  private fence: Fence | null = null;
  private seen: Lease | null = null;
  /** Whether the last `renew` began a new term (a new loop must start). */
  changed = false;
  private refusalSaid = false;
  private keepAlive: ReturnType<typeof setInterval> | null = null;
  private readonly gauge;
  private readonly changes;

  constructor(
    private readonly store: Store,
    tickMs: number,
    private readonly log: (line: string) => void,
    metrics: Metrics,
  ) {
    this.leaseMs = Math.max(2 * tickMs, 200);
    this.gauge = metrics.gauge('kumul_leader', 'Whether this instance runs the dispatch loop (1) or only serves the API (0), by instance id (<host>:<pid>:<random>)');
    this.changes = metrics.counter('kumul_leader_terms_total', 'Terms this instance began as the leader of the dispatch loop');
    this.gauge(0, { instance_id: this.instance });
  }

  /** Takes or renews the dispatch lease; the fence of this instance's term, or null when another instance leads. */
  async renew(): Promise<Fence | null> {
    const result = await this.store.acquireLease(DISPATCH_LEASE, this.instance, this.leaseMs, Date.now(), holderGone);
    this.seen = result.lease;
    if (!result.ok) {
      if (this.fence) this.log(`dispatch loop: ${this.instance} no longer leads: ${result.lease.holder} holds the lease (token ${result.lease.token})`);
      this.end();
      this.changed = false;
      if (!this.refusalSaid && this.store.backend === 'sqlite') {
        this.refusalSaid = true;
        this.log(
          `dispatch loop not started: ${result.lease.holder} runs it on this SQLite store; this instance serves the API only. ` +
            'SQLite serves one instance: run several on PostgreSQL (--db postgres://…, docs/deploy.md)',
        );
      }
      return null;
    }
    this.changed = this.fence === null || this.fence.token !== result.lease.token;
    if (this.changed) {
      this.fence = { name: DISPATCH_LEASE, holder: this.instance, token: result.lease.token };
      this.log(`dispatch loop: ${this.instance} leads (lease token ${result.lease.token})`);
      this.gauge(1, { instance_id: this.instance });
      this.changes(1);
      // Renewed between ticks too, so that a long cycle does not let the lease lapse.
      this.keepAlive = setInterval(() => void this.renewQuietly(), Math.max(50, Math.floor(this.leaseMs / 4)));
      this.keepAlive.unref();
    }
    return this.fence;
  }

  /** A fenced write found the lease taken: this term is over. */
  lost(err: LeaseLost): void {
    this.log(`dispatch loop: ${err.message}`);
    this.end();
  }

  /** Gives the lease up at a clean stop, so that another instance takes over at once. */
  async release(): Promise<void> {
    const fence = this.fence;
    this.end();
    if (fence) await this.store.releaseLease(DISPATCH_LEASE, fence.holder, fence.token);
  }

  view(): LeadershipView {
    const live = this.seen && this.seen.expiresMs > Date.now() ? this.seen.holder : null;
    return { instance: this.instance, leader: this.fence ? this.instance : live, role: this.fence ? 'leader' : 'follower', token: this.fence?.token ?? null };
  }

  private async renewQuietly(): Promise<void> {
    if (!this.fence) return;
    try {
      const result = await this.store.acquireLease(DISPATCH_LEASE, this.instance, this.leaseMs, Date.now());
      if (!result.ok || result.lease.token !== this.fence?.token) this.end();
    } catch {
      // The store is unreachable: the next tick says so; the fenced writes refuse once another instance leads.
    }
  }

  private end(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = null;
    if (this.fence) this.gauge(0, { instance_id: this.instance });
    this.fence = null;
  }
}

/** Whether a lease's holder is a process of this host that no longer runs (killed or crashed): its lease can be taken at once. */
export function holderGone(lease: Lease): boolean {
  const [host, pid] = lease.holder.split(':');
  if (host !== hostname() || !/^\d+$/.test(pid ?? '')) return false;
  if (Number(pid) === process.pid) return false; // this process: an earlier runtime of it may still run
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
