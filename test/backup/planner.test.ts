/**
 * The backup transfer planner (src/core/backup/planner.ts): property tests on random networks (no link over
 * capacity in any slot, every RPO met when the instance is feasible by construction, bound ≤ plan value), and
 * the behaviours it is for: relaying when a direct link is full, re-routing when a link is down, waiting for
 * low-carbon hours, copy windows, and sharing links with job input transfers.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Link, Network, SiteSignals, TimeGrid } from '../../src/core/model/types.ts';
import type { LpSolver } from '../../src/core/lp/model.ts';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import { parseObjective, type Objective } from '../../src/core/dispatch/objective.ts';
import { BACKUP_SCORES, hopCapacityGB, planBackups, type BackupPlanResult, type BackupRequest } from '../../src/core/backup/planner.ts';
import { datasetVersions, slotInWindow, type BackupDataset, type BackupPolicy } from '../../src/core/backup/model.ts';
import { loadScenario } from '../../src/scenario/index.ts';

let solver: LpSolver;
beforeAll(async () => {
  solver = await loadHighsSolver();
});

const objective = (text: string) => parseObjective(text, BACKUP_SCORES) as Objective;
const grid = (slots: number): TimeGrid => ({ startMs: Date.UTC(2026, 5, 1), slotMinutes: 60, slots });

function site(id: string) {
  return { id, name: id, region: id, lat: 0, lon: 0, pue: 1.2, pools: [], renewable: { priceYuanPerKWh: 0.1, carbonGPerKWh: 20 } };
}
function link(from: string, to: string, bandwidthGbps: number, costYuanPerGB = 0.1): Link {
  return { from, to, bandwidthGbps, latencyMs: 5, costYuanPerGB, energyKWhPerGB: 0.005 };
}
function flatSignals(ids: string[], slots: number, carbon: (site: string, t: number) => number = () => 500): Record<string, SiteSignals> {
  return Object.fromEntries(ids.map((id) => [id, { priceYuanPerKWh: new Array(slots).fill(0.5), carbonGPerKWh: Array.from({ length: slots }, (_, t) => carbon(id, t)), renewableKW: new Array(slots).fill(0) }]));
}
function policy(targets: string[] | null, rpoHours: number, replicas = targets?.length ?? 1, window: BackupPolicy['window'] = null): BackupPolicy {
  return { id: `p-${rpoHours}-${targets?.join('-') ?? 'any'}`, candidates: targets, replicas, rpoHours, retainVersions: 3, window };
}
function dataset(id: string, origin: string, p: BackupPolicy, sizeGB: number, changePerSlotGB: number, slots: number, seeded: string[] = []): BackupDataset {
  return { id, tenant: 't', origin, sizeGB, changeGBPerSlot: new Array(slots).fill(changePerSlotGB), prefix: id, seeded, policy: p };
}

/** Every check that holds for any plan: capacity per direction and slot, and the bound below the plan's value. */
function checkInvariants(request: BackupRequest, result: BackupPlanResult): void {
  for (const l of result.links) {
    const lk = request.network.links.find((k) => (k.from === l.from && k.to === l.to) || (k.from === l.to && k.to === l.from))!;
    expect(l.capacityGB).toBeCloseTo(hopCapacityGB(lk, request.grid), 9);
    for (const s of l.slots) if (s.backupGB > 1e-6) expect(s.backupGB + s.jobGB).toBeLessThanOrEqual(l.capacityGB * (1 + 1e-7) + 1e-6);
  }
  // Transfers: hops joined and in later slots.
  for (const tr of result.transfers) {
    for (let k = 1; k < tr.hops.length; k++) {
      expect(tr.hops[k].from).toBe(tr.hops[k - 1].to);
      expect(tr.hops[k].slot).toBeGreaterThan(tr.hops[k - 1].slot);
    }
    expect(tr.hops[tr.hops.length - 1].to).toBe(tr.target);
  }
  if (result.bound) expect(result.bound.value).toBeLessThanOrEqual(result.bound.planValue * (1 + 1e-9) + 1e-9);
}

describe('property: random networks', () => {
  const instance = fc.record({
    sites: fc.integer({ min: 3, max: 5 }),
    slots: fc.integer({ min: 12, max: 36 }),
    bandwidth: fc.array(fc.double({ min: 0.01, max: 2, noNaN: true }), { minLength: 10, maxLength: 10 }),
    chords: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }),
    carbon: fc.array(fc.integer({ min: 50, max: 900 }), { minLength: 40, maxLength: 40 }),
    datasets: fc.array(
      fc.record({ origin: fc.nat(), target: fc.nat(), rpo: fc.constantFrom(4, 6, 8, 12), size: fc.integer({ min: 0, max: 400 }), change: fc.integer({ min: 0, max: 40 }), seeded: fc.boolean(), any: fc.boolean() }),
      { minLength: 1, maxLength: 6 },
    ),
    jobs: fc.array(fc.record({ from: fc.nat(), gb: fc.integer({ min: 1, max: 2000 }), start: fc.nat(), length: fc.integer({ min: 1, max: 6 }) }), { maxLength: 3 }),
    objective: fc.constantFrom('cost', 'carbon', 'cost=1,carbon=0.5'),
  });

  type Instance = typeof instance extends fc.Arbitrary<infer T> ? T : never;

  function build(x: Instance, ample: boolean): BackupRequest {
    const ids = Array.from({ length: x.sites }, (_, i) => `s${i}`);
    const links: Link[] = ids.map((id, i) => link(id, ids[(i + 1) % ids.length], ample ? 10 : x.bandwidth[i]));
    for (const [a, b] of x.chords) {
      const from = ids[a % x.sites];
      const to = ids[b % x.sites];
      if (from !== to && !links.some((l) => (l.from === from && l.to === to) || (l.from === to && l.to === from))) links.push(link(from, to, ample ? 10 : x.bandwidth[links.length % 10], 0.05));
    }
    const network: Network = { sites: ids.map(site), links };
    const g = grid(x.slots);
    const datasets = x.datasets.map((d, i) => {
      const origin = ids[d.origin % x.sites];
      const others = ids.filter((s) => s !== origin);
      const target = others[d.target % others.length];
      const p = d.any ? policy(null, d.rpo, 1) : policy([target], d.rpo);
      return dataset(`d${i}`, origin, p, d.size, d.change, x.slots, d.seeded ? ids : []);
    });
    const jobTransfers = x.jobs.map((j) => {
      const from = ids[j.from % x.sites];
      const to = ids[(j.from + 1) % x.sites];
      const startMs = g.startMs + (j.start % x.slots) * 3_600_000;
      return { route: [from, to], gb: j.gb, startMs, endMs: startMs + j.length * 3_600_000 };
    });
    return { network, grid: g, signals: flatSignals(ids, x.slots, (s, t) => x.carbon[(t + ids.indexOf(s) * 7) % 40]), datasets, jobTransfers, objective: objective(x.objective) };
  }

  it('never puts a link over capacity, and the bound is at most the plan value', () => {
    fc.assert(
      fc.property(instance, (x) => {
        const request = build(x, false);
        const result = planBackups(request, { solver });
        checkInvariants(request, result);
        // Without unmet data, every RPO is met; with some, the plan has no bound and says which.
        if (result.unmet.length === 0) expect(result.datasets.every((d) => d.rpoMet)).toBe(true);
        else expect(result.bound).toBeNull();
      }),
      { numRuns: 30, seed: 13 },
    );
  });

  it('meets every RPO when links are ample (feasible by construction), with its bound', () => {
    fc.assert(
      fc.property(instance, (x) => {
        const request = build(x, true);
        const result = planBackups(request, { solver });
        checkInvariants(request, result);
        expect(result.unmet).toEqual([]);
        expect(result.unplaced).toEqual([]);
        expect(result.datasets.every((d) => d.rpoMet && d.replicas.every((r) => r.maxAgeHours === null || r.maxAgeHours <= d.rpoHours))).toBe(true);
        expect(result.bound).not.toBeNull();
        // Every GB of every version due in the plan moves, once per replica.
        let due = 0;
        for (const d of request.datasets) {
          const replicas = result.datasets.find((p) => p.id === d.id)!.replicas;
          for (const r of replicas) for (const v of datasetVersions(d, request.grid)) if (v.deadline <= request.grid.slots) due += v.index === 0 ? (r.seeded ? 0 : d.sizeGB) : v.changeGB;
        }
        expect(result.transfers.reduce((s, t) => s + t.gb, 0)).toBeCloseTo(due, 4);
      }),
      { numRuns: 25, seed: 7 },
    );
  });
});

describe('routes and time', () => {
  const ids = ['a', 'b', 'c'];

  it('relays through an intermediate site when the direct link is too small', () => {
    // a–c carries 45 GB an hour; 1,000 GB must reach c within 4 h: the rest goes a→b→c.
    const network: Network = { sites: ids.map(site), links: [link('a', 'c', 0.1), link('a', 'b', 10), link('b', 'c', 10)] };
    const request: BackupRequest = { network, grid: grid(12), signals: flatSignals(ids, 12), datasets: [dataset('big', 'a', policy(['c'], 4), 1000, 0, 12)], jobTransfers: [], objective: objective('cost') };
    const result = planBackups(request, { solver });
    checkInvariants(request, result);
    expect(result.datasets[0].rpoMet).toBe(true);
    const relayed = result.transfers.filter((t) => t.hops.length === 2 && t.hops[0].to === 'b').reduce((s, t) => s + t.gb, 0);
    const direct = result.transfers.filter((t) => t.hops.length === 1).reduce((s, t) => s + t.gb, 0);
    expect(relayed).toBeGreaterThan(0);
    expect(direct + relayed).toBeCloseTo(1000, 6);
  });

  it('re-routes over another route when a link is down', () => {
    const scenario = loadScenario('hami', { slots: 48 });
    const signals = Object.fromEntries(Object.entries(scenario.signals).map(([id, p]) => [id, p.forecast]));
    const datasets = [dataset('bj', 'beijing', policy(['hami'], 12), 2000, 50, 48)];
    const up = planBackups({ network: scenario.network, grid: scenario.grid, signals, datasets, jobTransfers: [], objective: objective('cost') }, { solver });
    expect(up.transfers.every((t) => t.hops.length === 1 && t.hops[0].from === 'beijing')).toBe(true);
    const down = { ...scenario.network, links: scenario.network.links.filter((l) => !(l.from === 'hami' && l.to === 'beijing')) };
    const result = planBackups({ network: down, grid: scenario.grid, signals, datasets, jobTransfers: [], objective: objective('cost') }, { solver });
    expect(result.datasets[0].rpoMet).toBe(true);
    expect(result.transfers.length).toBeGreaterThan(0);
    for (const t of result.transfers) expect(t.hops[0]).toMatchObject({ from: 'beijing', to: 'zhengzhou' });
  });

  it("plans from a replica's state (the service's): the change since its last copy, due by that copy + the RPO, with its age", () => {
    // The replica at c was copied 5 h before the grid, RPO 8 h: 3 GB pending must land by time point 3; its age starts at 5 h.
    const network: Network = { sites: ids.map(site), links: [link('a', 'c', 10)] };
    const carbon = (_s: string, t: number) => (t >= 6 ? 10 : t === 2 ? 100 : 800); // cheapest later, but due by 3: slot 2
    const d = { ...dataset('late', 'a', policy(['c'], 8), 100, 0, 12), replicaStart: { c: { pendingGB: 3, dueAt: 3, copiedAt: -5 } } };
    const request: BackupRequest = { network, grid: grid(12), signals: flatSignals(ids, 12, carbon), datasets: [d], jobTransfers: [], objective: objective('carbon') };
    const result = planBackups(request, { solver });
    checkInvariants(request, result);
    const replica = result.datasets[0].replicas[0];
    expect(replica.versions[0]).toMatchObject({ index: 0, gb: 3, deadline: 3 });
    expect(replica.versions[0].arrival).toBeLessThanOrEqual(3);
    expect(result.transfers.filter((t) => t.datasets.some((x) => x.version === 0)).reduce((s, t) => s + t.gb, 0)).toBeCloseTo(3, 6);
    expect(replica.versions[0].arrival).toBe(3);
    // Until it lands the replica holds the copy of 5 h before the grid.
    expect(replica.ageHours.slice(0, 3)).toEqual([6, 7, 3]);
    expect(replica.rpoMet).toBe(true);
  });

  it('waits for low-carbon hours under the carbon objective', () => {
    // Carbon is low in slots 8–11 only; RPO 24 h leaves room to wait for them.
    const carbon = (_s: string, t: number) => (t >= 8 && t < 12 ? 50 : 800);
    const network: Network = { sites: ids.map(site), links: [link('a', 'b', 10)] };
    const request: BackupRequest = { network, grid: grid(24), signals: flatSignals(ids, 24, carbon), datasets: [dataset('d', 'a', policy(['b'], 24), 100, 0, 24)], jobTransfers: [], objective: objective('carbon') };
    const result = planBackups(request, { solver });
    expect(result.transfers.length).toBeGreaterThan(0);
    for (const t of result.transfers) for (const h of t.hops) expect(h.slot >= 8 && h.slot < 12).toBe(true);
    expect(result.bound!.gapPct).toBeCloseTo(0, 9);
  });

  it('moves data only inside a copy window', () => {
    const window = { fromMin: 2 * 60, toMin: 6 * 60, offsetMin: 480 }; // 02:00–06:00 Beijing time = 18:00–22:00 UTC
    const network: Network = { sites: ids.map(site), links: [link('a', 'b', 10)] };
    const g = grid(72);
    const request: BackupRequest = { network, grid: g, signals: flatSignals(ids, 72), datasets: [dataset('d', 'a', policy(['b'], 30, 1, window), 200, 5, 72)], jobTransfers: [], objective: objective('cost') };
    const result = planBackups(request, { solver });
    expect(result.datasets[0].rpoMet).toBe(true);
    for (const t of result.transfers) for (const h of t.hops) expect(slotInWindow(window, g, h.slot)).toBe(true);
  });

  it('shares links with job input transfers: backups fit in what jobs leave', () => {
    // a→b carries 4,500 GB an hour; a job transfer takes 4,000 GB in each of slots 0–5.
    const network: Network = { sites: ids.map(site), links: [link('a', 'b', 10), link('a', 'c', 10), link('c', 'b', 10)] };
    const g = grid(12);
    const jobTransfers = [{ route: ['a', 'b'], gb: 24_000, startMs: g.startMs, endMs: g.startMs + 6 * 3_600_000 }];
    const request: BackupRequest = { network, grid: g, signals: flatSignals(ids, 12), datasets: [dataset('d', 'a', policy(['b'], 4), 3000, 0, 12)], jobTransfers, objective: objective('cost') };
    const result = planBackups(request, { solver });
    checkInvariants(request, result);
    expect(result.totals.jobGB).toBeCloseTo(24_000, 6);
    expect(result.datasets[0].rpoMet).toBe(true);
    const ab = result.links.find((l) => l.from === 'a' && l.to === 'b')!;
    for (const s of ab.slots.filter((x) => x.slot < 6)) expect(s.backupGB).toBeLessThanOrEqual(500 + 1e-6);
  });

  it('reports data that cannot arrive in time as unmet, with no bound', () => {
    const network: Network = { sites: ids.map(site), links: [link('a', 'b', 0.01)] };
    const request: BackupRequest = { network, grid: grid(12), signals: flatSignals(ids, 12), datasets: [dataset('huge', 'a', policy(['b'], 4), 10_000, 0, 12)], jobTransfers: [], objective: objective('cost') };
    const result = planBackups(request, { solver });
    checkInvariants(request, result);
    expect(result.unmet.length).toBeGreaterThan(0);
    expect(result.unmet[0].datasets).toEqual(['huge']);
    expect(result.datasets[0].rpoMet).toBe(false);
    expect(result.bound).toBeNull();
  });
});
