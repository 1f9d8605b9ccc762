/**
 * The discrete-event simulator: the production dispatcher (src/core/dispatch) on simulated time.
 * Called by `kumul simulate`, the benchmarks and the tests; pure — no I/O, clock or randomness
 * (forecast noise is made when the scenario is loaded, from a seed).
 *
 * Events, ordered by (time, priority, sequence): jobs arrive at their release; every
 * `replanMinutes` a dispatch cycle plans all waiting work with the *forecast* signals over a look-ahead
 * of at least `horizonSlots` that reaches far enough to place every waiting job (core/dispatch/horizon.ts), and commits what starts before
 * the next cycle; an arrival that cannot wait for the next cycle (its slack is shorter than the cycle
 * period, or the policy is an `asap` one, which starts work at its release) is planned when it arrives,
 * around the committed work. Committed work starts, pauses (interruptible jobs, at the next cycle),
 * resumes and finishes at any instant; a job that can no longer finish by its deadline is missed.
 * Accounting afterwards prices what ran with the *actual* signals. A `firstClaim` (inference services,
 * src/sim/services.ts) is placed first in every regular cycle, holds its units before batch and may pre-empt
 * interruptible runs for its bursts.
 */
import type { Job, Scenario, SiteSignals } from '../core/model/types.ts';
import { slotMs as slotLengthMs } from '../core/model/types.ts';
import { poolSpeed } from '../core/model/capability.ts';
import type { CommittedUse, Snapshot } from '../core/dispatch/cycle.ts';
import { addSegmentsGB, reserveOnGrid, type LinkReserveGB, type Route, type TransferSegment } from '../core/network/routes.ts';
import type { PowerPolicy } from '../core/energy/idle.ts';
import type { Profile, Registry } from '../core/dispatch/framework.ts';
import { planCycle, slotEnergies, type Placement } from '../core/dispatch/planner.ts';
import { lookAheadEndMs } from '../core/dispatch/horizon.ts';
import { forecastWindow, smoothingSlots } from '../core/dispatch/forecast-smoothing.ts';
import { builtinRegistry, policyProfile, type PolicyName } from '../core/dispatch/plugins/index.ts';
import type { Objective } from '../core/dispatch/objective.ts';
import { EventHeap } from './event-heap.ts';

export interface SimulationInput {
  /** Resolved over the simulated period plus the look-ahead; forecasts and actuals both present. */
  scenario: Scenario;
  jobs: readonly Job[];
  policy: PolicyName;
  objective: Objective;
  fromMs: number;
  toMs: number;
  /** Minutes between dispatch cycles; a multiple of the scenario's slot length. */
  replanMinutes: number;
  /** Slots each cycle looks ahead at least (a cycle looks further when a waiting job's deadline is later). */
  horizonSlots: number;
  /**
   * Temporal shifting: each job's release is its requested start; policies other than asap-origin
   * may run it within [requested − shift, requested + duration + shift]; asap-origin runs it as
   * requested with the same deadline. 0 keeps the jobs' own windows.
   */
  shiftHours: number;
  /**
   * Where `optimize` may run a job: at any site (default), or only at its origin — temporal shifting alone
   * (`kumul simulate --sites origin`; docs/space-and-time.md). The baselines keep their own (asap-origin, asap-any).
   */
  optimizeSites?: Profile['sites'];
  /**
   * Forecast smoothing (core/dispatch/forecast-smoothing.ts): each cycle plans on the carbon and renewable
   * forecasts averaged over this many minutes on either side of each slot; 0 (default) plans on them as they are.
   */
  forecastSmoothingMinutes?: number;
  /**
   * How idle nodes are powered when planning (`kumul simulate --power`; default always on): under `sleep` each cycle
   * packs work so that idle nodes sleep (core/dispatch/cycle.ts, `addedKWh`). The report gives idle energy both ways.
   */
  power?: PowerPolicy;
  registry?: Registry;
  /** Improvement rounds per cycle (default 2). */
  improveRounds?: number;
  /** Called after every cycle with the state (tests check invariants here). */
  onCycle?: (state: SimState) => void;
  onProgress?: (doneMs: number, totalMs: number) => void;
  /** Keep a log of every event (for tests and small runs). */
  recordEvents?: boolean;
  /** Work placed before batch in every cycle (inference services, src/sim/services.ts); none by default. */
  firstClaim?: FirstClaim;
  /**
   * Link capacity backups hold, GB per directed hop and slot of the scenario's grid (src/sim/backup.ts
   * `simulatedReservation`): every cycle moves job input on what it leaves. None by default.
   */
  linkReserveGB?: LinkReserveGB;
}

/**
 * Work with the first claim on the pools (docs/simulator.md "Services and batch together"): placed at every regular
 * cycle before batch, over the cycle's look-ahead, around the batch work already committed; its units and planned
 * energy are committed before every batch plan, and after batch is committed each cycle it may add units for the
 * slots until the next cycle, pre-empting interruptible runs (never others).
 */
export interface FirstClaim {
  /**
   * Called by each regular cycle before batch is planned, with the cycle's first slot (global), the slots it looks
   * ahead and the batch work committed over them (slots of the cycle, from 0). Returns its units and planned facility
   * energy per pool over those slots (slots of the cycle); they replace what the previous cycle placed.
   */
  place(cur: number, slots: number, batch: readonly CommittedUse[]): readonly CommittedUse[];
  /**
   * Called by each regular cycle after batch work is committed, once per slot until the next cycle, in order, with
   * the batch runs holding units in that slot and the units batch holds per pool (`site/pool`). Returns the jobs to
   * pre-empt (interruptible ones only: the cycle's commit of each is undone, it keeps its site and waits for the
   * next cycle) and the units the claim adds in that slot (global slots).
   */
  atSlot(slot: number, runs: readonly ClaimRun[], batchUnits: ReadonlyMap<string, number>): { preempt: readonly string[]; added: readonly CommittedUse[] };
}

/** A batch run holding units in a slot, as a first claim sees it. */
export interface ClaimRun {
  jobId: string;
  /** `site/pool`. */
  pool: string;
  units: number;
  interruptible: boolean;
}

/** future → waiting → (transferring →) running ⇄ paused → completed; or missed. */
export type JobState = 'future' | 'waiting' | 'transferring' | 'running' | 'paused' | 'completed' | 'missed';

/** What happened to one job, in global slots of the scenario's grid. */
export interface JobRecord {
  job: Job;
  /** The job as the policy plans it (with its shifting window). */
  planned: Job;
  state: JobState;
  siteId: string | null;
  poolId: string | null;
  /** The job's work (its run time at the advertised speed) and the part of it committed so far, ms; a run at a pool of speed v does v ms of work per ms. */
  workMs: number;
  doneMs: number;
  /** Slots committed, ascending, with facility energy (kWh) in each. */
  slots: number[];
  energyKWh: number[];
  /** Input moved to the chosen site: from `startMs` (in slot `startSlot`) until `readyMs`, in the pieces its cycle planned (`segments`). */
  transfer: { route: Route; gb: number; startSlot: number; startMs: number; segments: readonly TransferSegment[] } | null;
  /** When the input has arrived at the chosen site (the decision instant when nothing moves). */
  readyMs: number | null;
  firstStartMs: number | null;
  endMs: number | null;
  /** Set while the job is paused (since when). */
  pausedSinceMs: number | null;
  resumes: number;
  /** Times its cycle's commit was undone for a demand burst of a first claim (services). */
  preemptions: number;
}

export interface SimEvent {
  timeMs: number;
  kind: 'arrive' | 'transfer' | 'start' | 'pause' | 'resume' | 'finish' | 'miss' | 'cycle' | 'preempt';
  jobId: string | null;
  siteId: string | null;
}

export interface SimState {
  nowMs: number;
  records: readonly JobRecord[];
  /** Units busy per pool (key `site/pool`) per global slot, from committed work. */
  busyUnits: ReadonlyMap<string, Int32Array>;
}

export interface SimOutcome {
  policy: PolicyName;
  records: JobRecord[];
  busyUnits: Map<string, Int32Array>;
  cycles: number;
  events: number;
  log: SimEvent[];
}

type Pending = { kind: 'arrive'; record: JobRecord } | { kind: 'replan' } | { kind: 'urgent' } | { kind: 'note'; event: SimEvent };

/** Event priorities at equal times: what ends goes first, then arrivals, the dispatch cycle, and the arrivals it left to plan at once. */
const PRIORITY = { note: 0, arrive: 1, replan: 2, urgent: 3 } as const;

export function simulate(input: SimulationInput): SimOutcome {
  const { scenario, fromMs, toMs } = input;
  const grid = scenario.grid;
  const slotMs = slotLengthMs(grid);
  const replanMs = input.replanMinutes * 60_000;
  if (!(input.horizonSlots >= 1)) throw new Error(`horizonSlots (${input.horizonSlots}) must be at least 1`);
  if (replanMs % slotMs !== 0) throw new Error(`replanMinutes (${input.replanMinutes}) must be a multiple of the slot length (${grid.slotMinutes} min)`);
  if ((fromMs - grid.startMs) % slotMs !== 0) throw new Error('the simulated period must start on a slot boundary of the scenario grid');
  const registry = input.registry ?? builtinRegistry();
  const profile = simulatedProfile(input.policy, input.objective, input.optimizeSites ?? 'any');
  const shiftMs = input.shiftHours * 3_600_000;
  const forecasts: Record<string, SiteSignals> = Object.fromEntries(Object.entries(scenario.signals).map(([id, pair]) => [id, pair.forecast]));
  const smoothing = smoothingSlots(input.forecastSmoothingMinutes ?? 0, grid.slotMinutes);
  const poolsBySite = new Map(scenario.network.sites.map((s) => [s.id, s.pools]));
  /** The highest speed (poolSpeed) of the job's pool class at the sites it may use: its own once fixed. */
  const fastestSpeed = (record: JobRecord): number => {
    let best = 0;
    for (const site of scenario.network.sites) {
      if (record.siteId !== null ? site.id !== record.siteId : record.job.allowedSites !== null && !record.job.allowedSites.includes(site.id)) continue;
      for (const pool of site.pools) if (pool.class === record.job.poolClass) best = Math.max(best, poolSpeed(pool, record.job.class));
    }
    return best > 0 ? best : 1;
  };

  const records: JobRecord[] = input.jobs.map((job) => ({
    job,
    planned: plannedJob(job, input.policy, shiftMs),
    state: 'future',
    siteId: null,
    poolId: null,
    workMs: Math.max(1, Math.round(job.durationS * 1000)),
    doneMs: 0,
    slots: [],
    energyKWh: [],
    transfer: null,
    readyMs: null,
    firstStartMs: null,
    endMs: null,
    pausedSinceMs: null,
    resumes: 0,
    preemptions: 0,
  }));
  const busyUnits = new Map<string, Int32Array>();
  for (const site of scenario.network.sites) for (const pool of site.pools) busyUnits.set(`${site.id}/${pool.id}`, new Int32Array(grid.slots));

  const heap = new EventHeap<Pending>();
  const log: SimEvent[] = [];
  let events = 0;
  let cycles = 0;
  const note = (event: SimEvent) => heap.push(event.timeMs, PRIORITY.note, { kind: 'note', event });

  for (const record of records) heap.push(Math.max(fromMs, record.planned.releaseMs), PRIORITY.arrive, { kind: 'arrive', record });
  for (let t = fromMs; t < toMs; t += replanMs) heap.push(t, PRIORITY.replan, { kind: 'replan' });

  /** GB the input transfers started so far move per directed hop and global slot: each cycle's snapshot counts them as taken. */
  const linkUse = new Map<string, Float64Array>();
  const counted = new Set<JobRecord>();
  const waiting = new Set<JobRecord>();
  const running = new Set<JobRecord>();
  /** Arrivals to plan when they arrive (see `urgent`), until a cycle has planned them. */
  const urgentNow = new Set<JobRecord>();
  const asap = profile.strategy === 'asap';

  /**
   * Plans `pending` at `nowMs` over a look-ahead of at least `minSlots` that reaches far enough for each of them,
   * and commits what starts before the next regular cycle.
   */
  const planAndCommit = (pending: JobRecord[], nowMs: number, minSlots: number, firstClaimAt: ((cur: number, cutoffSlot: number, nowMs: number) => void) | null = null): void => {
    const cur = Math.floor((nowMs - grid.startMs) / slotMs);
    const endMs = lookAheadEndMs(
      pending.map((r) => r.planned),
      nowMs,
      grid.startMs + (cur + minSlots) * slotMs,
      scenario.network,
    );
    const horizon = Math.min(grid.slots - cur, Math.ceil((endMs - grid.startMs) / slotMs) - cur);
    if (horizon <= 0) return;
    const cycleStartMs = grid.startMs + cur * slotMs;
    const nextCycleMs = fromMs + Math.floor((nowMs - fromMs) / replanMs + 1) * replanMs;
    const cutoffSlot = Math.round((nextCycleMs - cycleStartMs) / slotMs);
    const snapshot: Snapshot = {
      network: scenario.network,
      grid: { startMs: cycleStartMs, slotMinutes: grid.slotMinutes, slots: horizon },
      signals: forecastWindow(forecasts, cur, horizon, smoothing),
      jobs: pending.map((r) => (r.siteId === null ? r.planned : resumeAt(r, nowMs))),
      nowMs,
      committed: [...committedUses(running, cur, horizon), ...claimUses(claimPlaced, cur, horizon), ...claimUses(claimAdded, cur, horizon)],
      ...(input.power ? { power: input.power } : {}),
    };
    if (input.linkReserveGB) snapshot.linkReserveGB = reserveOnGrid(input.linkReserveGB, grid, snapshot.grid);
    if (linkUse.size > 0) snapshot.committedLinkGB = reserveOnGrid(linkUse, grid, snapshot.grid);
    const outcome = planCycle(snapshot, { registry, profile, improveRounds: input.improveRounds ?? 2 });
    /** State before this cycle's commit, to undo it when a first claim pre-empts the job. */
    before.clear();
    /** Events in the order they happen to be decided (the heap breaks ties by it), each with the commit it belongs to. */
    const notes: [JobRecord | null, SimEvent][] = [];
    for (const placement of outcome.placements) {
      const record = pending[placement.ctx.index];
      const siteId = outcome.cycle.sites[placement.candidate.option.siteIndex].site.id;
      const pool = poolsBySite.get(siteId)!.find((p) => p.class === record.job.poolClass)!;
      const { option, runs } = placement.candidate;
      if (runs[0] >= nextCycleMs) {
        // Starts after the next cycle: re-planned then. But input that must move starts moving now
        // if waiting a cycle would delay the planned start (just in time).
        if (record.siteId === null && option.transferS > 0 && runs[0] < option.readyMs + replanMs) {
          for (const event of startTransfer(record, placement, siteId, pool.id, cur, nowMs)) notes.push([null, event]);
        }
        // A job bound to its site (input moving or moved there, or paused there) keeps its planned runs as decided
        // work: the next cycle's first claim is placed around them, as kumul serve places services.
        if (record.siteId !== null) decided.set(record, { siteId, poolId: pool.id, units: record.job.units, slots: placement.candidate.slots.map((t) => t + cur), energyKWh: slotEnergies(outcome.cycle, placement.ctx, placement.candidate) });
        continue;
      }
      const energies = slotEnergies(outcome.cycle, placement.ctx, placement.candidate);
      before.set(record, { slots: record.slots.length, doneMs: record.doneMs, state: record.state, firstStartMs: record.firstStartMs, endMs: record.endMs, pausedSinceMs: record.pausedSinceMs, resumes: record.resumes, siteId: record.siteId, poolId: record.poolId, transfer: record.transfer, readyMs: record.readyMs });
      decided.delete(record);
      for (const event of commit(record, placement, energies, { siteId, poolId: pool.id, speed: poolSpeed(pool, record.job.class), cur, nowMs, slotMs, cutoffSlot, nextCycleMs })) notes.push([record, event]);
      // An interruptible job's runs after the next cycle are decided too: it is re-planned then, at its site.
      const later = placement.candidate.slots.flatMap((t, i) => (record.state !== 'completed' && t >= cutoffSlot ? [i] : []));
      if (later.length > 0) decided.set(record, { siteId, poolId: pool.id, units: record.job.units, slots: later.map((i) => placement.candidate.slots[i] + cur), energyKWh: later.map((i) => energies[i]) });
      const busy = busyUnits.get(`${siteId}/${pool.id}`)!;
      for (let i = record.slots.length - 1; i >= 0 && record.slots[i] >= cur; i--) busy[record.slots[i]] += record.job.units;
      waiting.delete(record);
      running.add(record);
    }
    // The input transfers this cycle started take their links in every later cycle (a pre-empted job's goes on).
    for (const placement of outcome.placements) {
      const record = pending[placement.ctx.index];
      if (record.transfer === null || counted.has(record)) continue;
      counted.add(record);
      addSegmentsGB(linkUse, record.transfer.route.path, record.transfer.segments, grid);
    }
    firstClaimAt?.(cur, cutoffSlot, nowMs);
    // Events of commits a first claim undid were replaced by a `preempt` event (a transfer only if it had begun before).
    for (const [record, event] of notes) if (record === null || before.has(record)) note(event);
  };

  /** Planned runs (global slots) of waiting jobs bound to a site, from the cycle that last planned them. */
  const decided = new Map<JobRecord, CommittedUse>();
  /** The first claim's units and energy (global slots): placed by the last regular cycle, and added for its bursts. */
  let claimPlaced: CommittedUse[] = [];
  let claimAdded: CommittedUse[] = [];
  /**
   * At a regular cycle, before batch: the first claim placed over the cycle's look-ahead around the batch work decided:
   * committed runs, and the planned runs of jobs bound to a site (kumul serve: running, paused or moving).
   */
  const placeClaim = (nowMs: number): void => {
    const cur = Math.floor((nowMs - grid.startMs) / slotMs);
    const slots = Math.min(input.horizonSlots, grid.slots - cur);
    if (slots <= 0) return;
    const bound = claimUses([...decided].flatMap(([record, use]) => (waiting.has(record) ? [use] : [])), cur, slots);
    const placed = input.firstClaim!.place(cur, slots, [...committedUses(running, cur, slots), ...bound]);
    decided.clear();
    claimPlaced = placed.map((use) => ({ ...use, slots: use.slots.map((t) => t + cur) }));
    // Burst units of past slots are no longer needed by any plan.
    claimAdded = claimAdded.filter((use) => use.slots[use.slots.length - 1] >= cur);
  };
  /** The undo of a pre-empted commit. */
  const before = new Map<JobRecord, Pick<JobRecord, 'doneMs' | 'state' | 'firstStartMs' | 'endMs' | 'pausedSinceMs' | 'resumes' | 'siteId' | 'poolId' | 'transfer' | 'readyMs'> & { slots: number }>();
  const undo = (record: JobRecord, nowMs: number): void => {
    const was = before.get(record)!;
    before.delete(record);
    const busy = busyUnits.get(`${record.siteId}/${record.poolId}`)!;
    for (let i = was.slots; i < record.slots.length; i++) busy[record.slots[i]] -= record.job.units;
    record.slots.length = was.slots;
    record.energyKWh.length = was.slots;
    const siteId = record.siteId;
    // The commit's choice of site goes with it: a job that had no site before is free again (its input, if it was to
    // move, has not moved at this instant), so a burst does not pin it to a site the services now fill.
    Object.assign(record, { doneMs: was.doneMs, firstStartMs: was.firstStartMs, endMs: was.endMs, resumes: was.resumes, siteId: was.siteId, poolId: was.poolId, transfer: was.transfer, readyMs: was.readyMs });
    // Back to what it was before this cycle's commit (waiting, its input moving, or paused: paused from now on).
    record.state = was.state === 'waiting' && record.transfer !== null && (record.readyMs ?? 0) > nowMs ? 'transferring' : was.state;
    record.pausedSinceMs = was.state === 'paused' ? (was.pausedSinceMs ?? nowMs) : was.pausedSinceMs;
    if (record.siteId === null) decided.delete(record);
    record.preemptions++;
    running.delete(record);
    waiting.add(record);
    note({ timeMs: nowMs, kind: 'preempt', jobId: record.job.id, siteId });
  };
  /** After a regular cycle's commit: the first claim's bursts, slot by slot until the next cycle. */
  const claimAt = (cur: number, cutoffSlot: number, nowMs: number): void => {
    const claim = input.firstClaim!;
    for (let t = cur; t < Math.min(grid.slots, cur + cutoffSlot); t++) {
      const runs: ClaimRun[] = [];
      const holders = new Map<string, JobRecord>();
      for (const record of running) {
        if (!holdsSlot(record.slots, t)) continue;
        // Only a commit of this cycle can be undone (an interruptible job commits no further than the next cycle).
        runs.push({ jobId: record.job.id, pool: `${record.siteId}/${record.poolId}`, units: record.job.units, interruptible: record.job.interruptible && before.has(record) });
        holders.set(record.job.id, record);
      }
      const batchUnits = new Map([...busyUnits].map(([key, byT]) => [key, byT[t]]));
      const { preempt, added } = claim.atSlot(t, runs, batchUnits);
      for (const id of preempt) {
        const record = holders.get(id);
        if (!record || !record.job.interruptible || !before.has(record)) throw new Error(`first claim pre-empted job '${id}', which is not an interruptible run of this cycle in slot ${t}`);
        undo(record, nowMs);
      }
      claimAdded.push(...added);
    }
  };

  for (let entry = heap.pop(); entry; entry = heap.pop()) {
    events++;
    const nowMs = entry.timeMs;
    const item = entry.value;
    if (item.kind === 'note') {
      if (input.recordEvents) log.push(item.event);
      continue;
    }
    if (item.kind === 'arrive') {
      const record = item.record;
      record.state = 'waiting';
      waiting.add(record);
      if (input.recordEvents) log.push({ timeMs: nowMs, kind: 'arrive', jobId: record.job.id, siteId: null });
      // Work that cannot wait for the next cycle is planned now (once all arrivals of this instant are in).
      const slackMs = record.planned.deadlineMs - Math.max(nowMs, record.planned.releaseMs) - record.job.durationS * 1000;
      if (asap || slackMs < replanMs) {
        if (urgentNow.size === 0) heap.push(nowMs, PRIORITY.urgent, { kind: 'urgent' });
        urgentNow.add(record);
      }
      continue;
    }
    if (item.kind === 'urgent') {
      const pending = [...urgentNow].filter((r) => waiting.has(r) && r.state === 'waiting');
      urgentNow.clear();
      if (pending.length > 0) planAndCommit(pending, nowMs, 1);
      continue;
    }
    // A dispatch cycle.
    cycles++;
    urgentNow.clear();
    if (input.recordEvents) log.push({ timeMs: nowMs, kind: 'cycle', jobId: null, siteId: null });
    // Jobs that ran to the end of their committed slots are done, or paused until re-planned.
    for (const record of running) {
      const lastEnd = grid.startMs + (record.slots[record.slots.length - 1] + 1) * slotMs;
      if (record.state === 'completed') {
        if (record.endMs! <= nowMs) running.delete(record);
      } else if (lastEnd <= nowMs && record.doneMs < record.workMs) {
        // Out of committed slots: it continues if this cycle places it at once, else it pauses.
        record.state = 'paused';
        running.delete(record);
        waiting.add(record);
      }
    }
    for (const record of waiting) {
      // The rest of its work at the fastest pool it may still use (its own site's, once its site is fixed).
      const remainingMs = (record.workMs - record.doneMs) / fastestSpeed(record);
      if (Math.max(nowMs, record.readyMs ?? nowMs) + remainingMs > record.planned.deadlineMs) {
        record.state = 'missed';
        waiting.delete(record);
        note({ timeMs: nowMs, kind: 'miss', jobId: record.job.id, siteId: record.siteId });
      }
    }
    if (input.firstClaim) placeClaim(nowMs);
    if (waiting.size > 0) planAndCommit([...waiting], nowMs, input.horizonSlots, input.firstClaim ? claimAt : null);
    else if (input.firstClaim) {
      before.clear();
      const cur = Math.floor((nowMs - grid.startMs) / slotMs);
      claimAt(cur, replanMs / slotMs, nowMs);
    }
    for (const record of waiting) {
      if (record.state === 'paused' && record.pausedSinceMs === null) {
        record.pausedSinceMs = nowMs;
        note({ timeMs: nowMs, kind: 'pause', jobId: record.job.id, siteId: record.siteId });
      }
    }
    input.onCycle?.({ nowMs, records, busyUnits });
    input.onProgress?.(nowMs - fromMs, toMs - fromMs);
  }
  return { policy: input.policy, records, busyUnits, cycles, events, log };
}

/** The policy's profile, with the sites `optimize` may use; the baselines keep their own. */
function simulatedProfile(policy: PolicyName, objective: Objective, optimizeSites: Profile['sites']): Profile {
  const profile = policyProfile(policy, objective);
  return profile.strategy === 'optimize' ? { ...profile, sites: optimizeSites } : profile;
}

/** The job as a policy plans it: with `shiftMs`, the window around its requested start. */
function plannedJob(job: Job, policy: PolicyName, shiftMs: number): Job {
  if (shiftMs === 0) return job;
  const deadlineMs = job.releaseMs + job.durationS * 1000 + shiftMs;
  return policy === 'asap-origin' ? { ...job, deadlineMs } : { ...job, releaseMs: job.releaseMs - shiftMs, deadlineMs };
}

/** A paused job's remaining work: at its site, with its data already there. */
function resumeAt(record: JobRecord, nowMs: number): Job {
  return {
    ...record.planned,
    durationS: (record.workMs - record.doneMs) / 1000,
    releaseMs: Math.max(nowMs, record.readyMs ?? nowMs),
    origin: record.siteId!,
    allowedSites: [record.siteId!],
    inputGb: 0,
  };
}

/** Committed slots of running jobs from slot `cur` on, in the cycle's local slots. */
function committedUses(running: ReadonlySet<JobRecord>, cur: number, horizon: number): CommittedUse[] {
  const uses: CommittedUse[] = [];
  for (const record of running) {
    // Slots are ascending: only the tail from `cur` on matters (a long job has months of slots behind it).
    let from = record.slots.length;
    while (from > 0 && record.slots[from - 1] >= cur) from--;
    const slots: number[] = [];
    const energyKWh: number[] = [];
    for (let i = from; i < record.slots.length && record.slots[i] < cur + horizon; i++) {
      slots.push(record.slots[i] - cur);
      energyKWh.push(record.energyKWh[i]);
    }
    if (slots.length > 0) uses.push({ siteId: record.siteId!, poolId: record.poolId!, units: record.job.units, slots, energyKWh });
  }
  return uses;
}

/** Whether ascending `slots` hold slot t (searched from the end: a long job has months of slots behind it). */
function holdsSlot(slots: readonly number[], t: number): boolean {
  for (let i = slots.length - 1; i >= 0 && slots[i] >= t; i--) if (slots[i] === t) return true;
  return false;
}

/** The first claim's units and energy in the cycle's slots (local), from `cur` on. */
function claimUses(claimed: readonly CommittedUse[], cur: number, horizon: number): CommittedUse[] {
  const uses: CommittedUse[] = [];
  for (const use of claimed) {
    const slots: number[] = [];
    const energyKWh: number[] = [];
    // Slots are ascending: start at the first one from `cur` (a binary search; a plan's use spans the period).
    let lo = 0;
    let hi = use.slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (use.slots[mid] < cur) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < use.slots.length && use.slots[i] < cur + horizon; i++) {
      slots.push(use.slots[i] - cur);
      energyKWh.push(use.energyKWh[i]);
    }
    if (slots.length > 0) uses.push({ siteId: use.siteId, poolId: use.poolId, units: use.units, slots, energyKWh });
  }
  return uses;
}

/** Fixes the job's site and starts moving its input there (if anything moves). */
function startTransfer(record: JobRecord, placement: Placement, siteId: string, poolId: string, cur: number, nowMs: number): SimEvent[] {
  const { route, transferS } = placement.candidate.option;
  record.siteId = siteId;
  record.poolId = poolId;
  record.readyMs = Math.round(nowMs + transferS * 1000);
  if (route.links.length === 0 || record.job.inputGb <= 0) return [];
  record.transfer = { route, gb: record.job.inputGb, startSlot: cur, startMs: nowMs, segments: placement.candidate.option.transferSegments ?? [] };
  record.state = 'transferring';
  return [{ timeMs: nowMs, kind: 'transfer', jobId: record.job.id, siteId }];
}

interface CommitContext {
  siteId: string;
  poolId: string;
  /** The pool's speed for the job (poolSpeed): work done per ms run. */
  speed: number;
  /** The cycle grid's first slot in the scenario's grid. */
  cur: number;
  nowMs: number;
  slotMs: number;
  /** The next regular cycle, as a slot of the cycle's grid and as an instant. */
  cutoffSlot: number;
  nextCycleMs: number;
}

/**
 * Records the part of a placement that runs before the next cycle (all of it for a job that
 * cannot be interrupted) and returns the events it implies.
 */
function commit(record: JobRecord, placement: Placement, energies: number[], c: CommitContext): SimEvent[] {
  const { candidate } = placement;
  const events: SimEvent[] = [];
  const whole = !record.job.interruptible;
  if (record.siteId === null) events.push(...startTransfer(record, placement, c.siteId, c.poolId, c.cur, c.nowMs));
  candidate.slots.forEach((t, i) => {
    if (!whole && t >= c.cutoffSlot) return;
    record.slots.push(c.cur + t);
    record.energyKWh.push(energies[i]);
  });
  let startMs = -1;
  let endMs = -1;
  for (let k = 0; k < candidate.runs.length; k += 2) {
    const from = candidate.runs[k];
    const to = whole ? candidate.runs[k + 1] : Math.min(candidate.runs[k + 1], c.nextCycleMs);
    if (to <= from) continue;
    if (startMs < 0) startMs = from;
    endMs = to;
    record.doneMs += (to - from) * c.speed;
  }
  // The placement's last run committed to its end: the work is done (whole ms of run time round its last fraction).
  if (endMs === candidate.runs[candidate.runs.length - 1]) record.doneMs = record.workMs;
  if (record.firstStartMs === null) {
    record.firstStartMs = startMs;
    events.push({ timeMs: startMs, kind: 'start', jobId: record.job.id, siteId: c.siteId });
  } else if (record.pausedSinceMs !== null) {
    record.pausedSinceMs = null;
    record.resumes++;
    events.push({ timeMs: startMs, kind: 'resume', jobId: record.job.id, siteId: c.siteId });
  }
  record.state = 'running';
  if (record.doneMs >= record.workMs) {
    record.endMs = endMs;
    record.state = 'completed';
    events.push({ timeMs: record.endMs, kind: 'finish', jobId: record.job.id, siteId: c.siteId });
  }
  return events;
}
