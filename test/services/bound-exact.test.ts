/**
 * The services bound against the exact optimum (docs/services.md, "The model and its bound"): on small random
 * instances — one service, two sites, two user regions, two slots — the optimum is found by brute force over every
 * integer replica count and, for each, every vertex of the routing polytope (on a concave power curve with grid power
 * only the cost is concave in the routing, so its least is at a vertex). The LP bound (rounding cuts, partial-replica
 * charge) and the MIP bound are at most that optimum, which is at most the placement; the placement is feasible
 * (latency, replica capacity after warm-up, pool units, minimum replicas, demand).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/index.ts';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import type { LpSolver } from '../../src/core/lp/model.ts';
import { builtinRegistry } from '../../src/core/dispatch/plugins/index.ts';
import { servicesPlan, type ServicesPlan } from '../../src/core/services/plan.ts';
import { prepare, servingCapacityRps, type Prepared, type ServicesProblem } from '../../src/core/services/placement.ts';
import { chordGap, type ServiceSpec } from '../../src/core/services/model.ts';
import { powerAtLoadW } from '../../src/core/model/power.ts';
import type { PowerPoint } from '../../src/core/model/types.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';

let solver: LpSolver;
beforeAll(async () => {
  solver = await loadHighsSolver();
});
const registry = builtinRegistry();
const SITES = ['hami', 'beijing'];
const REGIONS = ['beijing', 'shanghai'];
const MAX_REPLICAS = 4;
/** Concave per-unit curves (W): the exact search needs concavity; the second is nearly linear. */
const CURVES: PowerPoint[][] = [
  [{ load: 0, powerW: 200 }, { load: 0.25, powerW: 600 }, { load: 0.5, powerW: 850 }, { load: 1, powerW: 1000 }],
  [{ load: 0, powerW: 150 }, { load: 0.5, powerW: 600 }, { load: 1, powerW: 1000 }],
];

interface Instance {
  capRps: number;
  units: 1 | 2;
  warmUpS: number;
  coldKWh: number;
  budgetMs: number;
  minTotal: number;
  minAtHami: number;
  curve: number;
  objective: string;
  /** Free units left at hami in slot 1 by committed batch work (null: the whole pool). */
  hamiFreeUnits: number | null;
  demand: number[][];
}

function problemOf(x: Instance): ServicesProblem {
  const base = loadScenario('hami', { start: '2026-06-01T00:00Z', slots: 2 });
  const network = { ...base.network, sites: base.network.sites.map((s) => ({ ...s, pools: s.pools.map((p) => (p.class === 'ai' ? { ...p, powerCurve: CURVES[x.curve] } : p)) })) };
  const hamiPool = network.sites.find((s) => s.id === 'hami')!.pools.find((p) => p.class === 'ai')!;
  const spec: ServiceSpec = {
    id: 'svc',
    model: 'm',
    poolClass: 'ai',
    unitsPerReplica: x.units,
    throughput: { requestsPerS: x.capRps },
    latency: { objectiveMs: 200 + x.budgetMs, percentile: 95, serviceTimeMs: 200 },
    coldStart: { warmUpS: x.warmUpS, energyKWh: x.coldKWh },
    minReplicas: { total: x.minTotal, perSite: x.minAtHami > 0 ? { hami: x.minAtHami } : {} },
    sites: SITES,
  };
  return {
    network,
    grid: base.grid,
    // Grid power only: the objective is linear in energy, so the least over routings is at a vertex.
    signals: Object.fromEntries(Object.entries(base.signals).map(([id, pair]) => [id, { ...pair.forecast, renewableKW: pair.forecast.renewableKW.map(() => 0) }])),
    userRegions: base.userRegions!,
    services: [spec],
    demand: REGIONS.map((region, r) => ({ service: 'svc', region, requestsPerS: x.demand[r] })),
    committed: x.hamiFreeUnits === null ? [] : [{ siteId: 'hami', poolId: hamiPool.id, units: hamiPool.units - x.hamiFreeUnits, slots: [1], energyKWh: [10] }],
  };
}

const scoresOf = (objective: string) => Object.entries(objectiveFrom(objective).weights).map(([n, w]) => ({ plugin: registry.score(n), weight: w }));
const planOf = (p: ServicesProblem, objective: string, exact = false): ServicesPlan => servicesPlan(p, { solver, scores: scoresOf(objective), objectiveName: objective, scenarioId: 'hami', exact });

/** Solves A v = b (n × n) by Gaussian elimination with partial pivoting; null when singular. */
function solveLinear(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    if (Math.abs(m[pivot][col]) < 1e-12) return null;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r][col] / m[col][col];
      for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/** Subsets of size k of 0..n−1. */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...subsets(n - 1, k), ...subsets(n - 1, k - 1).map((s) => [...s, n - 1])];
}

/**
 * The least objective of slot t with replicas n (per site index) after prev: every vertex of
 * {Σ_j x_rj + u_r = d_r, Σ_r x_rj ≤ capacity_j, x, u ≥ 0} priced with the curve itself and the unserved penalty.
 */
function bestRouting(p: Prepared, t: number, n: number[], prev: number[]): number {
  const c = p.services[0];
  const sites = p.problem.network.sites;
  const vars: { r: number; j: number }[] = [];
  const regions = c.demandRps.flatMap((d, r) => (d[t] > 0 ? [r] : []));
  for (const r of regions) {
    for (const j of c.feasible[r]) vars.push({ r, j });
    vars.push({ r, j: -1 });
  }
  const cost = (v: number[]) => {
    let total = 0;
    for (const j of c.sites) {
      const served = vars.reduce((s, x, i) => s + (x.j === j ? v[i] : 0), 0);
      if (n[j] === 0) continue;
      const load = Math.min(1, served / (n[j] * c.capacityRps));
      const kWh = ((n[j] * c.spec.unitsPerReplica * powerAtLoadW(c.pool[j]!.powerCurve, load) * p.slotHours) / 1000 + Math.max(0, n[j] - prev[j]) * c.spec.coldStart.energyKWh) * sites[j].pue;
      total += kWh * p.gridRate[j][t];
    }
    return total + vars.reduce((s, x, i) => s + (x.j < 0 ? v[i] * p.penaltyPerRps : 0), 0);
  };
  if (vars.length === 0) return cost([]);
  // Rows a·v ≤ b: capacity per site, then v ≥ 0.
  const ineq: { a: number[]; b: number }[] = [
    ...c.sites.map((j) => ({ a: vars.map((x) => (x.j === j ? 1 : 0)), b: servingCapacityRps(c, n[j], prev[j]) })),
    ...vars.map((_, i) => ({ a: vars.map((_x, k) => (k === i ? -1 : 0)), b: 0 })),
  ];
  const eq = regions.map((r) => ({ a: vars.map((x) => (x.r === r ? 1 : 0)), b: c.demandRps[r][t] }));
  let best = Infinity;
  for (const active of subsets(ineq.length, vars.length - eq.length)) {
    const rows = [...eq, ...active.map((i) => ineq[i])];
    const v = solveLinear(
      rows.map((x) => x.a),
      rows.map((x) => x.b),
    );
    if (!v || ineq.some((x) => x.a.reduce((s, a, i) => s + a * v[i], 0) > x.b + 1e-7)) continue;
    best = Math.min(best, cost(v.map((y) => Math.max(0, y))));
  }
  return best;
}

/** The exact optimum: every integer replica count per site and slot within pools and minimums, each routed at its best. */
function exactOptimum(p: Prepared): number {
  const c = p.services[0];
  const [a, b] = c.sites;
  const hi = (j: number, t: number) => Math.min(MAX_REPLICAS, Math.floor(p.freeUnits.get(c.pool[j]!.id)![t] / c.spec.unitsPerReplica));
  const allowed = (t: number) => {
    const out: number[][] = [];
    const minTotal = Math.min(c.spec.minReplicas.total, hi(a, t) + hi(b, t));
    for (let na = Math.min(c.minAtSite[a], hi(a, t)); na <= hi(a, t); na++)
      for (let nb = Math.min(c.minAtSite[b], hi(b, t)); nb <= hi(b, t); nb++) {
        if (na + nb < minTotal) continue;
        const n = p.problem.network.sites.map(() => 0);
        n[a] = na;
        n[b] = nb;
        out.push(n);
      }
    return out;
  };
  let best = Infinity;
  const first = new Map(allowed(0).map((n0) => [n0, bestRouting(p, 0, n0, p.problem.network.sites.map(() => 0))]));
  for (const [n0, v0] of first) for (const n1 of allowed(1)) best = Math.min(best, v0 + bestRouting(p, 1, n1, n0));
  return best;
}

/** What the placement breaks: latency, replica capacity after warm-up, pool units, minimum replicas, demand. */
function violations(p: Prepared, out: ServicesPlan): string[] {
  const c = p.services[0];
  const sites = p.problem.network.sites;
  const found: string[] = [];
  out.plan.forEach((slot, t) => {
    const v = slot.services[0];
    for (const route of v.routes) {
      const r = p.regions.findIndex((x) => x.id === route.region);
      const j = sites.findIndex((x) => x.id === route.site);
      if (!c.feasible[r].includes(j)) found.push(`slot ${t}: ${route.region} → ${route.site} over the objective`);
    }
    let total = 0;
    for (const j of c.sites) {
      const n = v.replicas[sites[j].id] ?? 0;
      const prev = t === 0 ? 0 : (out.plan[t - 1].services[0].replicas[sites[j].id] ?? 0);
      const served = v.routes.filter((x) => x.site === sites[j].id).reduce((s, x) => s + x.requestsPerS, 0);
      if (served > servingCapacityRps(c, n, prev) * (1 + 1e-9) + 1e-6) found.push(`slot ${t}: ${sites[j].id} over replica capacity`);
      const free = p.freeUnits.get(c.pool[j]!.id)![t];
      if (n * c.spec.unitsPerReplica > free) found.push(`slot ${t}: ${sites[j].id} over the pool`);
      if (n < Math.min(c.minAtSite[j], Math.floor(free / c.spec.unitsPerReplica))) found.push(`slot ${t}: ${sites[j].id} under its minimum`);
      total += n;
    }
    if (total < c.spec.minReplicas.total) found.push(`slot ${t}: ${total} replicas under the minimum total`);
    for (const [region, x] of Object.entries(v.regions)) if (Math.abs(x.servedRps + x.unservedRps - x.demandRps) > 1e-6) found.push(`slot ${t}: ${region} demand`);
  });
  return found;
}

const instance: fc.Arbitrary<Instance> = fc.record({
  capRps: fc.double({ min: 3, max: 10, noNaN: true }),
  units: fc.constantFrom(1 as const, 2 as const),
  warmUpS: fc.constantFrom(0, 60, 600, 1800),
  coldKWh: fc.constantFrom(0, 0.02, 0.4),
  budgetMs: fc.constantFrom(20, 30, 45),
  minTotal: fc.constantFrom(0, 1, 2),
  minAtHami: fc.constantFrom(0, 1),
  curve: fc.constantFrom(0, 1),
  objective: fc.constantFrom('cost', 'carbon'),
  hamiFreeUnits: fc.constantFrom(null, 0, 2, 3),
  demand: fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 2 }), { minLength: 2, maxLength: 2 }),
});

describe('services bound against the exact optimum', () => {
  it('the partial-replica charge stays below the curve over its chord, concave and zero at both ends', () => {
    const h200 = [{ load: 0, powerW: 196.08 }, { load: 0.1, powerW: 340.96 }, { load: 0.25, powerW: 560.48 }, { load: 0.5, powerW: 828 }, { load: 0.75, powerW: 1063.52 }, { load: 1, powerW: 1104.48 }];
    for (const curve of [h200, ...CURVES]) {
      const gap = chordGap(curve)!;
      const chord = (u: number) => curve[0].powerW + (curve[curve.length - 1].powerW - curve[0].powerW) * u;
      const at = Array.from({ length: 201 }, (_, i) => gap.atW(i / 200));
      at.forEach((g, i) => expect(g).toBeLessThanOrEqual(powerAtLoadW(curve, i / 200) - chord(i / 200) + 1e-9));
      for (let i = 1; i < 200; i++) expect(at[i - 1] + at[i + 1]).toBeLessThanOrEqual(2 * at[i] + 1e-9);
      for (let i = 1; i <= 200; i++) expect(Math.abs(at[i] - at[i - 1])).toBeLessThanOrEqual((gap.steepestW * 1) / 200 + 1e-9);
      expect(at[0]).toBe(0);
      expect(at[200]).toBeCloseTo(0, 9);
    }
    // The H200 curve is not quite concave (1,449 then 1,464 W per unit of load): scaled to 0.984 of its majorant.
    expect(chordGap(h200)!.atW(0.5)).toBeGreaterThan(170);
    expect(chordGap([{ load: 0, powerW: 100 }, { load: 1, powerW: 200 }])).toBeNull();
    expect(chordGap([{ load: 0, powerW: 100 }, { load: 0.5, powerW: 120 }, { load: 1, powerW: 200 }])).toBeNull();
  });

  it('LP and MIP bounds ≤ the exact optimum ≤ the placement, which is feasible (property)', () => {
    fc.assert(
      fc.property(instance, (x) => {
        const scaled = { ...x, demand: x.demand.map((row) => row.map((v) => v * x.capRps)) };
        const p = problemOf(scaled);
        const prepared = prepare(p, scoresOf(x.objective));
        const optimum = exactOptimum(prepared);
        const out = planOf(p, x.objective);
        const tol = (v: number) => 1e-7 * Math.abs(v) + 1e-9;
        expect(violations(prepared, out)).toEqual([]);
        expect(out.bound.value).toBeLessThanOrEqual(optimum + tol(optimum));
        expect(optimum).toBeLessThanOrEqual(out.bound.planValue + tol(optimum));
        const exact = planOf(p, x.objective, true);
        expect(violations(prepared, exact)).toEqual([]);
        expect(exact.bound.value).toBeLessThanOrEqual(optimum + tol(optimum));
        expect(optimum).toBeLessThanOrEqual(exact.bound.planValue + tol(optimum));
      }),
      { numRuns: 40, seed: 7 },
    );
  });
});
