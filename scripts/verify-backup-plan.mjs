#!/usr/bin/env node
// Recomputes a backup plan's figures from the plan and the scenario export alone, without any of Kumul's code
// (docs/backup.md): link load per direction and slot against bandwidth × slot length (backup + job input), each
// transfer's energy, cost and carbon (link energy drawn half at each end at the slot's grid price and carbon, plus
// the link fee), the totals and the objective value, that each path's hops are joined and in later slots, that every
// version's GB reaches its replica by its deadline, and each replica's age of the newest copy at every slot's end.
// Given the batch plan the backups were planned with (JOBS_PLAN.json, `kumul backup plan --jobs … --jobs-out`), it also
// recomputes the job input per direction and slot from that plan's transfers (their segments, else evenly over
// start..end) and checks backups + job input against capacity in every direction and slot with both recomputed.
// Usage: node scripts/verify-backup-plan.mjs SCENARIO_EXPORT.json BACKUP_PLAN.json [JOBS_PLAN.json]
// Exits 1 when a figure differs by more than 1e-6 (relative), a link is over capacity, or an RPO is missed
// where the plan says it is met.
import { readFileSync } from 'node:fs';

const [exportFile, planFile, jobsPlanFile] = process.argv.slice(2);
if (!exportFile || !planFile) {
  console.error('usage: verify-backup-plan.mjs SCENARIO_EXPORT.json BACKUP_PLAN.json [JOBS_PLAN.json]');
  process.exit(2);
}
const scenario = JSON.parse(readFileSync(exportFile, 'utf8'));
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
const startMs = Date.parse(scenario.start);
const slotMs = scenario.slotMinutes * 60_000;
if (Date.parse(plan.start) !== startMs || plan.slotMinutes !== scenario.slotMinutes || plan.slots !== scenario.slots) {
  console.error(`plan grid (${plan.start}, ${plan.slots} × ${plan.slotMinutes} min) differs from the export's (${scenario.start}, ${scenario.slots} × ${scenario.slotMinutes} min)`);
  process.exit(1);
}
const problems = [];
let worst = 0;
let worstWhat = '';
function compare(what, mine, theirs) {
  const diff = Math.abs(mine - theirs) / Math.max(1e-9, Math.abs(mine), Math.abs(theirs));
  if (diff > worst) {
    worst = diff;
    worstWhat = `${what}: recomputed ${mine}, plan says ${theirs}`;
  }
}
const linkOf = (a, b) => scenario.links.find((l) => (l.from === a && l.to === b) || (l.from === b && l.to === a));
const sig = (site) => scenario.signals[site][plan.signals];
const capacityGB = (link) => (link.bandwidthGbps * scenario.slotMinutes * 60) / 8;

// 1. Transfers: hops joined, in later slots, inside the grid; figures per GB and hop.
const load = new Map(); // `${from}>${to}` → Float64Array backup GB per slot
const totals = { backupGB: 0, energyKWh: 0, costYuan: 0, carbonKg: 0 };
const delivered = new Map(); // `${dataset}|${target}|${version}` → { gb, arrival }
plan.transfers.forEach((tr, i) => {
  const f = { energyKWh: 0, costYuan: 0, carbonKg: 0 };
  tr.hops.forEach((hop, k) => {
    const link = linkOf(hop.from, hop.to);
    if (!link) return problems.push(`transfers[${i}].hops[${k}]: no link ${hop.from}-${hop.to}`);
    if (k > 0 && (tr.hops[k - 1].to !== hop.from || tr.hops[k - 1].slot >= hop.slot)) problems.push(`transfers[${i}].hops[${k}]: does not follow the previous hop`);
    if (hop.slot < 0 || hop.slot >= plan.slots) problems.push(`transfers[${i}].hops[${k}]: slot ${hop.slot} outside the grid`);
    const a = sig(hop.from);
    const b = sig(hop.to);
    const half = link.energyKWhPerGB / 2;
    f.energyKWh += tr.gb * link.energyKWhPerGB;
    f.costYuan += tr.gb * (link.costYuanPerGB + half * (a.priceYuanPerKWh[hop.slot] + b.priceYuanPerKWh[hop.slot]));
    f.carbonKg += (tr.gb * half * (a.carbonGPerKWh[hop.slot] + b.carbonGPerKWh[hop.slot])) / 1000;
    const key = `${hop.from}>${hop.to}`;
    if (!load.has(key)) load.set(key, new Float64Array(plan.slots));
    load.get(key)[hop.slot] += tr.gb;
  });
  if (tr.hops[tr.hops.length - 1].to !== tr.target) problems.push(`transfers[${i}]: ends at ${tr.hops[tr.hops.length - 1].to}, not its target ${tr.target}`);
  for (const key of Object.keys(f)) {
    compare(`transfers[${i}].${key}`, f[key], tr[key]);
    totals[key] += f[key];
  }
  totals.backupGB += tr.gb;
  compare(`transfers[${i}] shares`, tr.datasets.reduce((s, d) => s + d.gb, 0), tr.gb);
  const arrival = startMs + (tr.hops[tr.hops.length - 1].slot + 1) * slotMs;
  for (const d of tr.datasets) {
    const key = `${d.id}|${tr.target}|${d.version}`;
    const got = delivered.get(key) ?? { gb: 0, arrival: -Infinity };
    delivered.set(key, { gb: got.gb + d.gb, arrival: Math.max(got.arrival, arrival) });
  }
});

// 2. Links: the plan's loads equal the transfers', and backup + job input fits each direction in each slot.
let jobGB = 0;
for (const l of plan.links) {
  const link = linkOf(l.from, l.to);
  compare(`links ${l.from}>${l.to} capacityGB`, capacityGB(link), l.capacityGB);
  for (const s of l.slots) {
    compare(`links ${l.from}>${l.to} slot ${s.slot} backupGB`, load.get(`${l.from}>${l.to}`)?.[s.slot] ?? 0, s.backupGB);
    jobGB += s.jobGB;
    if (s.backupGB + s.jobGB > capacityGB(link) * (1 + 1e-6) + 1e-6 && s.backupGB > 1e-6) problems.push(`link ${l.from}>${l.to} slot ${s.slot}: ${s.backupGB + s.jobGB} GB over its capacity of ${capacityGB(link)} GB`);
  }
}
for (const [key, row] of load) {
  const [from, to] = key.split('>');
  const listed = plan.links.find((l) => l.from === from && l.to === to);
  row.forEach((gb, t) => {
    if (gb > 1e-6 && !listed?.slots.some((s) => s.slot === t)) problems.push(`link ${key} slot ${t}: ${gb} GB of transfers not listed in links`);
  });
}

// 2b. With the batch plan: job input per direction and slot from its transfers, and both kinds within capacity.
if (jobsPlanFile) {
  const jobsPlan = JSON.parse(readFileSync(jobsPlanFile, 'utf8'));
  const jobLoad = new Map(); // `${from}>${to}` → Float64Array job GB per slot
  const addSpread = (route, gb, fromMs, toMs) => {
    for (let t = Math.max(0, Math.floor((fromMs - startMs) / slotMs)); t < plan.slots && startMs + t * slotMs < Math.max(toMs, fromMs + 1); t++) {
      const coveredMs = toMs <= fromMs ? 1 : Math.min(toMs, startMs + (t + 1) * slotMs) - Math.max(fromMs, startMs + t * slotMs);
      if (coveredMs <= 0) continue;
      const share = toMs <= fromMs ? gb : (gb * coveredMs) / (toMs - fromMs);
      for (let h = 1; h < route.length; h++) {
        const key = `${route[h - 1]}>${route[h]}`;
        if (!jobLoad.has(key)) jobLoad.set(key, new Float64Array(plan.slots));
        jobLoad.get(key)[t] += share;
      }
    }
  };
  for (const job of jobsPlan.jobs) {
    const tr = job.transfer;
    if (!tr) continue;
    if (tr.segments) {
      compare(`${job.id} transfer segments GB`, tr.segments.reduce((a, x) => a + x.gb, 0), tr.gb);
      for (const x of tr.segments) addSpread(tr.route, x.gb, Date.parse(x.start), Date.parse(x.end));
    } else addSpread(tr.route, tr.gb, Date.parse(tr.start), Date.parse(tr.end));
  }
  const keys = new Set([...load.keys(), ...jobLoad.keys()]);
  for (const key of keys) {
    const [from, to] = key.split('>');
    const link = linkOf(from, to);
    if (!link) {
      problems.push(`link ${key}: not in the scenario`);
      continue;
    }
    const listed = plan.links.find((l) => l.from === from && l.to === to);
    for (let t = 0; t < plan.slots; t++) {
      const backupGB = load.get(key)?.[t] ?? 0;
      const jobGBHere = jobLoad.get(key)?.[t] ?? 0;
      if (backupGB + jobGBHere > capacityGB(link) * (1 + 1e-6) + 1e-6) problems.push(`link ${key} slot ${t}: backups ${backupGB} + job input ${jobGBHere} GB over its capacity of ${capacityGB(link)} GB`);
      const stated = listed?.slots.find((s) => s.slot === t)?.jobGB ?? 0;
      if (Math.abs(stated - jobGBHere) > 1e-6 * Math.max(1, jobGBHere)) problems.push(`link ${key} slot ${t}: job input ${jobGBHere} GB by the batch plan, the backup plan says ${stated}`);
    }
  }
}

// 3. Replicas: every version's GB arrives by its deadline; the age of the newest copy at each slot's end.
for (const d of plan.datasets) {
  for (const r of d.replicas) {
    const versions = r.versions.map((v) => {
      if (v.gb <= 0) return { cut: Date.parse(v.cut), arrival: Date.parse(v.cut) };
      const got = delivered.get(`${d.id}|${r.site}|${v.index}`);
      const complete = got && Math.abs(got.gb - v.gb) <= 1e-6 * Math.max(1, v.gb);
      if (complete && v.arrival !== null) compare(`${d.id} at ${r.site} version ${v.index} arrival`, got.arrival, Date.parse(v.arrival));
      if (complete && got.arrival > Date.parse(v.deadline)) problems.push(`${d.id} at ${r.site} version ${v.index}: arrives after its deadline`);
      return { cut: Date.parse(v.cut), arrival: complete ? got.arrival : null };
    });
    let met = true;
    for (let t = 1; t <= plan.slots; t++) {
      const now = startMs + t * slotMs;
      let newest = r.seeded ? startMs : null;
      for (const v of versions) if (v.arrival !== null && v.arrival <= now && (newest === null || v.cut > newest)) newest = v.cut;
      const age = newest === null ? null : (now - newest) / 3_600_000;
      const stated = r.ageHours[t - 1];
      if ((age === null) !== (stated === null)) problems.push(`${d.id} at ${r.site}: age at slot ${t - 1} is ${age}, plan says ${stated}`);
      else if (age !== null) compare(`${d.id} at ${r.site} age at slot ${t - 1}`, age, stated);
      if ((age === null && now - startMs >= d.rpoHours * 3_600_000) || (age !== null && age > d.rpoHours + 1e-9)) met = false;
    }
    if (met !== r.rpoMet) problems.push(`${d.id} at ${r.site}: RPO ${met ? 'met' : 'missed'}, plan says ${r.rpoMet ? 'met' : 'missed'}`);
  }
}

// 4. Totals and the objective value.
for (const key of Object.keys(totals)) compare(`totals.${key}`, totals[key], plan.totals[key]);
compare('totals.jobGB', jobGB, plan.totals.jobGB);
if (plan.bound) {
  const weights = { cost: { cost: 1 }, carbon: { carbon: 1 }, green: { green: 1 } }[plan.objective] ?? Object.fromEntries(plan.objective.split(',').map((p) => p.split('=')).map(([k, v]) => [k.trim(), Number(v)]));
  const value = (weights.cost ?? 0) * totals.costYuan + (weights.carbon ?? 0) * totals.carbonKg + (weights.green ?? 0) * totals.energyKWh;
  compare('bound.planValue', value, plan.bound.planValue);
  if (plan.bound.value > plan.bound.planValue * (1 + 1e-9) + 1e-9) problems.push(`bound ${plan.bound.value} above the plan's value ${plan.bound.planValue}`);
}

console.log(`${plan.transfers.length} transfers, ${plan.links.length} loaded link directions, ${plan.datasets.length} datasets; largest relative difference ${worst.toExponential(2)}${worstWhat ? ` (${worstWhat})` : ''}`);
for (const p of problems.slice(0, 20)) console.log(`problem: ${p}`);
if (problems.length > 20) console.log(`… and ${problems.length - 20} more problems`);
process.exit(worst > 1e-6 || problems.length > 0 ? 1 : 0);
