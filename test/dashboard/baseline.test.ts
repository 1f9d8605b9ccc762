/**
 * The asap-origin baseline of a finished run: the same work at the job's origin from its release, priced with the
 * actual signals (renewables first, shared with nothing else), checked against figures worked out by hand; when there
 * is none; and the dispatch loop recording it with each metering row, a job's later runs after its earlier work.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asapOriginBaseline } from '../../src/service/baseline.ts';
import type { Job } from '../../src/core/model/types.ts';
import type { MeteringFigures } from '../../src/store/port.ts';
import { AI_BUSY_W, HOUR, NOW, PUE, SERIES_START, dispatchLoop, hourIndex, openDashboard, signal, spec, type DashboardFixture } from './fixtures.ts';

let f: DashboardFixture;
beforeEach(async () => {
  f = await openDashboard();
});
afterEach(async () => {
  await f.close();
});

const RENEWABLE_PRICE = 0.1;
const RENEWABLE_CARBON = 20;
const BEIJING_RENEWABLE_SCALE = 0.001;

/** `units` accelerators at beijing from `startMs` for `hours`, priced slot by slot from the actual series, written out. */
function byHand(units: number, startMs: number, hours: number) {
  const kW = (units * AI_BUSY_W * PUE) / 1000;
  const out = { energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0 };
  const endMs = startMs + hours * HOUR;
  for (let slot = Math.floor(startMs / HOUR) * HOUR; slot < endMs; slot += HOUR) {
    const h = hourIndex(slot);
    const energy = (kW * (Math.min(endMs, slot + HOUR) - Math.max(startMs, slot))) / HOUR;
    const green = Math.min(energy, BEIJING_RENEWABLE_SCALE * signal.renewableKW.actual(h));
    out.energyKWh += energy;
    out.greenKWh += green;
    out.costYuan += green * RENEWABLE_PRICE + (energy - green) * signal.priceYuanPerKWh.actual(h);
    out.carbonKg += (green * RENEWABLE_CARBON + (energy - green) * signal.carbonGPerKWh.actual(h)) / 1000;
  }
  return out;
}

function expectFigures(actual: MeteringFigures | null, expected: MeteringFigures): void {
  expect(actual).not.toBeNull();
  for (const key of ['energyKWh', 'greenKWh', 'costYuan', 'carbonKg'] as const) expect(actual![key], key).toBeCloseTo(expected[key], 9);
}

describe('asapOriginBaseline', () => {
  const window = (startMs: number, slots: number) => f.scenario.window(startMs, slots);
  const release = NOW - HOUR; // 09:30, mid-slot
  const job: Job = { ...spec('j', { units: 8, origin: 'beijing', releaseMs: release }), tenant: 'lab' };

  it('prices the work at the origin from its release with the actual signals, renewables first', () => {
    const baseline = asapOriginBaseline({ job, submittedMs: release - HOUR, earlierWorkMs: 0, durationMs: 2 * HOUR }, 60, window);
    expectFigures(baseline, byHand(8, release, 2));
    // Beijing's renewables cover part of each slot only: the figures mix green and grid energy.
    expect(baseline!.greenKWh).toBeGreaterThan(0);
    expect(baseline!.greenKWh).toBeLessThan(baseline!.energyKWh / 2);
  });

  it('does the job’s earlier work first, and starts no sooner than the job was submitted', () => {
    expectFigures(asapOriginBaseline({ job, submittedMs: release, earlierWorkMs: 3 * HOUR, durationMs: HOUR }, 60, window), byHand(8, release + 3 * HOUR, 1));
    expectFigures(asapOriginBaseline({ job, submittedMs: release + 5 * HOUR, earlierWorkMs: 0, durationMs: HOUR }, 60, window), byHand(8, release + 5 * HOUR, 1));
  });

  it('is null when asap-origin could not run the job, or the signals do not reach its time', () => {
    const run = { submittedMs: release, earlierWorkMs: 0, durationMs: HOUR };
    expect(asapOriginBaseline({ ...run, job: { ...job, allowedSites: ['hami'] } }, 60, window)).toBeNull();
    expect(asapOriginBaseline({ ...run, job: { ...job, units: 16 } }, 60, window)).toBeNull(); // beijing has 8 accelerators
    expect(asapOriginBaseline({ ...run, job: { ...job, origin: 'zhengzhou' } }, 60, window)).toBeNull(); // no ai pool
    const early = SERIES_START - 48 * HOUR;
    expect(asapOriginBaseline({ ...run, submittedMs: early, job: { ...job, releaseMs: early } }, 60, window)).toBeNull();
  });
});

describe('metering with the dispatch loop', () => {
  it('records each run’s baseline, a later run’s after the work before it, and the savings view shows them', async () => {
    const loop = dispatchLoop(f);
    // Interruptible, 3 hours of 8 accelerators from beijing; the cost objective moves it to hami's renewables.
    const job = spec('long', { units: 8, origin: 'beijing', durationS: 3 * 3600, releaseMs: NOW, deadlineMs: NOW + 20 * HOUR, interruptible: true });
    expect((await f.store.submitJobs('lab', [job], NOW)).ok).toBe(true);
    for (let t = NOW; t <= NOW + 22 * HOUR; t += 15 * 60_000) {
      f.clock.set(t);
      await loop.tick();
    }
    const stored = (await f.store.getJob({ tenantId: 'lab', jobId: 'long' }))!;
    expect(stored.status).toBe('succeeded');
    const rows = await f.store.jobMetering({ tenantId: 'lab', jobId: 'long' });
    expect(rows.length).toBeGreaterThan(0);
    let earlierWorkMs = 0;
    for (const row of rows) {
      const expected = asapOriginBaseline({ job: stored.job, submittedMs: stored.submittedMs, earlierWorkMs, durationMs: row.endMs - row.startMs }, 60, (s, n) => f.scenario.window(s, n));
      expectFigures(row.baseline, byHand(8, NOW + earlierWorkMs, (row.endMs - row.startMs) / HOUR));
      expect(row.baseline).toEqual(expected);
      earlierWorkMs += row.endMs - row.startMs;
    }
    expect(earlierWorkMs).toBe(3 * HOUR);
    const savings = (await f.app.inject({ method: 'GET', url: '/v1/dashboard/savings' })).json();
    expect(savings.totals.runs).toBe(rows.length);
    expect(savings.totals.energyKWh).toBeCloseTo(rows.reduce((e, r) => e + r.energyKWh, 0), 9);
    expect(savings.totals.baseline.costYuan).toBeCloseTo(byHand(8, NOW, 3).costYuan, 9);
  });
});
