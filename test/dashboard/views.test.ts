/**
 * The dashboard's read views through the API (`app.inject()`, no key) on a real store and a stored scenario whose
 * forecasts differ from its actuals: the network now (busy units, power, utilisation, renewables and signals of the
 * current slot, transfers in progress per link), one site's energy per slot (forecast vs actual, demand from metering
 * and plans without double counting), and the savings against asap-origin; bad input is a 400 naming the field.
 */
import { describe, expect, it, vi } from 'vitest';
import type { MeteringInput } from '../../src/store/port.ts';
import { API_BACKENDS } from '../api/fixtures.ts';
import { buildApp } from '../../src/api/app.ts';
import { AI_BUSY_W, GENERAL_BUSY_W, HOUR, NOW, PUE, SERIES_HOURS, hourIndex, jobIn, plan, signal, spec, useDashboard } from './fixtures.ts';

const AI_KW = (AI_BUSY_W * PUE) / 1000; // 1 kW per busy accelerator
const GENERAL_KW = (GENERAL_BUSY_W * PUE) / 1000; // 0.0125 kW per busy core

for (const backend of API_BACKENDS) describe(backend, () => {
  const h = useDashboard(backend);
  const get = (url: string) => h.f.app.inject({ method: 'GET', url });

  function metering(jobId: string, key: string, startMs: number, hours: number, over: Partial<MeteringInput> = {}): MeteringInput {
    return {
      tenantId: 'lab',
      jobId,
      key,
      site: 'hami',
      pool: 'hami-ai',
      startMs,
      endMs: startMs + hours * HOUR,
      units: 4,
      energyKWh: 1,
      greenKWh: 0,
      costYuan: 1,
      carbonKg: 1,
      pflopHours: { fp64: 0, fp32: 0, bf16: 0 },
      ...over,
    };
  }

  /** Work in every state the views read, around NOW (10:30). */
  async function busyNetwork(): Promise<void> {
    const { store } = h.f;
    await jobIn(store, 'running', spec('train'), plan('train', 'hami', 'hami-ai', 16, [[NOW - HOUR, NOW + HOUR]]));
    await jobIn(store, 'running', spec('batch', { poolClass: 'general', units: 64 }), plan('batch', 'hami', 'hami-general', 64, [[NOW - 2 * HOUR, NOW + 2 * HOUR]]));
    await jobIn(store, 'running', spec('far', { units: 8 }), plan('far', 'beijing', 'beijing-ai', 8, [[NOW - HOUR / 2, NOW + 3 * HOUR]]));
    // Moving 45 GB over two hops in 40 minutes (0.15 Gbps each), then running at hami.
    const moving = { route: ['zhengzhou', 'beijing', 'hami'], gb: 45, startMs: NOW - 10 * 60_000, endMs: NOW + 30 * 60_000 };
    await jobIn(store, 'transferring', spec('moving', { units: 8, origin: 'zhengzhou', inputGb: 45 }), plan('moving', 'hami', 'hami-ai', 8, [[NOW + HOUR, NOW + 3 * HOUR]], moving));
    // A transfer that has ended carries nothing now.
    const ended = { route: ['hami', 'zhengzhou'], gb: 500, startMs: NOW - 2 * HOUR, endMs: NOW - HOUR };
    await jobIn(store, 'transferring', spec('arrived', { poolClass: 'general', units: 64, inputGb: 500 }), plan('arrived', 'zhengzhou', 'zhengzhou-general', 64, [[NOW + HOUR, NOW + 2 * HOUR]], ended));
    await jobIn(store, 'planned', spec('later', { units: 32 }), plan('later', 'hami', 'hami-ai', 32, [[NOW + 5 * HOUR, NOW + 6 * HOUR]]));
    // Paused after its first run (metered), its second run still planned.
    await jobIn(store, 'paused', spec('halves', { units: 4, interruptible: true }), plan('halves', 'hami', 'hami-ai', 4, [[NOW - 4 * HOUR, NOW - 3 * HOUR], [NOW + 6 * HOUR, NOW + 7 * HOUR]]));
    expect((await store.recordMetering(metering('halves', 'run-0', NOW - 4 * HOUR, 1), NOW)).ok).toBe(true);
  }

  describe('GET /v1/dashboard/network', () => {
    it('shows each site’s busy units, power, utilisation, renewables and signals now, and each link’s transfers, without a key', async () => {
      await busyNetwork();
      const res = await get('/v1/dashboard/network');
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ nowMs: NOW, slotMinutes: 60 });
      const h = hourIndex(NOW);
      const [hami, beijing, zhengzhou] = body.sites;
      expect(hami).toMatchObject({ id: 'hami', name: 'HAMI', lat: 42, lon: 93, pue: PUE });
      expect(hami.pools).toEqual([
        { id: 'hami-ai', class: 'ai', unit: 'accelerator', units: 64, busyUnits: 16, outOfService: null },
        { id: 'hami-general', class: 'general', unit: 'core', units: 512, busyUnits: 64, outOfService: null },
      ]);
      expect(hami.demandKW).toBeCloseTo(16 * AI_KW + 64 * GENERAL_KW, 9);
      expect(hami.utilisation).toBeCloseTo((16 * AI_KW + 64 * GENERAL_KW) / (64 * AI_KW + 512 * GENERAL_KW), 9);
      // The actual series of the current slot, not the forecast.
      expect(hami.renewableKW).toBeCloseTo(signal.renewableKW.actual(h), 9);
      expect(hami.greenShare).toBe(1);
      expect(hami.priceYuanPerKWh).toBeCloseTo(signal.priceYuanPerKWh.actual(h), 9);
      expect(hami.carbonGPerKWh).toBeCloseTo(signal.carbonGPerKWh.actual(h), 9);
      expect(beijing.pools[0].busyUnits).toBe(8);
      expect(beijing.utilisation).toBeCloseTo(1, 9);
      expect(beijing.greenShare).toBeCloseTo((0.001 * signal.renewableKW.actual(h)) / (8 * AI_KW), 9);
      expect(zhengzhou).toMatchObject({ demandKW: 0, utilisation: 0, greenShare: null, renewableKW: 0 });
      expect(zhengzhou.pools[0].busyUnits).toBe(0);
      const load = Object.fromEntries(body.links.map((l: { from: string; to: string; loadGbps: number }) => [`${l.from}-${l.to}`, l.loadGbps]));
      expect(load['hami-beijing']).toBeCloseTo((45 * 8) / 2400, 9);
      expect(load['beijing-zhengzhou']).toBeCloseTo((45 * 8) / 2400, 9);
      expect(load['hami-zhengzhou']).toBe(0);
      expect(body.links[0]).toMatchObject({ bandwidthGbps: 10, latencyMs: 30 });
      // Aggregates only: no tenant, no job.
      expect(res.body).not.toMatch(/lab|train|moving|halves/);
    });

    it('marks the pools the dispatch loop saw out of service, with why', async () => {
      h.f.ctx.outages = () => [{ siteId: 'beijing', poolId: 'beijing-ai', reason: 'every node of partition bj is unusable: down (site lost power)' }];
      const body = (await get('/v1/dashboard/network')).json();
      const pools = body.sites.flatMap((s: { pools: { id: string; outOfService: string | null }[] }) => s.pools);
      expect(pools.filter((p: { outOfService: string | null }) => p.outOfService !== null)).toEqual([
        expect.objectContaining({ id: 'beijing-ai', outOfService: 'every node of partition bj is unusable: down (site lost power)' }),
      ]);
    });

    it('keeps answering once the clock has run past the scenario\'s signals, with the fallback\'s values', async () => {
      // The series end on 2026-06-06 at 00:00; a week after NOW, the current slot has neither an actual nor a
      // forecast stored, and takes the actual of the same slot a week earlier.
      h.f.clock.set(NOW + 7 * 24 * HOUR);
      const res = await get('/v1/dashboard/network');
      expect(res.statusCode, res.body).toBe(200);
      const hami = res.json().sites.find((x: { id: string }) => x.id === 'hami');
      const weekAgo = hourIndex(NOW);
      expect(hami.renewableKW).toBeCloseTo(signal.renewableKW.actual(weekAgo), 9);
      expect(hami.priceYuanPerKWh).toBeCloseTo(signal.priceYuanPerKWh.actual(weekAgo), 9);
      expect(hami.carbonGPerKWh).toBeCloseTo(signal.carbonGPerKWh.actual(weekAgo), 9);
      expect(hami.signalFallbacks).toEqual(['priceYuanPerKWh: week-ago', 'carbonGPerKWh: week-ago', 'renewableKW: week-ago']);
      h.f.clock.set(NOW);
      expect((await get('/v1/dashboard/network')).json().sites.every((x: { signalFallbacks: string[] }) => x.signalFallbacks.length === 0)).toBe(true);
    });

    it('shows an idle network as idle', async () => {
      const body = (await get('/v1/dashboard/network')).json();
      for (const s of body.sites) expect(s).toMatchObject({ demandKW: 0, utilisation: 0, greenShare: null });
      for (const l of body.links) expect(l.loadGbps).toBe(0);
    });
  });

  describe('GET /v1/dashboard/energy/{siteId}', () => {
    it('gives forecasts for every slot, actuals up to now, and the demand of metered and planned work', async () => {
      await busyNetwork();
      const res = await get('/v1/dashboard/energy/hami');
      expect(res.statusCode).toBe(200);
      const body = res.json();
      const startMs = NOW - 24 * HOUR - HOUR / 2; // the slot 24 h before 10:30 starts at 10:00
      expect(body).toMatchObject({ siteId: 'hami', nowMs: NOW, startMs, slotMinutes: 60, slots: 73 });
      const h0 = hourIndex(startMs);
      for (const key of ['renewableKW', 'priceYuanPerKWh', 'carbonGPerKWh'] as const) {
        expect(body[key].forecast).toHaveLength(73);
        body[key].forecast.forEach((v: number, t: number) => expect(v).toBeCloseTo(signal[key].forecast(h0 + t), 9));
        body[key].actual.forEach((v: number | null, t: number) => (t <= 24 ? expect(v).toBeCloseTo(signal[key].actual(h0 + t), 9) : expect(v).toBeNull()));
      }
      // Slot 24 is 10:00-11:00 (now). Finished run of `halves` 06:30-07:30 (metering, 4 kW); train 16 kW 09:30-11:30;
      // batch 0.8 kW 08:30-12:30; moving 8 kW 11:30-13:30; later 32 kW 15:30-16:30; halves' second run 4 kW 16:30-17:30.
      // Not counted: halves' first run again from its plan, `far` at beijing, `arrived` at zhengzhou.
      const expected = new Array(73).fill(0);
      Object.assign(expected, { 20: 2, 21: 2, 22: 0.4, 23: 8.8, 24: 16.8, 25: 12.8, 26: 8.4, 27: 4, 29: 16, 30: 18, 31: 2 });
      body.demandKW.forEach((v: number, t: number) => expect(v, `slot ${t}`).toBeCloseTo(expected[t], 9));
      // Idle draw (every node on): each unit not busy at its idle point × PUE, 0.125 kW an accelerator, 0.00375 kW a
      // core: all of hami's 9.92 kW with nothing running; at 06:00 less the half hour of `halves`' 4 accelerators; now
      // less `train`'s 16 accelerators and `batch`'s 64 cores.
      expect(body.powerPolicy).toBe('always-on');
      expect(body.idleKW).toHaveLength(73);
      expect(body.idleKW[0]).toBeCloseTo(64 * 0.125 + 512 * 0.00375, 9);
      expect(body.idleKW[20]).toBeCloseTo(9.92 - 2 * 0.125, 9);
      expect(body.idleKW[24]).toBeCloseTo(9.92 - 16 * 0.125 - 64 * 0.00375, 9);
    });

    it('takes hoursBack and hoursAhead, and always keeps the current slot', async () => {
      const some = (await get('/v1/dashboard/energy/beijing?hoursBack=2&hoursAhead=3')).json();
      expect(some).toMatchObject({ startMs: NOW - 2 * HOUR - HOUR / 2, slots: 6 });
      expect(some.renewableKW.actual.filter((v: number | null) => v !== null)).toHaveLength(3);
      const none = (await get('/v1/dashboard/energy/beijing?hoursBack=0&hoursAhead=0')).json();
      expect(none).toMatchObject({ startMs: NOW - HOUR / 2, slots: 1 });
      expect(none.renewableKW.actual[0]).toBeCloseTo(0.001 * signal.renewableKW.actual(hourIndex(NOW)), 9);
    });

    it('marks the slots past the end of the scenario\'s series as the fallback\'s, and names them', async () => {
      // Now is 2026-06-06T10:30Z; the series (from 2026-05-31, six days) end at 00:00 that day: from slot 14 (00:00) on,
      // slots take the actual a week earlier where the series has it (from slot 38, 06-07T00:00), and before that the
      // mean of the same hour over the days before (the series start less than a week before those slots).
      h.f.clock.set(NOW + 5 * 24 * HOUR);
      const res = await get('/v1/dashboard/energy/hami');
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      const h0 = hourIndex(body.startMs);
      const stored = (h: number) => h >= 0 && h < SERIES_HOURS;
      const fill = (key: keyof typeof signal, h: number): [string, number] => {
        if (stored(h - 168)) return ['week-ago', signal[key].actual(h - 168)];
        const days = Array.from({ length: 28 }, (_, d) => h - 24 * (d + 1)).filter(stored);
        return ['seasonal-mean', days.reduce((sum, x) => sum + signal[key].actual(x), 0) / days.length];
      };
      for (const key of ['renewableKW', 'priceYuanPerKWh', 'carbonGPerKWh'] as const) {
        body[key].forecast.forEach((v: number, t: number) => {
          const [kind, value] = fill(key, h0 + t);
          expect(v, `${key} ${t}`).toBeCloseTo(t < 14 ? signal[key].forecast(h0 + t) : value, 9);
          expect(body[key].forecastFallback[t], `${key} ${t}`).toBe(t < 14 ? null : kind);
          expect(body[key].actualFallback[t], `${key} ${t}`).toBe(t < 14 || t > 24 ? null : kind);
          if (t <= 24) expect(body[key].actual[t], `${key} ${t}`).toBeCloseTo(t < 14 ? signal[key].actual(h0 + t) : value, 9);
          else expect(body[key].actual[t]).toBeNull();
        });
      }
      expect(body.signalNotes).toContain('hami renewableKW forecast 2026-06-06T00:00Z–2026-06-07T00:00Z: no forecast stored, the mean actual at that time of day over the 28 days before');
      expect(body.signalNotes).toContain('hami renewableKW forecast 2026-06-07T00:00Z–2026-06-08T11:00Z: no forecast stored, the actual one week earlier');
      expect(body.signalNotes).toContain('hami renewableKW actual 2026-06-06T00:00Z–2026-06-06T11:00Z: no actual or forecast stored, the mean actual at that time of day over the 28 days before');
      // Before the clock ran out, nothing is marked.
      h.f.clock.set(NOW);
      const before = (await get('/v1/dashboard/energy/hami')).json();
      expect(before.signalNotes).toEqual([]);
      expect(before.renewableKW.forecastFallback.every((k: string | null) => k === null)).toBe(true);
    });

    it('answers 404 naming an unknown site, and 400 naming a bad query field', async () => {
      const unknown = await get('/v1/dashboard/energy/atlantis');
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().error).toMatchObject({ code: 'KUMUL_NOT_FOUND', message: expect.stringContaining('atlantis') });
      for (const [query, field] of [
        ['hoursBack=-1', 'hoursBack'],
        ['hoursBack=1.5', 'hoursBack'],
        ['hoursAhead=100000', 'hoursAhead'],
        ['hoursAhead=soon', 'hoursAhead'],
        ['hours=3', 'hours'],
      ]) {
        const res = await get(`/v1/dashboard/energy/hami?${query}`);
        expect(res.statusCode, query).toBe(400);
        expect(res.json().error.code).toBe('KUMUL_VALIDATION');
        expect(res.json().error.fields.map((x: { field: string }) => x.field), query).toContain(field);
      }
    });
  });

  describe('GET /v1/dashboard/savings', () => {
    const day = Date.parse('2026-06-01T00:00:00Z');
    const figures = (energyKWh: number, greenKWh: number, costYuan: number, carbonKg: number) => ({ energyKWh, greenKWh, costYuan, carbonKg });

    async function meterRuns(): Promise<void> {
      await h.f.store.submitJobs('lab', [spec('a'), spec('b'), spec('c')], NOW);
      const rows = [
        metering('a', 'run-0', day + 2 * HOUR, 1, { ...figures(10, 4, 3, 2), baseline: figures(10, 1, 5, 5) }),
        metering('b', 'run-0', day + 20 * HOUR, 1, { ...figures(20, 10, 4, 3), baseline: figures(20, 2, 6, 9) }),
        metering('c', 'run-0', day + 26 * HOUR, 1, figures(100, 0, 50, 50)), // metered without a baseline
      ];
      for (const row of rows) expect((await h.f.store.recordMetering(row, NOW)).ok).toBe(true);
    }

    it('sums runs per day with their baselines and says what was saved, leaving runs without a baseline out', async () => {
      await meterRuns();
      const res = await get('/v1/dashboard/savings');
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.bucket).toBe('day');
      expect(body.buckets).toEqual([
        { startMs: day, runs: 2, runsWithoutBaseline: 0, ...figures(30, 14, 7, 5), baseline: figures(30, 3, 11, 14) },
        { startMs: day + 24 * HOUR, runs: 0, runsWithoutBaseline: 1, ...figures(0, 0, 0, 0), baseline: figures(0, 0, 0, 0) },
      ]);
      const { totals } = body;
      expect(totals).toMatchObject({ runs: 2, runsWithoutBaseline: 1, ...figures(30, 14, 7, 5), baseline: figures(30, 3, 11, 14) });
      expect(totals.costSavedPct).toBeCloseTo((100 * 4) / 11, 9);
      expect(totals.carbonSavedPct).toBeCloseTo((100 * 9) / 14, 9);
      expect(totals.greenShare).toBeCloseTo(14 / 30, 9);
      expect(totals.baselineGreenShare).toBeCloseTo(3 / 30, 9);
    });

    it('buckets by hour on request', async () => {
      await meterRuns();
      const body = (await get('/v1/dashboard/savings?bucket=hour')).json();
      expect(body.buckets.map((b: { startMs: number }) => (b.startMs - day) / HOUR)).toEqual([2, 20, 26]);
    });

    it('answers nothing saved, not a division by zero, before any run', async () => {
      const body = (await get('/v1/dashboard/savings')).json();
      expect(body.buckets).toEqual([]);
      expect(body.totals).toMatchObject({ runs: 0, energyKWh: 0, costSavedPct: null, carbonSavedPct: null, greenShare: null, baselineGreenShare: null });
    });

    it('refuses an unknown bucket, naming the field', async () => {
      const res = await get('/v1/dashboard/savings?bucket=week');
      expect(res.statusCode).toBe(400);
      expect(res.json().error.fields[0].field).toBe('bucket');
    });
  });

  describe('without a key', () => {
    it('each client address has its own rate limit, answered 429 with Retry-After', async () => {
      vi.useFakeTimers({ toFake: ['Date'] }); // the in-memory store of @fastify/rate-limit reads Date.now()
      const app = buildApp(h.f.ctx, { rateLimitPerMinute: 3 });
      try {
        const startMs = Date.now();
        const from = (remoteAddress: string) => app.inject({ method: 'GET', url: '/v1/dashboard/savings', remoteAddress });
        for (let i = 0; i < 3; i++) expect((await from('10.0.0.1')).statusCode).toBe(200);
        const limited = await from('10.0.0.1');
        expect(limited.statusCode).toBe(429);
        expect(limited.json().error).toEqual({ code: 'KUMUL_RATE_LIMITED', status: 429, message: 'too many requests from 10.0.0.1; retry in 60 s' });
        expect(limited.headers['retry-after']).toBe('60');
        expect((await from('10.0.0.2')).statusCode).toBe(200);
        vi.setSystemTime(startMs + 60_000);
        expect((await from('10.0.0.1')).statusCode).toBe(200);
      } finally {
        vi.useRealTimers();
        await app.close();
      }
    });
  });

  describe('the dashboard in the API document', () => {
    it('lists the views and the event stream, with their schemas', async () => {
      const doc = (await get('/openapi.json')).json();
      for (const path of ['/v1/dashboard/network', '/v1/dashboard/energy/{siteId}', '/v1/dashboard/savings', '/v1/dashboard/unplaced', '/v1/events']) expect(doc.paths[path]?.get, path).toBeDefined();
      expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['DashboardNetwork', 'DashboardEnergy', 'DashboardSavings', 'DashboardUnplaced', 'Unplaced', 'TickEvent']));
      expect(doc.paths['/v1/dashboard/network'].get.security).toBeUndefined();
    });
  });
});
