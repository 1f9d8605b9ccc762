/**
 * The backup transfer planner (docs/backup.md, "Planning"): when and over which links each backup
 * version moves so that every replica meets its RPO at the least objective, with a lower bound.
 * Called by `kumul backup plan` (src/cli/backup-command.ts) and bench/backup.ts; pure: the LP solver is injected.
 *
 * A min-cost multi-commodity flow over a time-expanded graph: nodes are site × time point, arcs are a
 * directed hop in a slot (from the start of the slot at one end to the start of the next at the other:
 * store and forward) with the hop's free capacity in that slot (bandwidth × slot length − job transfers),
 * and holdover arcs (data waiting at a site; a relay keeps a temporary copy). A commodity is all data that
 * must reach one target site by one deadline under one copy window: versions of many datasets with the
 * same target and deadline merge into it with their own sources (origin, cut), which is exact for the LP
 * (capacity is shared and arc costs do not depend on the data). A policy that chooses `replicas` among
 * more candidate sites scales each candidate's supply by a choice variable y ∈ [0,1], Σ y = replicas.
 * The LP's value is the bound; the plan rounds each choice (the `replicas` largest y), fixes the targets
 * and solves again. Flows stay fractional: a version may split over slots and routes (its files are
 * independent). A virtual arc from each source to its sink at a penalty makes every instance solvable:
 * data on it is reported as unmet (its RPO cannot be met), never hidden.
 */
import type { Link, Network, SiteSignals, TimeGrid } from '../model/types.ts';
import type { LinkReserveGB } from '../network/routes.ts';
import { LpBuilder, type LpSolver } from '../lp/model.ts';
import type { Objective } from '../dispatch/objective.ts';
import type { Bound } from '../dispatch/bound.ts';
import { candidateSites, datasetVersions, firstVersion, fixedLinkUse, hopKey, rpoSlots, rpoProblem, slotInWindow, type BackupDataset, type FixedTransfer } from './model.ts';

export interface BackupRequest {
  network: Network;
  grid: TimeGrid;
  /** The series plans use: forecasts. */
  signals: Record<string, SiteSignals>;
  datasets: readonly BackupDataset[];
  /** Batch-job input transfers already planned: fixed use of the links they cross. */
  jobTransfers: readonly FixedTransfer[];
  /** The reservation (`backupReservation`, on this grid) the batch plan moved those transfers around: they are spread by what it left. */
  linkReserveGB?: LinkReserveGB;
  objective: Objective;
}

/** Figures of moving data: network energy (grid energy), cost and carbon. */
export interface TransferFigures {
  energyKWh: number;
  costYuan: number;
  carbonKg: number;
}

export interface PlannedTransfer extends TransferFigures {
  target: string;
  gb: number;
  /** Hops in order; hop k moves `gb` in slot `slot` (each slot after the previous hop's). */
  hops: { from: string; to: string; slot: number }[];
  /** The versions this path carries, each with its share of `gb`. */
  datasets: { id: string; version: number; gb: number }[];
}

export interface ReplicaState {
  site: string;
  seeded: boolean;
  /** Per version due in the plan: GB moved to this replica, and the time point it is complete there (null: unmet). */
  versions: { index: number; cut: number; deadline: number; gb: number; arrival: number | null }[];
  /** Age of the newest complete copy at the end of each slot, hours; null before the first copy lands. */
  ageHours: (number | null)[];
  maxAgeHours: number | null;
  rpoMet: boolean;
}

export interface PlannedDataset {
  id: string;
  tenant: string;
  origin: string;
  policy: string;
  rpoHours: number;
  replicas: ReplicaState[];
  rpoMet: boolean;
}

export interface LinkLoad {
  from: string;
  to: string;
  capacityGB: number;
  /** Slots with any load: GB of backups and of job inputs. */
  slots: { slot: number; backupGB: number; jobGB: number }[];
}

export interface BackupPlanResult {
  datasets: PlannedDataset[];
  unplaced: { id: string; reason: string }[];
  transfers: PlannedTransfer[];
  links: LinkLoad[];
  /** Data that cannot reach its target in time even using every route: per commodity, with the datasets it belongs to. */
  unmet: { target: string; deadline: number; gb: number; datasets: string[] }[];
  totals: TransferFigures & { backupGB: number; jobGB: number; datasetsPlanned: number; datasetsUnplaced: number; datasetsRpoMet: number };
  bound: Bound | null;
  /** Sizes and times, for the CLI's summary and the benchmark. */
  stats: { commodities: number; variables: number; rows: number; solves: number };
}

export interface BackupPlanOptions {
  solver: LpSolver;
  /** Time limit of each LP, seconds. */
  timeLimitS?: number;
}

/** Scores the backup objective understands: cost (yuan), carbon (kg), green (grid kWh: all network energy is grid energy). */
export const BACKUP_SCORES = ['cost', 'carbon', 'green'] as const;

/**
 * Figures of moving one GB over `link` from `from` to `to` in slot `t`: the link's energy per GB, drawn half at
 * each end from the grid at that slot's price and carbon, plus the link's fee per GB.
 */
export function hopFiguresPerGB(link: Link, from: string, to: string, t: number, signals: Record<string, SiteSignals>): TransferFigures {
  const a = signals[from];
  const b = signals[to];
  const half = link.energyKWhPerGB / 2;
  return {
    energyKWh: link.energyKWhPerGB,
    costYuan: link.costYuanPerGB + half * (a.priceYuanPerKWh[t] + b.priceYuanPerKWh[t]),
    carbonKg: (half * (a.carbonGPerKWh[t] + b.carbonGPerKWh[t])) / 1000,
  };
}

/** The weighted objective of figures (how a plan's value and every arc's cost are computed: one formula). */
export function objectiveValue(objective: Objective, f: TransferFigures): number {
  const w = objective.weights;
  return (w.cost ?? 0) * f.costYuan + (w.carbon ?? 0) * f.carbonKg + (w.green ?? 0) * f.energyKWh;
}

/** Capacity of one direction of a link in one slot, GB (links are full duplex: each direction has the bandwidth). */
export function hopCapacityGB(link: Link, grid: TimeGrid): number {
  return (link.bandwidthGbps * grid.slotMinutes * 60) / 8;
}

interface Hop {
  link: Link;
  from: number;
  to: number;
  key: string;
}

/** One source of a commodity: data at `site` from time point `tau`, of these dataset versions. */
interface Source {
  site: number;
  tau: number;
  fixedGB: number;
  /** Versions of datasets whose target is chosen: GB times their choice variable (choice index, candidate index). */
  chosen: { choice: number; candidate: number; gb: number }[];
  /** The versions it carries; `choice`/`candidate` index the choice variable scaling a chosen one (-1: fixed). */
  members: { dataset: number; version: number; gb: number; choice: number; candidate: number }[];
  row: number;
  dropCol: number;
}

interface Commodity {
  target: number;
  deadline: number;
  windowKey: string;
  window: BackupDataset['policy']['window'];
  first: number;
  sources: Map<string, Source>;
  sinkRow: number;
  /** Row of node (site, tau) for first ≤ tau < deadline and site ≠ target. */
  nodeRows: Int32Array;
  arcs: Arc[];
}

interface Arc {
  col: number;
  /** Node index (site × span + tau − first) or -1 for the sink. */
  fromNode: number;
  toNode: number;
  hop: Hop | null;
  slot: number;
}

/** A dataset whose targets are chosen among candidates, and its choice variables (one per candidate). */
interface Choice {
  dataset: number;
  candidates: number[];
  cols: number[];
}

const EPS_GB = 1e-6;

/** Plans every dataset's versions (docs/backup.md) at the least objective. */
export function planBackups(request: BackupRequest, options: BackupPlanOptions): BackupPlanResult {
  return planPriced(request, options, (link, from, to, t) => objectiveValue(request.objective, hopFiguresPerGB(link, from, to, t, request.signals)));
}

/**
 * The link capacity backups must hold so that every RPO is met whatever batch does (docs/backup.md, "Backups and batch
 * share the links"): the plan of every version on whole links (no job transfers) that moves the fewest GB over links
 * and, among those, as late as each deadline allows. Each hop costs 1 + (slots − 1 − t)/slots per GB: a relay (two
 * hops, ≥ 2) never beats a direct hop (≤ 2), and a later slot is always cheaper. The dispatch loop and the simulator
 * give it to the batch planner (Snapshot.linkReserveGB), which moves job input on what it leaves; backups are then
 * planned with `planBackups` on what jobs leave, which is never less than this reservation, so their RPOs stay
 * feasible. Returns GB per directed hop (`hopKey`) and slot of `request.grid`; hops without any are absent.
 */
export function backupReservation(request: Omit<BackupRequest, 'jobTransfers' | 'objective'>, options: BackupPlanOptions): Map<string, Float64Array> {
  const slots = request.grid.slots;
  const plan = planPriced({ ...request, jobTransfers: [], objective: { name: 'latest', weights: {} } }, options, (_link, _from, _to, t) => 1 + (slots - 1 - t) / slots);
  const reserve = new Map<string, Float64Array>();
  for (const l of plan.links) {
    const row = new Float64Array(slots);
    for (const s of l.slots) row[s.slot] = s.backupGB;
    reserve.set(hopKey(l.from, l.to), row);
  }
  return reserve;
}

/** The planner with arcs priced per GB by `ratePerGB` (the objective, or the reservation's latest-first price). */
function planPriced(request: BackupRequest, options: BackupPlanOptions, ratePerGB: (link: Link, from: string, to: string, t: number) => number): BackupPlanResult {
  const { network, grid } = request;
  const siteIds = network.sites.map((s) => s.id);
  const siteIndex = new Map(siteIds.map((id, i) => [id, i]));
  const hops: Hop[] = network.links.flatMap((link) => [
    { link, from: siteIndex.get(link.from)!, to: siteIndex.get(link.to)!, key: hopKey(link.from, link.to) },
    { link, from: siteIndex.get(link.to)!, to: siteIndex.get(link.from)!, key: hopKey(link.to, link.from) },
  ]);
  const jobUse = jobLinkUse(request);
  // Per hop and slot: the weighted objective of one GB (the arc's cost) and the free capacity.
  const rate = hops.map((h) => Float64Array.from({ length: grid.slots }, (_, t) => ratePerGB(h.link, siteIds[h.from], siteIds[h.to], t)));
  const maxRate = Math.max(1e-3, ...rate.map((r) => r.reduce((m, x) => Math.max(m, x), 0)));
  // A GB left unmet costs more than moving it over every hop of the network in the dearest slot.
  const penalty = maxRate * (hops.length + 1) * 1000;

  const unplaced: { id: string; reason: string }[] = [];
  const planned: { dataset: BackupDataset; index: number; candidates: number[] }[] = [];
  request.datasets.forEach((dataset, index) => {
    const tooShort = rpoProblem(dataset.policy, grid);
    const candidates = candidateSites(dataset, network).map((id) => siteIndex.get(id)!).filter((i) => i !== undefined);
    if (tooShort) unplaced.push({ id: dataset.id, reason: tooShort });
    else if (!siteIndex.has(dataset.origin)) unplaced.push({ id: dataset.id, reason: `unknown origin site '${dataset.origin}'` });
    else if (candidates.length < dataset.policy.replicas)
      unplaced.push({ id: dataset.id, reason: `${dataset.policy.replicas} replicas wanted but only ${candidates.length} candidate sites (${candidates.map((i) => siteIds[i]).join(', ') || 'none'})` });
    else planned.push({ dataset, index, candidates });
  });

  const build = (fixedTargets: Map<number, number[]> | null, integerChoices = false) => buildLp(request, planned, fixedTargets, { hops, rate, jobUse, penalty, siteIds }, integerChoices);
  let solves = 0;
  let rows = 0;
  const solve = (lp: ReturnType<typeof build>) => {
    solves++;
    const model = lp.builder.build();
    rows = Math.max(rows, model.numRows);
    return options.solver(model, { timeLimitS: options.timeLimitS });
  };

  const relaxed = build(null);
  const relaxedResult = solve(relaxed);
  let final = relaxed;
  let finalResult = relaxedResult;
  let method = `LP of a time-expanded multi-commodity flow solved by HiGHS: ${planned.length} datasets merged into ${relaxed.commodities.length} commodities (target × deadline × window), ${siteIds.length} sites × ${grid.slots} slots, ${relaxed.builder.numCols} variables`;
  if (relaxedResult.status === 'optimal' && relaxed.choices.length > 0) {
    // Round each choice to its `replicas` largest shares and solve again with the targets fixed.
    const fixed = new Map(relaxed.choices.map((c) => [c.dataset, chosenTargets(relaxed, c.dataset, relaxedResult.colValue!, planned[c.dataset].dataset.policy.replicas)]));
    final = build(fixed);
    finalResult = solve(final);
    method += `; ${relaxed.choices.length} datasets choose their replica sites: the bound relaxes the choice (y ∈ [0,1]), the plan takes each dataset's largest shares and is solved again with them fixed`;
    if (finalResult.status === 'optimal' && dropped(final, finalResult.colValue!) > EPS_GB && dropped(relaxed, relaxedResult.colValue!) <= EPS_GB) {
      // Rounding left data unmet that the relaxation could move: choose the sites exactly (a MIP on the choices).
      const mip = build(null, true);
      const solved = solve(mip);
      if ((solved.status === 'optimal' || solved.status === 'limit') && solved.colValue && dropped(mip, solved.colValue) <= EPS_GB) {
        final = mip;
        finalResult = { ...solved, status: 'optimal' };
        method += `; rounding left data unmet, so the sites were chosen by the MIP with binary choices (HiGHS, ${solved.status === 'optimal' ? 'optimal' : 'best found at its time limit'})`;
      }
    }
  } else {
    method += relaxed.choices.length === 0 ? '; every target is fixed and flows may split, so the LP is the plan (gap 0)' : '';
  }
  const stats = { commodities: final.commodities.length, variables: relaxed.builder.numCols, rows, solves };
  if (finalResult.status !== 'optimal' || !finalResult.colValue) {
    return emptyResult(planned, unplaced, stats, `the LP did not solve: ${finalResult.message}`);
  }
  const result = extractPlan(request, planned, final, finalResult.colValue, siteIds, unplaced, stats);
  const relaxedDrops = relaxedResult.status === 'optimal' ? dropped(relaxed, relaxedResult.colValue!) : Infinity;
  const planValue = objectiveValue(request.objective, result.totals);
  // The bound is on plans that meet every RPO: none when this plan cannot (or even the relaxation cannot).
  if (relaxedResult.status === 'optimal' && relaxedDrops <= EPS_GB && result.unmet.length === 0) {
    const value = Math.min(relaxedResult.dualBound, planValue);
    result.bound = { objective: request.objective.name, value, planValue, gapPct: planValue === 0 ? 0 : ((planValue - value) / Math.abs(planValue)) * 100, method };
  }
  return result;
}

/** GB the request's job transfers put on each directed hop and slot. */
function jobLinkUse(request: BackupRequest): Map<string, Float64Array> {
  return fixedLinkUse(request.jobTransfers, request.grid, request.linkReserveGB ? { links: request.network.links, reserveGB: request.linkReserveGB } : undefined);
}

/** GB on the virtual (unmet) arcs of a solution. */
function dropped(lp: BuiltLp, x: Float64Array): number {
  let sum = 0;
  for (const c of lp.commodities) for (const s of c.sources.values()) sum += x[s.dropCol];
  return sum;
}

interface BuildContext {
  hops: Hop[];
  rate: Float64Array[];
  jobUse: Map<string, Float64Array>;
  penalty: number;
  siteIds: string[];
}

type BuiltLp = ReturnType<typeof buildLp>;

function buildLp(
  request: BackupRequest,
  planned: readonly { dataset: BackupDataset; index: number; candidates: number[] }[],
  fixedTargets: Map<number, number[]> | null,
  ctx: BuildContext,
  integerChoices = false,
) {
  const { grid } = request;
  const sites = ctx.siteIds.length;
  const lp = new LpBuilder();
  const commodities = new Map<string, Commodity>();
  const choices: Choice[] = [];
  /** Per planned dataset: its replica sites, or its candidates when it chooses among them. */
  const targetsOf: number[][] = [];
  // 1. Commodities and their sources.
  planned.forEach(({ dataset, candidates }, d) => {
    const versions = datasetVersions(dataset, grid);
    const targets = fixedTargets?.get(d) ?? candidates;
    const choose = targets.length > dataset.policy.replicas;
    targetsOf.push(targets);
    const choice = choose ? choices.push({ dataset: d, candidates: targets, cols: [] }) - 1 : -1;
    const origin = ctx.siteIds.indexOf(dataset.origin);
    const windowKey = dataset.policy.window ? `${dataset.policy.window.fromMin}-${dataset.policy.window.toMin}@${dataset.policy.window.offsetMin}` : '';
    for (const [ti, target] of targets.entries()) {
      const first = firstVersion(dataset, ctx.siteIds[target], versions[0]);
      for (const v of versions) {
        const gb = v.index === 0 ? first.gb : v.changeGB;
        const deadline = v.index === 0 ? first.deadline : v.deadline;
        if (gb <= 0 || deadline > grid.slots) continue;
        const key = `${target}|${deadline}|${windowKey}`;
        let c = commodities.get(key);
        if (!c) commodities.set(key, (c = { target, deadline, windowKey, window: dataset.policy.window, first: v.cut, sources: new Map(), sinkRow: -1, nodeRows: new Int32Array(0), arcs: [] }));
        c.first = Math.min(c.first, v.cut);
        const sKey = `${origin}@${v.cut}`;
        let s = c.sources.get(sKey);
        if (!s) c.sources.set(sKey, (s = { site: origin, tau: v.cut, fixedGB: 0, chosen: [], members: [], row: -1, dropCol: -1 }));
        if (choose) s.chosen.push({ choice, candidate: ti, gb });
        else s.fixedGB += gb;
        s.members.push({ dataset: d, version: v.index, gb, choice, candidate: choose ? ti : -1 });
      }
    }
  });
  const list = [...commodities.values()].sort((a, b) => a.target - b.target || a.deadline - b.deadline || a.windowKey.localeCompare(b.windowKey));
  // 2. Rows: per commodity, one per (site ≠ target, time point before the deadline) and the sink.
  //    Each row reads inflow − outflow = −supply (sources), demand (sink), 0 (elsewhere).
  for (const c of list) {
    const span = c.deadline - c.first;
    c.nodeRows = new Int32Array(sites * span).fill(-1);
    const supply = new Float64Array(sites * span);
    let total = 0;
    for (const s of c.sources.values()) {
      supply[s.site * span + (s.tau - c.first)] += s.fixedGB;
      total += s.fixedGB;
    }
    for (let i = 0; i < sites; i++) {
      if (i === c.target) continue;
      for (let k = 0; k < span; k++) c.nodeRows[i * span + k] = lp.addRow(-supply[i * span + k], -supply[i * span + k]);
    }
    c.sinkRow = lp.addRow(total, total);
    for (const s of c.sources.values()) s.row = c.nodeRows[s.site * span + (s.tau - c.first)];
  }
  // 3. Choice variables: a candidate's share scales its supply (into the source row) and demand (into the sink row).
  // Per (choice, candidate): coefficient by row (two versions may share a sink or a source row).
  const entries = new Map<string, Map<number, number>>();
  const add = (e: Map<number, number>, row: number, coef: number) => e.set(row, (e.get(row) ?? 0) + coef);
  for (const c of list) {
    for (const s of c.sources.values()) {
      for (const ch of s.chosen) {
        const key = `${ch.choice}|${ch.candidate}`;
        let e = entries.get(key);
        if (!e) entries.set(key, (e = new Map()));
        add(e, s.row, ch.gb);
        add(e, c.sinkRow, -ch.gb);
      }
    }
  }
  choices.forEach((choice, ci) => {
    const replicas = planned[choice.dataset].dataset.policy.replicas;
    const row = lp.addRow(replicas, replicas);
    choice.cols = choice.candidates.map((_, ti) => {
      const e = entries.get(`${ci}|${ti}`) ?? new Map<number, number>();
      return lp.addCol(0, 0, 1, [row, ...e.keys()], [1, ...e.values()], integerChoices);
    });
  });
  // 4. Arcs, with capacity rows per hop and slot created when first used.
  const capacityRow = new Map<number, number>();
  const capRow = (h: number, t: number) => {
    const key = h * grid.slots + t;
    let row = capacityRow.get(key);
    if (row === undefined) {
      const hop = ctx.hops[h];
      const free = Math.max(0, hopCapacityGB(hop.link, grid) - (ctx.jobUse.get(hop.key)?.[t] ?? 0));
      capacityRow.set(key, (row = lp.addRow(-Infinity, free)));
    }
    return row;
  };
  const windowOk = new Map<string, Uint8Array>();
  for (const c of list) {
    let ok = windowOk.get(c.windowKey);
    if (!ok) windowOk.set(c.windowKey, (ok = Uint8Array.from({ length: grid.slots }, (_, t) => (slotInWindow(c.window, grid, t) ? 1 : 0))));
    const span = c.deadline - c.first;
    const node = (i: number, tau: number) => (i === c.target ? (tau <= c.deadline ? -1 : -2) : tau < c.deadline ? i * span + (tau - c.first) : -2);
    for (let t = c.first; t < c.deadline; t++) {
      for (let i = 0; i < sites; i++) {
        if (i === c.target) continue;
        const from = node(i, t);
        const next = node(i, t + 1);
        if (next >= 0) c.arcs.push({ col: lp.addCol(0, 0, Infinity, [c.nodeRows[from], c.nodeRows[next]], [-1, 1]), fromNode: from, toNode: next, hop: null, slot: t });
      }
      if (!ok[t]) continue;
      ctx.hops.forEach((hop, h) => {
        if (hop.from === c.target) return;
        const from = node(hop.from, t);
        const to = node(hop.to, t + 1);
        if (to === -2) return;
        const toRow = to === -1 ? c.sinkRow : c.nodeRows[to];
        c.arcs.push({ col: lp.addCol(ctx.rate[h][t], 0, Infinity, [c.nodeRows[from], toRow, capRow(h, t)], [-1, 1, 1]), fromNode: from, toNode: to, hop, slot: t });
      });
    }
    for (const s of c.sources.values()) s.dropCol = lp.addCol(ctx.penalty, 0, Infinity, [s.row, c.sinkRow], [-1, 1]);
  }
  return { builder: lp, commodities: list, choices, targetsOf };
}

/** Turns a solution into transfers (paths of each commodity, shared by their versions), link loads, replica ages and totals. */
function extractPlan(
  request: BackupRequest,
  planned: readonly { dataset: BackupDataset; index: number; candidates: number[] }[],
  lp: BuiltLp,
  x: Float64Array,
  siteIds: string[],
  unplaced: { id: string; reason: string }[],
  stats: BackupPlanResult['stats'],
): BackupPlanResult {
  const { grid } = request;
  const transfers: PlannedTransfer[] = [];
  const unmet: BackupPlanResult['unmet'] = [];
  const loads = new Map<string, { link: Link; from: string; to: string; backup: Float64Array }>();
  // Arrival time point of each (dataset, target, version); -1 while some of it is unmet.
  const arrival = new Map<string, number>();
  const arrivalKey = (d: number, target: number, v: number) => `${d}|${target}|${v}`;
  const totals = { energyKWh: 0, costYuan: 0, carbonKg: 0, backupGB: 0 };
  for (const c of lp.commodities) {
    const out = new Map<number, Arc[]>();
    const flow = new Map<Arc, number>();
    for (const arc of c.arcs) {
      const f = x[arc.col];
      if (f <= EPS_GB) continue;
      flow.set(arc, f);
      let list = out.get(arc.fromNode);
      if (!list) out.set(arc.fromNode, (list = []));
      list.push(arc);
    }
    const span = c.deadline - c.first;
    for (const s of c.sources.values()) {
      const drop = x[s.dropCol];
      // A chosen version's supply is its GB times its choice (0 or 1 in a plan).
      const members = s.members
        .map((m) => ({ ...m, gb: m.choice < 0 ? m.gb : m.gb * Math.round(x[lp.choices[m.choice].cols[m.candidate]]) }))
        .filter((m) => m.gb > 0);
      const supply = members.reduce((sum, m) => sum + m.gb, 0);
      let left = supply - Math.max(0, drop);
      const dropGB = Math.max(0, drop);
      let latest = c.first;
      const start = s.site * span + (s.tau - c.first);
      while (left > EPS_GB) {
        // Follow arcs with flow left from the source to the sink; the path carries their bottleneck.
        const path: Arc[] = [];
        let at = start;
        let gb = left;
        while (at !== -1) {
          const next = out.get(at)?.find((a) => flow.get(a)! > EPS_GB);
          if (!next) break;
          path.push(next);
          gb = Math.min(gb, flow.get(next)!);
          at = next.toNode;
        }
        if (at !== -1) break; // rounding residue: no flow left to follow
        for (const a of path) flow.set(a, flow.get(a)! - gb);
        left -= gb;
        const linkArcs = path.filter((a) => a.hop !== null);
        const arrivalTau = linkArcs[linkArcs.length - 1].slot + 1;
        latest = Math.max(latest, arrivalTau);
        const figures = { energyKWh: 0, costYuan: 0, carbonKg: 0 };
        for (const a of linkArcs) {
          const f = hopFiguresPerGB(a.hop!.link, siteIds[a.hop!.from], siteIds[a.hop!.to], a.slot, request.signals);
          figures.energyKWh += gb * f.energyKWh;
          figures.costYuan += gb * f.costYuan;
          figures.carbonKg += gb * f.carbonKg;
          let load = loads.get(a.hop!.key);
          if (!load) loads.set(a.hop!.key, (load = { link: a.hop!.link, from: siteIds[a.hop!.from], to: siteIds[a.hop!.to], backup: new Float64Array(grid.slots) }));
          load.backup[a.slot] += gb;
        }
        totals.energyKWh += figures.energyKWh;
        totals.costYuan += figures.costYuan;
        totals.carbonKg += figures.carbonKg;
        totals.backupGB += gb;
        transfers.push({
          target: siteIds[c.target],
          gb,
          hops: linkArcs.map((a) => ({ from: siteIds[a.hop!.from], to: siteIds[a.hop!.to], slot: a.slot })),
          datasets: members.map((m) => ({ id: planned[m.dataset].dataset.id, version: m.version, gb: (m.gb * gb) / supply })),
          ...figures,
        });
      }
      const short = dropGB + left > Math.max(EPS_GB, supply * 1e-6);
      if (short) unmet.push({ target: siteIds[c.target], deadline: c.deadline, gb: dropGB + left, datasets: [...new Set(members.map((m) => planned[m.dataset].dataset.id))] });
      for (const m of members) arrival.set(arrivalKey(m.dataset, c.target, m.version), short ? -1 : latest);
    }
  }
  // Replica ages: at the end of each slot, the newest version complete there.
  const datasets: PlannedDataset[] = planned.map(({ dataset, candidates }, d) => {
    const targets = chosenTargets(lp, d, x, dataset.policy.replicas);
    const r = rpoSlots(dataset.policy, grid);
    const hours = grid.slotMinutes / 60;
    const replicas = targets.map((target): ReplicaState => {
      const start = dataset.replicaStart?.[siteIds[target]];
      const seeded = start ? start.copiedAt !== null : dataset.seeded.includes(siteIds[target]);
      const all = datasetVersions(dataset, grid);
      const first = firstVersion(dataset, siteIds[target], all[0]);
      const versions = all
        .map((v) => (v.index === 0 ? { ...v, deadline: first.deadline } : v))
        .filter((v) => v.deadline <= grid.slots)
        .map((v) => {
          const gb = v.index === 0 ? first.gb : v.changeGB;
          // Nothing to move: the replica is current to the cut as soon as it is cut.
          const a = gb <= 0 ? v.cut : (arrival.get(arrivalKey(d, target, v.index)) ?? -1);
          return { index: v.index, cut: v.cut, deadline: v.deadline, gb, arrival: a < 0 ? null : a };
        });
      // A replica is current to a version's cut once that version and every earlier one are complete there.
      for (let k = 1; k < versions.length; k++) {
        const before = versions[k - 1].arrival;
        const own = versions[k].arrival;
        versions[k].arrival = before === null || own === null ? null : Math.max(before, own);
      }
      const ageHours: (number | null)[] = [];
      let maxAge: number | null = null;
      let met = true;
      for (let tau = 1; tau <= grid.slots; tau++) {
        let newest: number | null = null;
        for (const v of versions) if (v.arrival !== null && v.arrival <= tau && (newest === null || v.cut > newest)) newest = v.cut;
        // A seeded replica holds version 0 from the start; one with an older copy (the service's state), that copy.
        if (newest === null && seeded) newest = start?.copiedAt ?? 0;
        const age = newest === null ? null : (tau - newest) * hours;
        ageHours.push(age);
        if (age !== null) maxAge = Math.max(maxAge ?? 0, age);
        if ((age === null && tau >= r) || (age !== null && age > dataset.policy.rpoHours + 1e-9)) met = false;
      }
      return { site: siteIds[target], seeded, versions, ageHours, maxAgeHours: maxAge, rpoMet: met };
    });
    return { id: dataset.id, tenant: dataset.tenant, origin: dataset.origin, policy: dataset.policy.id, rpoHours: dataset.policy.rpoHours, replicas, rpoMet: replicas.every((rep) => rep.rpoMet) };
  });
  const jobUse = jobLinkUse(request);
  let jobGB = 0;
  const links: LinkLoad[] = [];
  for (const link of request.network.links) {
    for (const [from, to] of [
      [link.from, link.to],
      [link.to, link.from],
    ]) {
      const key = hopKey(from, to);
      const backup = loads.get(key)?.backup;
      const job = jobUse.get(key);
      const slots: LinkLoad['slots'] = [];
      for (let t = 0; t < grid.slots; t++) {
        const b = backup?.[t] ?? 0;
        const j = job?.[t] ?? 0;
        jobGB += j;
        if (b > 0 || j > 0) slots.push({ slot: t, backupGB: b, jobGB: j });
      }
      if (slots.length > 0) links.push({ from, to, capacityGB: hopCapacityGB(link, grid), slots });
    }
  }
  return {
    datasets,
    unplaced,
    transfers,
    links,
    unmet,
    totals: { ...totals, jobGB, datasetsPlanned: datasets.length, datasetsUnplaced: unplaced.length, datasetsRpoMet: datasets.filter((d) => d.rpoMet).length },
    bound: null,
    stats,
  };
}

/** The replica sites of dataset `d` in a solution: its targets, or its chosen candidates (the `replicas` largest shares). */
function chosenTargets(lp: BuiltLp, d: number, x: Float64Array, replicas: number): number[] {
  const choice = lp.choices.find((c) => c.dataset === d);
  if (!choice) return lp.targetsOf[d];
  return choice.candidates
    .map((site, i) => ({ site, y: x[choice.cols[i]] }))
    .sort((a, b) => b.y - a.y || a.site - b.site)
    .slice(0, replicas)
    .map((o) => o.site)
    .sort((a, b) => a - b);
}

function emptyResult(
  planned: readonly { dataset: BackupDataset }[],
  unplaced: { id: string; reason: string }[],
  stats: BackupPlanResult['stats'],
  reason: string,
): BackupPlanResult {
  return {
    datasets: [],
    unplaced: [...unplaced, ...planned.map((p) => ({ id: p.dataset.id, reason }))],
    transfers: [],
    links: [],
    unmet: [],
    totals: { energyKWh: 0, costYuan: 0, carbonKg: 0, backupGB: 0, jobGB: 0, datasetsPlanned: 0, datasetsUnplaced: unplaced.length + planned.length, datasetsRpoMet: 0 },
    bound: null,
    stats,
  };
}
