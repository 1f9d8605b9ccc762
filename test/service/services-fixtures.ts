/**
 * A Kumul service with inference services for tests: a SQLite store, the hami scenario document, the dispatch loop with
 * HiGHS over an executor (the simulated one by default), the API in front, a hand-moved clock, and tenants `ops`
 * (operator) and `lab` with keys; service and demand bodies as tenants post them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import type { Store } from '../../src/store/port.ts';
import { FixedClock } from '../../src/service/clock.ts';
import { Metrics } from '../../src/service/metrics.ts';
import { DispatchLoop, type LoopOptions } from '../../src/service/loop.ts';
import { ScenarioState } from '../../src/service/scenario-state.ts';
import { SimulatedExecutor } from '../../src/exec/simulated.ts';
import type { Executor } from '../../src/exec/port.ts';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import type { LpSolver } from '../../src/core/lp/model.ts';
import type { ServiceContext } from '../../src/service/context.ts';

export const T0 = Date.parse('2026-06-01T00:00:00Z');
export const HOUR = 3_600_000;
/** Slots of the loop's look-ahead (hours). */
export const SLOTS = 24;

export interface ServicesWorld {
  store: Store;
  clock: FixedClock;
  metrics: Metrics;
  scenario: ScenarioState;
  loop: DispatchLoop;
  /** A new loop on the same store, executor and clock, as a restarted service starts (its memory empty); becomes `loop`. */
  restart(): DispatchLoop;
  app: FastifyInstance;
  keys: { ops: string; lab: string };
  logged: string[];
  call(key: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** A service with the loop and the API on one store, over `executor` (the simulated one by default) and `solver` (HiGHS by default). */
export async function servicesWorld(executor: Executor = new SimulatedExecutor(), objective = 'carbon', solver?: LpSolver): Promise<ServicesWorld> {
  const store = await openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'kumul-services-')), 'kumul.db')}`);
  const deploymentId = (await store.deployment(T0)).id;
  const clock = new FixedClock(T0);
  const metrics = new Metrics();
  const scenario = await ScenarioState.open(store, { scenario: 'hami', dispatch: { policy: 'optimize', objective }, horizonHours: SLOTS }, T0);
  const logged: string[] = [];
  let loop: DispatchLoop | null = null;
  const ctx: ServiceContext = { store, clock, metrics, network: () => scenario.network(), scenario, wake: () => loop?.wake() };
  const loopOptions: LoopOptions = {
    ctx,
    executor,
    deploymentId,
    scenarioWindow: (startMs, slots) => scenario.window(startMs, slots),
    slotMinutes: scenario.slotMinutes,
    dispatch: () => scenario.dispatch(),
    replanMinutes: 60,
    horizonHours: SLOTS,
    log: (line) => logged.push(line),
    solver: solver ?? (await loadHighsSolver()),
  };
  loop = new DispatchLoop(loopOptions);
  const app = buildApp(ctx);
  const keys = { ops: '', lab: '' };
  for (const [id, role] of [['ops', 'operator'], ['lab', 'tenant']] as const) {
    await store.createTenant({ id, name: id, role, maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
    const key = await store.createApiKey(id, 'test', T0);
    if (!key.ok) throw new Error(key.reason);
    keys[id] = key.plaintext;
  }
  const world: ServicesWorld = {
    store,
    clock,
    metrics,
    scenario,
    loop,
    restart() {
      loop = new DispatchLoop(loopOptions);
      world.loop = loop;
      return loop;
    },
    app,
    keys,
    logged,
    async call(key, method, url, body) {
      const res = await app.inject({ method, url, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, payload: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.statusCode, body: res.body ? res.json() : null };
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
  return world;
}

export function service(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, model: '8B chat', poolClass: 'ai', unitsPerReplica: 1, throughput: { requestsPerS: 10 }, latency: { objectiveMs: 300, percentile: 95, serviceTimeMs: 250 }, coldStart: { warmUpS: 60, energyKWh: 0.02 }, minReplicas: { total: 1 }, ...over };
}

export function demand(id: string, byRegion: Record<string, number[]>): Record<string, unknown> {
  return { version: 1, start: '2026-06-01T00:00Z', slotMinutes: 60, series: Object.entries(byRegion).map(([region, requestsPerS]) => ({ service: id, region, requestsPerS })) };
}
