/**
 * Backups alongside the jobs in the simulator (src/sim/backup.ts): planned on the link capacity the jobs' input
 * transfers leave (and, with the backups' reservation, jobs moving input on what it leaves), RPO compliance per replica as a share of the period, link volume split into backup and job input.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHighsSolver } from '../../src/solver/highs.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';
import type { LpSolver } from '../../src/core/lp/model.ts';
import type { BackupDataset } from '../../src/core/backup/model.ts';
import { simulate } from '../../src/sim/engine.ts';
import { simulateBackups, simulatedReservation } from '../../src/sim/backup.ts';
import { buildReport } from '../../src/sim/summarize.ts';
import { renderReportHtml } from '../../src/sim/report-html.ts';
import { makeJob } from '../fixtures/job-builder.ts';
import { makeLink, makeSite, scenarioOf, snapshotOf, T0 } from '../fixtures/scenario-builder.ts';

let solver: LpSolver;
beforeAll(async () => {
  solver = await loadHighsSolver();
});

const SLOTS = 12;
const HOUR = 3_600_000;
/** 1 Gbps: 450 GB per hourly slot in each direction. */
const CAPACITY_GB = 450;

/** `east` holds the data and costs much more than `west`, 1 Gbps away: jobs move their input west. */
function scenario() {
  const east = makeSite('east').ai(8).prices(2).carbonG(900);
  const west = makeSite('west').ai(8).prices(0.1).carbonG(50);
  return scenarioOf(snapshotOf([east, west], [makeLink('east', 'west', { bandwidthGbps: 1, costYuanPerGB: 0 })], [], { slots: SLOTS + 6 }));
}

function dataset(id: string, changeGBPerSlot: number, rpoHours: number): BackupDataset {
  return {
    id,
    tenant: 't1',
    origin: 'east',
    sizeGB: 1000,
    changeGBPerSlot: new Array(SLOTS).fill(changeGBPerSlot),
    prefix: id,
    seeded: ['west'],
    policy: { id: `rpo-${rpoHours}`, candidates: ['west'], replicas: 1, rpoHours, retainVersions: 1, window: null },
  };
}

function run(datasets: BackupDataset[], reserved = false) {
  const s = scenario();
  // Each job's 400 GB input moves east → west in its first hour: most of the link's 450 GB that hour.
  const jobs = [0, 3, 6].map((h) => makeJob(`j${h}`).units(8).release(new Date(T0 + h * HOUR).toISOString()).duration('2h').deadline('6h').input(400).at('east').build());
  const objective = objectiveFrom('cost');
  const input = { scenario: s, periodSlots: SLOTS, datasets, objective, solver };
  // As `kumul simulate --datasets`: the reservation first, every cycle moving job input on what it leaves.
  const reserve = reserved ? simulatedReservation(input) : undefined;
  const outcome = simulate({ scenario: s, jobs, policy: 'optimize', objective, fromMs: T0, toMs: T0 + SLOTS * HOUR, replanMinutes: 60, horizonSlots: 6, shiftHours: 0, ...(reserve ? { linkReserveGB: reserve } : {}) });
  const backup = simulateBackups(input, outcome, reserve);
  return { s, outcome, backup };
}

describe('backups in the simulator', () => {
  it('plans around the job transfers: every slot of every link within capacity, each RPO met all the time, volume split', () => {
    const { s, outcome, backup } = run([dataset('small', 100, 4)]);
    const moved = outcome.records.filter((r) => r.transfer !== null);
    expect(moved.length).toBe(3);
    const eastWest = backup.links.find((l) => l.from === 'east' && l.to === 'west')!;
    expect(eastWest.jobGB).toBeCloseTo(1200, 6);
    // Versions every 2 h of 200 GB: 12 slots of 100 GB of change, all copied west within the period.
    expect(eastWest.backupGB).toBeGreaterThanOrEqual(1000 - 1e-6);
    expect(eastWest.peakUsePct).toBeLessThanOrEqual(100 + 1e-6);
    expect(backup.datasets[0].withinRpoPct).toBe(100);
    expect(backup.datasets[0].replicas[0]).toMatchObject({ site: 'west', withinRpoPct: 100 });
    expect(backup.totals.datasetsWithinRpo).toBe(1);
    expect(backup.totals.costYuan).toBeGreaterThan(0);
    const report = buildReport({ scenario: s, fromMs: T0, toMs: T0 + SLOTS * HOUR, replanMinutes: 60, forecastErrorPct: null, seed: 1, shiftHours: 0, objective: 'cost', outcomes: [outcome], backups: [backup] });
    expect(report.policies[0].backup!.links).toEqual(backup.links);
    const html = renderReportHtml(report);
    expect(html).toContain('RPO compliance per dataset under optimize');
    expect(html).toContain('Link volume under optimize: backup against job input');
  });

  it('states the share of time out of RPO when the link the jobs leave is too small', () => {
    // 300 GB of change per hour with a 2 h RPO: 600 GB per version, against 450 GB per slot less the jobs' 400 GB.
    const { backup } = run([dataset('big', 300, 2)]);
    const d = backup.datasets[0];
    expect(d.withinRpoPct).toBeLessThan(100);
    expect(d.withinRpoPct).toBeGreaterThanOrEqual(0);
    expect(backup.totals.unmetGB).toBeGreaterThan(0);
    expect(backup.totals.datasetsWithinRpo).toBe(0);
    // Capacity is never exceeded, whatever is left unmet.
    for (const l of backup.links) expect(l.peakUsePct).toBeLessThanOrEqual(100 + 1e-6);
    expect(CAPACITY_GB).toBe(450);
  });

  it("with the backups' reservation (kumul simulate's order) the same jobs and datasets meet every RPO and every deadline", () => {
    // 300 GB of change an hour leaves the jobs 150 GB/h: each 400 GB input takes 2.7 h, and the run 2 h, within 6 h.
    const { outcome, backup } = run([dataset('big', 300, 2)], true);
    expect(backup.totals.unmetGB).toBeCloseTo(0, 6);
    expect(backup.datasets[0].withinRpoPct).toBe(100);
    expect(outcome.records.map((r) => r.state)).toEqual(['completed', 'completed', 'completed']);
    for (const r of outcome.records) expect(r.endMs!).toBeLessThanOrEqual(r.job.deadlineMs);
    expect(outcome.records.filter((r) => r.transfer !== null).length).toBe(3);
    for (const l of backup.links) expect(l.peakUsePct).toBeLessThanOrEqual(100 + 1e-6);
    const eastWest = backup.links.find((l) => l.from === 'east' && l.to === 'west')!;
    expect(eastWest.jobGB).toBeCloseTo(1200, 6);
  });
});
