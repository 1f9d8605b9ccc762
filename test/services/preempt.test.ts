// Pre-emption by a demand burst (src/core/services/preempt.ts): never a non-interruptible run; the least pre-emption
// that covers the burst, or the most replicas that can be covered with the rest stated unserved.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fewestUnitsCovering, preemptForBurst, type BurstNeed, type HeldRun } from '../../src/core/services/preempt.ts';

const need = (over: Partial<BurstNeed>): BurstNeed => ({
  service: 'chat',
  site: 'beijing',
  pool: 'beijing/gpu',
  unitsPerReplica: 1,
  replicas: 1,
  deficitRps: 8,
  rpsPerReplica: 8,
  regions: [{ region: 'shanghai', forecastRps: 100, actualRps: 120 }],
  ...over,
});

/** Least units of interruptible runs (then fewest runs) that reach `target`, by brute force. */
function bruteForce(runs: HeldRun[], target: number): { units: number; count: number } | null {
  let best: { units: number; count: number } | null = null;
  for (let mask = 0; mask < 1 << runs.length; mask++) {
    let units = 0;
    let count = 0;
    runs.forEach((r, i) => {
      if (mask & (1 << i)) {
        units += r.units;
        count++;
      }
    });
    if (units >= target && (best === null || units < best.units || (units === best.units && count < best.count))) best = { units, count };
  }
  return best;
}

describe('preemptForBurst', () => {
  it('takes free units first and pre-empts nothing when they suffice', () => {
    const r = preemptForBurst([need({ replicas: 2 })], { 'beijing/gpu': 2 }, [{ id: 'a', pool: 'beijing/gpu', units: 4, interruptible: true }]);
    expect(r.grants).toEqual([{ service: 'chat', site: 'beijing', pool: 'beijing/gpu', replicas: 2, unservedRps: 0 }]);
    expect(r.preempted).toEqual([]);
  });

  it('pre-empts the smallest interruptible run that covers the burst, never a non-interruptible one, and says why', () => {
    const runs: HeldRun[] = [
      { id: 'big', pool: 'beijing/gpu', units: 8, interruptible: true },
      { id: 'fixed', pool: 'beijing/gpu', units: 2, interruptible: false },
      { id: 'small', pool: 'beijing/gpu', units: 3, interruptible: true },
    ];
    const r = preemptForBurst([need({ replicas: 3, deficitRps: 20 })], { 'beijing/gpu': 0 }, runs);
    expect(r.preempted.map((p) => p.run)).toEqual(['small']);
    expect(r.preempted[0].reasons).toEqual([{ service: 'chat', site: 'beijing', region: 'shanghai', requestsPerSOverForecast: 20 }]);
    expect(r.grants[0]).toMatchObject({ replicas: 3, unservedRps: 0 });
  });

  it('covers what it can and states the rest unserved when interruptible units run out', () => {
    const runs: HeldRun[] = [
      { id: 'fixed', pool: 'beijing/gpu', units: 16, interruptible: false },
      { id: 'i1', pool: 'beijing/gpu', units: 4, interruptible: true },
    ];
    const r = preemptForBurst([need({ unitsPerReplica: 4, replicas: 3, deficitRps: 10, rpsPerReplica: 3.9 })], { 'beijing/gpu': 1 }, runs);
    expect(r.grants[0].replicas).toBe(1);
    expect(r.grants[0].unservedRps).toBeCloseTo(10 - 3.9);
    expect(r.preempted.map((p) => p.run)).toEqual(['i1']);
  });

  it('property: never a non-interruptible run; the fewest units covering the granted replicas; no further replica fits', () => {
    const runArb = fc.record({ units: fc.integer({ min: 1, max: 9 }), interruptible: fc.boolean(), pool: fc.constantFrom('p1', 'p2') });
    const needArb = fc.record({ pool: fc.constantFrom('p1', 'p2'), unitsPerReplica: fc.constantFrom(1, 2, 4), replicas: fc.integer({ min: 0, max: 6 }), service: fc.constantFrom('a', 'b', 'c'), deficitRps: fc.double({ min: 0.1, max: 50, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(runArb, { maxLength: 10 }), fc.array(needArb, { maxLength: 4 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), (rawRuns, rawNeeds, free1, free2) => {
        const runs: HeldRun[] = rawRuns.map((r, i) => ({ id: `r${i}`, ...r }));
        const needs: BurstNeed[] = rawNeeds.map((n, i) => need({ ...n, site: `s${i}`, rpsPerReplica: n.deficitRps / Math.max(1, n.replicas) }));
        const free: Record<string, number> = { p1: free1, p2: free2 };
        const r = preemptForBurst(needs, free, runs);
        const byId = new Map(runs.map((x) => [x.id, x]));
        for (const p of r.preempted) {
          expect(byId.get(p.run)!.interruptible).toBe(true);
          expect(byId.get(p.run)!.pool).toBe(p.pool);
        }
        for (const pool of ['p1', 'p2']) {
          const grants = r.grants.filter((g) => g.pool === pool);
          const here = needs.filter((n) => n.pool === pool && n.replicas > 0);
          const unitsOf = (g: (typeof grants)[number]) => g.replicas * here.find((n) => n.service === g.service && n.site === g.site)!.unitsPerReplica;
          const granted = grants.reduce((s, g) => s + unitsOf(g), 0);
          const taken = r.preempted.filter((p) => p.pool === pool);
          const takenUnits = taken.reduce((s, p) => s + p.units, 0);
          // Enough units for what was granted, and the pre-emption is the least that provides them.
          expect(free[pool] + takenUnits).toBeGreaterThanOrEqual(granted);
          const candidates = runs.filter((x) => x.pool === pool && x.interruptible);
          const best = bruteForce(candidates, granted - Math.min(free[pool], granted));
          expect(best).not.toBeNull();
          expect({ units: takenUnits, count: taken.length }).toEqual(best);
          // Maximal: what free and interruptible units leave cannot hold one more replica of any need still short.
          const left = free[pool] + candidates.reduce((s, x) => s + x.units, 0) - granted;
          for (const g of grants) {
            const n = here.find((x) => x.service === g.service && x.site === g.site)!;
            expect(g.replicas).toBeLessThanOrEqual(n.replicas);
            if (g.replicas < n.replicas) expect(left).toBeLessThan(n.unitsPerReplica);
            if (g.replicas === n.replicas) expect(g.unservedRps).toBeCloseTo(Math.max(0, n.deficitRps - n.replicas * n.rpsPerReplica), 9);
            else expect(g.unservedRps).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('fewestUnitsCovering prefers the least units, then the fewest runs', () => {
    const runs = [{ units: 5 }, { units: 2 }, { units: 3 }, { units: 6 }];
    expect(fewestUnitsCovering(runs, 5)).toEqual([{ units: 5 }]);
    expect(fewestUnitsCovering(runs, 7).reduce((s, r) => s + r.units, 0)).toBe(7);
    expect(fewestUnitsCovering(runs, 0)).toEqual([]);
    expect(() => fewestUnitsCovering(runs, 17)).toThrow(/cannot cover/);
  });
});
