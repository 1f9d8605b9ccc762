/**
 * Inference services (issue 12): latency feasibility, capacity, warm-up, a link failure re-routes, the bound (≤ the
 * plan, ≤ the exact MIP optimum), properties on random demand, a golden placement on hami, bad input naming fields,
 * and `kumul plan --services-plan` leaving the services' units to them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadScenario, scenarioToExportJson } from '../../src/scenario/index.ts';
import { importDemand, readWikipediaTrace } from '../../src/services/demand-import.ts';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import type { LpSolver } from '../../src/core/lp/model.ts';
import { builtinRegistry } from '../../src/core/dispatch/plugins/index.ts';
import { servicesPlan, type ServicesPlan } from '../../src/core/services/plan.ts';
import type { ServicesProblem } from '../../src/core/services/placement.ts';
import { roundTripsMs, type ServiceSpec } from '../../src/core/services/model.ts';
import { demandFromJson, readServicesFile, servicesFromJson, ServicesFileError } from '../../src/services/files.ts';
import { committedOnGrid } from '../../src/services/committed.ts';
import { planJobs, objectiveFrom } from '../../src/planning/plan-jobs.ts';
import { snapshotFor } from '../../src/planning/plan-jobs.ts';
import { JobBuilder } from '../fixtures/job-builder.ts';
import { capacityViolations } from '../fixtures/plan-checks.ts';
import type { Scenario } from '../../src/core/model/types.ts';

let solver: LpSolver;
beforeAll(async () => {
  solver = await loadHighsSolver();
});
const registry = builtinRegistry();
const hami = (slots: number) => loadScenario('hami', { start: '2026-06-01T00:00Z', slots });
const examples = (s: Scenario) => readServicesFile('datasets/services/hami-services.json', s);

function problem(s: Scenario, services: readonly ServiceSpec[], rps: (service: string, region: string, t: number) => number): ServicesProblem {
  return {
    network: s.network,
    grid: s.grid,
    signals: Object.fromEntries(Object.entries(s.signals).map(([id, pair]) => [id, pair.forecast])),
    userRegions: s.userRegions!,
    services,
    demand: services.flatMap((svc) => s.userRegions!.map((r) => ({ service: svc.id, region: r.id, requestsPerS: Array.from({ length: s.grid.slots }, (_, t) => rps(svc.id, r.id, t)) }))),
  };
}
const plan = (p: ServicesProblem, objective = 'cost', extra: { exact?: boolean; maxColumns?: number } = {}): ServicesPlan =>
  servicesPlan(p, { solver, scores: Object.entries(objectiveFrom(objective).weights).map(([n, w]) => ({ plugin: registry.score(n), weight: w })), objectiveName: objective, scenarioId: 'hami', ...extra });

/** Every problem of a plan against its own model: latency, pool capacity, replica capacity after warm-up, cold starts, demand. */
function violations(p: ServicesProblem, out: ServicesPlan): string[] {
  const found: string[] = [];
  const specs = new Map(out.services.map((s) => [s.id, s]));
  const rtt = roundTripsMs(p.network, p.userRegions);
  const prev = new Map<string, number>();
  for (const slot of out.plan) {
    const units = new Map<string, number>();
    for (const s of slot.services) {
      const spec = specs.get(s.service)!;
      const served = new Map<string, number>();
      for (const r of s.routes) {
        const ms = rtt.get(r.region)!.get(r.site)!;
        if (ms + spec.latency.serviceTimeMs > spec.latency.objectiveMs + 1e-3) found.push(`slot ${slot.slot}: ${s.service} ${r.region} → ${r.site} at ${ms} ms`);
        served.set(r.site, (served.get(r.site) ?? 0) + r.requestsPerS);
      }
      for (const site of p.network.sites) {
        const n = s.replicas[site.id] ?? 0;
        const before = prev.get(`${s.service}/${site.id}`) ?? 0;
        const starts = Math.max(0, n - before);
        if ((s.coldStarts[site.id] ?? 0) !== starts) found.push(`slot ${slot.slot}: ${s.service} at ${site.id} starts ${s.coldStarts[site.id]} ≠ ${starts}`);
        const cap = spec.replicaRequestsPerS * (n - Math.min(1, spec.coldStart.warmUpS / 3600) * starts);
        if ((served.get(site.id) ?? 0) > cap * (1 + 1e-9) + 1e-6) found.push(`slot ${slot.slot}: ${s.service} at ${site.id} over capacity`);
        prev.set(`${s.service}/${site.id}`, n);
        const pool = site.pools.find((x) => x.class === spec.poolClass);
        if (pool && n > 0) units.set(pool.id, (units.get(pool.id) ?? 0) + n * spec.unitsPerReplica);
      }
      for (const [region, r] of Object.entries(s.regions)) if (Math.abs(r.servedRps + r.unservedRps - r.demandRps) > 1e-6 * Math.max(1, r.demandRps)) found.push(`slot ${slot.slot}: ${s.service} ${region} demand`);
    }
    for (const [poolId, u] of units) {
      const pool = p.network.sites.flatMap((s) => s.pools).find((x) => x.id === poolId)!;
      if (u > pool.units) found.push(`slot ${slot.slot}: ${poolId} ${u} > ${pool.units}`);
    }
  }
  return found;
}

describe('services placement on hami', () => {
  const s = hami(6);
  const specs = examples(s);
  const p = problem(s, specs, (svc, region, t) => ({ 'chat-8b': 60, 'code-70b': 6, 'voice-8b': 20 })[svc]! * (1 + 0.3 * Math.sin(t + region.length)));
  let out: ServicesPlan;
  beforeAll(() => {
    out = plan(p);
  });

  it('routes no region to a site over its budget, holds every pool and replica capacity, counts every cold start', () => {
    expect(violations(p, out)).toEqual([]);
    expect(out.totals.attainmentPct).toBeCloseTo(100, 6);
  });

  it('accounts warm-up: cold starts × energy × PUE, and slot 0 starts every replica', () => {
    let kWh = 0;
    for (const slot of out.plan)
      for (const sv of slot.services) {
        const spec = specs.find((x) => x.id === sv.service)!;
        for (const [site, n] of Object.entries(sv.coldStarts)) kWh += n * spec.coldStart.energyKWh * s.network.sites.find((x) => x.id === site)!.pue;
      }
    expect(out.totals.warmUpKWh).toBeCloseTo(kWh, 9);
    for (const sv of out.plan[0].services) expect(sv.coldStarts).toEqual(sv.replicas);
    expect(out.totals.coldStarts).toBeGreaterThan(0);
  });

  it('serves the tight voice objective only from sites near enough, and lets the wide ones reach far west', () => {
    const voice = out.plan.flatMap((x) => x.services.filter((v) => v.service === 'voice-8b').flatMap((v) => v.routes));
    expect(voice.every((r) => out.roundTripsMs[r.region][r.site] + 125 <= 150)).toBe(true);
    const far = out.plan.flatMap((x) => x.services.flatMap((v) => v.routes)).filter((r) => r.site === 'hami' || r.site === 'qingyang');
    expect(far.length).toBeGreaterThan(0);
  });

  it('states a bound no higher than the plan value, with its gap and method', () => {
    expect(out.bound.value).toBeLessThanOrEqual(out.bound.planValue * (1 + 1e-9));
    expect(out.bound.gapPct).toBeGreaterThanOrEqual(0);
    expect(out.bound.method).toMatch(/LP relaxation of integer replicas solved by HiGHS/);
  });

  it('exports the services units and energy as CommittedUse entries, slot by slot', () => {
    for (let t = 0; t < s.grid.slots; t++)
      for (const site of out.plan[t].sites)
        for (const [poolId, units] of Object.entries(site.units)) {
          const entries = out.committed.filter((c) => c.poolId === poolId && c.slots.includes(t));
          expect(entries.reduce((a, c) => a + c.units, 0)).toBe(units);
          expect(entries.reduce((a, c) => a + c.energyKWh[c.slots.indexOf(t)], 0)).toBeCloseTo(site.energyKWh, 9);
        }
  });

  it('golden placement: replicas per site and slot for the example services under cost', () => {
    expect(out.plan.map((x) => Object.fromEntries(x.services.map((v) => [v.service, v.replicas])))).toMatchSnapshot();
  });
});

describe('a link failure re-routes', () => {
  it('without the hami-zhengzhou link, Shanghai is over its budget to hami (42.6 → 43.6 ms) and is served elsewhere', () => {
    const s = hami(3);
    // A 43 ms budget for the round trip: 300 ms objective, 257 ms service time.
    const specs = examples(s)
      .filter((x) => x.id === 'chat-8b')
      .map((x) => ({ ...x, latency: { ...x.latency, serviceTimeMs: 257 } }));
    const cut = { ...s, network: { ...s.network, links: s.network.links.filter((l) => !(l.from === 'hami' && l.to === 'zhengzhou')) } };
    const before = plan(problem(s, specs, () => 40));
    const after = plan(problem(cut, specs, () => 40));
    expect(after.roundTripsMs.shanghai.hami).toBeGreaterThan(before.roundTripsMs.shanghai.hami);
    const toHami = (x: ServicesPlan) => new Set(x.plan.flatMap((sl) => sl.services.flatMap((v) => v.routes.filter((r) => r.site === 'hami').map((r) => r.region))));
    expect(toHami(before).has('shanghai')).toBe(true);
    expect(toHami(after).has('shanghai')).toBe(false);
    expect(violations(problem(cut, specs, () => 40), after)).toEqual([]);
    expect(after.totals.attainmentPct).toBeCloseTo(100, 6);
  });
});

describe('the bound', () => {
  it('is at most the exact MIP optimum on a tiny instance, which is at most the plan', () => {
    const s = hami(3);
    const specs = examples(s).filter((x) => x.id !== 'code-70b');
    const p = problem(s, specs, (svc, region, t) => (region === 'beijing' || region === 'shanghai' ? [7, 19, 11][t] : 0));
    const lp = plan(p);
    const mip = plan(p, 'cost', { exact: true });
    expect(mip.bound.method).toMatch(/MIP .* \(optimal\)/);
    expect(lp.bound.value).toBeLessThanOrEqual(mip.bound.value * (1 + 1e-7) + 1e-9);
    expect(mip.bound.value).toBeLessThanOrEqual(lp.bound.planValue * (1 + 1e-7) + 1e-9);
  });

  it('holds on random demand, objectives and windows (property)', () => {
    const s = hami(4);
    const specs = examples(s);
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 80, noNaN: true }), { minLength: 4, maxLength: 4 }),
        fc.constantFrom('cost', 'carbon', 'green', 'cost=1,carbon=0.3'),
        fc.constantFrom(50, 100_000),
        (levels, objective, maxColumns) => {
          const p = problem(s, specs, (svc, region, t) => levels[t] * (svc === 'code-70b' ? 0.1 : 1) * (region.length % 3));
          const out = plan(p, objective, { maxColumns });
          expect(violations(p, out)).toEqual([]);
          expect(out.bound.value).toBeLessThanOrEqual(out.bound.planValue * (1 + 1e-7) + 1e-9);
        },
      ),
      { numRuns: 12, seed: 12 },
    );
  });
});

describe('unserved demand', () => {
  it('is reported with a warning when no site is within the objective, never dropped', () => {
    const s = hami(2);
    const tight: ServiceSpec = { ...examples(s)[2], id: 'tight', latency: { objectiveMs: 130, percentile: 99, serviceTimeMs: 125 } };
    const out = plan(problem(s, [tight], () => 5));
    expect(out.totals.unservedRequests).toBeGreaterThan(0);
    expect(out.perRegion.shenzhen.attainmentPct).toBe(0);
    expect(out.warnings.join('\n')).toMatch(/no site is within 130 ms of region 'shenzhen'/);
  });
});

describe('bad input names the file, the field and the reason', () => {
  const s = hami(2);
  const base = { version: 1, services: [{ id: 'a', model: 'm', poolClass: 'ai', unitsPerReplica: 1, throughput: { requestsPerS: 1 }, latency: { objectiveMs: 300, percentile: 95, serviceTimeMs: 200 }, coldStart: { warmUpS: 60, energyKWh: 0.01 } }] };
  const error = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      expect(err).toBeInstanceOf(ServicesFileError);
      return (err as Error).message;
    }
    throw new Error('no error');
  };
  it('services file', () => {
    expect(error(() => servicesFromJson({ ...base, services: [{ ...base.services[0], unitsPerReplica: 0 }] }, s, 'svc.json'))).toBe('svc.json: services[0].unitsPerReplica: must be a positive integer');
    expect(error(() => servicesFromJson({ ...base, services: [{ ...base.services[0], sites: ['xian'] }] }, s, 'svc.json'))).toMatch(/^svc\.json: services\[0\]\.sites\[0\]: unknown site 'xian'; sites are hami/);
    expect(error(() => servicesFromJson({ ...base, services: [{ ...base.services[0], latency: undefined }] }, s, 'svc.json'))).toBe('svc.json: services[0].latency: is required');
    expect(error(() => servicesFromJson({ ...base, services: [{ ...base.services[0], colour: 1 }] }, s, 'svc.json'))).toBe('svc.json: services[0].colour: unknown field');
    expect(error(() => servicesFromJson({ ...base, services: [{ ...base.services[0], latency: { objectiveMs: 100, percentile: 95, serviceTimeMs: 120 } }] }, s, 'svc.json'))).toMatch(/services\[0\]\.latency\.serviceTimeMs: must be below objectiveMs/);
  });
  it('demand file', () => {
    const specs = servicesFromJson(base, s, 'svc.json');
    const demand = { version: 1, start: '2026-06-01T00:00Z', slotMinutes: 60, series: [{ service: 'a', region: 'beijing', requestsPerS: [1, 2] }] };
    expect(demandFromJson(demand, s, specs, 'd.json')[0].requestsPerS).toEqual([1, 2]);
    expect(error(() => demandFromJson({ ...demand, series: [{ service: 'a', region: 'lhasa', requestsPerS: [1, 2] }] }, s, specs, 'd.json'))).toMatch(/^d\.json: series\[0\]\.region: unknown user region 'lhasa'; scenario 'hami' has beijing, shanghai/);
    expect(error(() => demandFromJson({ ...demand, series: [{ service: 'b', region: 'beijing', requestsPerS: [1, -2] }] }, s, specs, 'd.json'))).toMatch(/series\[0\]\.requestsPerS\[1\]: must be a number ≥ 0/);
    expect(error(() => demandFromJson({ ...demand, start: '2026-06-01T01:00Z' }, s, specs, 'd.json'))).toMatch(/^d\.json: start: the demand covers 2026-06-01T01:00:00.000Z to 2026-06-01T03:00:00.000Z; the plan needs/);
  });
  it('on the command line: kumul services plan exits 2 naming the file and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumul-services-'));
    writeFileSync(join(dir, 'svc.json'), JSON.stringify({ ...base, services: [{ ...base.services[0], poolClass: 'gpu' }] }));
    writeFileSync(join(dir, 'd.json'), JSON.stringify({ version: 1, start: '2026-06-01T00:00Z', slotMinutes: 60, series: [{ service: 'a', region: 'beijing', requestsPerS: [1, 2] }] }));
    let stderr = '';
    let status = 0;
    try {
      execFileSync('node', ['bin/kumul.js', 'services', 'plan', '--scenario', 'hami', '--services', join(dir, 'svc.json'), '--demand', join(dir, 'd.json'), '--out', join(dir, 'p.json')], { stdio: 'pipe' });
    } catch (err) {
      stderr = String((err as { stderr: Buffer }).stderr);
      status = (err as { status: number }).status;
    }
    expect(status).toBe(2);
    expect(stderr).toContain("svc.json: services[0].poolClass: must be one of ai, general, hpc");
  });
});

describe('kumul plan --services-plan', () => {
  it('batch jobs fill the units the services leave, never theirs', () => {
    const s = hami(6);
    const specs = examples(s);
    const services = plan(problem(s, specs, (svc) => ({ 'chat-8b': 60, 'code-70b': 6, 'voice-8b': 20 })[svc]!));
    const committed = committedOnGrid(JSON.parse(JSON.stringify(services)), s.grid, 'services-plan.json');
    expect(committed.length).toBeGreaterThan(0);
    const jobs = Array.from({ length: 40 }, (_, i) => new JobBuilder(`j${i}`).units(8).duration('3h').deadline('6h').build());
    const batch = planJobs({ scenario: s, jobs, objective: objectiveFrom('cost'), policy: 'optimize', committed });
    expect(capacityViolations(snapshotFor(s, jobs, committed), batch)).toEqual([]);
    const hamiUsed = services.plan[0].sites.find((x) => x.site === 'hami')?.units['hami-ai'] ?? 0;
    const batchAtHami = batch.jobs.filter((j) => j.site === 'hami' && j.runs.some((r) => Date.parse(r.start) < s.grid.startMs + 3_600_000)).reduce((a, j) => a + j.runs[0].units, 0);
    expect(batchAtHami + hamiUsed).toBeLessThanOrEqual(64);
  });
});

describe('scripts/verify-services-plan.mjs', () => {
  it('recomputes a plan made around batch work and finds it consistent; a tampered plan fails', () => {
    const s = hami(4);
    const p = { ...problem(s, examples(s), (svc) => ({ 'chat-8b': 50, 'code-70b': 5, 'voice-8b': 20 })[svc]!), committed: [{ siteId: 'hami', poolId: 'hami-ai', units: 40, slots: [0, 1, 2, 3], energyKWh: [50, 50, 50, 50] }] };
    const out = plan(p, 'carbon');
    expect(violations(p, out)).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'kumul-verify-services-'));
    writeFileSync(join(dir, 'export.json'), JSON.stringify(scenarioToExportJson(s)));
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(out));
    expect(execFileSync('node', ['scripts/verify-services-plan.mjs', join(dir, 'export.json'), join(dir, 'plan.json')], { encoding: 'utf8' })).toMatch(/^largest relative difference: .*\nok: 4 slots, 3 services/);
    const tampered = JSON.parse(JSON.stringify(out)) as ServicesPlan;
    const hamiSlot = tampered.plan[0].services.find((v) => v.service === 'chat-8b')!;
    hamiSlot.replicas.hami = (hamiSlot.replicas.hami ?? 0) + 30;
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(tampered));
    expect(() => execFileSync('node', ['scripts/verify-services-plan.mjs', join(dir, 'export.json'), join(dir, 'bad.json')], { stdio: 'pipe' })).toThrow();
  });
});

describe('kumul demand import (Wikipedia trace)', () => {
  it('keeps the daily and weekly shape at Beijing time, scaled to the stated peak and split by population', () => {
    const s = hami(2);
    const trace = readWikipediaTrace(readFileSync(new URL('../../datasets/wikipedia-pagecounts/hourly-2008-2009.csv', import.meta.url), 'utf8'), 'wiki');
    const file = importDemand({ trace, traceName: 'wiki', traceUtcOffsetH: 0, traceFromMs: Date.UTC(2009, 2, 1), regions: s.userRegions!, peakRps: { chat: 1000 }, startMs: Date.UTC(2026, 5, 1, 0) - 8 * 3_600_000, slots: 24 * 28, slotMinutes: 60 });
    const total = Array.from({ length: 24 * 28 }, (_, t) => file.series.reduce((a, x) => a + x.requestsPerS[t], 0));
    expect(Math.max(...total)).toBeCloseTo(1000, 1);
    const beijing = file.series.find((x) => x.region === 'beijing')!.requestsPerS;
    const shanghai = file.series.find((x) => x.region === 'shanghai')!.requestsPerS;
    expect(beijing[100] / shanghai[100]).toBeCloseTo(21.89 / 24.87, 3);
    // Slot 0 is local midnight of Monday 1 June 2026 (UTC+8): the weekday hours outweigh the weekend's ~0.89.
    const day = (d: number) => total.slice(d * 24, d * 24 + 24).reduce((a, b) => a + b, 0);
    const weekdays = [0, 1, 2, 3, 4].map(day).reduce((a, b) => a + b, 0) / 5;
    const weekend = (day(5) + day(6)) / 2;
    expect(weekend / weekdays).toBeGreaterThan(0.8);
    expect(weekend / weekdays).toBeLessThan(0.97);
    const hourly = Array.from({ length: 24 }, (_, h) => total.filter((_, t) => t % 24 === h).reduce((a, b) => a + b, 0));
    expect(Math.max(...hourly) / Math.min(...hourly)).toBeGreaterThan(1.4);
  });
});
