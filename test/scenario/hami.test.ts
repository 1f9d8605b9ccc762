/** The built-in `hami` scenario: sites, pools, links, signals, forecasts and load time. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtinScenarioNames, loadScenario } from '../../src/scenario/index.ts';
import { SIGNAL_NAMES } from '../../src/scenario/schema.ts';
import { powerAtLoadW } from '../../src/core/model/power.ts';

const SITE_IDS = ['hami', 'qingyang', 'zhengzhou', 'urumqi', 'beijing', 'chongqing'];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('built-in scenario hami', () => {
  const hami = loadScenario('hami');

  it('is listed as a built-in scenario', () => {
    expect(builtinScenarioNames()).toContain('hami');
  });

  it('has the six sites and a default week of hourly slots from 2026-06-01', () => {
    expect(hami.network.sites.map((s) => s.id)).toEqual(SITE_IDS);
    expect(hami.grid).toEqual({ startMs: Date.parse('2026-06-01T00:00:00Z'), slots: 168, slotMinutes: 60 });
  });

  it("has Hami's pools from the report: 8 AI servers × 8 accelerators, 100 general servers, 80 HPC nodes", () => {
    const site = hami.network.sites[0];
    const pool = (cls: string) => site.pools.find((p) => p.class === cls);
    expect(pool('ai')).toMatchObject({ unit: 'accelerator', units: 64, unitsPerNode: 8 });
    expect((pool('general')?.units ?? 0) / (pool('general')?.unitsPerNode ?? 1)).toBe(100);
    expect(pool('hpc')).toMatchObject({ unit: 'node', units: 80, unitsPerNode: 1 });
    const bf16Pflops = site.pools.reduce((sum, p) => sum + (p.units / p.unitsPerNode) * p.peakTflopsPerNode.bf16, 0) / 1000;
    expect(bf16Pflops).toBeGreaterThan(140);
    expect(bf16Pflops).toBeLessThan(160);
  });

  it('calibrates the ai power curve on the measured accelerator plus host overhead', () => {
    const curve = hami.network.sites[0].pools.find((p) => p.class === 'ai')?.powerCurve ?? [];
    expect(curve.map((p) => p.load)).toEqual([0, 0.1, 0.25, 0.5, 0.75, 1]);
    // measured 690.3 W at full load and 213.1 W at 10 %, × 1.6
    expect(powerAtLoadW(curve, 1)).toBeCloseTo(690.3 * 1.6, 1);
    expect(powerAtLoadW(curve, 0.1)).toBeCloseTo(213.1 * 1.6, 1);
  });

  it('joins the computing-power network and the data networks', () => {
    const pairs = hami.network.links.map((l) => [l.from, l.to].sort().join('-'));
    for (const pair of ['hami-zhengzhou', 'hami-qingyang', 'hami-urumqi', 'beijing-hami', 'chongqing-hami']) expect(pairs).toContain(pair);
    for (const link of hami.network.links) {
      expect(link.latencyMs).toBeGreaterThan(1);
      expect(link.latencyMs).toBeLessThan(40);
    }
  });

  it('gives every signal of every site one number per slot; renewables and carbon are never negative', () => {
    for (const id of SITE_IDS) {
      for (const kind of ['forecast', 'actual'] as const) {
        for (const name of SIGNAL_NAMES) {
          const values = hami.signals[id][kind][name];
          expect(values, `${id} ${kind} ${name}`).toHaveLength(168);
          expect(values.every(Number.isFinite)).toBe(true);
          if (name !== 'priceYuanPerKWh') expect(Math.min(...values), `${id} ${kind} ${name}`).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });

  it('has much cheap renewable power at Hami and little in the eastern cities', () => {
    const renewable = (id: string) => mean(hami.signals[id].actual.renewableKW);
    expect(renewable('hami')).toBeGreaterThan(200);
    expect(renewable('beijing')).toBeLessThan(50);
    expect(mean(hami.signals.hami.actual.priceYuanPerKWh)).toBeLessThan(mean(hami.signals.beijing.actual.priceYuanPerKWh));
    const solarNoon = hami.signals.hami.actual.renewableKW.slice(0, 24);
    expect(Math.max(...solarNoon)).toBeLessThan(2000);
  });

  it('varies grid carbon over the day where renewables are large', () => {
    const day = hami.signals.qingyang.actual.carbonGPerKWh.slice(0, 24);
    expect(Math.max(...day) - Math.min(...day)).toBeGreaterThan(100);
  });

  it('makes forecasts differ from actuals where noise is configured, with the stated σ', () => {
    for (const id of SITE_IDS) {
      const { actual, forecast } = hami.signals[id];
      expect(forecast.renewableKW).not.toEqual(actual.renewableKW);
      expect(forecast.carbonGPerKWh).not.toEqual(actual.carbonGPerKWh);
      expect(forecast.priceYuanPerKWh).toEqual(actual.priceYuanPerKWh);
      // carbon: σ = 5 % of the mean (never clipped at these levels)
      const errors = forecast.carbonGPerKWh.map((f, i) => f - actual.carbonGPerKWh[i]);
      const sd = Math.sqrt(mean(errors.map((e) => e * e)));
      expect(sd / mean(actual.carbonGPerKWh), id).toBeGreaterThan(0.035);
      expect(sd / mean(actual.carbonGPerKWh), id).toBeLessThan(0.065);
    }
  });

  it('gives the same numbers for the same seed and period', () => {
    const again = loadScenario('hami');
    expect(again.signals).toEqual(hami.signals);
  });

  it('resolves onto a 15-minute grid too', () => {
    const quarter = loadScenario('hami', { slotMinutes: 15, slots: 96 });
    expect(quarter.signals.hami.actual.renewableKW).toHaveLength(96);
    // the hourly mean of four quarter-hour values is close to the hourly value
    const hourly = loadScenario('hami', { slots: 24 }).signals.hami.actual.carbonGPerKWh;
    const quarters = quarter.signals.hami.actual.carbonGPerKWh;
    const hourOf = (h: number) => mean(quarters.slice(4 * h, 4 * h + 4));
    for (const h of [3, 10, 17]) expect(Math.abs(hourOf(h) - hourly[h])).toBeLessThan(0.1 * hourly[h]);
  });

  it('maps any year onto the data year', () => {
    const winter = loadScenario('hami', { start: '2031-12-31T12:00Z', slots: 8 }); // crosses the new year in Beijing time
    expect(winter.signals.hami.actual.renewableKW.every((v) => v >= 0)).toBe(true);
  });

  it('lists every stated assumption in docs/scenario-format.md', () => {
    const docs = readFileSync(new URL('../../docs/scenario-format.md', import.meta.url), 'utf8');
    for (const a of hami.assumptions) expect(docs, a.what).toContain(a.what.replace(/ \(.*\)$/, ''));
  });

  it('loads 96 hourly slots in well under 200 ms once the CSV files are parsed (best of 3)', () => {
    const times = [1, 2, 3].map((day) => {
      const t0 = performance.now();
      loadScenario('hami', { slots: 96, start: `2026-07-0${day}T00:00Z` });
      return performance.now() - t0;
    });
    expect(Math.min(...times)).toBeLessThan(100);
  });
});
