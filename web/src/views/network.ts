/**
 * Network view (`#/network`): sites on the China outline by latitude and longitude, links with bandwidth and
 * load; each site's utilisation, green share, price and carbon now. Data: `GET /v1/dashboard/network`.
 */
import { api } from '../api.ts';
import { chart, COLORS } from '../charts.ts';
import { escapeHtml, fill, h, num, pct, table, utc } from '../dom.ts';
import type { NetworkNow, SiteNow } from '../types.ts';
import { serviceClock, type View } from '../view.ts';

/** Green share 0..1 → a colour from grey-red (none) to green (all). */
function greenColour(share: number | null): string {
  if (share === null) return '#9e9e9e';
  const s = Math.max(0, Math.min(1, share));
  const r = Math.round(198 - 152 * s);
  const g = Math.round(80 + 45 * s);
  const b = Math.round(60 - 10 * s);
  return `rgb(${r},${g},${b})`;
}

/** The first word of a site's name (`Hami integrated computing centre` → `Hami`), for map labels. */
const shortName = (site: SiteNow) => site.name.split(/[\s,(]/)[0] || site.id;

/** The site's pools out of service, as `pool: reason` lines (empty when all take work). */
const outages = (site: SiteNow) => site.pools.filter((p) => p.outOfService !== null).map((p) => `${p.id}: ${p.outOfService}`);

function siteTooltip(site: SiteNow): string {
  // echarts renders tooltips as HTML: escape the free-text fields.
  const out = outages(site).map((line) => `<br>out of service: ${escapeHtml(line)}`).join('');
  return `<b>${escapeHtml(site.name)}</b><br>utilisation ${pct(site.utilisation)}<br>green ${pct(site.greenShare)}<br>${num(site.priceYuanPerKWh, 3)} yuan/kWh<br>${num(site.carbonGPerKWh, 0)} gCO2/kWh${out}`;
}

export function networkView(root: HTMLElement): View {
  // Not a live region: it changes with the service's clock at every refresh.
  const status = h('p', { class: 'muted' }, 'Loading the network…');
  const mapBox = h('div', { class: 'chart map', role: 'img', 'aria-label': 'Map of the sites and links on an outline of China; the tables below give the same figures' });
  const sitesBox = h('div');
  const linksBox = h('div');
  // Why waiting jobs have no place (every tenant's, counts only): GET /v1/dashboard/unplaced.
  const unplacedBox = h('p', { class: 'muted unplaced-jobs' });
  fill(
    root,
    h('h1', null, 'Network'),
    status,
    h(
      'div',
      { class: 'network-layout' },
      mapBox,
      h('p', { class: 'muted small' }, 'Sites: size is utilisation, colour the green share now (green: all renewable, red: none, grey: no demand); a thick dark ring and "out" mark a site with a pool out of service. Links: width is bandwidth, colour the load (grey under 30 %, orange, red over 80 %). Drag or scroll to move and zoom.'),
      h('div', null, sitesBox),
    ),
    linksBox,
    unplacedBox,
    h('p', { class: 'muted small' }, 'Outline: Natural Earth (public domain), 1:50m; not an authoritative boundary.'),
  );
  const map = chart(mapBox);
  map.chart.setOption({
    // Redrawn at every live refresh: animated, the links would grow from their start again every time.
    animation: false,
    tooltip: { trigger: 'item' },
    geo: {
      map: 'china-outline',
      roam: true,
      zoom: 1.15,
      itemStyle: { areaColor: '#eef2ee', borderColor: '#90a4ae' },
      emphasis: { disabled: true },
      label: { show: false },
    },
  });

  function draw(net: NetworkNow): void {
    const byId = new Map(net.sites.map((s) => [s.id, s]));
    const maxGbps = Math.max(1, ...net.links.map((l) => l.bandwidthGbps));
    // Only the series: the outline (geo) is set once, so a live refresh keeps where the user dragged and zoomed it.
    map.chart.setOption(
      {
        series: [
          {
            type: 'lines',
            coordinateSystem: 'geo',
            zlevel: 1,
            tooltip: { formatter: (p: { data: { tip: string } }) => p.data.tip },
            data: net.links
              .filter((l) => byId.has(l.from) && byId.has(l.to))
              .map((l) => {
                const a = byId.get(l.from)!;
                const b = byId.get(l.to)!;
                const load = l.bandwidthGbps > 0 ? (l.loadGbps + l.backupGbps) / l.bandwidthGbps : 0;
                return {
                  coords: [
                    [a.lon, a.lat],
                    [b.lon, b.lat],
                  ],
                  // HTML, as the sites' tooltips: the names escaped.
                  tip: `${escapeHtml(a.name)} – ${escapeHtml(b.name)}<br>${num(l.bandwidthGbps, 0)} Gbit/s, ${num(l.latencyMs, 0)} ms<br>load ${num(l.loadGbps + l.backupGbps, 2)} Gbit/s (${pct(load)}): job input ${num(l.loadGbps, 2)}, backup ${num(l.backupGbps, 2)}`,
                  lineStyle: { width: 1.5 + 5 * (l.bandwidthGbps / maxGbps), color: load > 0.8 ? '#c62828' : load > 0.3 ? '#ef6c00' : '#546e7a', opacity: 0.8, curveness: 0.15 },
                };
              }),
          },
          {
            type: 'scatter',
            coordinateSystem: 'geo',
            zlevel: 2,
            labelLayout: { hideOverlap: true },
            tooltip: { formatter: (p: { dataIndex: number }) => siteTooltip(net.sites[p.dataIndex]) },
            label: {
              show: true,
              position: 'right',
              formatter: (p: { dataIndex: number }) => `${shortName(net.sites[p.dataIndex])} ${pct(net.sites[p.dataIndex].utilisation)}${outages(net.sites[p.dataIndex]).length > 0 ? ' out' : ''}`,
              fontSize: 12,
              color: '#263238',
            },
            data: net.sites.map((s) => ({
              name: s.name,
              value: [s.lon, s.lat],
              symbolSize: 10 + 16 * Math.max(0, Math.min(1, s.utilisation)),
              itemStyle: outages(s).length > 0 ? { color: greenColour(s.greenShare), borderColor: '#4a0000', borderWidth: 4 } : { color: greenColour(s.greenShare), borderColor: '#fff', borderWidth: 1 },
            })),
          },
        ],
      },
      { replaceMerge: ['series'] },
    );
  }

  return {
    async refresh() {
      const [net, unplaced] = await Promise.all([api.network(), api.unplaced()]);
      serviceClock.nowMs = net.nowMs;
      unplacedBox.textContent = unplaced.jobs === 0
        ? 'Every waiting job has a place in the plan.'
        : `${unplaced.jobs} waiting job${unplaced.jobs === 1 ? '' : 's'} without a place at the last dispatch cycle: ${unplaced.reasons.map((r) => `${r.reason} (${r.jobs})`).join(', ')}.`;
      status.textContent = `${net.sites.length} sites, ${net.links.length} links · simulated time ${utc(net.nowMs)} · ${net.slotMinutes}-minute slots`;
      draw(net);
      const names = new Map(net.sites.map((s) => [s.id, s.name]));
      fill(
        sitesBox,
        table(
          'Sites now',
          ['Site', 'Out of service', 'Utilisation', 'Green share', 'Price yuan/kWh', 'Carbon gCO2/kWh', 'Demand kW', 'Renewable kW', 'Filled in by the fallback'],
          net.sites.map((s) => [
            h('a', { href: `#/energy/${encodeURIComponent(s.id)}`, title: `Energy at ${s.name}` }, s.name),
            outages(s).join('; ') || '–',
            pct(s.utilisation),
            pct(s.greenShare),
            num(s.priceYuanPerKWh, 3),
            num(s.carbonGPerKWh, 0),
            num(s.demandKW, 0),
            num(s.renewableKW, 0),
            s.signalFallbacks.join('; ') || '–',
          ]),
          { numeric: [2, 3, 4, 5, 6, 7] },
        ),
      );
      fill(
        linksBox,
        table(
          'Links',
          ['From', 'To', 'Bandwidth Gbit/s', 'Latency ms', 'Job input Gbit/s', 'Backup Gbit/s'],
          net.links.map((l) => [names.get(l.from) ?? l.from, names.get(l.to) ?? l.to, num(l.bandwidthGbps, 0), num(l.latencyMs, 0), num(l.loadGbps, 2), num(l.backupGbps, 2)]),
          { numeric: [2, 3, 4, 5] },
        ),
      );
    },
    dispose: () => map.dispose(),
  };
}
