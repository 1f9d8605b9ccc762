/**
 * Space and time on europe-2020 (docs/space-and-time.md): a week of nightly jobs requested at each of de, gb and fr.
 * Shifting in time alone (`optimizeSites: 'origin'`) keeps every job at home; adding space may move it, paying its
 * input's transfer, and avoids at least as much carbon.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/index.ts';
import type { Job } from '../../src/core/model/types.ts';
import { recurringJobs } from '../../src/jobs/recurring.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';
import { simulate, type SimulationInput } from '../../src/sim/engine.ts';
import { buildReport } from '../../src/sim/summarize.ts';

const FROM = Date.parse('2020-06-01T00:00:00Z');
const TO = FROM + 7 * 86_400_000;
const SHIFT_HOURS = 4;
const scenario = loadScenario('europe-2020', { start: '2020-06-01T00:00Z', slots: 8 * 48 });
const objective = objectiveFrom('carbon');

/** One 30-min, 64-core job a night at 01:00 UTC at each site, with 1 GB of input there. */
const jobs: Job[] = ['de', 'gb', 'fr'].flatMap((site) =>
  recurringJobs({
    site,
    atMinutes: 60,
    offsetMinutes: 0,
    fromMs: FROM,
    toMs: TO,
    everyMs: 86_400_000,
    durationS: 1800,
    deadlineAfterMs: 1800_000,
    units: 64,
    poolClass: 'general',
    jobClass: 'batch',
    interruptible: false,
    inputGb: 1,
    tenant: 'nightly',
  }),
);

const run = (input: Partial<SimulationInput>) =>
  simulate({ scenario, jobs, policy: 'optimize', objective, fromMs: FROM, toMs: TO, replanMinutes: 60, horizonSlots: 48, shiftHours: SHIFT_HOURS, ...input });

describe('europe-2020: space and time together', () => {
  const baseline = run({ policy: 'asap-origin' });
  const timeAlone = run({ optimizeSites: 'origin' });
  const both = run({});
  const report = buildReport({ scenario, fromMs: FROM, toMs: TO, replanMinutes: 60, forecastErrorPct: null, seed: 0, shiftHours: SHIFT_HOURS, objective: 'carbon', outcomes: [baseline, timeAlone, both] });
  const [base, time, spaceAndTime] = report.policies.map((p) => p.totals.carbonKg);

  it('runs every job, each at its origin when shifting in time alone', () => {
    for (const outcome of [baseline, timeAlone, both]) expect(outcome.records.filter((r) => r.state === 'completed')).toHaveLength(jobs.length);
    for (const r of timeAlone.records) expect([r.siteId, r.transfer]).toEqual([r.job.origin, null]);
  });

  it('moves work away from the dirtier grids when it may, paying the input transfer', () => {
    const moved = both.records.filter((r) => r.siteId !== r.job.origin);
    expect(moved.length).toBeGreaterThan(0);
    for (const r of moved) expect(r.transfer?.gb).toBe(1);
    expect(report.policies[2].totals.transferGB).toBe(moved.length);
  });

  it('avoids at least as much carbon in space and time as in time alone, and time alone at least as much as none', () => {
    expect(time).toBeLessThanOrEqual(base);
    expect(spaceAndTime).toBeLessThanOrEqual(time);
    expect(spaceAndTime).toBeLessThan(0.5 * base); // France's grid is about a fifth of Germany's
  });
});
