/**
 * Turns simulation outcomes into the report (report.ts): accounting of what ran with the actual
 * signals, per site, pool and link, time series for charts, and savings between policies on the
 * jobs both completed. Called by `kumul simulate` after every policy has run.
 */
import type { Scenario, SiteSignals } from '../core/model/types.ts';
import { accountUses, type JobFigures, type SlotUse } from '../core/energy/accounting.ts';
import { ALWAYS_ON, idleFigures, type IdleFigures, type PoolLoad, type PowerPolicy } from '../core/energy/idle.ts';
import { busyUnitFacilityKW } from '../core/model/power.ts';
import type { SimOutcome } from './engine.ts';
import type { PolicyResult, Saving, ServicesReport, ServicesResult, SimReport } from './report.ts';
import type { ServicesOutcome } from './services.ts';
import type { BackupOutcome } from './backup.ts';

export interface ReportInput {
  scenario: Scenario;
  fromMs: number;
  toMs: number;
  replanMinutes: number;
  forecastErrorPct: number | null;
  seed: number;
  shiftHours: number;
  /** Default `any`. */
  optimizeSites?: 'any' | 'origin';
  /** Default 0. */
  forecastSmoothingMinutes?: number;
  objective: string;
  outcomes: SimOutcome[];
  /** Services run with the batch (`--services`): one outcome per policy, and the nearest-site baseline with the first policy. */
  services?: {
    forecast: string;
    actual: string;
    outcomes: ServicesOutcome[];
    baseline: { outcome: SimOutcome; services: ServicesOutcome };
  };
  /** Backups planned around each policy's job transfers (`--datasets --policies`), one per outcome. */
  backups?: BackupOutcome[];
  /** How the cycles powered idle nodes (`--power`, `--reserve`): the report's `idle.asleep` keeps its reserve (default 10 %). */
  power?: PowerPolicy;
}

export function buildReport(input: ReportInput): SimReport {
  const accounted = input.outcomes.map((o, i) => accountOutcome(input.scenario, o, input.services?.outcomes[i]));
  const figures = accounted.map((a) => a.jobs);
  const policies = input.outcomes.map((o, i) => {
    const result = policyResult(input, o, figures[i], input.services?.outcomes[i]);
    const services = input.services?.outcomes[i];
    const backup = input.backups?.[i];
    return { ...result, ...(services ? { services: servicesResult(input.scenario, services, accounted[i].services) } : {}), ...(backup ? { backup } : {}) };
  });
  const savings: Saving[] = [];
  input.outcomes.forEach((a, i) => {
    input.outcomes.forEach((b, j) => {
      if (i !== j) savings.push(saving(a, figures[i], b, figures[j]));
    });
  });
  return {
    format: 'kumul-sim-report',
    version: 1,
    scenario: input.scenario.id,
    from: new Date(input.fromMs).toISOString(),
    to: new Date(input.toMs).toISOString(),
    slotMinutes: input.scenario.grid.slotMinutes,
    replanMinutes: input.replanMinutes,
    forecastErrorPct: input.forecastErrorPct,
    seed: input.seed,
    jobs: input.outcomes[0]?.records.length ?? 0,
    shiftHours: input.shiftHours,
    optimizeSites: input.optimizeSites ?? 'any',
    forecastSmoothingMinutes: input.forecastSmoothingMinutes ?? 0,
    ...(input.power?.policy === 'sleep' ? { power: input.power } : {}),
    policies,
    savings,
    ...(input.services ? { services: servicesReport(input, policies) } : {}),
  };
}

/** The services section: the baseline run accounted like the others, and each policy's services against it. */
function servicesReport(input: ReportInput, policies: PolicyResult[]): ServicesReport {
  const s = input.services!;
  const base = s.baseline;
  const accounted = accountOutcome(input.scenario, base.outcome, base.services);
  const baseline = servicesResult(input.scenario, base.services, accounted.services);
  const pct = (x: number, y: number) => (y === 0 ? 0 : (100 * (x - y)) / Math.abs(y));
  return {
    services: base.services.perService.map((x) => x.service),
    forecast: s.forecast,
    actual: s.actual,
    baseline: {
      ...baseline,
      policy: base.outcome.policy,
      batch: {
        completed: base.outcome.records.filter((r) => r.state === 'completed').length,
        missed: base.outcome.records.filter((r) => r.state === 'missed').length,
        preempted: base.outcome.records.filter((r) => r.preemptions > 0).length,
      },
    },
    versusBaseline: policies.flatMap((p) =>
      p.services
        ? [
            {
              policy: p.policy,
              costPct: pct(p.services.totals.costYuan, baseline.totals.costYuan),
              carbonPct: pct(p.services.totals.carbonKg, baseline.totals.carbonKg),
              greenSharePts: 100 * (p.services.totals.greenShare - baseline.totals.greenShare),
              attainmentPts: p.services.totals.attainmentPct - baseline.totals.attainmentPct,
            },
          ]
        : [],
    ),
  };
}

/** The services' figures: totals, per region (attainment), per service and per site, pre-emptions, bound. */
function servicesResult(scenario: Scenario, s: ServicesOutcome, figures: JobFigures[]): ServicesResult {
  const slotMs = scenario.grid.slotMinutes * 60_000;
  const attainment = (within: number, requests: number) => (requests > 0 ? (100 * within) / requests : 100);
  const sites = new Map<string, ServicesResult['sites'][number]>();
  const byService = new Map<string, { energyKWh: number; costYuan: number; carbonKg: number }>();
  const totals = { energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0 };
  const regionFigures = s.regions.map(() => ({ energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0 }));
  s.uses.forEach((use, i) => {
    const f = figures[i];
    use.regionShares.forEach((share, r) => {
      if (share <= 0) return;
      regionFigures[r].energyKWh += f.energyKWh * share;
      regionFigures[r].greenKWh += f.greenKWh * share;
      regionFigures[r].costYuan += f.costYuan * share;
      regionFigures[r].carbonKg += f.carbonKg * share;
    });
    const site = sites.get(use.siteId) ?? { site: use.siteId, energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0 };
    const svc = byService.get(use.service) ?? { energyKWh: 0, costYuan: 0, carbonKg: 0 };
    for (const into of [site, totals]) {
      into.energyKWh += f.energyKWh;
      into.greenKWh += f.greenKWh;
      into.costYuan += f.costYuan;
      into.carbonKg += f.carbonKg;
    }
    svc.energyKWh += f.energyKWh;
    svc.costYuan += f.costYuan;
    svc.carbonKg += f.carbonKg;
    sites.set(use.siteId, site);
    byService.set(use.service, svc);
  });
  const sum = (pick: (x: ServicesOutcome['perService'][number]) => number) => s.perService.reduce((a, x) => a + pick(x), 0);
  const requests = sum((x) => x.requests);
  const withinObjective = sum((x) => x.withinObjective);
  return {
    placement: s.routing,
    totals: {
      ...totals,
      greenShare: totals.energyKWh > 0 ? totals.greenKWh / totals.energyKWh : 0,
      requests,
      withinObjective,
      attainmentPct: attainment(withinObjective, requests),
      replicaHours: sum((x) => x.replicaHours),
      extraReplicaHours: sum((x) => x.extraReplicaHours),
      coldStarts: sum((x) => x.coldStarts),
      burstsShort: s.burstsShort,
    },
    regions: s.regions.map((r, i) => ({
      ...r,
      attainmentPct: attainment(r.withinObjective, r.requests),
      ...regionFigures[i],
      greenShare: regionFigures[i].energyKWh > 0 ? regionFigures[i].greenKWh / regionFigures[i].energyKWh : 0,
    })),
    perService: s.perService.map((x) => ({ ...x, attainmentPct: attainment(x.withinObjective, x.requests), ...(byService.get(x.service) ?? { energyKWh: 0, costYuan: 0, carbonKg: 0 }) })),
    sites: [...sites.values()],
    preemptions: {
      count: s.preemptions.length,
      jobs: new Set(s.preemptions.map((x) => x.jobId)).size,
      unitSlots: s.preemptions.reduce((a, x) => a + x.units, 0),
      first: s.preemptions.slice(0, 100).map((x) => ({ start: new Date(scenario.grid.startMs + x.slot * slotMs).toISOString(), job: x.jobId, pool: x.pool, units: x.units, reasons: x.reasons })),
    },
    bound: { value: Number.isFinite(s.bound.value) ? s.bound.value : null, planValue: s.bound.planValue, gapPct: Number.isFinite(s.bound.gapPct) ? s.bound.gapPct : null, method: s.bound.method },
  };
}

/**
 * Per-job figures (null for jobs that never ran) with the actual signals, and the services' figures per use when
 * they ran too: priced together, so that jobs and services share each site's renewables in proportion to energy.
 */
function accountOutcome(scenario: Scenario, outcome: SimOutcome, services?: ServicesOutcome): { jobs: (JobFigures | null)[]; services: JobFigures[] } {
  const actual = actualSignals(scenario);
  const ran = outcome.records.filter((r) => r.slots.length > 0);
  const uses: SlotUse[] = ran.map((r) => ({ siteId: r.siteId!, slots: r.slots, energyKWh: r.energyKWh, transfer: r.transfer }));
  const accounted = accountUses(scenario.grid, scenario.network.sites, actual, [...uses, ...(services?.uses ?? [])]);
  const byRecord = new Map(ran.map((r, i) => [r, accounted[i]]));
  return { jobs: outcome.records.map((r) => byRecord.get(r) ?? null), services: accounted.slice(uses.length) };
}

/**
 * Idle energy of the period's slots `first`..`last` (exclusive) with every node on, and with idle nodes asleep (10 %
 * reserve). Units held by service replicas are busy (their draw, idle part included, is in the services' energy).
 */
function idleOfOutcome(scenario: Scenario, outcome: SimOutcome, first: number, last: number, reserveShare: number, services?: ServicesOutcome): { alwaysOn: IdleFigures; asleep: IdleFigures } {
  const { grid, network } = scenario;
  const loads: PoolLoad[] = [];
  const jobsKWh = new Map(network.sites.map((s) => [s.id, new Float64Array(grid.slots)]));
  const byPool = new Map<string, PoolLoad>();
  for (const site of network.sites) {
    for (const pool of site.pools) {
      const load = { siteId: site.id, poolId: pool.id, heldUnits: Float64Array.from(outcome.busyUnits.get(`${site.id}/${pool.id}`)!), busyUnitHours: new Float64Array(grid.slots) };
      loads.push(load);
      byPool.set(`${site.id}/${pool.id}`, load);
    }
  }
  for (const r of outcome.records) {
    if (r.slots.length === 0) continue;
    const site = network.sites.find((s) => s.id === r.siteId)!;
    const pool = site.pools.find((p) => p.id === r.poolId)!;
    const load = byPool.get(`${site.id}/${pool.id}`)!;
    const unitKW = busyUnitFacilityKW(pool, site.pue);
    r.slots.forEach((t, i) => {
      load.busyUnitHours[t] += r.energyKWh[i] / unitKW;
      jobsKWh.get(site.id)![t] += r.energyKWh[i];
    });
  }
  const slotHours = grid.slotMinutes / 60;
  for (const [key, units] of services?.heldUnits ?? []) {
    const load = byPool.get(key);
    if (!load) continue;
    units.forEach((u, t) => {
      load.heldUnits[t] += u;
      load.busyUnitHours[t] += u * slotHours;
    });
  }
  // The services' energy comes before idle draw on the renewables, as the jobs' does.
  for (const use of services?.uses ?? []) use.slots.forEach((t, i) => (jobsKWh.get(use.siteId)![t] += use.energyKWh[i]));
  const actual = actualSignals(scenario);
  const range = { from: first, to: Math.max(first, last) };
  return {
    alwaysOn: idleFigures(grid, network.sites, actual, loads, jobsKWh, ALWAYS_ON, range).total,
    asleep: idleFigures(grid, network.sites, actual, loads, jobsKWh, { policy: 'sleep', reserveShare }, range).total,
  };
}

function actualSignals(scenario: Scenario): Record<string, SiteSignals> {
  return Object.fromEntries(Object.entries(scenario.signals).map(([id, pair]) => [id, pair.actual]));
}

function policyResult(input: ReportInput, outcome: SimOutcome, figures: (JobFigures | null)[], services?: ServicesOutcome): PolicyResult {
  const { scenario } = input;
  const { grid } = scenario;
  const slotHours = grid.slotMinutes / 60;
  const sum = { energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0, transferGB: 0 };
  const sites = new Map(scenario.network.sites.map((s) => [s.id, { site: s.id, energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0, utilisation: 0 }]));
  const links = new Map<string, { from: string; to: string; gb: number }>();
  let completed = 0;
  let missed = 0;
  let waitS = 0;
  let started = 0;
  let resumed = 0;
  let preempted = 0;
  outcome.records.forEach((r, i) => {
    if (r.preemptions > 0) preempted++;
    if (r.state === 'completed') completed++;
    if (r.state === 'missed') missed++;
    if (r.firstStartMs !== null) {
      started++;
      waitS += (r.firstStartMs - r.job.releaseMs) / 1000;
    }
    if (r.resumes > 0) resumed++;
    const f = figures[i];
    if (!f) return;
    sum.energyKWh += f.energyKWh;
    sum.greenKWh += f.greenKWh;
    sum.costYuan += f.costYuan;
    sum.carbonKg += f.carbonKg;
    const site = sites.get(r.siteId!)!;
    site.energyKWh += f.energyKWh;
    site.greenKWh += f.greenKWh;
    site.costYuan += f.costYuan;
    site.carbonKg += f.carbonKg;
    if (r.transfer) {
      sum.transferGB += r.transfer.gb;
      for (const link of r.transfer.route.links) {
        const key = `${link.from}|${link.to}`;
        const entry = links.get(key) ?? { from: link.from, to: link.to, gb: 0 };
        entry.gb += r.transfer.gb;
        links.set(key, entry);
      }
    }
  });
  // Utilisation over the simulated period's slots.
  const first = Math.round((input.fromMs - grid.startMs) / (grid.slotMinutes * 60_000));
  const last = Math.min(grid.slots, Math.round((input.toMs - grid.startMs) / (grid.slotMinutes * 60_000)));
  // A site's utilisation is the mean of its pools' (unit-hours used / unit-hours available).
  const pools = [];
  for (const site of scenario.network.sites) {
    let sumUtilisation = 0;
    for (const pool of site.pools) {
      const busy = outcome.busyUnits.get(`${site.id}/${pool.id}`)!;
      let used = 0;
      for (let t = first; t < last; t++) used += busy[t];
      const utilisation = last > first ? used / (pool.units * (last - first)) : 0;
      pools.push({ site: site.id, pool: pool.id, utilisation });
      sumUtilisation += utilisation;
    }
    sites.get(site.id)!.utilisation = site.pools.length > 0 ? sumUtilisation / site.pools.length : 0;
  }
  const idle = idleOfOutcome(scenario, outcome, first, last, input.power?.policy === 'sleep' ? input.power.reserveShare : 0.1, services);
  return {
    policy: outcome.policy,
    objective: input.objective,
    totals: { ...sum, greenShare: sum.energyKWh > 0 ? sum.greenKWh / sum.energyKWh : 0 },
    jobs: {
      completed,
      missed,
      unfinished: outcome.records.length - completed - missed,
      meanWaitS: started > 0 ? waitS / started : 0,
      resumed,
      ...(input.services ? { preempted } : {}),
    },
    sites: [...sites.values()],
    idle,
    pools,
    links: [...links.values()],
    series: seriesOf(input, outcome, slotHours, first, last),
    cycles: outcome.cycles,
    events: outcome.events,
  };
}

/** Buckets of whole hours, so that a chart has at most about 400 points. */
function seriesOf(input: ReportInput, outcome: SimOutcome, slotHours: number, first: number, last: number): PolicyResult['series'] {
  const { scenario } = input;
  const slotsTotal = last - first;
  const hours = slotsTotal * slotHours;
  const bucketHours = [1, 2, 3, 6, 12, 24, 48, 168].find((h) => hours / h <= 400) ?? 168;
  const slotsPerBucket = Math.max(1, Math.round(bucketHours / slotHours));
  const buckets = Math.ceil(slotsTotal / slotsPerBucket);
  const starts = Array.from({ length: buckets }, (_, b) => new Date(scenario.grid.startMs + (first + b * slotsPerBucket) * slotHours * 3_600_000).toISOString());
  const load = new Map(scenario.network.sites.map((s) => [s.id, new Float64Array(scenario.grid.slots)]));
  for (const r of outcome.records) r.slots.forEach((t, i) => (load.get(r.siteId!)![t] += r.energyKWh[i]));
  const sites: PolicyResult['series']['sites'] = {};
  const carbonGPerKWh: Record<string, number[]> = {};
  for (const site of scenario.network.sites) {
    const actual = scenario.signals[site.id].actual;
    const green = new Array<number>(buckets).fill(0);
    const gridKWh = new Array<number>(buckets).fill(0);
    const renewableKWh = new Array<number>(buckets).fill(0);
    const utilisation = new Array<number>(buckets).fill(0);
    const carbon = new Array<number>(buckets).fill(0);
    const counts = new Array<number>(buckets).fill(0);
    const siteLoad = load.get(site.id)!;
    for (let t = first; t < last; t++) {
      const b = Math.floor((t - first) / slotsPerBucket);
      const available = Math.max(0, actual.renewableKW[t]) * slotHours;
      const used = Math.min(siteLoad[t], available);
      green[b] += used;
      gridKWh[b] += siteLoad[t] - used;
      renewableKWh[b] += available;
      carbon[b] += actual.carbonGPerKWh[t];
      let busy = 0;
      for (const pool of site.pools) busy += outcome.busyUnits.get(`${site.id}/${pool.id}`)![t] / pool.units;
      utilisation[b] += site.pools.length > 0 ? busy / site.pools.length : 0;
      counts[b]++;
    }
    sites[site.id] = { greenKWh: green, gridKWh, renewableKWh, utilisation: utilisation.map((u, b) => u / counts[b]) };
    carbonGPerKWh[site.id] = carbon.map((c, b) => c / counts[b]);
  }
  return { bucketHours, starts, sites, carbonGPerKWh };
}

/** Policy a against b on the jobs both completed. */
function saving(a: SimOutcome, fa: (JobFigures | null)[], b: SimOutcome, fb: (JobFigures | null)[]): Saving {
  const totals = () => ({ energy: 0, green: 0, cost: 0, carbon: 0 });
  const ta = totals();
  const tb = totals();
  let jobsCompared = 0;
  a.records.forEach((r, i) => {
    const x = fa[i];
    const y = fb[i];
    if (r.state !== 'completed' || b.records[i].state !== 'completed' || !x || !y) return;
    jobsCompared++;
    ta.energy += x.energyKWh;
    ta.green += x.greenKWh;
    ta.cost += x.costYuan;
    ta.carbon += x.carbonKg;
    tb.energy += y.energyKWh;
    tb.green += y.greenKWh;
    tb.cost += y.costYuan;
    tb.carbon += y.carbonKg;
  });
  const pct = (x: number, y: number) => (y === 0 ? 0 : (100 * (x - y)) / Math.abs(y));
  const share = (g: number, e: number) => (e > 0 ? g / e : 0);
  return {
    policy: a.policy,
    versus: b.policy,
    jobsCompared,
    costPct: pct(ta.cost, tb.cost),
    carbonPct: pct(ta.carbon, tb.carbon),
    energyPct: pct(ta.energy, tb.energy),
    greenSharePts: 100 * (share(ta.green, ta.energy) - share(tb.green, tb.energy)),
  };
}
