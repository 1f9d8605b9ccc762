/**
 * Every accepted job runs (issue 10): with the default flags (hourly cycles, 48 h of look-ahead), a year of
 * multi-day jobs with workday deadlines on de-2020 has no miss that asap-origin at release avoids, and
 * jobs longer than the look-ahead run; a job whose window is shorter than a slot runs inside it.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/index.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';
import { simulate, type SimOutcome } from '../../src/sim/engine.ts';
import type { Job } from '../../src/core/model/types.ts';
import type { PolicyName } from '../../src/core/dispatch/plugins/index.ts';
import { checkFinalStates, checkInvariants } from './invariants.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Central European winter time: the workday is 09:00–18:00 at UTC+1. */
const CET = HOUR;

/**
 * Four jobs every workday of 2020 at 09:00 local, 4 to 90 hours long on 64 to 512 cores (a seeded LCG), due at
 * 18:00 local on the first workday after they could end if started at once.
 */
function workdayJobs(): Job[] {
  const jobs: Job[] = [];
  let state = 12345;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let day = Date.UTC(2020, 0, 1); day < Date.UTC(2021, 0, 1) - 5 * DAY; day += DAY) {
    const weekday = new Date(day).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    for (let k = 0; k < 4; k++) {
      const releaseMs = day + 9 * HOUR - CET;
      const durationS = Math.round(4 + next() * 86) * 3600;
      let due = Math.floor((releaseMs + durationS * 1000 + CET) / DAY) * DAY + DAY;
      while ([0, 6].includes(new Date(due).getUTCDay())) due += DAY;
      jobs.push({
        id: `w${jobs.length}`,
        tenant: 't',
        class: 'training',
        poolClass: 'general',
        units: 64 * (1 + Math.floor(next() * 8)),
        durationS,
        releaseMs,
        deadlineMs: due + 18 * HOUR - CET,
        origin: 'de',
        inputGb: 0,
        interruptible: next() < 0.5,
        allowedSites: null,
      });
    }
  }
  return jobs;
}

describe('a year of multi-day jobs on de-2020 with default flags', () => {
  const scenario = loadScenario('de-2020');
  const jobs = workdayJobs();
  const run = (policy: PolicyName): SimOutcome =>
    simulate({ scenario, jobs, policy, objective: objectiveFrom('carbon'), fromMs: scenario.grid.startMs, toMs: Date.UTC(2021, 0, 1), replanMinutes: 60, horizonSlots: 96, shiftHours: 0, recordEvents: true, onCycle: (s) => (s.nowMs % (30 * DAY) === 0 ? checkInvariants(scenario, s) : s) });
  const optimize = run('optimize');
  const asap = run('asap-origin');

  it('includes jobs longer than the look-ahead', () => {
    expect(jobs.length).toBeGreaterThan(1000);
    expect(jobs.filter((j) => j.durationS > 48 * 3600).length).toBeGreaterThan(300);
  });

  it('misses no job that asap-origin at release completes, and completes every job', () => {
    checkFinalStates(optimize);
    checkFinalStates(asap);
    const completedByAsap = new Set(asap.records.filter((r) => r.state === 'completed').map((r) => r.job.id));
    const avoidable = optimize.records.filter((r) => r.state === 'missed' && completedByAsap.has(r.job.id)).map((r) => r.job.id);
    expect(avoidable).toEqual([]);
    expect(optimize.records.filter((r) => r.state !== 'completed').map((r) => `${r.job.id} ${r.state}`)).toEqual([]);
    expect(asap.records.filter((r) => r.state !== 'completed').map((r) => `${r.job.id} ${r.state}`)).toEqual([]);
  });

  it('asap-origin starts every job at its release', () => {
    for (const r of asap.records) expect(r.firstStartMs, r.job.id).toBe(r.job.releaseMs);
  });
});

describe('windows shorter than a slot, on 60-minute slots', () => {
  const scenario = loadScenario('de-2020', { start: '2020-03-02T00:00Z', slots: 48, slotMinutes: 60 });
  const job = (id: string, release: string, minutes: number, windowMinutes: number, interruptible = false): Job => ({
    id,
    tenant: 't',
    class: 'batch',
    poolClass: 'general',
    units: 64,
    durationS: minutes * 60,
    releaseMs: Date.parse(release),
    deadlineMs: Date.parse(release) + windowMinutes * 60_000,
    origin: 'de',
    inputGb: 0,
    interruptible,
    allowedSites: null,
  });
  const jobs = [
    job('inside', '2020-03-02T02:22:58Z', 10, 30),
    job('straddles', '2020-03-02T05:45:00Z', 10, 30),
    job('straddles-split', '2020-03-02T07:50:00Z', 15, 20, true),
    job('no-slack', '2020-03-02T09:17:00Z', 25, 25),
  ];
  for (const policy of ['optimize', 'asap-origin', 'asap-any'] as const) {
    it(`${policy}: each runs inside its window, its whole length`, () => {
      const outcome = simulate({ scenario, jobs, policy, objective: objectiveFrom('carbon'), fromMs: scenario.grid.startMs, toMs: scenario.grid.startMs + 24 * HOUR, replanMinutes: 60, horizonSlots: 24, shiftHours: 0, recordEvents: true });
      checkFinalStates(outcome);
      for (const r of outcome.records) {
        expect(r.state, r.job.id).toBe('completed');
        expect(r.firstStartMs!).toBeGreaterThanOrEqual(r.job.releaseMs);
        expect(r.endMs!).toBeLessThanOrEqual(r.job.deadlineMs);
        expect(r.doneMs).toBe(r.job.durationS * 1000);
      }
      const noSlack = outcome.records.find((r) => r.job.id === 'no-slack')!;
      expect([noSlack.firstStartMs, noSlack.endMs]).toEqual([noSlack.job.releaseMs, noSlack.job.deadlineMs]);
    });
  }
});
