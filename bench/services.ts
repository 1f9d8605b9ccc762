/**
 * Benchmark of inference services placement (issue 12), run by `npm run bench` after bench/run.ts:
 *   1. planning 20 services × 6 sites × 10 user regions × 168 hourly slots with its bound, target ≤ 2 s;
 *   2. cost and carbon against the nearest-site baseline (every region served from its lowest round trip first) on
 *      `hami` with demand from the real Wikipedia trace (`kumul demand import`), at equal or better attainment;
 *   3. the same comparison in the simulator, services and batch together for a week with actual demand (error and
 *      bursts from real traces) and bursts pre-empting interruptible batch.
 * `--quick` plans 24 slots instead of 168.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadScenario } from '../src/scenario/index.ts';
import { loadHighsSolver } from '../src/solver/highs.ts';
import { builtinRegistry } from '../src/core/dispatch/plugins/index.ts';
import { servicesPlan, type ServicesPlan } from '../src/core/services/plan.ts';
import type { ServiceSpec } from '../src/core/services/model.ts';
import type { ServicesProblem } from '../src/core/services/placement.ts';
import { importDemand, readWikipediaTrace } from '../src/services/demand-import.ts';
import { demandFromJson, readDemandFile, readServicesFile } from '../src/services/files.ts';
import { createReadStream } from 'node:fs';
import { importAlibabaGpu2023 } from '../src/jobs/alibaba-gpu-2023.ts';
import { objectiveFrom } from '../src/planning/plan-jobs.ts';
import { actualDemandFromTraces, DEFAULT_BURST_TRACE, DEFAULT_ERROR_TRACE } from '../src/services/actual-demand.ts';
import { simulateWithServices } from '../src/sim/services.ts';
import { buildReport } from '../src/sim/summarize.ts';

const quick = process.argv.includes('--quick');
const slots = quick ? 24 : 168;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TRACE = `${ROOT}../shared/data/workloads/inference/wikipedia_pagecounts_hourly_2008_2009.csv`;
const solver = await loadHighsSolver();
const registry = builtinRegistry();
const scenario = loadScenario('hami', { start: '2026-06-01T00:00Z', slots });
const regions = scenario.userRegions!;
const trace = readWikipediaTrace(readFileSync(TRACE, 'utf8'), 'wikipedia_pagecounts_hourly_2008_2009.csv');
const examples = readServicesFile(`${ROOT}datasets/services/hami-services.json`, scenario);

function problem(services: ServiceSpec[], peakRps: Record<string, number>): ServicesProblem {
  const file = importDemand({ trace, traceName: 'wikipedia', traceUtcOffsetH: 0, traceFromMs: Date.UTC(2009, 2, 1), regions, peakRps, startMs: scenario.grid.startMs, slots, slotMinutes: 60 });
  return {
    network: scenario.network,
    grid: scenario.grid,
    signals: Object.fromEntries(Object.entries(scenario.signals).map(([id, pair]) => [id, pair.forecast])),
    userRegions: regions,
    services,
    demand: demandFromJson(file, scenario, services, 'demand'),
  };
}

const plan = (p: ServicesProblem, objective: 'cost' | 'carbon', routing: 'objective' | 'nearest' = 'objective'): ServicesPlan =>
  servicesPlan(p, { solver, scores: [{ plugin: registry.score(objective), weight: 1 }], objectiveName: objective, scenarioId: scenario.id, routing });

// 1. Speed: 20 services, variations of the three examples (objectives 150 to 600 ms, throughput ±30 %).
{
  const services = Array.from({ length: 20 }, (_, i): ServiceSpec => {
    const base = examples[i % 3];
    const f = 0.7 + (0.6 * ((i * 7) % 10)) / 9;
    return { ...base, id: `${base.id}-${i}`, latency: { ...base.latency, objectiveMs: base.latency.objectiveMs + 10 * (i % 4) }, throughput: { requestsPerS: (f * (base.throughput as { requestsPerS?: number }).requestsPerS!) || f * 8.8 } };
  });
  const peakRps = Object.fromEntries(services.map((s, i) => [s.id, [90, 8, 18][i % 3]]));
  const p = problem(services, peakRps);
  plan(p, 'cost'); // warm-up
  const times: number[] = [];
  let last: ServicesPlan | null = null;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    last = plan(p, 'cost');
    times.push((performance.now() - t) / 1000);
  }
  const s = times.sort((a, b) => a - b)[1];
  console.log(
    `services: plan with bound: ${s.toFixed(2)} s (target ≤ 2 s; ratio ${(s / 2).toFixed(2)}) — 20 services × 6 sites × ${regions.length} user regions × ${slots} slots, median of 3; gap ${last!.bound.gapPct.toFixed(2)} %, attainment ${last!.totals.attainmentPct.toFixed(3)} %`,
  );
}

// 2. Quality: the example services on hami with trace-driven demand, against the nearest-site baseline.
{
  const p = problem(examples, { 'chat-8b': 1000, 'code-70b': 60, 'voice-8b': 300 });
  for (const objective of ['cost', 'carbon'] as const) {
    const ours = plan(p, objective);
    const base = plan(p, objective, 'nearest');
    const key = objective === 'cost' ? 'costYuan' : 'carbonKg';
    const unit = objective === 'cost' ? 'yuan' : 'kg CO2';
    const saving = 1 - ours.totals[key] / base.totals[key];
    console.log(
      `services vs nearest-site on hami (${objective}): ${ours.totals[key].toFixed(1)} ${unit} against ${base.totals[key].toFixed(1)} (saving ${(saving * 100).toFixed(1)} %; ratio ${(ours.totals[key] / base.totals[key]).toFixed(2)}) — attainment ${ours.totals.attainmentPct.toFixed(3)} % against ${base.totals.attainmentPct.toFixed(3)} %, green ${((ours.totals.greenKWh / ours.totals.energyKWh) * 100).toFixed(1)} % against ${((base.totals.greenKWh / base.totals.energyKWh) * 100).toFixed(1)} %, gap ${ours.bound.gapPct.toFixed(2)} %`,
    );
  }
}

// 3. The simulator: services and batch together for a week on hami (kumul simulate --services --demand): the example
//    services on the shipped week of trace-driven demand, actual demand with the week-ahead error of the Wikipedia
//    trace and the minute bursts of the Azure LLM trace (seed 1), the Alibaba GPU jobs released that week as batch;
//    services placed by the objective against every replica at the site nearest its users.
{
  const fromMs = Date.parse('2026-06-01T00:00:00Z');
  const periodSlots = quick ? 24 : 168;
  const simScenario = loadScenario('hami', { start: '2026-06-01T00:00Z', slots: periodSlots + 48 });
  const period = { ...simScenario, grid: { ...simScenario.grid, slots: periodSlots } };
  const services = readServicesFile(`${ROOT}datasets/services/hami-services.json`, period);
  const forecast = readDemandFile(`${ROOT}datasets/services/hami-demand-week.json`, period, services);
  const actual = actualDemandFromTraces({ services: services.map((s) => s.id), slots: periodSlots, slotMinutes: 60, seed: 1, burstTrace: DEFAULT_BURST_TRACE, errorTrace: DEFAULT_ERROR_TRACE });
  const pods = `${ROOT}datasets/alibaba-gpu-2023/pods.csv`;
  const toMs = fromMs + periodSlots * 3_600_000;
  const jobs = (await importAlibabaGpu2023(createReadStream(pods), pods, { startMs: fromMs })).filter((j) => j.releaseMs < toMs);
  for (const objective of ['cost', 'carbon'] as const) {
    const scores = [{ plugin: registry.score(objective), weight: 1 }];
    const started = performance.now();
    const runs = (['objective', 'nearest'] as const).map((routing) => {
      const sim = { scenario: simScenario, jobs, policy: 'optimize' as const, objective: objectiveFrom(objective), fromMs, toMs, replanMinutes: 60, horizonSlots: 48, shiftHours: 0 };
      return simulateWithServices(sim, { periodSlots, services, forecast, actual, routing, solver, scores, objectiveName: objective });
    });
    const seconds = (performance.now() - started) / 1000;
    const report = buildReport({
      scenario: simScenario, fromMs, toMs, replanMinutes: 60, forecastErrorPct: null, seed: 1, shiftHours: 0, objective, outcomes: [runs[0].outcome],
      services: { forecast: 'hami-demand-week.json', actual: actual.source, outcomes: [runs[0].services], baseline: runs[1] },
    });
    const ours = report.policies[0].services!.totals;
    const base = report.services!.baseline.totals;
    const verdict = ours.attainmentPct >= base.attainmentPct - 1e-9 ? 'equal or better' : 'LOWER';
    console.log(
      `services simulated with batch on hami (${objective}, ${periodSlots} h, ${jobs.length} jobs): cost ${ours.costYuan.toFixed(0)} against ${base.costYuan.toFixed(0)} yuan (ratio ${(ours.costYuan / base.costYuan).toFixed(2)}), carbon ${ours.carbonKg.toFixed(0)} against ${base.carbonKg.toFixed(0)} kg (ratio ${(ours.carbonKg / base.carbonKg).toFixed(2)}), green ${(100 * ours.greenShare).toFixed(1)} % against ${(100 * base.greenShare).toFixed(1)} % — attainment ${ours.attainmentPct.toFixed(3)} % against ${base.attainmentPct.toFixed(3)} % (${verdict}); ${report.policies[0].services!.preemptions.count} batch runs pre-empted against ${report.services!.baseline.preemptions.count}; ${seconds.toFixed(1)} s for both runs`,
    );
  }
}
