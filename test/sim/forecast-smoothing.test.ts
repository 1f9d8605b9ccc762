/**
 * Forecast smoothing in the simulator (docs/temporal-shifting.md, "Noisy forecasts"): a one-slot dip of forecast noise
 * draws a job planned slot by slot away from the grid's real low; averaged over an hour on either side, the dip no
 * longer outweighs the low, and the job runs there.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/index.ts';
import { recurringJobs } from '../../src/jobs/recurring.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';
import { simulate } from '../../src/sim/engine.ts';

const day = loadScenario('de-2020', { start: '2020-06-15T00:00Z', slots: 48 });
const HALF_HOUR = 1_800_000;
/** The grid: 300 gCO2/kWh, and a real low of 250 from 13:00 to 15:00 (slots 26–29). */
const actual = Array.from({ length: 48 }, (_, slot) => (slot >= 26 && slot <= 29 ? 250 : 300));
/** The forecast: exact but at 10:00 (slot 20), where noise makes the grid look cleanest of all. */
const forecast = actual.map((value, slot) => (slot === 20 ? 200 : value));
const scenario = {
  ...day,
  signals: { de: { actual: { ...day.signals.de.actual, carbonGPerKWh: actual }, forecast: { ...day.signals.de.forecast, carbonGPerKWh: forecast } } },
};
/** One 30-min job requested at 12:00, which may move ± 3 h (starts 09:00 to 15:00). */
const jobs = recurringJobs({
  site: 'de',
  atMinutes: 12 * 60,
  offsetMinutes: 0,
  fromMs: day.grid.startMs,
  toMs: day.grid.startMs + 86_400_000,
  everyMs: 86_400_000,
  durationS: 1800,
  units: 64,
  poolClass: 'general',
  jobClass: 'batch',
  interruptible: false,
  inputGb: 0,
  tenant: 't',
});

function startSlot(forecastSmoothingMinutes: number): number {
  const outcome = simulate({
    scenario,
    jobs,
    policy: 'optimize',
    objective: objectiveFrom('carbon'),
    fromMs: day.grid.startMs,
    toMs: day.grid.startMs + 86_400_000,
    replanMinutes: 60,
    horizonSlots: 48,
    shiftHours: 3,
    forecastSmoothingMinutes,
  });
  const [record] = outcome.records;
  expect(record.state).toBe('completed');
  return (record.firstStartMs! - day.grid.startMs) / HALF_HOUR;
}

describe('forecast smoothing in the simulator', () => {
  it('planning slot by slot, a one-slot dip of noise draws the job away from the real low', () => {
    expect(startSlot(0)).toBe(20);
  });

  it('averaged over ± 60 min, the dip is outweighed and the job runs in the real low', () => {
    const slot = startSlot(60);
    expect(actual[slot]).toBe(250);
  });
});
