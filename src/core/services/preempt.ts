/**
 * Pre-emption of batch work by a demand burst (issue 12 item 3, docs/services.md "Pre-emption"). Pure.
 *
 * When the actual demand of a slot exceeds what the planned replicas serve within the objective, more replicas are
 * needed at the sites the load balancer sends that demand to. They take units nobody holds first; then units of
 * **interruptible** batch runs, which pause and resume later; never units of non-interruptible runs. Per pool, the
 * replicas granted are as many as those units allow (needs served largest deficit first; whatever is left over is
 * smaller than one more replica of any need still short), and the runs pre-empted are the fewest units that cover
 * them (an exact subset-sum over the runs' units; ties: fewer runs, then the runs listed first). Demand the units
 * cannot cover is stated as unserved. Called by the simulator (src/sim/services.ts) once per slot.
 */

/** Replicas one service needs at one site in a slot beyond those planned, and why. */
export interface BurstNeed {
  service: string;
  site: string;
  /** The pool the replicas run on (an opaque key, e.g. `site/pool`). */
  pool: string;
  unitsPerReplica: number;
  /** Extra replicas that would serve the whole burst. */
  replicas: number;
  /** Requests/s the burst lacks at this site (the objective's percentile of the slot's load, minus the planned capacity). */
  deficitRps: number;
  /** Requests/s one extra replica adds in this slot (after its warm-up). */
  rpsPerReplica: number;
  /** The regions whose demand the site serves: their forecast and actual requests/s (slot means). */
  regions: { region: string; forecastRps: number; actualRps: number }[];
}

/** A batch run holding units of a pool in the slot. */
export interface HeldRun {
  id: string;
  pool: string;
  units: number;
  interruptible: boolean;
}

/** Why a run was pre-empted: a service short at a site, the region's requests/s over its forecast. */
export interface PreemptReason {
  service: string;
  site: string;
  region: string;
  /** Actual − forecast requests/s of that region (slot means); may be ≤ 0 when the burst is within the slot only. */
  requestsPerSOverForecast: number;
}

export interface Grant {
  service: string;
  site: string;
  pool: string;
  /** Extra replicas started: from free units and from pre-empted ones. */
  replicas: number;
  /** Requests/s of the burst still not covered (0 when it is). */
  unservedRps: number;
}

export interface PreemptResult {
  grants: Grant[];
  preempted: { run: string; pool: string; units: number; reasons: PreemptReason[] }[];
  /** Units taken per pool: free ones, and freed by pre-emption (≥ what the granted replicas hold; the rest stays free). */
  units: { pool: string; fromFree: number; fromPreempted: number }[];
}

/** Decides extra replicas and the runs they pre-empt in one slot; `freeUnits` are the units no service or batch run holds, per pool. */
export function preemptForBurst(needs: readonly BurstNeed[], freeUnits: Readonly<Record<string, number>>, runs: readonly HeldRun[]): PreemptResult {
  const result: PreemptResult = { grants: [], preempted: [], units: [] };
  const pools = [...new Set(needs.filter((n) => n.replicas > 0).map((n) => n.pool))].sort();
  for (const pool of pools) {
    const here = needs.filter((n) => n.pool === pool && n.replicas > 0).sort((a, b) => b.deficitRps - a.deficitRps || a.service.localeCompare(b.service) || a.site.localeCompare(b.site));
    const free = Math.max(0, Math.floor(freeUnits[pool] ?? 0));
    const candidates = runs.filter((r) => r.pool === pool && r.interruptible && r.units > 0);
    let budget = free + candidates.reduce((sum, r) => sum + r.units, 0);
    let unitsNeeded = 0;
    const granted: [BurstNeed, number][] = [];
    for (const need of here) {
      const k = Math.min(need.replicas, Math.floor(budget / need.unitsPerReplica));
      budget -= k * need.unitsPerReplica;
      unitsNeeded += k * need.unitsPerReplica;
      granted.push([need, k]);
      result.grants.push({ service: need.service, site: need.site, pool, replicas: k, unservedRps: Math.max(0, need.deficitRps - k * need.rpsPerReplica) });
    }
    const fromFree = Math.min(free, unitsNeeded);
    const chosen = fewestUnitsCovering(candidates, unitsNeeded - fromFree);
    const reasons: PreemptReason[] = granted
      .filter(([, k]) => k > 0)
      .flatMap(([need]) => need.regions.map((r) => ({ service: need.service, site: need.site, region: r.region, requestsPerSOverForecast: r.actualRps - r.forecastRps })));
    for (const run of chosen) result.preempted.push({ run: run.id, pool, units: run.units, reasons });
    result.units.push({ pool, fromFree, fromPreempted: chosen.reduce((sum, r) => sum + r.units, 0) });
  }
  return result;
}

/**
 * The subset of runs whose units sum to at least `target` with the least units, then the fewest runs, then the
 * earliest in the list: a subset-sum over sums up to target + the largest run (no least covering sum is above it).
 */
export function fewestUnitsCovering<T extends { units: number }>(runs: readonly T[], target: number): T[] {
  if (target <= 0) return [];
  const total = runs.reduce((sum, r) => sum + r.units, 0);
  if (total < target) throw new Error(`cannot cover ${target} units with ${total}`);
  const limit = Math.min(total, target + Math.max(...runs.map((r) => r.units)));
  const INF = 0x7fffffff;
  // count[s]: fewest runs among those seen so far that sum to exactly s; took[i][s]: run i improved it (0/1 knapsack).
  const count = new Int32Array(limit + 1).fill(INF);
  count[0] = 0;
  const took = runs.map(() => new Uint8Array(limit + 1));
  runs.forEach((run, i) => {
    for (let s = limit; s >= run.units; s--) {
      const c = count[s - run.units];
      // Strictly fewer: at equal counts the subset found first (earlier runs) stays.
      if (c !== INF && c + 1 < count[s]) {
        count[s] = c + 1;
        took[i][s] = 1;
      }
    }
  });
  let s = target;
  while (count[s] === INF) s++;
  const out: T[] = [];
  for (let i = runs.length - 1; i >= 0 && s > 0; i--) {
    // took[i][s]: the best subset of runs 0..i summing to s ends with run i, built on the best of runs 0..i−1 at s − units.
    if (took[i][s] === 1) {
      out.push(runs[i]);
      s -= runs[i].units;
    }
  }
  return out.reverse();
}

/** A service's burst at the site the load balancer sends it to, and the other sites its excess may go to. */
export interface BurstPlan {
  need: BurstNeed;
  /** Other sites within the latency objective of every region the site serves, nearest first, with their pool key. */
  elsewhere: readonly { site: string; pool: string }[];
}

/** Extra replicas of one service started at `site` for the burst of `home` (the same site, or one it spills to). */
export interface BurstReplicas {
  service: string;
  home: string;
  site: string;
  pool: string;
  replicas: number;
  unitsPerReplica: number;
}

export interface BurstCover {
  replicas: BurstReplicas[];
  preempted: PreemptResult['preempted'];
  /** Requests/s each plan (in the order given) is still short after all of it. */
  shortRps: number[];
}

/**
 * Covers bursts across sites (preemptForBurst per pool): free units at every plan's own site first, then free units at
 * its other sites nearest first; only then pre-emption of interruptible runs in the same order, so that the least
 * batch work is paused. Called by the simulator (src/sim/services.ts) once per slot and by the service's loop
 * (src/service/services-loop.ts) at every tick with a fresh load report.
 */
export function coverBursts(plans: readonly BurstPlan[], freeUnits: Readonly<Record<string, number>>, runs: readonly HeldRun[]): BurstCover {
  const EPS = 1e-9;
  const free: Record<string, number> = { ...freeUnits };
  let open = [...runs];
  const out: BurstCover = { replicas: [], preempted: [], shortRps: plans.map((x) => x.need.deficitRps) };
  const order = plans.map((_, i) => i).sort((a, b) => plans[b].need.deficitRps - plans[a].need.deficitRps || plans[a].need.service.localeCompare(plans[b].need.service) || plans[a].need.site.localeCompare(plans[b].need.site));
  const rest = (i: number): BurstNeed => ({ ...plans[i].need, replicas: Math.ceil(out.shortRps[i] / plans[i].need.rpsPerReplica - EPS), deficitRps: out.shortRps[i] });
  /** Grants what the units allow to plans `which` at sites `at` at once; updates what each is short. */
  const grant = (which: readonly number[], at: readonly { site: string; pool: string }[], withRuns: boolean) => {
    const there = which.map((i, n) => ({ ...rest(i), pool: at[n].pool }));
    const result = preemptForBurst(there, free, withRuns ? open : []);
    for (const u of result.units) free[u.pool] = (free[u.pool] ?? 0) + u.fromPreempted;
    const taken = new Set(result.preempted.map((r) => r.run));
    open = open.filter((r) => !taken.has(r.id));
    out.preempted.push(...result.preempted);
    which.forEach((i, n) => {
      const g = result.grants.find((x) => x.service === there[n].service && x.site === there[n].site && x.pool === there[n].pool);
      if (!g) return;
      free[g.pool] -= g.replicas * there[n].unitsPerReplica;
      if (g.replicas > 0) out.replicas.push({ service: there[n].service, home: plans[i].need.site, site: at[n].site, pool: g.pool, replicas: g.replicas, unitsPerReplica: there[n].unitsPerReplica });
      out.shortRps[i] = g.unservedRps;
    });
  };
  for (const withRuns of [false, true]) {
    // All needs at their own sites in one call (per pool, the least pre-emption for all of them), then the rest elsewhere.
    const home = order.filter((i) => out.shortRps[i] > EPS && plans[i].need.replicas > 0);
    grant(home, home.map((i) => ({ site: plans[i].need.site, pool: plans[i].need.pool })), withRuns);
    for (const i of order)
      for (const other of plans[i].elsewhere) {
        if (out.shortRps[i] <= EPS) break;
        grant([i], [other], withRuns);
      }
  }
  return out;
}
