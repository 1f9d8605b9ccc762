/**
 * Services view (`#/services`, `#/services/<tenant>/<service>`): a logged-in tenant's inference services (an operator:
 * every tenant's); for one, its replicas per site over time, demand against capacity (all regions, or one), the
 * attainment per user region now, and the routing now drawn on the map (user region → site, width by weight).
 * Data: `GET /v1/services`, `GET /v1/services/:id/placements`, the sites from `GET /v1/dashboard/network`.
 */
import { api, currentSession } from '../api.ts';
import { chart, COLORS, type Option } from '../charts.ts';
import { escapeHtml, field, fill, h, num, pct, select, table, utc } from '../dom.ts';
import { loginForm } from '../login.ts';
import { points, slotLine, UTC_TIME_AXIS } from '../time-series.ts';
import type { NetworkNow, ServicePlacements } from '../types.ts';
import { serviceClock, type View } from '../view.ts';

const SITE_COLOURS = ['#00897b', '#6a1b9a', '#ef6c00', '#1565c0', '#c62828', '#558b2f', '#4e342e', '#37474f'];

/** The index of the slot that holds now, or -1. */
function nowIndex(p: ServicePlacements): number {
  const now = Date.parse(p.now);
  const slotMs = p.slotMinutes * 60_000;
  return p.slots.findIndex((s) => Date.parse(s.slotStart) <= now && now < Date.parse(s.slotStart) + slotMs);
}

/** A time chart with a line at now. */
function timeChart(p: ServicePlacements, unit: string, series: Option['series'], stacked = false): Option {
  return {
    animation: false,
    ...UTC_TIME_AXIS,
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${num(v, 1)} ${unit}` : '–') },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 56, right: 16, top: 56, bottom: 32 },
    yAxis: { type: 'value', name: unit, nameTextStyle: { align: 'left' } },
    series: (series as object[]).map((s, i) => ({
      ...s,
      ...(stacked ? { stack: 'replicas', areaStyle: { opacity: 0.35 } } : {}),
      markLine: i === 0 ? { symbol: 'none', silent: true, label: { formatter: 'now' }, lineStyle: { color: '#d32f2f', type: 'solid' }, data: [{ xAxis: Date.parse(p.now) }] } : undefined,
    })),
  };
}

export function servicesView(root: HTMLElement, parts: string[], rerender: () => void): View {
  const session = currentSession();
  if (!session) {
    fill(root, h('h1', null, 'Services'), h('p', null, 'Log in with a tenant key to see its inference services (an operator key: every tenant’s).'), loginForm(rerender));
    return { refresh: async () => {}, dispose: () => {} };
  }
  const status = h('p', { class: 'muted' }, 'Loading the services…');
  const listBox = h('div');
  const detail = h('section', { 'aria-label': 'Service' });
  const regionSelect = select('region', [['', 'All regions']]);
  const mapBox = h('div', { class: 'chart map', role: 'img', 'aria-label': 'Map of the routing now: each user region joined to the sites that serve it, wider for a larger share; the table below gives the same figures' });
  const replicasBox = h('div', { class: 'chart', role: 'img', 'aria-label': 'Replicas per site over time; the table below gives the slot now' });
  const demandBox = h('div', { class: 'chart', role: 'img', 'aria-label': 'Demand against capacity over time, requests per second' });
  const regionsBox = h('div');
  fill(root, h('h1', null, 'Services'), status, listBox, detail);
  fill(
    detail,
    h('h2', { id: 'service-heading' }, ''),
    h('p', { class: 'muted small', id: 'service-note' }),
    h('h3', null, 'Routing now'),
    mapBox,
    h('h3', null, 'Replicas per site'),
    replicasBox,
    h('h3', null, 'Demand against capacity'),
    h('form', { class: 'filters', onsubmit: (e: Event) => e.preventDefault() }, field('Region', regionSelect)),
    demandBox,
    h('h3', null, 'User regions now'),
    regionsBox,
  );
  detail.hidden = true;
  const map = chart(mapBox);
  map.chart.setOption({
    animation: false,
    tooltip: { trigger: 'item' },
    geo: { map: 'china-outline', roam: true, zoom: 1.15, itemStyle: { areaColor: '#eef2ee', borderColor: '#90a4ae' }, emphasis: { disabled: true }, label: { show: false } },
  });
  const replicasChart = chart(replicasBox);
  const demandChart = chart(demandBox);
  let last: ServicePlacements | null = null;

  function drawMap(p: ServicePlacements, net: NetworkNow): void {
    const i = nowIndex(p);
    const sites = new Map(net.sites.map((s) => [s.id, s]));
    const regions = new Map(p.regions.map((r) => [r.id, r]));
    const routes = i < 0 ? [] : p.slots[i].routes.filter((r) => sites.has(r.site) && regions.has(r.region));
    const replicas = i < 0 ? {} : p.slots[i].replicas;
    map.chart.setOption(
      {
        series: [
          {
            type: 'lines',
            coordinateSystem: 'geo',
            zlevel: 1,
            tooltip: { formatter: (x: { data: { tip: string } }) => x.data.tip },
            data: routes.map((r) => {
              const from = regions.get(r.region)!;
              const to = sites.get(r.site)!;
              return {
                coords: [
                  [from.lon, from.lat],
                  [to.lon, to.lat],
                ],
                tip: `${escapeHtml(from.name)} → ${escapeHtml(to.name)}<br>${pct(r.weight)} of its requests, ${num(r.requestsPerS, 1)} req/s`,
                lineStyle: { width: 1 + 6 * r.weight, color: COLORS.ours, opacity: 0.75, curveness: 0.2 },
              };
            }),
          },
          {
            type: 'scatter',
            coordinateSystem: 'geo',
            zlevel: 2,
            label: { show: true, position: 'right', formatter: (x: { data: { label: string } }) => x.data.label, fontSize: 11, color: '#263238' },
            tooltip: { formatter: (x: { data: { tip: string } }) => x.data.tip },
            data: [
              ...net.sites.map((s) => ({ value: [s.lon, s.lat], symbol: 'rect', symbolSize: 8 + 2 * Math.min(10, replicas[s.id] ?? 0), itemStyle: { color: (replicas[s.id] ?? 0) > 0 ? COLORS.green : '#9e9e9e' }, label: `${s.id} ${replicas[s.id] ?? 0}`, tip: `${escapeHtml(s.name)}: ${replicas[s.id] ?? 0} replicas` })),
              ...p.regions.map((r) => ({ value: [r.lon, r.lat], symbolSize: 7, itemStyle: { color: '#1565c0' }, label: '', tip: `${escapeHtml(r.name)} (users)` })),
            ],
          },
        ],
      },
      { replaceMerge: ['series'] },
    );
  }

  function drawCharts(p: ServicePlacements): void {
    const window = { startMs: p.slots.length ? Date.parse(p.slots[0].slotStart) : 0, slotMinutes: p.slotMinutes };
    const sites = [...new Set(p.slots.flatMap((s) => Object.keys(s.replicas)))].sort();
    replicasChart.chart.setOption(
      timeChart(p, 'replicas', sites.map((site, k) => slotLine({ name: site, data: points(window, p.slots.map((s) => s.replicas[site] ?? 0)), color: SITE_COLOURS[k % SITE_COLOURS.length] })), true),
      { notMerge: true },
    );
    const region = regionSelect.value;
    const demand = p.slots.map((s) => (region ? (s.regions[region]?.demandRps ?? 0) : Object.values(s.regions).reduce((a, r) => a + r.demandRps, 0)));
    const served = p.slots.map((s) => (region ? (s.regions[region]?.servedRps ?? 0) : Object.values(s.regions).reduce((a, r) => a + r.servedRps, 0)));
    const capacity = p.slots.map((s) => Object.values(s.replicas).reduce((a, n) => a + n, 0) * p.replicaRequestsPerS);
    demandChart.chart.setOption(
      timeChart(p, 'req/s', [
        slotLine({ name: region ? `Demand from ${region}` : 'Demand', data: points(window, demand), color: COLORS.demand }),
        slotLine({ name: 'Served within the objective', data: points(window, served), color: COLORS.green, area: true }),
        ...(region ? [] : [slotLine({ name: 'Capacity of the replicas', data: points(window, capacity), color: COLORS.carbon, dashed: true })]),
      ]),
      { notMerge: true },
    );
  }

  function drawRegions(p: ServicePlacements): void {
    const i = nowIndex(p);
    const now = i < 0 ? null : p.slots[i];
    const names = new Map(p.regions.map((r) => [r.id, r.name]));
    const rows = Object.entries(now?.regions ?? {}).map(([id, r]) => [
      names.get(id) ?? id,
      num(r.demandRps, 1),
      num(r.servedRps, 1),
      r.demandRps > 0 ? pct(Math.min(r.servedRps, r.demandRps) / r.demandRps, 1) : '100 %',
      r.latencyMs === null ? '–' : num(r.latencyMs, 1),
      now!.routes.filter((x) => x.region === id).map((x) => `${x.site} ${pct(x.weight)}`).join(', ') || '–',
    ]);
    fill(regionsBox, table('User regions now', ['Region', 'Demand req/s', 'Served req/s', 'Attainment', 'Latency ms', 'Routed to (weight)'], rows, { numeric: [1, 2, 3, 4], empty: 'No placement for the slot now yet: the dispatch loop places the service at its next cycle.' }));
  }

  regionSelect.addEventListener('change', () => last && drawCharts(last));

  return {
    async refresh() {
      const { services } = await api.services();
      const chosen = parts.length >= 2 ? services.find((s) => s.tenant === parts[0] && s.id === parts[1]) : services[0];
      status.textContent = services.length === 0 ? 'No services yet: create one with POST /v1/services (docs/services.md).' : `${services.length} service${services.length === 1 ? '' : 's'}`;
      fill(
        listBox,
        table(
          'Services',
          ['Service', 'Tenant', 'Model', 'Replica', 'Objective'],
          services.map((s) => [
            h('a', { href: `#/services/${encodeURIComponent(s.tenant)}/${encodeURIComponent(s.id)}`, 'aria-current': s === chosen ? 'true' : null }, s.id),
            s.tenant,
            s.spec.model,
            `${s.spec.unitsPerReplica} ${s.spec.poolClass}`,
            `${s.spec.latency.objectiveMs} ms at p${s.spec.latency.percentile}`,
          ]),
          { empty: 'No services.' },
        ),
      );
      if (!chosen) {
        detail.hidden = true;
        return;
      }
      const [p, net] = await Promise.all([api.servicePlacements(chosen.id, session!.role === 'operator' ? chosen.tenant : undefined), api.network()]);
      serviceClock.nowMs = net.nowMs;
      last = p;
      detail.hidden = false;
      detail.querySelector('#service-heading')!.textContent = `${p.tenant}/${p.service}`;
      detail.querySelector('#service-note')!.textContent = `${p.slots.length} slots placed from 24 h back to 48 h ahead · ${num(p.replicaRequestsPerS, 1)} req/s a replica · simulated time ${utc(net.nowMs)}`;
      const wanted = regionSelect.value;
      fill(regionSelect, h('option', { value: '' }, 'All regions'), ...p.regions.map((r) => h('option', { value: r.id, selected: r.id === wanted }, r.name)));
      drawMap(p, net);
      drawCharts(p);
      drawRegions(p);
    },
    dispose: () => {
      map.dispose();
      replicasChart.dispose();
      demandChart.dispose();
    },
  };
}
