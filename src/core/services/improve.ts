/**
 * Local improvement of a rounded services slot (placement.ts, `place`, after each slot is rounded and repaired).
 * Rounding up leaves a partly loaded replica at every site a service uses, and on the accelerators' concave power
 * curve a replica at 75 % load draws 96 % of full power. Per service, while the slot's objective falls (priced with
 * the curve itself, renewables first, like accounting): drop a replica whose load fits the spare capacity of other
 * sites within each moved region's latency objective, moving that load there (cheapest site first); keep a replica
 * warm at a site where it would stop instead of starting one elsewhere; move load from one site to another within the
 * objective where the curve makes it cheaper. Minimum replicas, pool units and quotas hold (a replica is added only
 * where its units are free), as do latency (moves stay within each region's feasible sites), capacity after warm-up
 * and every region's served demand.
 */
import { powerAtLoadW } from '../model/power.ts';
import { servingCapacityRps, unitGroupsOf, unitsFree, type Prepared } from './placement.ts';

/** Improves slot t of a placement in place: `replicas[k][j][t]` and `servedRps[k][r][j][t]`. */
export function improveSlot(p: Prepared, replicas: Int32Array[][], servedRps: Float64Array[][][], t: number): void {
  const sites = p.problem.network.sites;
  const R = p.regions.length;
  const prevOf = (k: number, j: number) => (t === 0 ? p.initial[k][j] : replicas[k][j][t - 1]);
  /** Facility kWh of service k at site j with n replicas serving s requests/s. */
  const serviceKWh = (k: number, j: number, n: number, s: number) => {
    if (n <= 0) return 0;
    const c = p.services[k];
    const load = Math.min(1, s / (n * c.capacityRps));
    const itKWh = (n * c.spec.unitsPerReplica * powerAtLoadW(c.pool[j]!.powerCurve, load) * p.slotHours) / 1000;
    return (itKWh + Math.max(0, n - prevOf(k, j)) * c.spec.coldStart.energyKWh) * sites[j].pue;
  };
  const siteCost = (j: number, kWh: number) => {
    const green = Math.min(kWh, p.greenKWh[j][t]);
    return green * p.greenRate[j] + (kWh - green) * p.gridRate[j][t];
  };
  const served = p.services.map((_, k) => Float64Array.from(sites, (_s, j) => sumRegions(servedRps[k], j, t, R)));
  const siteKWh = Float64Array.from(sites, (_s, j) => p.services.reduce((sum, c, k) => sum + (c.sites.includes(j) ? serviceKWh(k, j, replicas[k][j][t], served[k][j]) : 0), 0));
  // A replica dropped now may start again next slot: a saving must beat that cold start at the dearest rate.
  const restartCost = (k: number, j: number) => (t + 1 < p.slots ? p.services[k].spec.coldStart.energyKWh * sites[j].pue * Math.max(p.greenRate[j], p.gridRate[j][t + 1]) : 0);

  // Units each pool and quota holds in the slot: a replica kept warm must fit.
  const used = new Map<string, number>();
  const addUnits = (k: number, j: number, units: number) => {
    for (const id of unitGroupsOf(p, k, j)) used.set(id, (used.get(id) ?? 0) + units);
  };
  p.services.forEach((c, k) => c.sites.forEach((j) => addUnits(k, j, replicas[k][j][t] * c.spec.unitsPerReplica)));
  const fits = (k: number, j: number) => unitGroupsOf(p, k, j).every((id) => (used.get(id) ?? 0) + p.services[k].spec.unitsPerReplica <= unitsFree(p, id, t));

  p.services.forEach((c, k) => {
    const n = Int32Array.from(sites, (_s, j) => replicas[k][j][t]);
    const s = served[k];
    const spare = (j: number) => servingCapacityRps(c, n[j], prevOf(k, j)) - s[j];
    /** Cost change of service k's sites going to (n', s') on the sites listed. */
    const delta = (changed: Map<number, { n: number; s: number }>) => {
      let d = 0;
      for (const [j, v] of changed) {
        const kWh = siteKWh[j] - serviceKWh(k, j, n[j], s[j]) + serviceKWh(k, j, v.n, v.s);
        d += siteCost(j, kWh) - siteCost(j, siteKWh[j]);
      }
      return d;
    };
    /** Moves up to `rps` of site j's load to other sites within each region's objective, cheapest first; the moves made. */
    const moveAway = (j: number, rps: number, room: (i: number) => number) => {
      const moves: { r: number; i: number; rps: number }[] = [];
      const taken = new Map<number, number>();
      const targets = c.sites.filter((i) => i !== j && n[i] > 0).sort((a, b) => marginalRate(a) - marginalRate(b));
      for (let r = 0; r < R && rps > 1e-9; r++) {
        let from = servedRps[k][r][j][t];
        for (const i of targets) {
          if (from <= 1e-9 || rps <= 1e-9) break;
          if (!c.feasible[r].includes(i)) continue;
          const m = Math.min(from, rps, room(i) - (taken.get(i) ?? 0));
          if (m <= 1e-9) continue;
          moves.push({ r, i, rps: m });
          taken.set(i, (taken.get(i) ?? 0) + m);
          from -= m;
          rps -= m;
        }
      }
      return { moves, left: rps, taken };
    };
    const marginalRate = (i: number) => sites[i].pue * (siteKWh[i] < p.greenKWh[i][t] ? p.greenRate[i] : p.gridRate[i][t]);
    const apply = (j: number, nj: number, moves: { r: number; i: number; rps: number }[], warm = -1) => {
      const changed = new Set([j, ...moves.map((m) => m.i), ...(warm >= 0 ? [warm] : [])]);
      for (const i of changed) siteKWh[i] -= serviceKWh(k, i, n[i], s[i]);
      addUnits(k, j, (nj - n[j]) * c.spec.unitsPerReplica);
      n[j] = nj;
      if (warm >= 0) {
        n[warm]++;
        addUnits(k, warm, c.spec.unitsPerReplica);
      }
      for (const m of moves) {
        servedRps[k][m.r][j][t] = Math.max(0, servedRps[k][m.r][j][t] - m.rps);
        servedRps[k][m.r][m.i][t] += m.rps;
        s[j] -= m.rps;
        s[m.i] += m.rps;
      }
      for (const i of changed) siteKWh[i] += serviceKWh(k, i, n[i], s[i]);
    };
    const minTotal = Math.min(c.spec.minReplicas.total, n.reduce((a, b) => a + b, 0));
    for (let guard = 0; guard < 1000; guard++) {
      let best: { d: number; j: number; nj: number; moves: { r: number; i: number; rps: number }[]; warm?: number } | null = null;
      const total = n.reduce((a, b) => a + b, 0);
      for (const j of c.sites) {
        // Drop one replica at j, moving the load it can no longer serve.
        if (n[j] > c.minAtSite[j] && total > minTotal) {
          const excess = s[j] - servingCapacityRps(c, n[j] - 1, prevOf(k, j));
          const plan = excess > 1e-9 ? moveAway(j, excess, spare) : { moves: [], left: 0, taken: new Map<number, number>() };
          if (plan.left <= 1e-9) {
            const changed = new Map([[j, { n: n[j] - 1, s: s[j] - (excess > 1e-9 ? excess - plan.left : 0) }]]);
            for (const [i, rps] of plan.taken) changed.set(i, { n: n[i], s: s[i] + rps });
            const d = delta(changed) + restartCost(k, j);
            if (d < -1e-9 && (!best || d < best.d)) best = { d, j, nj: n[j] - 1, moves: plan.moves };
          }
        }
        // Keep a replica warm at a site it stops at rather than start one at j (no cold start, no warm-up).
        if (n[j] > prevOf(k, j) && n[j] > c.minAtSite[j])
          for (const i of c.sites) {
            if (i === j || n[i] >= prevOf(k, i) || !fits(k, i)) continue;
            n[i]++;
            const excess = s[j] - servingCapacityRps(c, n[j] - 1, prevOf(k, j));
            const plan = excess > 1e-9 ? moveAway(j, excess, spare) : { moves: [], left: 0, taken: new Map<number, number>() };
            n[i]--;
            if (plan.left > 1e-9) continue;
            const changed = new Map([[j, { n: n[j] - 1, s: s[j] - Math.max(0, excess) }]]);
            changed.set(i, { n: n[i] + 1, s: s[i] + (plan.taken.get(i) ?? 0) });
            for (const [m, rps] of plan.taken) if (m !== i) changed.set(m, { n: n[m], s: s[m] + rps });
            const d = delta(changed);
            if (d < -1e-9 && (!best || d < best.d)) best = { d, j, nj: n[j] - 1, moves: plan.moves, warm: i };
          }
        // Move load from j to fill other sites (the curve is concave: fuller replicas serve a request for less).
        if (s[j] > 1e-9) {
          const plan = moveAway(j, s[j], spare);
          if (plan.moves.length > 0) {
            const changed = new Map([[j, { n: n[j], s: s[j] - (s[j] - plan.left) }]]);
            for (const [i, rps] of plan.taken) changed.set(i, { n: n[i], s: s[i] + rps });
            const d = delta(changed);
            if (d < -1e-9 && (!best || d < best.d)) best = { d, j, nj: n[j], moves: plan.moves };
          }
        }
      }
      if (!best) break;
      apply(best.j, best.nj, best.moves, best.warm);
    }
    for (const j of c.sites) replicas[k][j][t] = n[j];
  });
}

function sumRegions(x: Float64Array[][], j: number, t: number, R: number): number {
  let sum = 0;
  for (let r = 0; r < R; r++) sum += x[r][j][t];
  return sum;
}
