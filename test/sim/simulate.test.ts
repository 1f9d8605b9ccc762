/**
 * The simulator on a small hand-made scenario and jobs file (test/sim/fixtures/two-sites): the event
 * sequence and totals match the golden file; invariants hold at the end of every cycle; the report
 * is deterministic; plans see forecasts while accounting uses actuals.
 */
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/index.ts';
import { parseJobsCsv } from '../../src/jobs/jobs-file.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';
import { simulate, type SimOutcome, type SimState, type SimulationInput } from '../../src/sim/engine.ts';
import { buildReport } from '../../src/sim/summarize.ts';
import type { PolicyName } from '../../src/core/dispatch/plugins/index.ts';
import type { Scenario } from '../../src/core/model/types.ts';
import { checkInvariants, checkFinalStates } from './invariants.ts';

const DIR = fileURLToPath(new URL('./fixtures/two-sites/', import.meta.url));
const FROM = Date.parse('2026-06-01T00:00:00Z');
const TO = Date.parse('2026-06-02T00:00:00Z');

const JOBS = await parseJobsCsv(createReadStream(`${DIR}jobs.csv`), 'jobs.csv', { siteIds: loadScenario(`${DIR}scenario.json`).network.sites.map((s) => s.id) });

function setup(): { scenario: Scenario; input: Omit<SimulationInput, 'policy'> } {
  const scenario = loadScenario(`${DIR}scenario.json`);
  const jobs = structuredClone(JOBS);
  return { scenario, input: { scenario, jobs, objective: objectiveFrom('carbon'), fromMs: FROM, toMs: TO, replanMinutes: 60, horizonSlots: 24, shiftHours: 0, recordEvents: true } };
}

function run(policy: PolicyName, extra: Partial<SimulationInput> = {}): { outcome: SimOutcome; states: SimState[] } {
  const { input } = setup();
  const states: SimState[] = [];
  const outcome = simulate({ ...input, policy, ...extra, onCycle: (s) => states.push(checkInvariants(input.scenario, s)) });
  return { outcome, states };
}

describe('simulate on two-sites', () => {
  const policies: PolicyName[] = ['optimize', 'asap-origin', 'asap-any'];
  const runs = Object.fromEntries(policies.map((p) => [p, run(p)]));

  it('holds the invariants at the end of every cycle and ends every job exactly once', () => {
    for (const p of policies) {
      expect(runs[p].states.length).toBe(24);
      checkFinalStates(runs[p].outcome);
    }
  });

  it('matches the golden event sequence and totals', async () => {
    const { scenario } = setup();
    const report = buildReport({ scenario, fromMs: FROM, toMs: TO, replanMinutes: 60, forecastErrorPct: null, seed: 1, shiftHours: 0, objective: 'carbon', outcomes: policies.map((p) => runs[p].outcome) });
    const golden = Object.fromEntries(
      policies.map((p, i) => [
        p,
        {
          events: runs[p].outcome.log.filter((e) => e.kind !== 'cycle').map((e) => `${new Date(e.timeMs).toISOString().slice(5, 16)} ${e.kind} ${e.jobId}${e.siteId ? ` @${e.siteId}` : ''}`),
          totals: Object.fromEntries(Object.entries(report.policies[i].totals).map(([k, v]) => [k, Math.round(v * 1000) / 1000])),
          jobs: report.policies[i].jobs,
        },
      ]),
    );
    await expect(JSON.stringify(golden, null, 1)).toMatchFileSnapshot('./__snapshots__/two-sites-golden.json');
  });

  it('optimising carbon beats running at the origin at once, on the jobs both complete', () => {
    const { scenario } = setup();
    const report = buildReport({ scenario, fromMs: FROM, toMs: TO, replanMinutes: 60, forecastErrorPct: null, seed: 1, shiftHours: 0, objective: 'carbon', outcomes: [runs.optimize.outcome, runs['asap-origin'].outcome] });
    expect(report.savings[0].carbonPct).toBeLessThan(-10);
    expect(report.policies[0].totals.transferGB).toBeGreaterThan(0);
  });

  it('pauses and resumes interruptible work without losing any of it', () => {
    const trainH = runs.optimize.outcome.records.find((r) => r.job.id === 'train-h')!;
    expect(trainH.state).toBe('completed');
    const kinds = runs.optimize.outcome.log.filter((e) => e.jobId === 'train-h').map((e) => e.kind);
    expect(kinds[0]).toBe('arrive');
    expect(kinds.at(-1)).toBe('finish');
    expect(kinds.filter((k) => k === 'pause').length).toBe(kinds.filter((k) => k === 'resume').length);
  });

  it('gives a byte-identical report for the same inputs', () => {
    const { scenario } = setup();
    const make = () => JSON.stringify(buildReport({ scenario, fromMs: FROM, toMs: TO, replanMinutes: 60, forecastErrorPct: null, seed: 1, shiftHours: 0, objective: 'carbon', outcomes: policies.map((p) => run(p).outcome) }));
    expect(make()).toBe(make());
  });

  it('plans with forecasts but accounts with actuals', () => {
    const { scenario, input } = setup();
    // Forecast plenty of sun at the western site while none actually comes.
    const signals = Object.fromEntries(
      Object.entries(scenario.signals).map(([id, pair]) => [
        id,
        { forecast: { ...pair.forecast, renewableKW: pair.forecast.renewableKW.map(() => (id === 'west' ? 1000 : 0)) }, actual: { ...pair.actual, renewableKW: pair.actual.renewableKW.map(() => 0) } },
      ]),
    );
    const fooled = { ...scenario, signals };
    const outcome = simulate({ ...input, scenario: fooled, policy: 'optimize', objective: objectiveFrom('green') });
    const report = buildReport({ scenario: fooled, fromMs: FROM, toMs: TO, replanMinutes: 60, forecastErrorPct: null, seed: 1, shiftHours: 0, objective: 'green', outcomes: [outcome] });
    expect(report.policies[0].sites.find((s) => s.site === 'west')!.energyKWh).toBeGreaterThan(0);
    expect(report.policies[0].totals.greenKWh).toBe(0);
  });

  it('misses a job that cannot get capacity before its deadline, with a miss event', () => {
    const late = runs['asap-origin'].outcome.records.find((r) => r.job.id === 'late-g')!;
    expect(late.state).toBe('missed');
    expect(runs['asap-origin'].outcome.log.some((e) => e.kind === 'miss' && e.jobId === 'late-g')).toBe(true);
    expect(late.slots).toEqual([]);
  });
});
