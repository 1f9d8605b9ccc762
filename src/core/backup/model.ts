/**
 * The backup model (docs/backup.md): datasets kept at an origin site, policies saying where their
 * replicas go and how fresh they must be, and the versions a plan must move. Pure data and pure
 * functions; the loaders in src/backup build it from files, the transfer planner (planner.ts) reads it.
 * Times on the grid are time points: point τ is the start of slot τ (point `slots` ends the grid).
 */
import type { Link, Network, TimeGrid } from '../model/types.ts';
import { addSegmentsGB, hopKey, pathFreeGbps, type LinkReserveGB, type TransferSegment } from '../network/routes.ts';

export { hopKey };

/** A copy window in local time: copies of a policy's datasets may only move in slots wholly inside it. */
export interface CopyWindow {
  /** Minutes after local midnight; `toMin` may be less than `fromMin` (a window across midnight), 1440 ends the day. */
  fromMin: number;
  toMin: number;
  /** Local time = UTC + offsetMin. */
  offsetMin: number;
}

export interface BackupPolicy {
  id: string;
  /** Sites a replica may be kept at; null: every site outside the origin's region. */
  candidates: string[] | null;
  /** Replicas to keep, each at a different candidate site. */
  replicas: number;
  /** Recovery-point objective: the largest allowed age of the newest complete copy at each replica, hours. */
  rpoHours: number;
  /** Older versions kept at each replica (the executor's retention). */
  retainVersions: number;
  window: CopyWindow | null;
}

export interface BackupDataset {
  id: string;
  tenant: string;
  /** Site holding the live data. */
  origin: string;
  sizeGB: number;
  /** Data changed in each slot of the grid, GB (from a daily volume or a change series, resolved by the loader). */
  changeGBPerSlot: readonly number[];
  /** Where the objects are under the origin's storage endpoint (a path prefix). */
  prefix: string;
  /** Sites already holding a copy current at the start of the grid (no seed copy needed there). */
  seeded: readonly string[];
  policy: BackupPolicy;
  /**
   * Per replica site, where a copy stands at the start of the grid (the service's replica state; absent in plan
   * files): version 0 to that site is then `pendingGB` (the seed, or the change since its newest copy), due `dueAt`
   * (a time point, at least 1: that copy's instant + the RPO, or the dataset's creation + the RPO before any copy),
   * and `copiedAt` is the time point its newest copy is current to (≤ 0), null before any. Overrides `seeded`.
   */
  replicaStart?: Readonly<Record<string, ReplicaStart>>;
}

export interface ReplicaStart {
  pendingGB: number;
  dueAt: number;
  copiedAt: number | null;
}

/** GB and due time point of version 0 (the seed, or the change since the newest copy) to `site`: from the replica's state when given, else from `seeded`. */
export function firstVersion(dataset: BackupDataset, site: string, version0: DatasetVersion): { gb: number; deadline: number } {
  const start = dataset.replicaStart?.[site];
  if (start) return { gb: start.pendingGB, deadline: start.dueAt };
  return { gb: dataset.seeded.includes(site) ? 0 : dataset.sizeGB, deadline: version0.deadline };
}

/**
 * A version of a dataset: the data to move so that a replica is current to `cut`.
 * Version 0 is the seed (the whole dataset, for a replica not yet seeded); version v ≥ 1 is the change
 * accumulated from the previous cut to `cut`. It must reach each replica by `deadline` (a time point).
 */
export interface DatasetVersion {
  index: number;
  cut: number;
  deadline: number;
  /** GB to move to a replica that holds the previous version. */
  changeGB: number;
}

/** Slots covered by a policy's RPO (whole slots): the age of the newest copy may reach this. */
export function rpoSlots(policy: BackupPolicy, grid: TimeGrid): number {
  return Math.floor((policy.rpoHours * 60) / grid.slotMinutes + 1e-9);
}

/**
 * The versions of a dataset a plan over `grid` must deliver. With an RPO of R slots, a version is cut
 * every P = ⌊R/2⌋ slots — or, under a copy window, when each window opens (copies cannot move outside it) —
 * and must arrive by the previous cut + R: then the newest copy is never older than R (it is
 * cut(v−1)+R at most when version v lands). Versions due after the grid's end are left to the next plan.
 * `rpoProblem` says when a policy cannot be planned.
 */
export function datasetVersions(dataset: BackupDataset, grid: TimeGrid): DatasetVersion[] {
  const r = rpoSlots(dataset.policy, grid);
  const versions: DatasetVersion[] = [{ index: 0, cut: 0, deadline: r, changeGB: 0 }];
  for (const cut of cutPoints(dataset.policy, grid)) {
    const previous = versions[versions.length - 1].cut;
    const deadline = previous + r;
    if (deadline > grid.slots) break;
    let changeGB = 0;
    for (let t = previous; t < cut; t++) changeGB += dataset.changeGBPerSlot[t] ?? 0;
    versions.push({ index: versions.length, cut, deadline, changeGB });
  }
  return versions;
}

/** Time points where versions are cut: every ⌊R/2⌋ slots, or where a copy window opens. */
function cutPoints(policy: BackupPolicy, grid: TimeGrid): number[] {
  const window = policy.window;
  const period = Math.max(1, Math.floor(rpoSlots(policy, grid) / 2));
  const cuts: number[] = [];
  for (let tau = 1; tau <= grid.slots; tau++) {
    if (window ? slotInWindow(window, grid, tau) && !slotInWindow(window, grid, tau - 1) : tau % period === 0) cuts.push(tau);
  }
  return cuts;
}

/** Why a policy's RPO cannot be planned on this grid (under two slots, or copy windows further apart than the RPO), or null when it can. */
export function rpoProblem(policy: BackupPolicy, grid: TimeGrid): string | null {
  const r = rpoSlots(policy, grid);
  if (r < 2) return `an RPO of ${policy.rpoHours} h is under two slots of ${grid.slotMinutes} min: a copy cut at a slot's end could never land in time; use slots of at most ${(policy.rpoHours * 60) / 2} min`;
  if (policy.window) {
    const cuts = [0, ...cutPoints(policy, grid)];
    for (let k = 1; k < cuts.length; k++) {
      if (cuts[k] - cuts[k - 1] >= r)
        return `copy windows open ${((cuts[k] - cuts[k - 1]) * grid.slotMinutes) / 60} h apart, not less than the RPO of ${policy.rpoHours} h: the newest copy would age past it; widen the window or lengthen the RPO`;
    }
    if (cuts.length === 1 && grid.slots >= r) return 'no copy window opens in the plan period';
  }
  return null;
}

/** The sites a dataset's replicas may go to: the policy's list, or every site outside the origin's region; never the origin. */
export function candidateSites(dataset: BackupDataset, network: Network): string[] {
  const origin = network.sites.find((s) => s.id === dataset.origin);
  const listed = dataset.policy.candidates ?? network.sites.filter((s) => s.region !== origin?.region).map((s) => s.id);
  return listed.filter((id) => id !== dataset.origin);
}

/** Whether slot `t` lies wholly inside a copy window (always, without one). */
export function slotInWindow(window: CopyWindow | null, grid: TimeGrid, t: number): boolean {
  if (window === null) return true;
  const dayMin = 1440;
  const startMin = (((grid.startMs / 60_000 + t * grid.slotMinutes + window.offsetMin) % dayMin) + dayMin) % dayMin;
  const endMin = startMin + grid.slotMinutes;
  const inside = (from: number, to: number) => startMin >= from && endMin <= to;
  if (window.fromMin < window.toMin) return inside(window.fromMin, window.toMin) || inside(window.fromMin + dayMin, window.toMin + dayMin);
  // Across midnight: [from, 1440) ∪ [0, to), i.e. [from, to + 1440) on a two-day line.
  return inside(window.fromMin, window.toMin + dayMin) || inside(window.fromMin - dayMin, window.toMin);
}

/** A transfer of batch-job input over a route, from the batch plan's `transfer` entries: fixed link use. */
export interface FixedTransfer {
  route: readonly string[];
  gb: number;
  startMs: number;
  endMs: number;
  /** The pieces it moves in, as the batch plan states them (when its links were shared); absent: spread by the rule below. */
  segments?: readonly TransferSegment[];
}

/** A batch plan's input transfer (core/dispatch/plan.ts `PlannedJob.transfer`) as fixed link use; the backup loop and tests call it. */
export function fixedTransferOf(tr: { route: readonly string[]; gb: number; start: string; end: string; segments?: readonly { start: string; end: string; gb: number }[] }): FixedTransfer {
  const segments = tr.segments?.map((s) => ({ startMs: Date.parse(s.start), endMs: Date.parse(s.end), gb: s.gb }));
  return { route: tr.route, gb: tr.gb, startMs: Date.parse(tr.start), endMs: Date.parse(tr.end), ...(segments && segments.length > 0 ? { segments } : {}) };
}

/**
 * GB fixed transfers put on each directed hop in each slot. A transfer with `segments` puts each piece in the slots it
 * covers (what the dispatcher moved it by, other jobs and the reservation around it). Else, by the part of each slot it
 * covers: without `reserved`
 * a transfer is spread evenly over its time; with the reservation its batch plan was made on, in proportion to what
 * that left on its route in each slot (`pathFreeGbps`: the rule the dispatcher moved it by), so no slot gets more
 * than the reservation left. Called by the backup planner (the link capacity jobs use).
 */
export function fixedLinkUse(transfers: readonly FixedTransfer[], grid: TimeGrid, reserved?: { links: readonly Link[]; reserveGB: LinkReserveGB }): Map<string, Float64Array> {
  const slotMs = grid.slotMinutes * 60_000;
  const use = new Map<string, Float64Array>();
  const linkOf = new Map<string, Link>();
  for (const l of reserved?.links ?? []) linkOf.set(hopKey(l.from, l.to), l).set(hopKey(l.to, l.from), l);
  for (const tr of transfers) {
    if (tr.segments && tr.segments.length > 0) {
      addSegmentsGB(use, tr.route, tr.segments, grid);
      continue;
    }
    const endMs = Math.max(tr.endMs, tr.startMs + 1);
    const links = tr.route.slice(1).map((to, h) => linkOf.get(hopKey(tr.route[h], to)));
    const weighted = reserved !== undefined && links.every((l) => l !== undefined);
    // Per slot the transfer touches: its weight (ms covered × free Gbit/s, or ms covered).
    const first = Math.floor((tr.startMs - grid.startMs) / slotMs);
    const last = Math.floor((endMs - 1 - grid.startMs) / slotMs);
    const weights: number[] = [];
    for (let t = first; t <= last; t++) {
      const coveredMs = Math.min(endMs, grid.startMs + (t + 1) * slotMs) - Math.max(tr.startMs, grid.startMs + t * slotMs);
      weights.push(coveredMs * (weighted ? pathFreeGbps(links as Link[], tr.route, t, grid, reserved.reserveGB) : 1));
    }
    let total = weights.reduce((a, b) => a + b, 0);
    // A span wholly reserved (a transfer planned before the reservation): spread evenly.
    if (total <= 0) for (let k = 0; k < weights.length; k++) total += weights[k] = Math.min(endMs, grid.startMs + (first + k + 1) * slotMs) - Math.max(tr.startMs, grid.startMs + (first + k) * slotMs);
    for (let t = Math.max(0, first); t <= Math.min(last, grid.slots - 1); t++) {
      const gb = (tr.gb * weights[t - first]) / total;
      for (let h = 1; h < tr.route.length; h++) {
        const key = hopKey(tr.route[h - 1], tr.route[h]);
        let row = use.get(key);
        if (!row) use.set(key, (row = new Float64Array(grid.slots)));
        row[t] += gb;
      }
    }
  }
  return use;
}

