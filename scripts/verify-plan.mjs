#!/usr/bin/env node
// Recomputes every per-job and total figure of a plan from the scenario export and the plan alone,
// following docs/energy-model.md, without any of Kumul's code; also checks pool capacity per slot, and link capacity
// per direction and slot: the jobs' input transfers together (each by its segments, else evenly over start..end)
// carry at most bandwidth × slot length (the backups' share is checked by scripts/verify-backup-plan.mjs).
// Given the jobs file too, it checks each job's runs against its window, to the millisecond: they start
// no earlier than its release (and the plan's start, and its input's arrival), end by its deadline, add
// up to its duration ÷ its pool's speed in the job class's precision, and are one run for a job that cannot
// be interrupted (docs/plan-format.md, "Runs").
// Usage: node scripts/verify-plan.mjs SCENARIO_EXPORT.json PLAN.json [JOBS.csv]
// Prints the largest relative difference and exits 1 when a figure differs by more than 1e-6
// (relative), a pool is over capacity, or a run is outside its job's window.
import { readFileSync } from 'node:fs';

const [exportFile, planFile, jobsFile] = process.argv.slice(2);
if (!exportFile || !planFile) {
  console.error('usage: verify-plan.mjs SCENARIO_EXPORT.json PLAN.json [JOBS.csv]');
  process.exit(2);
}
const scenario = JSON.parse(readFileSync(exportFile, 'utf8'));
const plan = JSON.parse(readFileSync(planFile, 'utf8'));

const startMs = Date.parse(scenario.start);
const slotMs = scenario.slotMinutes * 60_000;
const slotHours = scenario.slotMinutes / 60;
if (Date.parse(plan.start) !== startMs || plan.slotMinutes !== scenario.slotMinutes || plan.slots !== scenario.slots) {
  console.error(`plan grid (${plan.start}, ${plan.slots} × ${plan.slotMinutes} min) differs from the export's (${scenario.start}, ${scenario.slots} × ${scenario.slotMinutes} min)`);
  process.exit(1);
}
const series = plan.signals; // 'forecast': plans are priced with forecasts
const sites = new Map(scenario.sites.map((s) => [s.id, s]));
const signal = (siteId) => scenario.signals[siteId][series];

/** Power of one unit at full load (W): the curve's value at load 1. */
function fullLoadW(curve) {
  const last = curve.find((p) => p.load === 1) ?? curve[curve.length - 1];
  return last.powerW;
}

/** Splits [from, to) into (slot, hours) pieces on the grid. */
function pieces(fromMs, toMs) {
  const out = [];
  for (let t = Math.floor((fromMs - startMs) / slotMs); startMs + t * slotMs < toMs; t++) {
    const a = Math.max(fromMs, startMs + t * slotMs);
    const b = Math.min(toMs, startMs + (t + 1) * slotMs);
    if (b > a) out.push([t, (b - a) / 3_600_000]);
  }
  return out;
}

// 1. Facility energy of each job in each slot, and the site totals per slot.
const siteLoad = new Map();
const unitsUsed = new Map(); // `${site}/${pool}/${slot}` → units
const perJob = plan.jobs.map((job) => {
  const site = sites.get(job.site);
  const pool = site.pools.find((p) => p.id === job.pool);
  const kw = (fullLoadW(pool.powerCurve) * site.pue) / 1000;
  const energy = new Map();
  for (const run of job.runs) {
    for (const [t, hours] of pieces(Date.parse(run.start), Date.parse(run.end))) {
      energy.set(t, (energy.get(t) ?? 0) + run.units * kw * hours);
      const key = `${job.site}/${job.pool}/${t}`;
      unitsUsed.set(key, (unitsUsed.get(key) ?? 0) + run.units);
    }
  }
  const load = siteLoad.get(job.site) ?? new Map();
  for (const [t, e] of energy) load.set(t, (load.get(t) ?? 0) + e);
  siteLoad.set(job.site, load);
  return { job, site, energy };
});

// 2. Renewables first, shared in proportion to energy; the rest from the grid at the slot's price and carbon.
let worst = 0;
let worstWhat = '';
const totals = { energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0 };
function compare(what, mine, theirs) {
  const diff = Math.abs(mine - theirs) / Math.max(1e-9, Math.abs(mine), Math.abs(theirs));
  if (diff > worst) {
    worst = diff;
    worstWhat = `${what}: recomputed ${mine}, plan says ${theirs}`;
  }
}
for (const { job, site, energy } of perJob) {
  const sig = signal(job.site);
  const load = siteLoad.get(job.site);
  const f = { energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0 };
  for (const [t, e] of energy) {
    const available = Math.max(0, sig.renewableKW[t]) * slotHours;
    const green = e * Math.min(1, available / load.get(t));
    f.energyKWh += e;
    f.greenKWh += green;
    f.costYuan += green * site.renewable.priceYuanPerKWh + (e - green) * sig.priceYuanPerKWh[t];
    f.carbonKg += (green * site.renewable.carbonGPerKWh + (e - green) * sig.carbonGPerKWh[t]) / 1000;
  }
  if (job.transfer) {
    let kwhPerGB = 0;
    let yuanPerGB = 0;
    for (let i = 1; i < job.transfer.route.length; i++) {
      const [a, b] = [job.transfer.route[i - 1], job.transfer.route[i]];
      const link = scenario.links.find((l) => (l.from === a && l.to === b) || (l.from === b && l.to === a));
      kwhPerGB += link.energyKWhPerGB;
      yuanPerGB += link.costYuanPerGB;
    }
    const kwh = job.transfer.gb * kwhPerGB;
    const slot = Math.min(scenario.slots - 1, Math.max(0, Math.floor((Date.parse(job.transfer.start) - startMs) / slotMs)));
    f.energyKWh += kwh;
    f.costYuan += job.transfer.gb * yuanPerGB;
    f.carbonKg += (kwh * signal(job.transfer.route[0]).carbonGPerKWh[slot]) / 1000;
  }
  for (const key of Object.keys(f)) {
    compare(`job ${job.id} ${key}`, f[key], job[key]);
    totals[key] += f[key];
  }
}
for (const key of Object.keys(totals)) compare(`totals.${key}`, totals[key], plan.totals[key]);

// 3. The plan's objective value, from the totals.
if (plan.bound) {
  const weights = { cost: { cost: 1 }, carbon: { carbon: 1 }, green: { green: 1 } }[plan.objective] ?? Object.fromEntries(plan.objective.split(',').map((p) => p.split('=')).map(([k, v]) => [k.trim(), Number(v)]));
  const value = (weights.cost ?? 0) * totals.costYuan + (weights.carbon ?? 0) * totals.carbonKg + (weights.green ?? 0) * (totals.energyKWh - totals.greenKWh);
  compare('bound.planValue', value, plan.bound.planValue);
}

// 4. No pool over capacity in any slot.
const over = [];
for (const [key, units] of unitsUsed) {
  const [siteId, poolId, t] = key.split('/');
  const capacity = sites.get(siteId).pools.find((p) => p.id === poolId).units;
  if (units > capacity) over.push(`${poolId} slot ${t}: ${units} units of ${capacity}`);
}

// The precision each job class computes in: a pool's `speed` in it divides the job's duration (docs/energy-model.md).
const PRECISION = { training: 'bf16', inference: 'bf16', hpc: 'fp64', batch: 'fp32', backup: 'fp32' };

// 5. With the jobs file: every job's runs inside its window, adding up to its duration ÷ its pool's speed.
const outside = [];
if (jobsFile) {
  const [header, ...rows] = csvRows(readFileSync(jobsFile, 'utf8'));
  const col = (name) => header.indexOf(name);
  const jobs = new Map(rows.map((r) => [r[col('id')], r]));
  const instant = (text) => Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(text.trim()) ? text.trim() : `${text.trim().replace(' ', 'T')}Z`);
  for (const p of plan.jobs) {
    const row = jobs.get(p.id);
    if (!row) {
      outside.push(`${p.id}: not in ${jobsFile}`);
      continue;
    }
    const release = Math.max(instant(row[col('release')]), startMs, p.transfer ? Date.parse(p.transfer.end) : -Infinity);
    const deadline = instant(row[col('deadline')]);
    const runs = p.runs.map((r) => [Date.parse(r.start), Date.parse(r.end)]);
    const ranMs = runs.reduce((ms, [a, b]) => ms + b - a, 0);
    const pool = sites.get(p.site).pools.find((q) => q.id === p.pool);
    const speed = pool.speed?.[PRECISION[row[col('class')].trim()]] ?? 1;
    if ((p.speed ?? 1) !== speed) outside.push(`${p.id}: states speed ${p.speed}, its pool runs it at ${speed}`);
    const durationMs = Math.max(1, Math.round((Number(row[col('duration_s')]) * 1000) / speed));
    if (runs[0][0] < Math.ceil(release)) outside.push(`${p.id}: starts ${p.runs[0].start}, before ${new Date(Math.ceil(release)).toISOString()}`);
    if (runs[runs.length - 1][1] > deadline) outside.push(`${p.id}: ends ${p.runs[p.runs.length - 1].end}, after its deadline ${new Date(deadline).toISOString()}`);
    if (Math.abs(ranMs - durationMs) > runs.length) outside.push(`${p.id}: runs ${ranMs / 1000} s, needs ${durationMs / 1000} s`);
    if (row[col('interruptible')].trim() !== 'true' && runs.length > 1) outside.push(`${p.id}: cannot be interrupted but runs ${runs.length} times`);
  }
}

// Links: the jobs' input per direction and slot within bandwidth × slot length.
const linkLoad = new Map();
for (const p of plan.jobs) {
  const tr = p.transfer;
  if (!tr) continue;
  const parts = tr.segments ?? [{ start: tr.start, end: tr.end, gb: tr.gb }];
  for (const part of parts) {
    const [a, b] = [Date.parse(part.start), Date.parse(part.end)];
    for (let t = Math.max(0, Math.floor((a - startMs) / slotMs)); t < plan.slots && startMs + t * slotMs < Math.max(b, a + 1); t++) {
      const coveredMs = b <= a ? 1 : Math.min(b, startMs + (t + 1) * slotMs) - Math.max(a, startMs + t * slotMs);
      if (coveredMs <= 0) continue;
      for (let h = 1; h < tr.route.length; h++) {
        const key = `${tr.route[h - 1]}>${tr.route[h]}`;
        if (!linkLoad.has(key)) linkLoad.set(key, new Float64Array(plan.slots));
        linkLoad.get(key)[t] += b <= a ? part.gb : (part.gb * coveredMs) / (b - a);
      }
    }
  }
}
for (const [key, row] of linkLoad) {
  const [from, to] = key.split('>');
  const link = scenario.links.find((l) => (l.from === from && l.to === to) || (l.from === to && l.to === from));
  const capGB = link ? (link.bandwidthGbps * scenario.slotMinutes * 60) / 8 : 0;
  row.forEach((gb, t) => {
    if (gb > capGB * (1 + 1e-6) + 1e-6) over.push(`link ${key} slot ${t}: ${gb} GB of job input, capacity ${capGB} GB`);
  });
}

console.log(
  `${plan.jobs.length} jobs recomputed; largest relative difference ${worst.toExponential(2)}${worst > 0 ? ` (${worstWhat})` : ''}; ${over.length} pool-slots or link-slots over capacity${jobsFile ? `; ${outside.length} jobs outside their windows` : ''}`,
);
for (const o of over.slice(0, 10)) console.log(`over capacity: ${o}`);
for (const o of outside.slice(0, 10)) console.log(`outside its window: ${o}`);
process.exit(worst > 1e-6 || over.length > 0 || outside.length > 0 ? 1 : 0);

/** Rows of an RFC 4180 CSV text (quoted fields, doubled quotes, CRLF or LF); blank lines dropped. */
function csvRows(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((f) => f.trim() !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f.trim() !== '')) rows.push(row);
  return rows.map((r) => r.map((f) => f.trim()).map((f, i) => (i === 0 ? f.replace(/^\uFEFF/, '') : f)));
}
