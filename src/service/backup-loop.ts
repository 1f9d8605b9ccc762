/**
 * The backup loop of `kumul serve --backup-endpoints FILE` (docs/backup.md, "The service"). The runtime ticks it
 * after the dispatch loop, on the leader only, with the leader's fenced store. At each cycle (when the dispatch loop
 * ran one, every `replanMinutes`, when the network changed, or when woken: a dataset or policy posted, a copy ended)
 * it plans every stored dataset with the core planner (src/core/backup/planner.ts) from where its replicas stand
 * (their newest verified copies in the store): first what they must hold of each link to meet every RPO (the
 * reservation, which the dispatch loop's cycles move job input around), then over the link capacity the batch jobs'
 * planned input transfers leave.
 * At each tick it starts the copies the plan puts in the current slot through rclone (src/backup/rclone.ts), with
 * `--bwlimit` from the planned share of the link, and does not wait for them: a copy runs across ticks, its bytes
 * are logged per hop as rclone reports them, and once rclone checked the replica against the live data, the replica's
 * newest verified copy is recorded. Every `verifyMinutes` each replica is checked against the SUM file of its copy,
 * and repaired from the live data when a file differs.
 *
 * A `kumul serve` killed mid-copy takes its rclone with it (RcloneOptions.diesWithParent); after the restart the
 * replica is still behind, the next plan puts its copy in the current slot again and `rclone sync --checksum` skips
 * the files already complete: the copy resumes. A link taken down changes the network: the next tick re-plans over
 * the links left, through a relay site or to another candidate site.
 */
import type { Network, Scenario, TimeGrid } from '../core/model/types.ts';
import type { LinkReserveGB } from '../core/network/routes.ts';
import type { LpSolver } from '../core/lp/model.ts';
import { BACKUP_SCORES, backupReservation, hopFiguresPerGB, planBackups } from '../core/backup/planner.ts';
import { computeRoutes } from '../core/network/routes.ts';
import { candidateSites, fixedTransferOf, rpoSlots, type BackupDataset, type BackupPolicy, type FixedTransfer, type ReplicaStart } from '../core/backup/model.ts';
import type { Objective } from '../core/dispatch/objective.ts';
import { datasetFrom, policyFrom, type BackupGround, type Endpoints } from '../backup/load.ts';
import { BackupExecutor, bandwidthBytesPerS, type CheckResult, type CopyProgress } from '../backup/rclone.ts';
import type { DatasetInput, PolicyInput } from '../backup/schema.ts';
import { formatJsonPath } from '../scenario/errors.ts';
import { allJobs } from '../store/all-jobs.ts';
import { LeaseLost, type BackupLoopStateDocument, type BackupRecord, type ReplicaRecord, type Store } from '../store/port.ts';
import type { Clock } from './clock.ts';
import type { Metrics } from './metrics.ts';

/** What the API shows of a dataset from the loop (GET /v1/backup/datasets/{id}, `loop`), as stored for every instance. */
export type BackupLoopState = BackupLoopStateDocument;

export interface BackupLoopView {
  /** The rate of the copies running now on each link direction they are moving over, Gbit/s of service time (the dashboard's link load). */
  linkLoads(): { from: string; to: string; gbps: number }[];
}

export interface BackupLoopOptions {
  endpoints: Endpoints;
  clock: Clock;
  metrics: Metrics;
  /** The scenario over `slots` slots from `startMs` (forecasts plan). */
  scenarioWindow(startMs: number, slots: number): Scenario;
  slotMinutes: number;
  horizonHours: number;
  replanMinutes: number;
  /** Simulated minutes between two verifications of a replica. */
  verifyMinutes: number;
  /** Simulated seconds per real second: a planned rate of the service's time is this many times faster in real time. */
  timeScale: number;
  solver: LpSolver;
  log: (line: string) => void;
}

/** A copy or repair running now, by `tenant/dataset@target`. */
interface Running {
  tenantId: string;
  datasetId: string;
  target: string;
  route: string[];
  startedMs: number;
  kind: 'copy' | 'repair';
  progress: CopyProgress | null;
  /** The hop being copied now (1 for the first). */
  hop: number;
}

const HOUR_MS = 3_600_000;
/** Real milliseconds between two stores of a dataset's view while a copy moves (rclone reports every second). */
const PUBLISH_EVERY_MS = 2000;
const DAY_MS = 86_400_000;
/**
 * What a due copy of an unchanged dataset is planned as, GB: it must still run (rclone compares hashes, moves nothing,
 * and the replica's newest verified copy becomes current), so it gets a slot like any other.
 */
const NOTHING_CHANGED_GB = 0.001;

/** The objective backups plan with: the dispatch's when it uses only scores backups know, else cost. */
function backupObjective(objective: Objective): Objective {
  const known = Object.keys(objective.weights).every((k) => (BACKUP_SCORES as readonly string[]).includes(k));
  return known ? objective : { name: 'cost', weights: { cost: 1 } };
}

/** A version tag from an instant: `2026-06-01T12-00-00Z` (sorts by time; no colons in paths). */
function versionTag(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/:/g, '-') + 'Z';
}

export class BackupLoop implements BackupLoopView {
  private readonly executor: BackupExecutor;
  private readonly running = new Map<string, Running>();
  private states = new Map<string, BackupLoopState>();
  private lastPlanMs = -Infinity;
  /** The link capacity the latest cycle reserved for backups (the dispatch loop's cycles read it: `linkReserve`). */
  private reserve: { grid: TimeGrid; reserveGB: LinkReserveGB } | null = null;
  private lastNetwork: Network | null = null;
  private woken = true;
  /** The store of the current term (fenced by the lease): copies that end write through it. */
  private store: Store | null = null;
  private readonly count;

  constructor(private readonly options: BackupLoopOptions) {
    this.executor = new BackupExecutor(options.endpoints, { diesWithParent: true });
    const m = options.metrics;
    this.count = {
      copies: m.counter('kumul_backup_copies_total', 'Backup copies and repairs ended, by kind and result (verified, failed)'),
      bytes: m.counter('kumul_backup_transferred_bytes_total', 'Bytes backup copies moved over links, every hop counted, by link direction'),
      damaged: m.counter('kumul_backup_damaged_files_total', 'Files of replicas that a verification found differing from, or missing against, their verified copy'),
      running: m.gauge('kumul_backup_copies_running', 'Backup copies and repairs running now'),
      overdue: m.gauge('kumul_backup_replicas_past_rpo', 'Replicas whose newest verified copy was older than their RPO at the last backup cycle'),
      energy: m.counter('kumul_backup_network_energy_kwh_total', "Network energy of the bytes backup copies moved over links, kWh (the links' energyKWhPerGB), by link direction"),
      carbon: m.counter('kumul_backup_network_carbon_kg_total', 'Carbon of that energy, kg (drawn half at each end at the actual carbon intensity of the slot the copy started in), by link direction'),
    };
  }

  /** What backups hold of each link and slot since the latest cycle (null before one): the dispatch loop plans job input around it. */
  linkReserve(): { grid: TimeGrid; reserveGB: LinkReserveGB } | null {
    return this.reserve;
  }

  /** Asks for a backup cycle at the next tick (a dataset or policy posted). */
  wake(): void {
    this.woken = true;
  }

  /** The loop's view of a dataset now: its latest plan and the copies running (what `publish` stores). */
  datasetState(tenantId: string, datasetId: string): BackupLoopState | null {
    const state = this.states.get(`${tenantId}/${datasetId}`);
    if (!state) return null;
    const copying = [...this.running.values()]
      .filter((r) => r.tenantId === tenantId && r.datasetId === datasetId)
      .map((r) => ({ target: r.target, route: r.route, startedMs: r.startedMs, bytes: r.progress?.bytes ?? 0, totalBytes: r.progress?.totalBytes ?? 0, kind: r.kind }));
    return { ...state, copying };
  }

  /**
   * Stores the view of the datasets given by `tenant/dataset` key (all planned ones when absent) and the copies' load
   * per link direction through the fenced store, so that GET /v1/backup/datasets/{id} and the dashboard's link loads
   * answer the same on every instance.
   */
  private async publish(keys?: readonly string[]): Promise<void> {
    const states = (keys ?? [...this.states.keys()]).flatMap((key) => {
      const [tenantId, datasetId] = key.split('/');
      const state = this.datasetState(tenantId, datasetId);
      return state ? [{ tenantId, datasetId, state }] : [];
    });
    if (states.length > 0) await this.write((s) => s.saveBackupLoopStates(states, this.options.clock.nowMs()));
    // The load of the copies on each link direction, for every instance's dashboard (not only the leader's memory).
    await this.write((s) => s.saveBackupLinkLoads(this.linkLoads(), this.options.clock.nowMs()));
  }

  /** Publishes one dataset's view in the background (a copy started, moved on or ended); a failure is logged. */
  private publishSoon(key: string): void {
    this.publish([key]).catch((err: unknown) => this.options.log(`backup ${key}: its view was not stored: ${err instanceof Error ? err.message : String(err)}`));
  }

  /**
   * Per hop of `route`, the network energy (kWh) and carbon (kg) of one GB, as the planner prices a hop
   * (`hopFiguresPerGB`: the link's energyKWhPerGB, drawn half at each end) with the actual signals of the slot the copy
   * starts in: the figures metered with its bytes. Sites with no link between them (a repair copies the live data
   * straight to the replica) take the lowest-latency route's hops.
   */
  private hopRates(route: readonly string[], startedMs: number): { energyKWhPerGB: number; carbonKgPerGB: number }[] {
    const slotMs = this.options.slotMinutes * 60_000;
    const window = this.options.scenarioWindow(Math.floor(startedMs / slotMs) * slotMs, 1);
    const actual = Object.fromEntries(Object.entries(window.signals).map(([id, pair]) => [id, pair.actual]));
    const routes = computeRoutes(window.network);
    return route.slice(1).map((to, h) => {
      const path = routes.get(route[h])?.get(to);
      const rate = { energyKWhPerGB: 0, carbonKgPerGB: 0 };
      for (let k = 0; path && k < path.links.length; k++) {
        const f = hopFiguresPerGB(path.links[k], path.path[k], path.path[k + 1], 0, actual);
        rate.energyKWhPerGB += f.energyKWh;
        rate.carbonKgPerGB += f.carbonKg;
      }
      return rate;
    });
  }

  linkLoads(): { from: string; to: string; gbps: number }[] {
    const load = new Map<string, { from: string; to: string; gbps: number }>();
    for (const r of this.running.values()) {
      if (!r.progress || r.progress.speedBytesPerS <= 0) continue;
      const from = r.route[r.hop - 1];
      const to = r.route[r.hop];
      const entry = load.get(`${from}>${to}`) ?? { from, to, gbps: 0 };
      // rclone's speed is real time; the service's clock runs `timeScale` times faster.
      entry.gbps += (r.progress.speedBytesPerS * 8) / 1e9 / this.options.timeScale;
      load.set(`${from}>${to}`, entry);
    }
    return [...load.values()];
  }

  /**
   * One tick on the leader's fenced `store`: a cycle when due (`jobsReplanned`: the dispatch loop just planned, so job
   * transfers may have moved), then the copies due now and the verifications due, all started without waiting.
   */
  async tick(store: Store, network: Network, objective: Objective, jobsReplanned: boolean): Promise<void> {
    this.store = store;
    const nowMs = this.options.clock.nowMs();
    const due = this.woken || jobsReplanned || network !== this.lastNetwork || nowMs - this.lastPlanMs >= this.options.replanMinutes * 60_000;
    if (due) {
      this.woken = false;
      this.lastNetwork = network;
      this.lastPlanMs = nowMs;
      await this.plan(store, nowMs, backupObjective(objective));
    }
    await this.startDue(store, nowMs);
    await this.verifyDue(store, nowMs);
    this.count.running(this.running.size);
  }

  /** Plans every stored dataset from its replicas' state; keeps, per dataset, its targets, next copies and problems. */
  private async plan(store: Store, nowMs: number, objective: Objective): Promise<void> {
    const slotMs = this.options.slotMinutes * 60_000;
    const startMs = Math.floor(nowMs / slotMs) * slotMs;
    const slots = Math.max(2, Math.ceil((this.options.horizonHours * 60) / this.options.slotMinutes));
    const window = this.options.scenarioWindow(startMs, slots);
    // Copies move and relay only between sites with a storage endpoint.
    const stored = (site: string) => this.options.endpoints.sites.has(site);
    const scenario = { ...window, network: { ...window.network, links: window.network.links.filter((l) => stored(l.from) && stored(l.to)) } };
    const ground: BackupGround = { network: scenario.network, grid: scenario.grid };
    const replicas = await store.replicas();
    const records = await store.backupDatasets();
    const policiesOf = new Map<string, Map<string, BackupPolicy>>();
    const states = new Map<string, BackupLoopState>();
    const datasets: BackupDataset[] = [];
    let overdue = 0;
    for (const record of records) {
      const key = `${record.tenantId}/${record.id}`;
      let policies = policiesOf.get(record.tenantId);
      if (!policies) {
        policies = new Map();
        for (const p of await store.backupPolicies(record.tenantId)) policies.set(p.id, policyFrom(p.document as PolicyInput, () => '', ground).policy);
        policiesOf.set(record.tenantId, policies);
      }
      const doc = record.document as DatasetInput;
      const checked = datasetFrom(doc, record.tenantId, (...path) => formatJsonPath(path), policies, ground);
      const state: BackupLoopState = { plannedMs: nowMs, targets: [], nextCopies: [], copying: [], problems: checked.issues.map((i) => `${i.path}: ${i.reason}`) };
      states.set(key, state);
      if (!checked.dataset) continue;
      const dataset = checked.dataset;
      const own = replicas.filter((r) => r.tenantId === record.tenantId && r.datasetId === record.id);
      const rpoMs = dataset.policy.rpoHours * HOUR_MS;
      overdue += own.filter((r) => nowMs - r.versionMs > rpoMs).length;
      const unstored = [dataset.origin, ...(dataset.policy.candidates ?? [])].filter((site) => !stored(site));
      if (unstored.length > 0) {
        state.problems.push(`no storage endpoint at ${unstored.join(', ')} in the endpoints file (kumul serve --backup-endpoints): its copies cannot run`);
        continue;
      }
      // Replicas already made stay where they are: a policy choosing among candidates keeps its chosen sites.
      const candidates = candidateSites(dataset, scenario.network).filter(stored);
      const kept = own.map((r) => r.site).filter((s) => candidates.includes(s));
      const policy = { ...dataset.policy, candidates: kept.length >= dataset.policy.replicas ? kept : candidates };
      const changePerDayGB = doc.dailyChangeGB ?? (dataset.changeGBPerSlot.reduce((a, b) => a + b, 0) * 1440) / (slots * this.options.slotMinutes);
      // A replica gets its next copy once its newest is half its RPO old (the planner's version period): never in a loop.
      const periodMs = Math.max(1, Math.floor(rpoSlots(dataset.policy, scenario.grid) / 2)) * slotMs;
      const replicaStart: Record<string, ReplicaStart> = {};
      for (const site of candidates) {
        const r = own.find((x) => x.site === site);
        const sinceMs = r?.versionMs ?? record.createdMs;
        const changedGB = r && nowMs - r.versionMs >= periodMs ? (changePerDayGB * (nowMs - r.versionMs)) / DAY_MS : 0;
        // A copy under way carries what is pending now: the plan leaves that replica be until it ends.
        const underWay = this.running.has(`${key}@${site}`);
        replicaStart[site] = {
          // The seed, or what changed since the newest copy (never more than the whole dataset).
          pendingGB: underWay ? 0 : r ? (nowMs - r.versionMs >= periodMs ? Math.max(NOTHING_CHANGED_GB, Math.min(dataset.sizeGB, changedGB)) : 0) : dataset.sizeGB,
          dueAt: Math.max(1, Math.floor((sinceMs + rpoMs - startMs) / slotMs)),
          copiedAt: r ? Math.min(0, Math.floor((r.versionMs - startMs) / slotMs)) : null,
        };
      }
      datasets.push({ ...dataset, policy, replicaStart });
    }
    this.count.overdue(overdue);
    const jobTransfers: FixedTransfer[] = (await allJobs(store, { statuses: ['planned', 'transferring'] }))
      .filter((s) => s.plan?.transfer)
      .map((s) => fixedTransferOf(s.plan!.transfer!));
    const signals = Object.fromEntries(Object.entries(scenario.signals).map(([id, pair]) => [id, pair.forecast]));
    // Dataset ids are unique per tenant only: the planner sees `<tenant>/<id>`.
    const planned = datasets.map((d) => ({ ...d, id: `${d.tenant}/${d.id}` }));
    // Backups first hold what their RPOs need; the dispatch loop's next cycles move job input on what that leaves, and
    // the copies are planned on what the jobs leave (docs/backup.md, "Backups and batch share the links").
    const reserveGB = backupReservation({ network: scenario.network, grid: scenario.grid, signals, datasets: planned }, { solver: this.options.solver });
    this.reserve = { grid: scenario.grid, reserveGB };
    const result = planBackups({ network: scenario.network, grid: scenario.grid, signals, datasets: planned, jobTransfers, linkReserveGB: reserveGB, objective }, { solver: this.options.solver });
    for (const u of result.unplaced) states.get(u.id)?.problems.push(u.reason);
    for (const u of result.unmet) {
      for (const id of u.datasets) states.get(id)?.problems.push(`${u.gb.toFixed(3)} GB for ${u.target} cannot arrive by ${new Date(startMs + u.deadline * slotMs).toISOString()} over the links left: that replica will be past its RPO`);
    }
    for (const d of result.datasets) {
      const state = states.get(d.id);
      if (state) state.targets = d.replicas.map((r) => r.site);
    }
    // The first slot each target's pending copy (version 0) moves in, and its route and GB there.
    for (const t of result.transfers) {
      for (const part of t.datasets) {
        if (part.version !== 0) continue;
        const state = states.get(part.id);
        if (!state) continue;
        const route = [t.hops[0].from, ...t.hops.map((h) => h.to)];
        const startAt = startMs + t.hops[0].slot * slotMs;
        const same = state.nextCopies.find((c) => c.target === t.target);
        if (!same || startAt < same.startMs) {
          state.nextCopies = state.nextCopies.filter((c) => c.target !== t.target);
          state.nextCopies.push({ target: t.target, route, startMs: startAt, gb: part.gb });
        } else if (startAt === same.startMs && route.join('>') === same.route.join('>')) same.gb += part.gb;
      }
    }
    // A pending copy the plan cannot land in time (past its RPO already, or no route fast enough) still runs, at once,
    // over the lowest-latency route left: late is better than never, and its problem says so.
    const routes = computeRoutes(scenario.network);
    for (const d of result.datasets) {
      const state = states.get(d.id);
      const origin = datasets.find((x) => `${x.tenant}/${x.id}` === d.id)?.origin;
      if (!state || !origin) continue;
      for (const r of d.replicas) {
        const first = r.versions.find((v) => v.index === 0);
        if (!first || first.gb <= 0 || first.arrival !== null || state.nextCopies.some((c) => c.target === r.site)) continue;
        const route = routes.get(origin)?.get(r.site)?.path;
        if (!route) {
          state.problems.push(`no route from ${origin} to ${r.site} over the links left: the copy waits for one`);
          continue;
        }
        state.nextCopies.push({ target: r.site, route: [...route], startMs, gb: first.gb });
        state.problems.push(`the copy to ${r.site} cannot meet the RPO: it runs now over ${route.join(' → ')}`);
      }
    }
    this.states = states;
    await this.publish();
  }

  /** Starts the copies the plan puts in the current slot that are not running yet. */
  private async startDue(store: Store, nowMs: number): Promise<void> {
    const slotMs = this.options.slotMinutes * 60_000;
    for (const [key, state] of this.states) {
      for (const next of state.nextCopies) {
        if (next.startMs > nowMs || this.running.has(`${key}@${next.target}`)) continue;
        const [tenantId, datasetId] = key.split('/');
        const record = await store.backupDataset(tenantId, datasetId);
        const policy = record && (await store.backupPolicies(tenantId)).find((p) => p.id === record.document.policy);
        if (!record || !policy) continue;
        // The planned GB over the slot, at the service's pace (faster than real time by the time scale).
        const bwlimitBytesPerS = bandwidthBytesPerS(next.gb, slotMs / 60_000) * this.options.timeScale;
        state.nextCopies = state.nextCopies.filter((c) => c !== next);
        this.copy(record, policy.document as PolicyInput, next.target, next.route, bwlimitBytesPerS, nowMs);
      }
    }
  }

  /** Runs one copy along `route` in the background; records its bytes per hop as it goes and the replica once verified. */
  private copy(record: BackupRecord, policy: PolicyInput, target: string, route: string[], bwlimitBytesPerS: number, startedMs: number): void {
    const doc = record.document as DatasetInput;
    const run: Running = { tenantId: record.tenantId, datasetId: record.id, target, route, startedMs, kind: 'copy', progress: null, hop: 1 };
    const key = `${record.tenantId}/${record.id}@${target}`;
    this.running.set(key, run);
    const copyKey = `c${startedMs}-${target}`;
    const rates = this.hopRates(route, startedMs);
    const logged = new Map<number, number>();
    let publishedMs = -Infinity;
    const logHop = (hop: number, bytes: number) => {
      if ((logged.get(hop) ?? -1) >= bytes) return Promise.resolve();
      const labels = { from: route[hop - 1], to: route[hop] };
      const deltaGB = (bytes - Math.max(0, logged.get(hop) ?? 0)) / 1e9;
      this.count.bytes(deltaGB * 1e9, labels);
      this.count.energy(deltaGB * rates[hop - 1].energyKWhPerGB, labels);
      this.count.carbon(deltaGB * rates[hop - 1].carbonKgPerGB, labels);
      logged.set(hop, bytes);
      // The dataset's view (rclone's bytes) is stored every few seconds of a copy, not at each of rclone's stats.
      if (performance.now() - publishedMs >= PUBLISH_EVERY_MS) {
        publishedMs = performance.now();
        this.publishSoon(`${record.tenantId}/${record.id}`);
      }
      const nowMs = this.options.clock.nowMs();
      const gb = bytes / 1e9;
      return this.write((s) =>
        s.recordBackupTransfer(
          { tenantId: record.tenantId, datasetId: record.id, key: `${copyKey}.${hop}`, from: route[hop - 1], to: route[hop], target, bytes, startMs: startedMs, endMs: nowMs, energyKWh: gb * rates[hop - 1].energyKWhPerGB, carbonKg: gb * rates[hop - 1].carbonKgPerGB },
          nowMs,
        ),
      );
    };
    let writes: Promise<unknown> = Promise.resolve();
    // The replica is verified first: damage the copy is about to overwrite is found and said, not repaired in silence.
    const done = this.executor
      .checkSums(target, record.tenantId, record.id)
      .then((check) => {
        if (check && !check.ok) this.damaged(key, check, 'the copy repairs them from the live data');
      })
      .then(() => this.executor.replicate({
        tenant: record.tenantId,
        dataset: record.id,
        prefix: doc.prefix,
        route,
        versionTag: versionTag(startedMs),
        retainVersions: policy.retainVersions,
        bwlimitBytesPerS,
        onProgress: (hop, progress) => {
          run.progress = progress;
          run.hop = hop;
          writes = writes.then(() => logHop(hop, progress.bytes));
        },
      }))
      .then(async (result) => {
        await writes;
        result.copies.forEach((c, i) => void (c.progress && (writes = writes.then(() => logHop(i + 1, c.progress!.bytes)))));
        await writes;
        if (!result.ok) {
          const why = result.failedHop !== null ? `hop ${route[result.failedHop - 1]}→${route[result.failedHop]} failed: ${result.copies.at(-1)?.errors.join('; ') || `rclone exited ${result.copies.at(-1)?.exitCode}`}` : `the replica does not match the live data after the copy (${result.check?.differences.length} differences)`;
          this.options.log(`backup ${key}: copy ${copyKey} ${why}`);
          this.count.copies(1, { kind: 'copy', result: 'failed' });
          return;
        }
        await this.recordCopy(record, target, startedMs);
        this.count.copies(1, { kind: 'copy', result: 'verified' });
      });
    this.settle(key, done);
  }

  /** Records the replica's newest verified copy (current to `versionMs`) with its size and what the site keeps. */
  private async recordCopy(record: BackupRecord, target: string, versionMs: number): Promise<void> {
    const copy = await this.executor.rclone.size(this.executor.replicaPath(target, record.tenantId, record.id));
    const kept = await this.executor.rclone.size(this.executor.keptPath(target, record.tenantId, record.id));
    const nowMs = this.options.clock.nowMs();
    await this.write((s) => s.recordReplica({ tenantId: record.tenantId, datasetId: record.id, site: target, versionMs, verifiedMs: nowMs, bytes: copy.bytes, files: copy.count, storedBytes: kept.bytes }, nowMs));
  }

  /** Checks each replica whose last verification is `verifyMinutes` old against its SUM file; repairs it from the live data when it differs. */
  private async verifyDue(store: Store, nowMs: number): Promise<void> {
    for (const replica of await store.replicas()) {
      const key = `${replica.tenantId}/${replica.datasetId}@${replica.site}`;
      if (this.running.has(key) || nowMs - replica.verifiedMs < this.options.verifyMinutes * 60_000) continue;
      const record = await store.backupDataset(replica.tenantId, replica.datasetId);
      if (!record || !this.options.endpoints.sites.has(replica.site)) continue;
      this.verify(record, replica, nowMs);
    }
  }

  private verify(record: BackupRecord, replica: ReplicaRecord, startedMs: number): void {
    const doc = record.document as DatasetInput;
    const key = `${replica.tenantId}/${replica.datasetId}@${replica.site}`;
    const run: Running = { tenantId: replica.tenantId, datasetId: replica.datasetId, target: replica.site, route: [doc.origin, replica.site], startedMs, kind: 'repair', progress: null, hop: 1 };
    this.running.set(key, run);
    const done = this.executor
      .verifyAndRepair({ origin: doc.origin, target: replica.site, tenant: replica.tenantId, dataset: replica.datasetId, prefix: doc.prefix, versionTag: versionTag(startedMs) })
      .then(async (outcome) => {
        const nowMs = this.options.clock.nowMs();
        if (outcome.before.ok) {
          // Intact: the same copy, verified now.
          await this.write((s) => s.recordReplica({ ...replica, verifiedMs: nowMs }, nowMs));
          return;
        }
        this.damaged(key, outcome.before, outcome.repaired ? 'repaired from the live data' : `repair failed: ${outcome.after.differences.length} files still differ`);
        const bytes = outcome.copy?.progress?.bytes ?? 0;
        if (bytes > 0) {
          const [rate] = this.hopRates([doc.origin, replica.site], startedMs);
          const labels = { from: doc.origin, to: replica.site };
          const gb = bytes / 1e9;
          this.count.bytes(bytes, labels);
          this.count.energy(gb * rate.energyKWhPerGB, labels);
          this.count.carbon(gb * rate.carbonKgPerGB, labels);
          await this.write((s) =>
            s.recordBackupTransfer(
              { tenantId: replica.tenantId, datasetId: replica.datasetId, key: `r${startedMs}-${replica.site}`, from: doc.origin, to: replica.site, target: replica.site, bytes, startMs: startedMs, endMs: nowMs, energyKWh: gb * rate.energyKWhPerGB, carbonKg: gb * rate.carbonKgPerGB },
              nowMs,
            ),
          );
        }
        this.count.copies(1, { kind: 'repair', result: outcome.repaired ? 'verified' : 'failed' });
        // The repair copied the live data as it is now: the replica is current to the repair's start.
        if (outcome.repaired) await this.recordCopy(record, replica.site, startedMs);
      });
    this.settle(key, done);
  }

  /** Logs and counts the damage a verification found in a replica. */
  private damaged(key: string, check: CheckResult, outcome: string): void {
    const files = check.differences.map((d) => `${d.path} (${d.kind})`).join(', ');
    this.count.damaged(check.differences.length);
    this.options.log(`backup ${key}: verification found ${check.differences.length} damaged file(s): ${files}${check.errors.length > 0 ? ` (${check.errors.join('; ')})` : ''}; ${outcome}`);
  }

  /** When a copy or repair ends (or throws), it stops counting as running and the next tick plans again. */
  private settle(key: string, done: Promise<void>): void {
    this.publishSoon(key.slice(0, key.lastIndexOf('@')));
    done
      .catch((err: unknown) => this.options.log(`backup ${key}: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        this.running.delete(key);
        this.woken = true;
        this.publishSoon(key.slice(0, key.lastIndexOf('@')));
      });
  }

  /** A write through the current term's fenced store; once another instance leads, it changes nothing and is logged. */
  private async write(call: (store: Store) => Promise<{ ok: boolean; reason?: string } | { ok: false; reason: string }>): Promise<void> {
    if (!this.store) return;
    try {
      const result = await call(this.store);
      if (!result.ok) this.options.log(`backup: a write was refused: ${(result as { reason: string }).reason}`);
    } catch (err) {
      if (err instanceof LeaseLost) this.options.log(`backup: ${err.message}; the copy's result is left to the new leader, which verifies the replica again`);
      else throw err;
    }
  }
}
