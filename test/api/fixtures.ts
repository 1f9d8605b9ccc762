/**
 * The API under test: `buildApp` on a fresh store (SQLite in memory, or a PostgreSQL schema when the caller
 * opens one), a `FixedClock`, a small three-site network, an operator key, and helpers to call routes with a
 * key through `app.inject()` (no sockets).
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach } from 'vitest';
import { buildApp, type AppOptions } from '../../src/api/app.ts';
import { FixedClock } from '../../src/service/clock.ts';
import { Metrics } from '../../src/service/metrics.ts';
import type { ServiceContext } from '../../src/service/context.ts';
import type { Network, PoolClass } from '../../src/core/model/types.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import type { MeteringInput, Store } from '../../src/store/port.ts';
import type { PlannedJob } from '../../src/core/dispatch/plan.ts';
import type { Backend } from '../../src/store/dialects.ts';
import { useBackend } from '../store/harness.ts';
import { makeLink, makeSite, T0 } from '../fixtures/scenario-builder.ts';

export { T0 };

/** hami: 64 accelerators, 512 cores, 16 nodes; beijing: 8 accelerators, 128 cores; zhengzhou: 256 cores. */
export function testNetwork(): Network {
  const sites = [makeSite('hami').ai(64).pool('general', 512).pool('hpc', 16), makeSite('beijing').ai(8).pool('general', 128), makeSite('zhengzhou').pool('general', 256)];
  return { sites: sites.map((s) => s.site()), links: [makeLink('hami', 'beijing'), makeLink('hami', 'zhengzhou'), makeLink('beijing', 'zhengzhou')] };
}

export type Quotas = Partial<Record<PoolClass, number | null>>;

export class ApiFixture {
  readonly clock = new FixedClock(T0);
  readonly metrics = new Metrics();
  readonly network = testNetwork();
  wakes = 0;
  /** Monotonic time seen by the rate limit and key cache; tests move it. */
  monotonicMs = 0;
  readonly app: FastifyInstance;
  operatorKey = '';

  private constructor(readonly store: Store, options: AppOptions) {
    const ctx: ServiceContext = { store, clock: this.clock, metrics: this.metrics, network: () => this.network, wake: () => void this.wakes++ };
    this.app = buildApp(ctx, { monotonicNowMs: () => this.monotonicMs, ...options });
  }

  /** An API over `store` (default: a new SQLite database in memory) with an operator tenant `ops` and its key. */
  static async open(options: AppOptions = {}, store?: Store): Promise<ApiFixture> {
    const fixture = new ApiFixture(store ?? (await openStore('sqlite::memory:')), options);
    const ops = await fixture.store.createTenant({ id: 'ops', name: 'Operator', role: 'operator', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
    if (!ops.ok) throw new Error(ops.reason);
    const key = await fixture.store.createApiKey('ops', 'test', T0);
    if (!key.ok) throw new Error(key.reason);
    fixture.operatorKey = key.plaintext;
    return fixture;
  }

  /** Closes the app and, when it opened it, the store. */
  async close(closeStore = true): Promise<void> {
    await this.app.close();
    if (closeStore) await this.store.close();
  }

  /** Creates a tenant through the API and returns its key. */
  async tenant(id: string, quotas: Quotas = {}): Promise<string> {
    const res = await this.call(this.operatorKey, 'POST', '/v1/tenants', { id, name: `Tenant ${id}`, maxConcurrentUnits: quotas });
    if (res.statusCode !== 201) throw new Error(`creating tenant ${id}: ${res.statusCode} ${res.body}`);
    return res.json().apiKey;
  }

  /** A request with `key` (none when null); objects are sent as JSON, strings as they are. */
  call(key: string | null, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const all: Record<string, string> = { ...headers };
    if (key !== null) all.authorization = `Bearer ${key}`;
    if (body !== undefined && all['content-type'] === undefined) all['content-type'] = 'application/json';
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return this.app.inject({ method, url, headers: all, payload });
  }

  /** Jobs stored for every tenant, for "nothing changed" checks. */
  async jobCount(): Promise<number> {
    let n = 0;
    let after: string | null = null;
    do {
      const page = await this.store.listJobs({}, { limit: 1000, after });
      if (!page.ok) throw new Error(page.reason);
      n += page.jobs.length;
      after = page.next;
    } while (after);
    return n;
  }
}

/** A valid job body (JSON, as a tenant sends it), with fields replaced or removed (`undefined`). */
export function jobBody(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const job: Record<string, unknown> = {
    id,
    class: 'training',
    poolClass: 'ai',
    units: 4,
    durationS: 3600,
    release: '2026-06-01T03:00Z',
    deadline: '2026-06-02T03:00Z',
    origin: 'hami',
    inputGb: 10,
    interruptible: true,
    allowedSites: null,
    ...over,
  };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete job[k];
  return job;
}

/** Registers hooks giving each test of the enclosing `describe` a fresh API on `backend` (PostgreSQL: a schema of this file, emptied between tests). */
export function useApi(backend: Backend = 'sqlite', options: AppOptions = {}): { readonly f: ApiFixture } {
  const pg = backend === 'postgres' ? useBackend('postgres') : null;
  let fixture: ApiFixture | null = null;
  beforeEach(async () => {
    fixture = await ApiFixture.open(options, pg?.store);
  });
  afterEach(async () => {
    await fixture?.close(pg === null);
    fixture = null;
  });
  return {
    get f() {
      if (!fixture) throw new Error('the API exists only inside a test');
      return fixture;
    },
  };
}

/** SQLite always; PostgreSQL too when KUMUL_TEST_PG is set (scripts/test.sh sets it, so CI runs both). */
export const API_BACKENDS: readonly Backend[] = process.env.KUMUL_TEST_PG ? ['sqlite', 'postgres'] : ['sqlite'];

/** A plan as the dispatch loop stores it: job `id` on hami's ai pool for an hour, with its explanation. */
export function plannedJob(id: string): PlannedJob {
  const candidate = { site: 'hami', start: '2026-06-01T03:00:00Z', end: '2026-06-01T04:00:00Z', score: 1.5, parts: { cost: 1.5 } };
  return {
    id,
    site: 'hami',
    pool: 'ai',
    runs: [{ start: candidate.start, end: candidate.end, units: 4 }],
    transfer: null,
    energyKWh: 3.3,
    greenKWh: 2.1,
    costYuan: 1.5,
    carbonKg: 0.6,
    transferKWh: 0,
    explain: { policy: 'optimize', candidates: [candidate, { ...candidate, site: 'beijing', score: 2.5, parts: { cost: 2.5 } }], earliestHere: candidate, rejected: [{ site: 'zhengzhou', reason: 'no ai pool' }] },
  };
}

/** A metering row of `tenantId`'s job: `hours` on `units` units from `start`, with figures that make sums easy to check. */
export function meteringRow(tenantId: string, jobId: string, key: string, start: string, hours: number, over: Partial<MeteringInput> = {}): MeteringInput {
  const startMs = Date.parse(start);
  return {
    tenantId,
    jobId,
    key,
    site: 'hami',
    pool: 'ai',
    startMs,
    endMs: startMs + hours * 3_600_000,
    units: 4,
    energyKWh: 10 * hours,
    greenKWh: 6 * hours,
    costYuan: 3.25 * hours,
    carbonKg: 1.5 * hours,
    pflopHours: { fp64: 0.1 * hours, fp32: 0.2 * hours, bf16: 2 * hours },
    ...over,
  };
}
