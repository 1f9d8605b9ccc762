/**
 * Backups in the simulator, alongside the jobs (issue 13 item 4, docs/simulator.md "Backups alongside the jobs").
 * Called by `kumul simulate --datasets --policies` after each policy's run; pure (the solver is passed in).
 *
 * Backups and jobs share the links both ways (docs/backup.md, "Backups and batch share the links"): before the runs,
 * `simulatedReservation` gives what backups must hold of each link to meet every RPO, every cycle of each run moves job
 * input on what that leaves, and then the backups of the run are planned by the core backup planner over the simulated
 * period, on the forecast signals and on the link capacity the run's input transfers leave (each spread over its time,
 * from when the cycle sent it to when its input was ready, by what the reservation left in each slot). The simulator has no outage, so the copies run
 * as planned; they are accounted with the actual signals. Reported: per dataset and replica the share of the period
 * within its RPO (the newest complete copy no older than the RPO at the end of each slot; before its first copy a
 * replica is within while its seed copy is not yet due), and per directed link the GB of backups and of job input.
 */
import type { LpSolver } from '../core/lp/model.ts';
import type { Objective } from '../core/dispatch/objective.ts';
import type { Scenario, SiteSignals } from '../core/model/types.ts';
import type { BackupDataset, FixedTransfer } from '../core/backup/model.ts';
import { rpoSlots } from '../core/backup/model.ts';
import { backupReservation, hopFiguresPerGB, planBackups, type BackupPlanResult } from '../core/backup/planner.ts';
import type { LinkReserveGB } from '../core/network/routes.ts';
import type { SimOutcome } from './engine.ts';

export interface BackupSimInput {
  /** The simulator's scenario (its grid starts at the simulated period's start). */
  scenario: Scenario;
  periodSlots: number;
  /** Datasets with their policies, resolved on the period's grid (src/backup/load.ts). */
  datasets: readonly BackupDataset[];
  objective: Objective;
  solver: LpSolver;
}

/** What the backups did in one run (report.ts `BackupResult`). */
export interface BackupOutcome {
  datasets: {
    id: string;
    tenant: string;
    origin: string;
    policy: string;
    rpoHours: number;
    /** Per replica: % of the period's slots within the RPO, and the oldest the newest copy got, h. */
    replicas: { site: string; withinRpoPct: number; maxAgeHours: number | null }[];
    /** The worst replica's share, %. */
    withinRpoPct: number;
  }[];
  /** Datasets the planner could not place, with why. */
  unplaced: { id: string; reason: string }[];
  /** Per directed link: GB of backups and of job input over the period, and its capacity per slot. */
  links: { from: string; to: string; backupGB: number; jobGB: number; capacityGBPerSlot: number; peakUsePct: number }[];
  totals: { backupGB: number; jobGB: number; energyKWh: number; costYuan: number; carbonKg: number; unmetGB: number; datasetsWithinRpo: number };
  /** The plan's bound on the forecasts. */
  bound: BackupPlanResult['bound'];
}

/** The period's grid and its signals (forecasts or actuals) cut to it. */
function periodOf(input: BackupSimInput) {
  const { scenario } = input;
  const grid = { startMs: scenario.grid.startMs, slotMinutes: scenario.grid.slotMinutes, slots: input.periodSlots };
  const slice = (pick: (s: { forecast: SiteSignals; actual: SiteSignals }) => SiteSignals): Record<string, SiteSignals> =>
    Object.fromEntries(
      Object.entries(scenario.signals).map(([id, pair]) => {
        const s = pick(pair);
        return [id, { priceYuanPerKWh: s.priceYuanPerKWh.slice(0, grid.slots), carbonGPerKWh: s.carbonGPerKWh.slice(0, grid.slots), renewableKW: s.renewableKW.slice(0, grid.slots) }];
      }),
    );
  return { grid, slice };
}

/**
 * What the backups must hold of the links over the period (core/backup/planner.ts `backupReservation`, on the
 * forecasts), before any run: `kumul simulate` gives it to every run (SimulationInput.linkReserveGB), whose cycles
 * move job input on what it leaves, and to `simulateBackups`, which spreads the runs' transfers by the same rule.
 */
export function simulatedReservation(input: BackupSimInput): Map<string, Float64Array> {
  const { grid, slice } = periodOf(input);
  return backupReservation({ network: input.scenario.network, grid, signals: slice((p) => p.forecast), datasets: input.datasets }, { solver: input.solver });
}

/** Plans the backups of one run around its jobs' transfers (moved around `reserve`, when the run had it) and accounts them with actuals. */
export function simulateBackups(input: BackupSimInput, outcome: SimOutcome, reserve?: LinkReserveGB): BackupOutcome {
  const { scenario } = input;
  const { grid, slice } = periodOf(input);
  const jobTransfers: FixedTransfer[] = outcome.records.flatMap((r) =>
    r.transfer && r.transfer.route.links.length > 0 ? [{ route: r.transfer.route.path, gb: r.transfer.gb, startMs: r.transfer.startMs, endMs: r.readyMs ?? r.transfer.startMs, segments: r.transfer.segments }] : [],
  );
  const plan = planBackups({ network: scenario.network, grid, signals: slice((p) => p.forecast), datasets: input.datasets, jobTransfers, objective: input.objective, ...(reserve ? { linkReserveGB: reserve } : {}) }, { solver: input.solver });
  // Accounting with actuals: each transfer's hops at the actual price and carbon of their slots.
  const actual = slice((p) => p.actual);
  const linkOf = new Map(scenario.network.links.flatMap((l) => [[`${l.from}>${l.to}`, l] as const, [`${l.to}>${l.from}`, l] as const]));
  const totals = { backupGB: 0, jobGB: 0, energyKWh: 0, costYuan: 0, carbonKg: 0, unmetGB: plan.unmet.reduce((s, u) => s + u.gb, 0), datasetsWithinRpo: 0 };
  for (const tr of plan.transfers)
    for (const hop of tr.hops) {
      const f = hopFiguresPerGB(linkOf.get(`${hop.from}>${hop.to}`)!, hop.from, hop.to, hop.slot, actual);
      totals.energyKWh += f.energyKWh * tr.gb;
      totals.costYuan += f.costYuan * tr.gb;
      totals.carbonKg += f.carbonKg * tr.gb;
    }
  const links = plan.links.map((l) => {
    const backupGB = l.slots.reduce((s, x) => s + x.backupGB, 0);
    const jobGB = l.slots.reduce((s, x) => s + x.jobGB, 0);
    totals.backupGB += backupGB;
    totals.jobGB += jobGB;
    const peak = l.slots.reduce((m, x) => Math.max(m, x.backupGB + x.jobGB), 0);
    return { from: l.from, to: l.to, backupGB, jobGB, capacityGBPerSlot: l.capacityGB, peakUsePct: l.capacityGB > 0 ? (100 * peak) / l.capacityGB : 0 };
  });
  const byId = new Map(input.datasets.map((d) => [d.id, d]));
  const datasets = plan.datasets.map((d) => {
    const r = rpoSlots(byId.get(d.id)!.policy, grid);
    const replicas = d.replicas.map((rep) => {
      let within = 0;
      rep.ageHours.forEach((age, i) => {
        // Slot i ends at time point i + 1: within when the newest copy is young enough, or none is due yet.
        if (age === null ? i + 1 < r : age <= d.rpoHours + 1e-9) within++;
      });
      return { site: rep.site, withinRpoPct: rep.ageHours.length > 0 ? (100 * within) / rep.ageHours.length : 100, maxAgeHours: rep.maxAgeHours };
    });
    const withinRpoPct = replicas.reduce((m, x) => Math.min(m, x.withinRpoPct), 100);
    if (withinRpoPct >= 100 - 1e-9) totals.datasetsWithinRpo++;
    return { id: d.id, tenant: d.tenant, origin: d.origin, policy: d.policy, rpoHours: d.rpoHours, replicas, withinRpoPct };
  });
  return { datasets, unplaced: plan.unplaced, links, totals, bound: plan.bound };
}
