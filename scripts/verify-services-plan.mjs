#!/usr/bin/env node
// Recomputes a services plan (kumul services plan) from the scenario export and the plan alone, following
// docs/services.md and docs/energy-model.md, without any of Kumul's code:
//   - round trips from each user region to each site (access latency + lowest-latency route over the links, × 2);
//   - latency: every route's round trip + service time within the service's objective;
//   - capacity: per pool and slot, replicas × units per replica + the batch units the plan was made around ≤ the
//     pool's units; per service, site and slot, requests routed ≤ replicas' capacity after warm-up;
//   - demand: per region, routes add up to served, served + unserved to demand;
//   - energy (power curve at the replicas' load × PUE, cold starts), green energy (renewables after the batch work,
//     shared in proportion), cost, carbon per site and slot, the totals, and the bound's plan value.
// Usage: node scripts/verify-services-plan.mjs SCENARIO_EXPORT.json SERVICES_PLAN.json
// Exits 1 when a figure differs by more than 1e-6 (relative), or a latency, capacity or demand check fails.
import { readFileSync } from 'node:fs';

const [exportFile, planFile] = process.argv.slice(2);
if (!exportFile || !planFile) {
  console.error('usage: verify-services-plan.mjs SCENARIO_EXPORT.json SERVICES_PLAN.json');
  process.exit(2);
}
const scenario = JSON.parse(readFileSync(exportFile, 'utf8'));
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
const startMs = Date.parse(scenario.start);
const slotHours = scenario.slotMinutes / 60;
const offset = (Date.parse(plan.start) - startMs) / (scenario.slotMinutes * 60_000);
if (plan.slotMinutes !== scenario.slotMinutes || !Number.isInteger(offset) || offset < 0 || offset + plan.slots > scenario.slots) {
  console.error(`plan grid (${plan.start}, ${plan.slots} × ${plan.slotMinutes} min) is not inside the export's (${scenario.start}, ${scenario.slots} × ${scenario.slotMinutes} min)`);
  process.exit(1);
}
const sites = new Map(scenario.sites.map((s) => [s.id, s]));
const signal = (siteId, t) => {
  const s = scenario.signals[siteId][plan.signals];
  return { price: s.priceYuanPerKWh[t + offset], carbon: s.carbonGPerKWh[t + offset], renewableKW: s.renewableKW[t + offset] };
};
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

// 1. Round trips: Dijkstra over the links from each access site.
const adjacency = new Map(scenario.sites.map((s) => [s.id, []]));
for (const l of scenario.links) {
  adjacency.get(l.from).push([l.to, l.latencyMs]);
  adjacency.get(l.to).push([l.from, l.latencyMs]);
}
function oneWayFrom(source) {
  const dist = new Map([[source, 0]]);
  const done = new Set();
  for (;;) {
    let at = null;
    for (const [id, d] of dist) if (!done.has(id) && (at === null || d < dist.get(at))) at = id;
    if (at === null) return dist;
    done.add(at);
    for (const [to, ms] of adjacency.get(at)) if (dist.get(at) + ms < (dist.get(to) ?? Infinity)) dist.set(to, dist.get(at) + ms);
  }
}
const rtt = new Map();
for (const region of scenario.userRegions ?? []) {
  const best = new Map();
  for (const a of region.access) for (const [site, ms] of oneWayFrom(a.site)) best.set(site, Math.min(best.get(site) ?? Infinity, a.latencyMs + ms));
  rtt.set(region.id, new Map([...best].map(([s, ms]) => [s, 2 * ms])));
  for (const [site, ms] of rtt.get(region.id)) compare(`roundTripsMs.${region.id}.${site}`, ms, plan.roundTripsMs[region.id]?.[site] ?? NaN);
}

// 2. Per slot: latency, capacity, demand, energy and figures.
const services = new Map(plan.services.map((s) => [s.id, s]));
const fullLoadW = (curve) => curve[curve.length - 1].powerW;
function powerAt(curve, load) {
  if (load <= curve[0].load) return curve[0].powerW;
  for (let i = 1; i < curve.length; i++) {
    const [a, b] = [curve[i - 1], curve[i]];
    if (load <= b.load) return a.powerW + ((b.powerW - a.powerW) * (load - a.load)) / (b.load - a.load);
  }
  return fullLoadW(curve);
}
const batchUnits = new Map(); // `${pool}/${t}` → units
const batchKWh = new Map(); // `${site}/${t}` → kWh
for (const use of plan.batch) {
  use.slots.forEach((t, i) => {
    batchUnits.set(`${use.poolId}/${t}`, (batchUnits.get(`${use.poolId}/${t}`) ?? 0) + use.units);
    batchKWh.set(`${use.siteId}/${t}`, (batchKWh.get(`${use.siteId}/${t}`) ?? 0) + use.energyKWh[i]);
  });
}
const totals = { energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0, unservedRequests: 0 };
const weights = { cost: { cost: 1 }, carbon: { carbon: 1 }, green: { green: 1 } }[plan.objective] ?? Object.fromEntries(plan.objective.split(',').map((p) => p.split('=')).map(([k, v]) => [k.trim(), Number(v)]));
let objectiveValue = 0;
const previous = new Map(); // `${service}/${site}` → replicas in the previous slot
for (const [service, bySite] of Object.entries(plan.initialReplicas)) for (const [site, n] of Object.entries(bySite)) previous.set(`${service}/${site}`, n);
for (const slot of plan.plan) {
  const t = slot.slot;
  const siteKWh = new Map();
  const poolUnits = new Map();
  const now = new Map();
  for (const s of slot.services) {
    const spec = services.get(s.service);
    const served = new Map();
    for (const route of s.routes) {
      const ms = rtt.get(route.region)?.get(route.site);
      if (ms === undefined || ms + spec.latency.serviceTimeMs > spec.latency.objectiveMs + 1e-3)
        problems.push(`slot ${t} ${s.service}: region ${route.region} routed to ${route.site}, round trip ${ms} ms + service ${spec.latency.serviceTimeMs} ms > ${spec.latency.objectiveMs} ms`);
      served.set(route.site, (served.get(route.site) ?? 0) + route.requestsPerS);
    }
    for (const [region, r] of Object.entries(s.regions)) {
      const routed = s.routes.filter((x) => x.region === region).reduce((a, x) => a + x.requestsPerS, 0);
      if (Math.abs(routed - r.servedRps) > 1e-6 * Math.max(1, r.demandRps) || Math.abs(r.servedRps + r.unservedRps - r.demandRps) > 1e-6 * Math.max(1, r.demandRps))
        problems.push(`slot ${t} ${s.service} ${region}: routed ${routed}, served ${r.servedRps}, unserved ${r.unservedRps}, demand ${r.demandRps}`);
      totals.unservedRequests += r.unservedRps * plan.slotMinutes * 60;
    }
    const sitesHere = new Set([...Object.keys(s.replicas), ...served.keys(), ...[...previous.keys()].filter((k) => k.startsWith(`${s.service}/`)).map((k) => k.split('/')[1])]);
    for (const siteId of sitesHere) {
      const n = s.replicas[siteId] ?? 0;
      const prev = previous.get(`${s.service}/${siteId}`) ?? 0;
      now.set(`${s.service}/${siteId}`, n);
      const starts = Math.max(0, n - prev);
      if ((s.coldStarts[siteId] ?? 0) !== starts) problems.push(`slot ${t} ${s.service} at ${siteId}: ${s.coldStarts[siteId] ?? 0} cold starts stated, ${starts} from the replicas`);
      const rps = served.get(siteId) ?? 0;
      const warmShare = Math.min(1, spec.coldStart.warmUpS / (plan.slotMinutes * 60));
      const capacity = spec.replicaRequestsPerS * (n - warmShare * starts);
      if (rps > capacity * (1 + 1e-9) + 1e-6) problems.push(`slot ${t} ${s.service} at ${siteId}: ${rps} req/s routed, ${n} replicas (${starts} warming up) serve ${capacity}`);
      if (n === 0) continue;
      const site = sites.get(siteId);
      const pool = site.pools.find((p) => p.class === spec.poolClass);
      poolUnits.set(pool.id, (poolUnits.get(pool.id) ?? 0) + n * spec.unitsPerReplica);
      const load = Math.min(1, rps / (n * spec.replicaRequestsPerS));
      const kWh = ((n * spec.unitsPerReplica * powerAt(pool.powerCurve, load) * slotHours) / 1000) * site.pue + starts * spec.coldStart.energyKWh * site.pue;
      siteKWh.set(siteId, (siteKWh.get(siteId) ?? 0) + kWh);
    }
  }
  for (const [key, n] of now) previous.set(key, n);
  for (const key of previous.keys()) if (!now.has(key)) previous.set(key, 0);
  for (const [poolId, units] of poolUnits) {
    const site = scenario.sites.find((x) => x.pools.some((p) => p.id === poolId));
    const capacity = site.pools.find((p) => p.id === poolId).units;
    const batch = batchUnits.get(`${poolId}/${t}`) ?? 0;
    if (units + batch > capacity) problems.push(`slot ${t} pool ${poolId}: services hold ${units} units and batch ${batch} of ${capacity}`);
    const stated = slot.sites.find((x) => x.site === site.id)?.units[poolId] ?? 0;
    if (stated !== units) problems.push(`slot ${t} pool ${poolId}: plan states ${stated} units, replicas hold ${units}`);
  }
  for (const [siteId, e] of siteKWh) {
    const site = sites.get(siteId);
    const sig = signal(siteId, t);
    const available = Math.max(0, Math.max(0, sig.renewableKW) * slotHours - (batchKWh.get(`${siteId}/${t}`) ?? 0));
    const green = Math.min(e, available);
    const f = {
      energyKWh: e,
      greenKWh: green,
      costYuan: green * site.renewable.priceYuanPerKWh + (e - green) * sig.price,
      carbonKg: (green * site.renewable.carbonGPerKWh + (e - green) * sig.carbon) / 1000,
    };
    const stated = slot.sites.find((x) => x.site === siteId);
    for (const key of Object.keys(f)) {
      compare(`slot ${t} ${siteId} ${key}`, f[key], stated?.[key] ?? NaN);
      totals[key] += f[key];
    }
    objectiveValue += (weights.cost ?? 0) * f.costYuan + (weights.carbon ?? 0) * f.carbonKg + (weights.green ?? 0) * (e - green);
  }
}
for (const key of ['energyKWh', 'greenKWh', 'costYuan', 'carbonKg', 'unservedRequests']) compare(`totals.${key}`, totals[key], plan.totals[key]);
compare('bound.planValue', objectiveValue + totals.unservedRequests * plan.unservedPenaltyPerRequest, plan.bound.planValue);
if (!(plan.bound.value <= plan.bound.planValue * (1 + 1e-9) + 1e-9)) problems.push(`bound ${plan.bound.value} above the plan value ${plan.bound.planValue}`);

console.log(`largest relative difference: ${worst.toExponential(2)}${worstWhat ? ` (${worstWhat})` : ''}`);
for (const p of problems.slice(0, 20)) console.log(p);
if (problems.length > 20) console.log(`… and ${problems.length - 20} more`);
if (worst > 1e-6 || problems.length > 0) process.exit(1);
console.log(`ok: ${plan.plan.length} slots, ${plan.services.length} services: latency, capacity, demand and totals check`);
