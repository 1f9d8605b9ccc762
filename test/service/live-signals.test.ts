/**
 * Live signals in the service: a dispatch loop whose clock runs past the end of the scenario's data (de-2020: German
 * grid carbon for 2020 only) keeps planning, running and metering jobs on the documented fallback, says so in the plans'
 * explain, and the dashboard's network and energy views keep answering; points pushed through the API are used by the
 * next cycle (forecasts) and by metering (actuals). Real SQLite store (and PostgreSQL where KUMUL_TEST_PG names one, as
 * scripts/test.sh does), simulated executor, hand-moved clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { SimulatedExecutor } from '../../src/exec/simulated.ts';
import { FixedClock } from '../../src/service/clock.ts';
import type { ServiceContext } from '../../src/service/context.ts';
import { DispatchLoop } from '../../src/service/loop.ts';
import { Metrics } from '../../src/service/metrics.ts';
import { ScenarioState } from '../../src/service/scenario-state.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import type { JobSpec, Store } from '../../src/store/port.ts';
import { API_BACKENDS } from '../api/fixtures.ts';
import { useBackend } from '../store/harness.ts';

const HOUR = 3_600_000;
/** The end of de-2020's carbon data (2020 in UTC). */
const DATA_END = Date.parse('2021-01-01T00:00:00Z');

function spec(id: string, releaseMs: number, over: Partial<JobSpec> = {}): JobSpec {
  return { id, class: 'batch', poolClass: 'general', units: 640, durationS: 2 * 3600, releaseMs, deadlineMs: releaseMs + 20 * HOUR, origin: 'de', inputGb: 0, interruptible: false, allowedSites: null, ...over };
}

for (const backend of API_BACKENDS) describe(`${backend}: a service whose clock runs past the end of its scenario data`, () => {
  const pg = backend === 'postgres' ? useBackend('postgres') : null;
  let store: Store;
  let clock: FixedClock;
  let state: ScenarioState;
  let loop: DispatchLoop;
  let app: FastifyInstance;
  let operator: string;

  async function open(nowMs: number): Promise<void> {
    store = pg?.store ?? (await openStore('sqlite::memory:'));
    clock = new FixedClock(nowMs);
    state = await ScenarioState.open(store, { scenario: 'de-2020', dispatch: { policy: 'optimize', objective: 'carbon' }, horizonHours: 24 }, nowMs);
    const ctx: ServiceContext = { store, clock, metrics: new Metrics(), network: () => state.network(), scenario: state, wake: () => loop.wake() };
    loop = new DispatchLoop({
      ctx,
      executor: new SimulatedExecutor(),
      deploymentId: 'testdepa',
      scenarioWindow: (startMs, slots) => state.window(startMs, slots),
      slotMinutes: state.slotMinutes,
      dispatch: () => state.dispatch(),
      replanMinutes: 60,
      horizonHours: 24,
    });
    app = buildApp(ctx);
    for (const [id, role] of [['lab', 'tenant'], ['ops', 'operator']] as const) {
      const created = await store.createTenant({ id, name: id, role, maxConcurrentUnits: { ai: null, general: null, hpc: null } }, nowMs);
      if (!created.ok) throw new Error(created.reason);
    }
    const key = await store.createApiKey('ops', 'test', nowMs);
    if (!key.ok) throw new Error(key.reason);
    operator = key.plaintext;
  }

  afterEach(async () => {
    await app?.close();
    if (!pg) await store?.close();
  });

  /** Ticks every 15 simulated minutes until `untilMs`, reading what changed in the store first as the runtime does. */
  async function runUntil(untilMs: number, onTick: (nowMs: number) => Promise<void> = async () => {}): Promise<void> {
    while (clock.nowMs() <= untilMs) {
      await onTick(clock.nowMs());
      await state.refresh();
      await loop.tick();
      clock.advance(15 * 60_000);
    }
  }

  const job = async (id: string) => (await store.getJob({ tenantId: 'lab', jobId: id }))!;
  const get = (url: string) => app.inject({ method: 'GET', url });

  it('keeps planning, running and metering jobs across the end of the data; plans say which forecasts were fallbacks; the views answer', async () => {
    const start = DATA_END - 6 * HOUR;
    await open(start);
    // Released before the end, at it, and a day after; submitted when released.
    const releases: [string, number][] = [['before', start], ['at-end', DATA_END], ['after', DATA_END + 24 * HOUR]];
    await runUntil(DATA_END + 48 * HOUR, async (nowMs) => {
      for (const [id, releaseMs] of releases) if (releaseMs === nowMs) expect((await store.submitJobs('lab', [spec(id, releaseMs)], nowMs)).ok).toBe(true);
    });
    for (const [id] of releases) {
      const stored = await job(id);
      expect(stored.status, id).toBe('succeeded');
      const rows = await store.jobMetering({ tenantId: 'lab', jobId: id });
      const hours = rows.reduce((h, r) => h + (r.endMs - r.startMs) / HOUR, 0);
      expect(hours, id).toBeCloseTo(2, 6);
      // Grid carbon is priced from the fallback (the actual a week earlier, German 2020 data): never zero.
      expect(rows.every((r) => r.energyKWh > 0 && r.carbonKg > 0), id).toBe(true);
    }
    const notes = (await job('after')).plan!.explain.signalNotes ?? [];
    expect(notes.length).toBeGreaterThan(0);
    for (const note of notes) expect(note).toMatch(/^de carbonGPerKWh forecast 2021-01-0\dT\d\d:\d\dZ–2021-01-0\dT\d\d:\d\dZ: no forecast stored, the actual one week earlier$/);
    // Planned on the data itself, a plan carries no notes.
    const early = await job('before');
    if (Date.parse(early.plan!.runs.at(-1)!.end) <= DATA_END) expect(early.plan!.explain.signalNotes).toBeUndefined();

    const network = await get('/v1/dashboard/network');
    expect(network.statusCode, network.body).toBe(200);
    expect(network.json().sites[0].carbonGPerKWh).toBeGreaterThan(0);
    const energy = await get('/v1/dashboard/energy/de');
    expect(energy.statusCode, energy.body).toBe(200);
    expect(energy.json().carbonGPerKWh.forecastFallback.every((k: string | null) => k === 'week-ago')).toBe(true);
    expect(energy.json().signalNotes[0]).toMatch(/^de carbonGPerKWh forecast .*: no forecast stored, the actual one week earlier$/);
    // The job's plan through the API says so too.
    const lab = await store.createApiKey('lab', 'test', clock.nowMs());
    if (!lab.ok) throw new Error(lab.reason);
    const plan = await app.inject({ method: 'GET', url: '/v1/jobs/after/plan', headers: { authorization: `Bearer ${lab.plaintext}` } });
    expect(plan.json().plan.explain.signalNotes).toEqual(notes);
  });

  it('plans the next cycle on pushed forecasts and meters on pushed actuals', async () => {
    const t = DATA_END + 3 * 24 * HOUR;
    await open(t);
    expect((await store.submitJobs('lab', [spec('pushed', t + 10 * HOUR, { allowedSites: ['de'] })], t)).ok).toBe(true);
    await loop.tick();
    const before = (await job('pushed')).plan!;
    expect(before.explain.signalNotes?.[0]).toMatch(/^de carbonGPerKWh forecast/);
    // The operator pushes a carbon forecast (hourly, on 30-minute slots) and the actuals as they will be.
    const hourly = (value: number) => Array.from({ length: 48 }, (_, i) => ({ time: new Date(t + i * HOUR).toISOString(), value }));
    const push = (series: string, value: number) =>
      app.inject({ method: 'POST', url: `/v1/sites/de/signals/carbonGPerKWh/points?series=${series}`, headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' }, payload: JSON.stringify({ points: hourly(value) }) });
    expect((await push('forecast', 100)).json()).toMatchObject({ inserted: 48 });
    expect((await push('actual', 50)).json()).toMatchObject({ inserted: 48 });
    clock.advance(15 * 60_000);
    const report = await loop.tick();
    expect(report.replanned).toBe(true);
    const after = (await job('pushed')).plan!;
    expect(after.explain.signalNotes).toBeUndefined();
    // No renewables at de: every kWh is priced at the pushed forecast, 100 g/kWh.
    expect(after.carbonKg).toBeCloseTo((after.energyKWh * 100) / 1000, 9);
    expect(before.carbonKg).not.toBeCloseTo(after.carbonKg, 3);
    await runUntil(t + 24 * HOUR);
    expect((await job('pushed')).status).toBe('succeeded');
    const rows = await store.jobMetering({ tenantId: 'lab', jobId: 'pushed' });
    const energy = rows.reduce((s, r) => s + r.energyKWh, 0);
    expect(rows.reduce((s, r) => s + r.carbonKg, 0)).toBeCloseTo((energy * 50) / 1000, 9);
  });
});
