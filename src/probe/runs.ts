/**
 * Probe runs started through the API (POST /v1/probes): each probes the pools of one site in the background and
 * is followed by its id (GET /v1/probes/runs/{id}) while the results land in the store. Kept in memory: a run in
 * progress when the service stops is lost (its finished probes are stored). One run per site at a time, so
 * that two benchmarks never share a node's cores.
 */
import type { Pool, Site } from '../core/model/types.ts';
import type { Executor } from '../exec/port.ts';
import type { Store } from '../store/port.ts';
import { probeSite, type ProbeRunOptions } from './run.ts';

export type ProbeRunState = 'running' | 'done' | 'failed';

export interface ProbeRun {
  id: string;
  siteId: string;
  poolIds: string[];
  state: ProbeRunState;
  startedMs: number;
  endedMs: number | null;
  /** Ids of the probes stored so far, in pool order. */
  probeIds: string[];
  /** Why the run stopped early (the store refused a probe, a bug). */
  error: string | null;
}

/** Finished runs remembered for GET (the oldest are forgotten beyond this). */
const KEEP_FINISHED = 200;

export class ProbeRuns {
  private readonly runs = new Map<string, ProbeRun>();
  private readonly done: Promise<void>[] = [];

  constructor(
    private readonly executor: Executor,
    private readonly store: Store,
  ) {}

  /** Starts probing `pools` of `site`, or returns the run already probing that site (`started: false`). */
  start(site: Site, pools: Pool[], options: ProbeRunOptions): { run: ProbeRun; started: boolean } {
    const busy = [...this.runs.values()].find((r) => r.siteId === site.id && r.state === 'running');
    if (busy) return { run: busy, started: false };
    const startedMs = options.nowMs();
    const run: ProbeRun = { id: `probe-run.${site.id}.${startedMs}`, siteId: site.id, poolIds: pools.map((p) => p.id), state: 'running', startedMs, endedMs: null, probeIds: [], error: null };
    this.runs.set(run.id, run);
    const finished = probeSite(this.executor, this.store, site, pools, {
      ...options,
      onProbe: (probe) => {
        run.probeIds.push(probe.id);
        options.onProbe?.(probe);
      },
    }).then(
      () => {
        run.state = 'done';
      },
      (err: Error) => {
        run.state = 'failed';
        run.error = err.message;
      },
    );
    this.done.push(
      finished.finally(() => {
        run.endedMs = options.nowMs();
        this.forgetOld();
      }),
    );
    return { run, started: true };
  }

  get(id: string): ProbeRun | null {
    return this.runs.get(id) ?? null;
  }

  /** Resolves when every run started so far has ended (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all(this.done);
  }

  private forgetOld(): void {
    const finished = [...this.runs.values()].filter((r) => r.state !== 'running');
    for (const r of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.runs.delete(r.id);
  }
}
