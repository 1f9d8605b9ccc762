/**
 * One executor for the whole network: each site's pool runs on the engine the executors file names
 * (a Slurm cluster's partition), every other pool on the simulated executor. The dispatch loop talks
 * to this one; it sends a run to its pool's engine and finds a run again by asking the engines in turn
 * (the answer is remembered), so a restarted service finds runs wherever they are.
 */
import type { Executor, Outage, PowerRequest, RunRequest, RunStatus } from './port.ts';
import type { ProbeRequest, ProbeResult } from './port.ts';

export interface PoolRoute {
  executor: Executor;
  pools: { siteId: string; poolId: string }[];
}

export class SiteRoutedExecutor implements Executor {
  readonly name: string;
  private readonly byPool = new Map<string, Executor>();
  private readonly byRef = new Map<string, Executor>();
  private readonly engines: Executor[];

  /** `fallback` runs every pool no route names. */
  constructor(
    private readonly fallback: Executor,
    routes: PoolRoute[],
  ) {
    for (const route of routes) for (const p of route.pools) this.byPool.set(`${p.siteId}/${p.poolId}`, route.executor);
    // The fallback is asked first when looking a run up: it answers from memory, an engine may need a request.
    this.engines = [fallback, ...new Set(routes.map((r) => r.executor))];
    this.name = [...new Set(this.engines.map((e) => e.name))].join('+');
  }

  /** The engine that runs a site's pool. */
  executorFor(siteId: string, poolId: string): Executor {
    return this.byPool.get(`${siteId}/${poolId}`) ?? this.fallback;
  }

  async submit(request: RunRequest, nowMs: number): Promise<RunStatus> {
    const executor = this.executorFor(request.siteId, request.poolId);
    this.byRef.set(request.ref, executor);
    return executor.submit(request, nowMs);
  }

  async status(ref: string, nowMs: number): Promise<RunStatus | null> {
    const known = this.byRef.get(ref);
    if (known) return known.status(ref, nowMs);
    for (const executor of this.engines) {
      const status = await executor.status(ref, nowMs);
      if (status) {
        this.byRef.set(ref, executor);
        return status;
      }
    }
    return null;
  }

  async cancel(ref: string, nowMs: number): Promise<void> {
    if (await this.status(ref, nowMs)) await this.byRef.get(ref)!.cancel(ref, nowMs);
  }

  /** Every engine's outages; an engine that cannot be reached makes all its pools out of service. */
  async outages(nowMs: number): Promise<Outage[]> {
    const all: Outage[] = [];
    for (const executor of this.engines) {
      try {
        all.push(...(await executor.outages(nowMs)));
      } catch (err) {
        for (const [key, e] of this.byPool) {
          if (e !== executor) continue;
          const [siteId, poolId] = key.split('/');
          all.push({ siteId, poolId, reason: `${executor.name} cannot be reached: ${(err as Error).message}` });
        }
        if (executor === this.fallback) throw err;
      }
    }
    return all;
  }

  /** Asks the pool's engine; every node of the pool when its engine cannot power nodes (they stay on). */
  async setAwakeNodes(request: PowerRequest, nowMs: number): Promise<number> {
    const executor = this.executorFor(request.siteId, request.poolId);
    return executor.setAwakeNodes ? executor.setAwakeNodes(request, nowMs) : request.nodes;
  }

  /** A probe runs on the engine of its pool. */
  runProbe(request: ProbeRequest): Promise<ProbeResult> {
    return this.executorFor(request.siteId, request.poolId).runProbe(request);
  }
}
