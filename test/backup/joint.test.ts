/**
 * Backups and batch input transfers share the links both ways (docs/backup.md, "Backups and batch share the links"):
 * the backup reservation (core/backup/planner.ts `backupReservation`) is what backups must hold to meet every RPO; the
 * batch planner moves job input on what it leaves (Snapshot.linkReserveGB, core/network/routes.ts
 * `reservedTransferDurationS`); backups are then planned on what the jobs leave. A tight link where the one-way order
 * (jobs first, backups on the rest) starves a backup of its RPO; with the reservation both the RPO and the job's
 * deadline are met, and no link carries more than its capacity in any slot. A property on random tight instances.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Job, Link } from '../../src/core/model/types.ts';
import type { LpSolver } from '../../src/core/lp/model.ts';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import { parseObjective, type Objective } from '../../src/core/dispatch/objective.ts';
import type { Snapshot } from '../../src/core/dispatch/cycle.ts';
import type { Plan } from '../../src/core/dispatch/plan.ts';
import { BACKUP_SCORES, backupReservation, hopCapacityGB, planBackups, type BackupPlanResult } from '../../src/core/backup/planner.ts';
import { fixedLinkUse, fixedTransferOf, type BackupDataset, type FixedTransfer } from '../../src/core/backup/model.ts';
import { hopKey, reserveOnGrid, reservedTransferDurationS, computeRoutes } from '../../src/core/network/routes.ts';
import { makeLink, makeSite, snapshotOf, T0 } from '../fixtures/scenario-builder.ts';
import { makeJob } from '../fixtures/job-builder.ts';
import { planViolations, planWith } from '../fixtures/plan-checks.ts';

let solver: LpSolver;
beforeAll(async () => {
  solver = await loadHighsSolver();
});

const HOUR_MS = 3_600_000;
const cost = parseObjective('cost', BACKUP_SCORES) as Objective;

function backup(id: string, origin: string, target: string, rpoHours: number, sizeGB: number, changePerSlotGB: number, slots: number): BackupDataset {
  return {
    id,
    tenant: 't',
    origin,
    sizeGB,
    changeGBPerSlot: new Array(slots).fill(changePerSlotGB),
    prefix: id,
    seeded: [],
    policy: { id: `p-${id}`, candidates: [target], replicas: 1, rpoHours, retainVersions: 1, window: null },
  };
}

/** The batch plan's input transfers (with their pieces when slowed), as the backup loop and the simulator read them. */
function transfersOf(plan: Plan): FixedTransfer[] {
  return plan.jobs.flatMap((j) => (j.transfer ? [fixedTransferOf(j.transfer)] : []));
}

/** The serve and simulator order: reserve for backups, plan batch around the reservation, plan backups on what batch leaves. */
function joint(snapshot: Snapshot, datasets: BackupDataset[]): { reserve: Map<string, Float64Array>; jobs: Plan; backups: BackupPlanResult } {
  const request = { network: snapshot.network, grid: snapshot.grid, signals: snapshot.signals, datasets };
  const reserve = backupReservation(request, { solver });
  const jobs = planWith({ ...snapshot, linkReserveGB: reserve }, 'optimize', 'cost');
  const backups = planBackups({ ...request, jobTransfers: transfersOf(jobs), linkReserveGB: reserve, objective: cost }, { solver });
  return { reserve, jobs, backups };
}

/** The old order: batch on whole links, backups on what it leaves. */
function oneWay(snapshot: Snapshot, datasets: BackupDataset[]): { jobs: Plan; backups: BackupPlanResult } {
  const jobs = planWith(snapshot, 'optimize', 'cost');
  const backups = planBackups({ network: snapshot.network, grid: snapshot.grid, signals: snapshot.signals, datasets, jobTransfers: transfersOf(jobs), objective: cost }, { solver });
  return { jobs, backups };
}

/** Every direction and slot: backups + job input within the link's capacity. */
function overCapacity(links: readonly Link[], result: BackupPlanResult, grid: Snapshot['grid']): string[] {
  const out: string[] = [];
  for (const l of result.links) {
    const link = links.find((k) => (k.from === l.from && k.to === l.to) || (k.from === l.to && k.to === l.from))!;
    const cap = hopCapacityGB(link, grid);
    for (const s of l.slots) if (s.backupGB + s.jobGB > cap * (1 + 1e-7) + 1e-6) out.push(`${l.from}>${l.to} slot ${s.slot}: ${s.backupGB} + ${s.jobGB} GB > ${cap}`);
  }
  return out;
}

describe('a tight link: 1 Gbit/s (450 GB an hour) from a to b', () => {
  // A job at a must run at b (the only pool) and moves 1,200 GB of input; a dataset at a owes b its 900 GB seed
  // within its 4 h RPO. The link can carry both by the RPO only if the job leaves it two slots before τ = 4.
  const slots = 12;
  const sites = [makeSite('a'), makeSite('b').ai(8)];
  const links = [makeLink('a', 'b', { bandwidthGbps: 1, latencyMs: 20 })];
  const job: Job = makeJob('train').units(1).duration('2h').at('a').input(1200).release(T0).deadline('12h').build();
  const snapshot = snapshotOf(sites, links, [job], { slots });
  const datasets = [backup('records', 'a', 'b', 4, 900, 10, slots)];

  it('one way (batch first) starves the backup: the job takes the link for 2.7 h and the seed misses its RPO', () => {
    const { jobs, backups } = oneWay(snapshot, datasets);
    expect(jobs.jobs.map((j) => j.id)).toEqual(['train']);
    expect(Date.parse(jobs.jobs[0].transfer!.end) - T0).toBeGreaterThan(2.6 * HOUR_MS);
    expect(backups.datasets[0].rpoMet).toBe(false);
    expect(backups.unmet.reduce((s, u) => s + u.gb, 0)).toBeGreaterThan(200);
    expect(overCapacity(links, backups, snapshot.grid)).toEqual([]);
  });

  it('with the reservation the RPO and the deadline are both met, and no slot of the link is over capacity', () => {
    const { reserve, jobs, backups } = joint(snapshot, datasets);
    // The reservation holds what is due by τ = 4 (the 900 GB seed and version 1's 20 GB of change) as late as it can:
    // slots 2 and 3 whole, the 20 GB left over in slot 1.
    const held = reserve.get(hopKey('a', 'b'))!;
    expect(held[2]).toBeCloseTo(450, 6);
    expect(held[3]).toBeCloseTo(450, 6);
    expect(held[1]).toBeCloseTo(20, 6);
    expect(held[0]).toBeCloseTo(0, 6);
    // The job moves 450 + 430 GB in slots 0 and 1, waits out the reserved slots, moves the rest in slot 4, then runs 2 h.
    expect(jobs.jobs.map((j) => j.id)).toEqual(['train']);
    const planned = jobs.jobs[0];
    const endMs = Date.parse(planned.transfer!.end);
    expect(endMs - T0).toBeGreaterThan(4 * HOUR_MS);
    expect(endMs - T0).toBeLessThan(5 * HOUR_MS);
    expect(Date.parse(planned.runs[planned.runs.length - 1].end)).toBeLessThanOrEqual(job.deadlineMs);
    expect(planViolations({ ...snapshot, linkReserveGB: reserve }, jobs)).toEqual([]);
    // Job input per slot never exceeds what the reservation left.
    const jobUse = fixedLinkUse(transfersOf(jobs), snapshot.grid, { links, reserveGB: reserve }).get(hopKey('a', 'b'))!;
    for (let t = 0; t < slots; t++) expect(jobUse[t]).toBeLessThanOrEqual(450 - held[t] + 1e-6);
    expect(jobUse[0]).toBeCloseTo(450, 1);
    expect(jobUse[2] + jobUse[3]).toBeCloseTo(0, 6);
    expect(backups.unmet).toEqual([]);
    expect(backups.datasets[0].rpoMet).toBe(true);
    expect(overCapacity(links, backups, snapshot.grid)).toEqual([]);
  });

  it('backups take from batch no more than they need: without a dataset nothing is reserved and the job moves at once', () => {
    const { reserve, jobs } = joint(snapshot, []);
    expect(reserve.size).toBe(0);
    expect(Date.parse(jobs.jobs[0].transfer!.end) - T0).toBeLessThan(2.7 * HOUR_MS);
  });
});

describe('reservedTransferDurationS and reserveOnGrid', () => {
  const grid = { startMs: T0, slotMinutes: 60, slots: 4 };
  const network = { sites: ['a', 'b', 'c'].map((id) => makeSite(id).site()), links: [makeLink('a', 'b', { bandwidthGbps: 2, latencyMs: 0 }), makeLink('b', 'c', { bandwidthGbps: 1, latencyMs: 0 })] };
  const route = computeRoutes(network).get('a')!.get('c')!;

  it('moves at the least bandwidth the reservation leaves on any hop, slot by slot', () => {
    // b>c holds 225 GB (half of 1 Gbit/s) in slot 0 and all of slot 1: 0.5 Gbit/s, then nothing, then 1 Gbit/s.
    const reserve = new Map([[hopKey('b', 'c'), Float64Array.from([225, 450, 0, 0])]]);
    // 450 GB: 225 GB in slot 0, none in slot 1, 225 GB in the first half of slot 2.
    expect(reservedTransferDurationS(route, 450, T0, grid, reserve)).toBeCloseTo(2.5 * 3600, 6);
    // Without a reservation: the bottleneck, 1 Gbit/s.
    expect(reservedTransferDurationS(route, 450, T0, grid, undefined)).toBeCloseTo(3600, 6);
    // A reservation of the other direction does not slow it.
    expect(reservedTransferDurationS(route, 450, T0, grid, new Map([[hopKey('c', 'b'), Float64Array.from([450, 450, 450, 450])]]))).toBeCloseTo(3600, 6);
    // Wholly reserved to the grid's end: it moves after the grid at the whole bandwidth.
    expect(reservedTransferDurationS(route, 450, T0, grid, new Map([[hopKey('b', 'c'), Float64Array.from([450, 450, 450, 450])]]))).toBeCloseTo(5 * 3600, 6);
  });

  it('reads a reservation made on an earlier grid on a later one, slot for slot', () => {
    const reserve = new Map([[hopKey('a', 'b'), Float64Array.from([1, 2, 3, 4])]]);
    const later = reserveOnGrid(reserve, grid, { startMs: T0 + 2 * HOUR_MS, slotMinutes: 60, slots: 3 });
    expect([...later.get(hopKey('a', 'b'))!]).toEqual([3, 4, 0]);
    expect(() => reserveOnGrid(reserve, grid, { ...grid, slotMinutes: 15 })).toThrow(/slot lengths differ/);
  });
});

describe('property: tight random instances on a line of sites', () => {
  const instance = fc.record({
    sites: fc.integer({ min: 2, max: 3 }),
    bandwidth: fc.array(fc.double({ min: 0.2, max: 2, noNaN: true }), { minLength: 2, maxLength: 2 }),
    datasets: fc.array(fc.record({ origin: fc.nat(), target: fc.nat(), rpo: fc.constantFrom(3, 4, 6), size: fc.integer({ min: 0, max: 1500 }), change: fc.integer({ min: 0, max: 60 }) }), { minLength: 1, maxLength: 3 }),
    // Several jobs: their input transfers share what the reservation leaves among themselves.
    jobs: fc.array(fc.record({ origin: fc.nat(), gb: fc.integer({ min: 50, max: 2500 }), release: fc.integer({ min: 0, max: 3 }), hours: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 4 }),
  });

  it('no link over capacity in any slot; the jobs\' input together within what the reservation leaves; every RPO met when the reservation meets it', () => {
    fc.assert(
      fc.property(instance, (x) => {
        const slots = 12;
        const ids = Array.from({ length: x.sites }, (_, i) => `s${i}`);
        const sites = ids.map((id, i) => (i === ids.length - 1 ? makeSite(id).ai(16) : makeSite(id)));
        const links = ids.slice(1).map((id, i) => makeLink(ids[i], id, { bandwidthGbps: x.bandwidth[i], latencyMs: 10 }));
        const jobs = x.jobs.map((j, k) =>
          makeJob(`j${k}`)
            .units(1)
            .duration(`${j.hours}h`)
            .at(ids[j.origin % (ids.length - 1)])
            .input(j.gb)
            .release(T0 + j.release * HOUR_MS)
            .deadline(`${12 - j.release}h`)
            .build(),
        );
        const snapshot = snapshotOf(sites, links, jobs, { slots });
        const datasets = x.datasets
          .map((d, k) => ({ d, k, origin: ids[d.origin % ids.length], target: ids[d.target % ids.length] }))
          .filter((d) => d.origin !== d.target)
          .map(({ d, k, origin, target }) => backup(`d${k}`, origin, target, d.rpo, d.size, d.change, slots));
        const request = { network: snapshot.network, grid: snapshot.grid, signals: snapshot.signals, datasets };
        const reservation = planBackups({ ...request, jobTransfers: [], objective: cost }, { solver });
        const { reserve, jobs: plan, backups } = joint(snapshot, datasets);
        expect(planViolations({ ...snapshot, linkReserveGB: reserve }, plan)).toEqual([]);
        expect(overCapacity(links, backups, snapshot.grid)).toEqual([]);
        const use = fixedLinkUse(transfersOf(plan), snapshot.grid, { links, reserveGB: reserve });
        for (const [key, row] of use) {
          const [from, to] = key.split('>');
          const link = links.find((l) => (l.from === from && l.to === to) || (l.from === to && l.to === from))!;
          for (let t = 0; t < slots; t++) expect(row[t] + (reserve.get(key)?.[t] ?? 0)).toBeLessThanOrEqual(hopCapacityGB(link, snapshot.grid) * (1 + 1e-7) + 1e-6);
        }
        // Whatever the jobs do, an RPO that whole links can meet is met.
        if (reservation.unmet.length === 0) expect(backups.unmet).toEqual([]);
      }),
      { numRuns: 25, seed: 13 },
    );
  });
});
