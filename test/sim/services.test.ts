/**
 * Services and batch in the simulator (src/sim/services.ts): attainment accounted right on a hand-made case, a burst
 * pre-empting interruptible batch only, and the nearest-site baseline.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import { builtinRegistry, type PolicyName } from '../../src/core/dispatch/plugins/index.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';
import type { LpSolver } from '../../src/core/lp/model.ts';
import type { Job, Scenario } from '../../src/core/model/types.ts';
import type { ServiceSpec } from '../../src/core/services/model.ts';
import { simulateWithServices, withinObjectiveRps, type ActualDemand } from '../../src/sim/services.ts';
import { buildReport } from '../../src/sim/summarize.ts';
import { renderReportHtml } from '../../src/sim/report-html.ts';
import { makeJob } from '../fixtures/job-builder.ts';
import fc from 'fast-check';
import type { SimState } from '../../src/sim/engine.ts';
import { checkInvariants } from './invariants.ts';
import { makeLink, makeSite, scenarioOf, snapshotOf, T0 } from '../fixtures/scenario-builder.ts';

let solver: LpSolver;
beforeAll(async () => {
  solver = await loadHighsSolver();
});

const SLOTS = 8;
const HOUR = 3_600_000;
const SERVICE: ServiceSpec = {
  id: 'chat',
  model: 'test',
  poolClass: 'ai',
  unitsPerReplica: 1,
  throughput: { requestsPerS: 10 },
  latency: { objectiveMs: 100, percentile: 95, serviceTimeMs: 50 },
  coldStart: { warmUpS: 0, energyKWh: 0 },
  minReplicas: { total: 0, perSite: {} },
  sites: null,
};

/** One city next to `east` (4 accelerators, or `eastUnits`); `west` (cheap renewables) 20 ms further when `withWest`. */
function scenario(withWest: boolean, eastUnits = 4): Scenario {
  const east = makeSite('east').ai(eastUnits).prices(1).carbonG(800);
  const west = makeSite('west').ai(4).prices(1).carbonG(800).renewableKW(50, 0.1, 10);
  const snap = snapshotOf(withWest ? [east, west] : [east], withWest ? [makeLink('east', 'west', { latencyMs: 20 })] : [], [], { slots: SLOTS + 4 });
  return { ...scenarioOf(snap), userRegions: [{ id: 'city', name: 'City', utcOffset: '+08:00', populationM: 1, lat: 31, lon: 121, access: [{ site: 'east', latencyMs: 1 }] }] };
}

/** Forecast 15 req/s every slot; actual twice that in slot 1; in slot 2 half the minutes at 1.5× and half at 0.5×. */
const bursty = Float64Array.from({ length: 60 }, (_, m) => (m < 30 ? 1.5 : 0.5));

function actual(history: Float64Array = new Float64Array(60).fill(1), factors?: number[]): ActualDemand {
  const flat = () => new Float64Array(60).fill(1);
  return {
    history,
    factor: { chat: Float64Array.from({ length: SLOTS }, (_, t) => factors?.[t] ?? (t === 1 ? 2 : 1)) },
    minuteProfile: { chat: Array.from({ length: SLOTS }, (_, t) => (t === 2 ? bursty : flat())) },
    source: 'hand-made',
  };
}

function run(s: Scenario, jobs: Job[], routing: 'objective' | 'nearest', policy: PolicyName = 'asap-origin', history?: Float64Array, factors?: number[], onCycle?: (state: SimState) => void, forecastRps = 15) {
  const objective = objectiveFrom('cost');
  const registry = builtinRegistry();
  return simulateWithServices(
    { scenario: s, jobs, policy, objective, fromMs: T0, toMs: T0 + SLOTS * HOUR, replanMinutes: 60, horizonSlots: 4, shiftHours: 0, recordEvents: true, onCycle },
    {
      periodSlots: SLOTS,
      services: [SERVICE],
      forecast: [{ service: 'chat', region: 'city', requestsPerS: new Array(SLOTS).fill(forecastRps) }],
      actual: actual(history, factors),
      routing,
      solver,
      scores: [{ plugin: registry.score('cost'), weight: 1 }],
      objectiveName: 'cost',
    },
  );
}

describe('services in the simulator', () => {
  it('serves each minute up to its capacity', () => {
    expect(withinObjectiveRps(15, 20, Float64Array.from({ length: 60 }, (_, m) => (m < 30 ? 1.5 : 0.5)))).toBeCloseTo(13.75, 9);
    expect(withinObjectiveRps(30, 20, undefined)).toBe(20);
  });

  it('accounts attainment minute by minute when no unit can be taken (a non-interruptible job holds the rest)', () => {
    const fixed = makeJob('fixed').units(2).duration('8h').at('east').allowed('east').build();
    const { outcome, services } = run(scenario(false), [fixed], 'objective');
    // Two replicas (20 req/s) every slot; slot 1: 30 req/s, 20 within; slot 2: 13.75 of 15 within; others all.
    expect(services.perService[0].replicaHours).toBe(2 * SLOTS);
    const slotS = 3600;
    expect(services.regions[0].requests).toBeCloseTo((15 * SLOTS + 15) * slotS, 6);
    expect(services.regions[0].withinObjective).toBeCloseTo((15 * (SLOTS - 2) + 20 + 13.75) * slotS, 6);
    expect(services.burstsShort).toBe(2);
    expect(services.preemptions).toEqual([]);
    expect(outcome.records[0].state).toBe('completed');
    const report = buildReport({ scenario: scenario(false), fromMs: T0, toMs: T0 + SLOTS * HOUR, replanMinutes: 60, forecastErrorPct: null, seed: 1, shiftHours: 0, objective: 'cost', outcomes: [outcome], services: { forecast: 'f', actual: 'a', outcomes: [services], baseline: { outcome, services } } });
    const attainment = ((15 * (SLOTS - 2) + 20 + 13.75) / (15 * SLOTS + 15)) * 100;
    expect(report.policies[0].services!.regions[0].attainmentPct).toBeCloseTo(attainment, 9);
    expect(report.policies[0].services!.totals.attainmentPct).toBeCloseTo(attainment, 9);
  });

  it('provisions for the percentile minute known from history, so a burst of that shape needs no pre-emption', () => {
    const fixed = makeJob('fixed').units(1).duration('8h').at('east').allowed('east').build();
    const { services } = run(scenario(false), [fixed], 'objective', 'asap-origin', bursty);
    // 15 req/s × 1.5 (the history's 95th-percentile minute) = 22.5 req/s: 3 replicas, which also serve slot 1's
    // 30 req/s (flat) and slot 2's minutes at 22.5 req/s.
    expect(services.perService[0].replicaHours).toBe(3 * SLOTS);
    expect(services.perService[0].extraReplicaHours).toBe(0);
    expect(services.regions[0].requests).toBeCloseTo((15 * SLOTS + 15) * 3600, 6);
    expect(services.regions[0].withinObjective).toBeCloseTo(services.regions[0].requests, 6);
  });

  it('sends a region all its demand, also the part the plan could not provision for', () => {
    // Forecast 30 req/s × 1.5 (history) = 45 to provision; 4 accelerators hold 40. Actual 30 req/s: all sent to the
    // 40 req/s, so all within, but in slot 2, whose minutes alternate 45 and 15 req/s: 5 req/s late half the time.
    const flat = new Array(SLOTS).fill(1);
    const { services } = run(scenario(false), [], 'objective', 'asap-origin', bursty, flat, undefined, 30);
    expect(services.perService[0].replicaHours).toBe(4 * SLOTS);
    expect(services.regions[0].requests).toBeCloseTo(30 * SLOTS * 3600, 6);
    expect(services.regions[0].withinObjective).toBeCloseTo((30 * SLOTS - 2.5) * 3600, 6);
  });

  it('pre-empts an interruptible run for a burst, never a non-interruptible one; the job resumes later', () => {
    const fixed = makeJob('fixed').units(1).duration('8h').at('east').allowed('east').build();
    const flexible = makeJob('flexible').units(1).duration('4h').deadline('24h').interruptible().at('east').allowed('east').build();
    const { outcome, services } = run(scenario(false), [fixed, flexible], 'objective');
    // Slot 1 (factor 2) and slot 2 (burst at 1.5×) each need one more replica: only `flexible` can give its unit.
    expect(services.preemptions.map((p) => [p.slot, p.jobId])).toEqual([
      [1, 'flexible'],
      [2, 'flexible'],
    ]);
    expect(services.preemptions[0].reasons).toEqual([{ service: 'chat', site: 'east', region: 'city', requestsPerSOverForecast: 15 }]);
    expect(services.perService[0].extraReplicaHours).toBe(2);
    expect(services.regions[0].withinObjective).toBeCloseTo(services.regions[0].requests, 6);
    const [fixedRecord, flexibleRecord] = outcome.records;
    expect(fixedRecord.preemptions).toBe(0);
    expect(fixedRecord.state).toBe('completed');
    expect(flexibleRecord.preemptions).toBe(2);
    expect(flexibleRecord.state).toBe('completed');
    // It never held a unit in the slots it was pre-empted from, and made up the work later.
    expect(flexibleRecord.slots).not.toContain(1);
    expect(flexibleRecord.slots).not.toContain(2);
    expect(flexibleRecord.slots.length).toBe(4);
    expect(outcome.log.filter((e) => e.kind === 'preempt').map((e) => e.jobId)).toEqual(['flexible', 'flexible']);
    // No pool over capacity: batch + planned + extra replicas ≤ 4 in every slot.
    for (let t = 0; t < SLOTS; t++) expect(outcome.busyUnits.get('east/ai')![t] + 2 + (t === 1 || t === 2 ? 1 : 0)).toBeLessThanOrEqual(4);
  });

  it('a job pre-empted before it ever ran is not pinned to the site: the commit\'s choice of site is undone with it', () => {
    const fixed = makeJob('fixed').units(1).duration('8h').at('east').allowed('east').build();
    const late = makeJob('late').units(1).duration('3h').release(new Date(T0 + HOUR).toISOString()).deadline('24h').interruptible().at('east').build();
    const sites: (string | null)[] = [];
    const { outcome, services } = run(scenario(false), [fixed, late], 'objective', 'asap-origin', undefined, undefined, (state) => sites.push(state.records[1].siteId));
    // Released at slot 1, whose burst (twice the forecast) takes its unit: back to waiting without a site.
    expect(services.preemptions.map((p) => [p.slot, p.jobId])).toEqual([
      [1, 'late'],
      [2, 'late'],
    ]);
    expect(sites.slice(0, 3)).toEqual([null, null, null]);
    expect(outcome.records[1].state).toBe('completed');
    expect(outcome.records[1].slots).toEqual([3, 4, 5]);
    expect(outcome.log.filter((e) => e.jobId === 'late').map((e) => e.kind)).toEqual(['arrive', 'preempt', 'preempt', 'start', 'finish']);
  });

  it('starts burst replicas at another site within the latency objective before pre-empting any batch run', () => {
    const fixed = makeJob('fixed').units(1).duration('8h').at('east').allowed('east').build();
    const flexible = makeJob('flexible').units(1).duration('4h').deadline('24h').interruptible().at('east').allowed('east').build();
    // Nearest-site placement keeps the replicas at `east`, whose pool batch fills; `west` (42 ms round trip) has room.
    const { outcome, services } = run(scenario(true), [fixed, flexible], 'nearest');
    expect(services.preemptions).toEqual([]);
    expect(outcome.records.map((r) => r.preemptions)).toEqual([0, 0]);
    expect(services.perService[0].extraReplicaHours).toBe(2);
    expect(services.uses.filter((u) => u.siteId === 'west').flatMap((u) => u.slots)).toEqual([1, 2]);
    expect(services.regions[0].withinObjective).toBeCloseTo(services.regions[0].requests, 6);
    expect(services.burstsShort).toBe(0);
  });

  it('property: batch and services never hold more units than a pool has; only interruptible runs are pre-empted; work adds up', () => {
    const jobArb = fc.record({ units: fc.integer({ min: 1, max: 2 }), hours: fc.integer({ min: 1, max: 4 }), release: fc.integer({ min: 0, max: 5 }), interruptible: fc.boolean() });
    fc.assert(
      fc.property(fc.array(jobArb, { minLength: 1, maxLength: 5 }), fc.array(fc.double({ min: 0.5, max: 2.5, noNaN: true }), { minLength: SLOTS, maxLength: SLOTS }), (specs, factors) => {
        const jobs = specs.map((j, i) => {
          const b = makeJob(`j${i}`).units(j.units).duration(`${j.hours}h`).release(new Date(T0 + j.release * HOUR).toISOString()).deadline('24h').at('east').allowed('east');
          return (j.interruptible ? b.interruptible() : b).build();
        });
        const s = scenario(false);
        const { outcome, services } = run(s, jobs, 'objective', 'asap-origin', undefined, factors, (state) => checkInvariants(s, state));
        const interruptible = new Set(jobs.filter((j) => j.interruptible).map((j) => j.id));
        for (const p of services.preemptions) expect(interruptible.has(p.jobId)).toBe(true);
        for (const r of outcome.records) if (!r.job.interruptible) expect(r.preemptions).toBe(0);
        // Units held per slot: batch (busyUnits) + planned replicas (2: 15 req/s at 10 per replica) + burst replicas.
        for (let t = 0; t < SLOTS; t++) {
          const burst = services.burstReplicas.filter((b) => b.slot === t).reduce((sum, b) => sum + b.units, 0);
          expect(outcome.busyUnits.get('east/ai')![t] + 2 + burst).toBeLessThanOrEqual(4);
        }
        expect(services.perService[0].replicaHours).toBe(2 * SLOTS + services.burstReplicas.reduce((sum, b) => sum + b.replicas, 0));
        // A burst is short only when neither free units nor interruptible runs were left to take.
        if (services.burstsShort === 0) expect(services.regions[0].withinObjective).toBeCloseTo(services.regions[0].requests, 3);
        expect(services.regions[0].withinObjective).toBeLessThanOrEqual(services.regions[0].requests + 1e-6);
      }),
      { numRuns: 25 },
    );
  });

  it('meters units held by replicas (placed and burst) as busy, not idle', () => {
    // One node of 8 accelerators (the idle draw counts whole nodes).
    const s = scenario(false, 8);
    const fixed = makeJob('fixed').units(1).duration('8h').at('east').allowed('east').build();
    const { outcome, services } = run(s, [fixed], 'objective');
    const common = { scenario: s, fromMs: T0, toMs: T0 + SLOTS * HOUR, replanMinutes: 60, forecastErrorPct: null, seed: 1, shiftHours: 0, objective: 'cost', outcomes: [outcome] };
    const withServices = buildReport({ ...common, services: { forecast: 'f', actual: 'a', outcomes: [services], baseline: { outcome, services } } }).policies[0].idle;
    const batchOnly = buildReport(common).policies[0].idle;
    // Two planned replicas every slot, plus the bursts' on free units (slot 1: twice the forecast; slot 2: 1.5× minutes).
    const replicaUnitHours = services.perService[0].replicaHours;
    expect(replicaUnitHours).toBeGreaterThan(2 * SLOTS);
    expect(services.heldUnits.get('east/ai')!.reduce((a, b) => a + b, 0)).toBe(replicaUnitHours);
    expect(batchOnly.alwaysOn.idleUnitHours - withServices.alwaysOn.idleUnitHours).toBeCloseTo(replicaUnitHours, 9);
    expect(withServices.alwaysOn.energyKWh).toBeLessThan(batchOnly.alwaysOn.energyKWh);
    // On, less batch (1 unit) and the replicas.
    expect(withServices.alwaysOn.idleUnitHours).toBeCloseTo(8 * SLOTS - SLOTS - replicaUnitHours, 9);
  });

  it('gives a byte-identical report for the same inputs', () => {
    const fixed = makeJob('fixed').units(1).duration('8h').at('east').allowed('east').build();
    const flexible = makeJob('flexible').units(1).duration('4h').deadline('24h').interruptible().at('east').allowed('east').build();
    const once = () => {
      const s = scenario(true);
      const ours = run(s, [fixed, flexible], 'objective', 'optimize');
      const base = run(s, [fixed, flexible], 'nearest', 'optimize');
      const report = buildReport({ scenario: s, fromMs: T0, toMs: T0 + SLOTS * HOUR, replanMinutes: 60, forecastErrorPct: null, seed: 1, shiftHours: 0, objective: 'cost', outcomes: [ours.outcome], services: { forecast: 'f', actual: 'a', outcomes: [ours.services], baseline: base } });
      return [JSON.stringify(report), renderReportHtml(report)];
    };
    expect(once()).toEqual(once());
  });

  it('against the nearest-site baseline: replicas move to the far green site at equal attainment, for less cost and carbon; the reports show both', () => {
    const s = scenario(true);
    const ours = run(s, [], 'objective', 'optimize');
    const base = run(s, [], 'nearest', 'optimize');
    expect(new Set(ours.services.uses.map((u) => u.siteId))).toEqual(new Set(['west']));
    expect(new Set(base.services.uses.map((u) => u.siteId))).toEqual(new Set(['east']));
    const report = buildReport({ scenario: s, fromMs: T0, toMs: T0 + SLOTS * HOUR, replanMinutes: 60, forecastErrorPct: null, seed: 1, shiftHours: 0, objective: 'cost', outcomes: [ours.outcome], services: { forecast: 'f', actual: 'a', outcomes: [ours.services], baseline: { outcome: base.outcome, services: base.services } } });
    const mine = report.policies[0].services!;
    const baseline = report.services!.baseline;
    expect(baseline.placement).toBe('nearest');
    expect(mine.totals.attainmentPct).toBeCloseTo(baseline.totals.attainmentPct, 6);
    expect(mine.totals.costYuan).toBeLessThan(baseline.totals.costYuan);
    expect(mine.totals.carbonKg).toBeLessThan(baseline.totals.carbonKg);
    expect(mine.totals.greenShare).toBeGreaterThan(0.9);
    expect(baseline.totals.greenShare).toBe(0);
    expect(report.services!.versusBaseline[0].costPct).toBeLessThan(0);
    // One region: everything the services cost is charged to it.
    expect(mine.regions[0].costYuan).toBeCloseTo(mine.totals.costYuan, 9);
    expect(mine.regions[0].carbonKg).toBeCloseTo(mine.totals.carbonKg, 9);
    expect(mine.regions[0].greenShare).toBeCloseTo(mine.totals.greenShare, 9);
    const html = renderReportHtml(report);
    expect(html).toContain('Services: objective attainment per region');
    expect(html).toContain('nearest-site baseline');
  });
});
