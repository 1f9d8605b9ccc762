/**
 * Group commit for `POST /v1/jobs` (routes/jobs.ts): a submission arriving while an earlier one is being
 * committed waits, and all that waited are then stored together, one `store.submitJobs` per tenant, so a busy
 * service pays one transaction (and on SQLite one fsync) for many requests instead of one each.
 * A submission is committed on the next turn of the event loop, with whatever arrived in the same turn, unless
 * `maxCommitsInFlight` commits are running: no added latency when the service is quiet.
 *
 * Each request keeps its all-or-nothing answer: when a merged batch is refused (a duplicate id, in the store or
 * between two of the requests), each request of it is submitted again on its own and gets its own answer.
 */
import type { JobSpec, Result, StoredJob, Store } from '../store/port.ts';

export type SubmitResult = Result<{ jobs: StoredJob[] }>;

interface Pending {
  tenantId: string;
  specs: readonly JobSpec[];
  resolve: (result: SubmitResult) => void;
  reject: (error: unknown) => void;
}

export interface SubmitQueueOptions {
  /** The submission instant of a commit (the service clock). */
  nowMs: () => number;
  /** Jobs per merged commit at most (a single larger request is still committed whole, alone). */
  maxJobsPerCommit?: number;
  /**
   * Commits in flight at once (default 4). On PostgreSQL each takes a pool connection, so commits overlap; on SQLite
   * a commit runs start to end without yielding, so there is only ever one.
   */
  maxCommitsInFlight?: number;
}

export class SubmitQueue {
  private waiting: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxJobs: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly store: Pick<Store, 'submitJobs'>,
    private readonly options: SubmitQueueOptions,
  ) {
    this.maxJobs = options.maxJobsPerCommit ?? 5000;
    this.maxInFlight = options.maxCommitsInFlight ?? 4;
  }

  /** Stores `specs` for `tenantId` all or nothing, as `store.submitJobs` would, possibly in one commit with others. */
  submit(tenantId: string, specs: readonly JobSpec[]): Promise<SubmitResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ tenantId, specs, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Starts a commit of what waits on the next turn of the event loop, after the requests that arrived with this one
   * have been read: a SQLite transaction runs in microtasks only, so without that turn no request would ever wait
   * to be merged with another.
   */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.commitRound();
    });
  }

  private async commitRound(): Promise<void> {
    if (this.inFlight >= this.maxInFlight || this.waiting.length === 0) return;
    const round = this.takeRound();
    this.inFlight++;
    try {
      await Promise.all([...groupByTenant(round).values()].map((group) => this.commit(group)));
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
  /** The waiting requests, oldest first, up to `maxJobs` jobs (at least one request). */
  private takeRound(): Pending[] {
    let jobs = 0;
    let n = 0;
    while (n < this.waiting.length && (n === 0 || jobs + this.waiting[n].specs.length <= this.maxJobs)) jobs += this.waiting[n++].specs.length;
    return this.waiting.splice(0, n);
  }

  private async commit(group: Pending[]): Promise<void> {
    try {
      if (group.length > 1) {
        const merged = await this.store.submitJobs(group[0].tenantId, group.flatMap((p) => p.specs), this.options.nowMs());
        if (merged.ok) {
          let from = 0;
          for (const p of group) p.resolve({ ok: true, jobs: merged.jobs.slice(from, (from += p.specs.length)) });
          return;
        }
      }
      // Alone, or the merged batch was refused: each request on its own, in arrival order.
      for (const p of group) p.resolve(await this.store.submitJobs(p.tenantId, p.specs, this.options.nowMs()));
    } catch (error) {
      for (const p of group) p.reject(error);
    }
  }
}

function groupByTenant(round: Pending[]): Map<string, Pending[]> {
  const groups = new Map<string, Pending[]>();
  for (const p of round) {
    const group = groups.get(p.tenantId);
    if (group) group.push(p);
    else groups.set(p.tenantId, [p]);
  }
  return groups;
}
