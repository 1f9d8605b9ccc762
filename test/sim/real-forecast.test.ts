/**
 * A real forecast instead of noise: the built-in hk-pv-2022 scenario plans with Solcast's rolling
 * solar forecast and accounts with the panels' actual output. The forecast is a separate series,
 * and planning on it avoids less than planning on perfect foresight would.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/index.ts';
import type { Job, Scenario } from '../../src/core/model/types.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';
import { simulate } from '../../src/sim/engine.ts';
import { buildReport } from '../../src/sim/summarize.ts';

const FROM = Date.parse('2022-06-08T00:00:00Z');
const DAYS = 20;
const TO = FROM + DAYS * 86_400_000;
const scenario = loadScenario('hk-pv-2022');

/** A 4-hour, 32-accelerator training job requested every midnight UTC, due within a day. */
const jobs: Job[] = Array.from({ length: DAYS }, (_, d) => ({
  id: `train-${d}`,
  tenant: 'lab',
  class: 'training',
  poolClass: 'ai',
  units: 32,
  durationS: 4 * 3600,
  releaseMs: FROM + d * 86_400_000,
  deadlineMs: FROM + d * 86_400_000 + 24 * 3_600_000,
  origin: 'hk',
  inputGb: 0,
  interruptible: true,
  allowedSites: null,
}));

function run(s: Scenario) {
  const outcome = simulate({ scenario: s, jobs, policy: 'optimize', objective: objectiveFrom('green'), fromMs: FROM, toMs: TO, replanMinutes: 60, horizonSlots: 24, shiftHours: 0 });
  return buildReport({ scenario: s, fromMs: FROM, toMs: TO, replanMinutes: 60, forecastErrorPct: null, seed: 0, shiftHours: 0, objective: 'green', outcomes: [outcome] }).policies[0];
}

describe('hk-pv-2022: Solcast forecasts against actuals', () => {
  it('keeps the forecast as its own series', () => {
    const { actual, forecast } = scenario.signals.hk;
    expect(actual.renewableKW.length).toBe(689);
    const differing = actual.renewableKW.filter((v, i) => Math.abs(v - forecast.renewableKW[i]) > 1).length;
    expect(differing).toBeGreaterThan(300);
    const mean = actual.renewableKW.reduce((a, b) => a + b, 0) / actual.renewableKW.length;
    expect(mean).toBeGreaterThan(30);
    expect(mean).toBeLessThan(60);
  });

  it('uses less renewable energy with the real forecast than with perfect foresight', () => {
    const real = run(scenario);
    const foresight = run({ ...scenario, signals: { hk: { actual: scenario.signals.hk.actual, forecast: scenario.signals.hk.actual } } });
    expect(real.jobs.completed).toBe(DAYS);
    expect(foresight.jobs.completed).toBe(DAYS);
    expect(real.totals.energyKWh).toBeCloseTo(foresight.totals.energyKWh, 6);
    expect(foresight.totals.greenKWh).toBeGreaterThan(real.totals.greenKWh);
  });
});
