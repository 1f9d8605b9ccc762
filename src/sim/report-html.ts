/**
 * The simulation report as one self-contained HTML page (`report.html`), for planners comparing
 * policies. `kumul simulate` calls `renderReportHtml` with the `SimReport` it also writes as JSON.
 *
 * The page needs no script and no network: tables are plain HTML, charts are SVG drawn here with
 * ECharts' server-side renderer, fonts are the system's. The same report gives the same bytes:
 * ECharts numbers its SVG ids per process, so `svgFor` renames them per chart (see `cleanSvg`).
 */
import * as echarts from 'echarts/core';
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import type { GridComponentOption, LegendComponentOption, TitleComponentOption } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
// Each of these registers itself with ECharts; importing them rather than the `echarts/charts` and
// `echarts/components` barrels (which load every chart type) halves the time to load this module.
import 'echarts/lib/chart/bar.js';
import 'echarts/lib/chart/line.js';
import 'echarts/lib/component/grid.js';
import 'echarts/lib/component/legend.js';
import 'echarts/lib/component/title.js';
import type { PolicyResult, ServicesResult, SimReport } from './report.ts';

echarts.use([SVGRenderer]);

type ChartOption = echarts.ComposeOption<
  BarSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | TitleComponentOption
>;
type Series = BarSeriesOption | LineSeriesOption;

/** Up to this many policies get their own time-series charts; beyond it, the first policy does and the others are drawn as differences from it (keeps the page at ≤ 11 charts). */
const MAX_DETAILED_POLICIES = 4;
const CHART_WIDTH = 880;
/** Height of one site's panel in the per-site charts, px. */
const PANEL_HEIGHT = 130;
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC", "Microsoft YaHei", sans-serif';
/** Short and without quotes: ECharts copies it unescaped into every text's style attribute. */
const CHART_FONT = 'system-ui, sans-serif';
const COLOURS = { green: '#2e8b57', grid: '#8d8d8d', renewable: '#14532d', bar: '#3b6ea8' };
/** Series colours, fixed so that a name keeps its colour in every panel of a chart. */
const PALETTE = ['#3b6ea8', '#d9822b', '#2e8b57', '#8e44ad', '#c0392b', '#16a085', '#7f8c8d', '#b7950b'];

/** The whole page: header, totals, savings, charts, then one section per policy. */
export function renderReportHtml(report: SimReport): string {
  const detailed = report.policies.length <= MAX_DETAILED_POLICIES ? report.policies : report.policies.slice(0, 1);
  const body = [
    headerSection(report),
    totalsSection(report),
    savingsSection(report),
    costCarbonSection(report),
    carbonIntensitySection(report),
    differencesSection(report, detailed.length),
    servicesSection(report),
    ...report.policies.map((p, i) => policySection(p, i, i < detailed.length)),
  ]
    .filter((part) => part !== '')
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kumul simulation: ${esc(report.scenario)}, ${esc(dateTime(report.from))} to ${esc(dateTime(report.to))}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

// ---------------------------------------------------------------- sections

/** Scenario, period and the run's settings. */
function headerSection(r: SimReport): string {
  const items: [string, string][] = [
    ['Scenario', r.scenario],
    ['Period (UTC)', `${dateTime(r.from)} to ${dateTime(r.to)}`],
    ['Slot (min)', num(r.slotMinutes)],
    ['Re-plan every (min)', num(r.replanMinutes)],
    ['Forecast error (σ, % of mean)', r.forecastErrorPct === null ? 'the scenario’s own forecasts' : num(r.forecastErrorPct)],
    ['Seed', String(r.seed)],
    ['Jobs in the period', num(r.jobs)],
  ];
  if (r.shiftHours > 0) items.push(['Temporal shift allowed (± h)', num(r.shiftHours)]);
  if (r.forecastSmoothingMinutes > 0) items.push(['Forecasts smoothed over (± min)', num(r.forecastSmoothingMinutes)]);
  if (r.optimizeSites === 'origin') items.push(['optimize runs each job at', 'its origin only']);
  items.push(['Policies', r.policies.map((p) => `${p.policy} (objective ${p.objective})`).join(', ')]);
  const dl = items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('\n');
  return `<header>\n<h1>Kumul simulation report: ${esc(r.scenario)}</h1>\n<dl class="settings">\n${dl}\n</dl>\n</header>`;
}

/** Totals of every policy side by side: one column per policy, one row per figure. */
function totalsSection(r: SimReport): string {
  const rows: [string, (p: PolicyResult) => string][] = [
    ['Energy (kWh)', (p) => num(p.totals.energyKWh)],
    ['Green energy (kWh)', (p) => num(p.totals.greenKWh)],
    ['Green share (%)', (p) => pct(p.totals.greenShare)],
    ['Cost (yuan)', (p) => num(p.totals.costYuan)],
    ['Carbon (kg CO2)', (p) => num(p.totals.carbonKg)],
    ['Data transferred (GB)', (p) => num(p.totals.transferGB)],
    ['Jobs completed', (p) => num(p.jobs.completed)],
    ['Jobs that missed their deadline', (p) => num(p.jobs.missed)],
    ['Jobs unfinished at the end', (p) => num(p.jobs.unfinished)],
    ['Mean wait before first start (h)', (p) => num(p.jobs.meanWaitS / 3600)],
    ['Jobs paused and resumed', (p) => num(p.jobs.resumed)],
    ['Dispatch cycles', (p) => num(p.cycles)],
    ['Events processed', (p) => num(p.events)],
  ];
  const cols = [{ label: 'Figure' }, ...r.policies.map((p) => ({ label: p.policy, num: true }))];
  const body = rows.map(([label, f]) => [label, ...r.policies.map(f)]);
  return section('totals', 'Totals by policy', table('Totals of each policy over the period', cols, body));
}

/** Each policy against each other one, with explicit signs. */
function savingsSection(r: SimReport): string {
  const cols = [
    { label: 'Policy' },
    { label: 'Versus' },
    { label: 'Cost (%)', num: true },
    { label: 'Carbon (%)', num: true },
    { label: 'Energy (%)', num: true },
    { label: 'Green share (points)', num: true },
    { label: 'Jobs compared', num: true },
  ];
  const rows = r.savings.map((s) => [
    s.policy,
    s.versus,
    signed(s.costPct),
    signed(s.carbonPct),
    signed(s.energyPct),
    signed(s.greenSharePts),
    num(s.jobsCompared),
  ]);
  const note =
    '<p>Each row compares a policy with the one under “Versus” on the jobs both completed (“Jobs compared”; so the percentages can differ from the totals above): ' +
    'a negative percentage means the policy used less (a saving); green share is the difference in percentage points, positive meaning a greener mix.</p>';
  const content = rows.length > 0 ? table('Savings of each policy against each other one', cols, rows) : '<p>No comparisons (one policy).</p>';
  return section('savings', 'Savings', note + '\n' + content);
}

/** Cost and carbon of each policy, as bars. */
function costCarbonSection(r: SimReport): string {
  const names = r.policies.map((p) => p.policy);
  const bars = (key: string, title: string, values: number[]): string =>
    figure({
      key,
      option: barChartOption(names, values),
      height: 280,
      width: CHART_WIDTH / 2 - 8,
      caption: `Total ${title} of each policy.`,
      alt: `Bar chart of ${title} per policy: ${names.map((n, i) => `${n} ${num(values[i])}`).join('; ')}.`,
    });
  const cost = bars('cost', 'cost (yuan)', r.policies.map((p) => p.totals.costYuan));
  const carbon = bars('carbon', 'carbon (kg CO2)', r.policies.map((p) => p.totals.carbonKg));
  return section('cost-carbon', 'Cost and carbon', `<div class="pair">\n${cost}\n${carbon}\n</div>`);
}

/** Grid carbon intensity per site: the actual signal, the same whatever the policy, so taken from the first. */
function carbonIntensitySection(r: SimReport): string {
  const first = r.policies[0];
  if (!first || !hasSeries(first)) return '';
  const sites = Object.keys(first.series.carbonGPerKWh);
  const series: LineSeriesOption[] = sites.map((site) => line(site, first.series.carbonGPerKWh[site]));
  const option: ChartOption = {
    ...baseOption(),
    legend: LEGEND,
    grid: { ...GRID, top: 48, bottom: 32 },
    xAxis: timeAxis(first.series.starts, first.series.bucketHours),
    yAxis: { type: 'value', name: 'gCO2/kWh', scale: true },
    series,
  };
  const means = sites.map((s) => `${s} ${num(mean(first.series.carbonGPerKWh[s]))}`).join('; ');
  return section(
    'carbon-intensity',
    'Grid carbon intensity',
    figure({
      key: 'intensity',
      option,
      height: 320,
      caption: `Grid carbon intensity at each site, gCO2/kWh, mean of each ${num(first.series.bucketHours)}-hour bucket (actual, not forecast).`,
      alt: `Line chart of grid carbon intensity over time per site, gCO2/kWh. Means over the period: ${means}.`,
    }),
  );
}

/** With many policies: each other policy's grid energy and utilisation minus the first's, per site. */
function differencesSection(r: SimReport, detailedCount: number): string {
  if (detailedCount >= r.policies.length) return '';
  const [base, ...others] = r.policies;
  const diff = (a: number[] = [], b: number[] = [], scale = 1): number[] => b.map((x, i) => round((x - (a[i] ?? 0)) * scale));
  const diffChart = (unit: string, pick: (p: PolicyResult, site: string) => number[] | undefined, scale: number) =>
    siteChart(base, unit, (site) =>
      others.map((p, j) => line(p.policy, diff(pick(base, site), pick(p, site), scale), PALETTE[j % PALETTE.length])),
    );
  const who = `${others.map((p) => p.policy).join(', ')} minus ${base.policy}`;
  const grid = diffChart('kWh', (p, site) => p.series.sites[site]?.gridKWh, 1);
  const util = diffChart('points', (p, site) => p.series.sites[site]?.utilisation, 100);
  return section(
    'differences',
    `Differences from ${base.policy}`,
    [
      figure({ key: 'diff-grid', ...grid, caption: `Grid energy used per site, kWh per bucket: ${who}.`, alt: `Line charts, one per site, of the grid energy used by ${who}, kWh per bucket.` }),
      figure({ key: 'diff-util', ...util, caption: `Utilisation per site, percentage points: ${who}.`, alt: `Line charts, one per site, of the utilisation of ${who}, percentage points.` }),
    ].join('\n'),
  );
}

/**
 * Services run with the jobs: each policy's services and the nearest-site baseline side by side (totals, attainment
 * per region, per site), the comparison, and the first pre-emptions with their reasons.
 */
function servicesSection(r: SimReport): string {
  const s = r.services;
  if (!s) return '';
  const runs: [string, ServicesResult][] = [...r.policies.flatMap((p): [string, ServicesResult][] => (p.services ? [[`${p.policy}`, p.services]] : [])), [`nearest-site baseline (${s.baseline.policy})`, s.baseline]];
  const cols = [{ label: 'Figure' }, ...runs.map(([name]) => ({ label: name, num: true }))];
  const rows: [string, (x: ServicesResult) => string][] = [
    ['Requests', (x) => num(x.totals.requests)],
    ['Within the latency objective (%)', (x) => fixed(x.totals.attainmentPct, 2)],
    ['Energy (kWh)', (x) => num(x.totals.energyKWh)],
    ['Green share (%)', (x) => pct(x.totals.greenShare)],
    ['Cost (yuan)', (x) => num(x.totals.costYuan)],
    ['Carbon (kg CO2)', (x) => num(x.totals.carbonKg)],
    ['Replica-hours', (x) => num(x.totals.replicaHours)],
    ['… of which started for bursts', (x) => num(x.totals.extraReplicaHours)],
    ['Cold starts', (x) => num(x.totals.coldStarts)],
    ['Bursts the units could not wholly cover (service × site × slot)', (x) => num(x.totals.burstsShort)],
    ['Batch runs pre-empted (jobs)', (x) => `${num(x.preemptions.count)} (${num(x.preemptions.jobs)})`],
    ['Bound gap on the forecasts (%)', (x) => (x.bound.gapPct === null ? 'n/a' : fixed(x.bound.gapPct, 2))],
  ];
  const totals = table('Services under each policy and under the nearest-site baseline, accounted with actual demand and signals', cols, rows.map(([label, f]) => [label, ...runs.map(([, x]) => f(x))]));
  const regions = s.baseline.regions.map((b) => [b.region, ...runs.map(([, x]) => fixed(x.regions.find((y) => y.region === b.region)?.attainmentPct ?? NaN, 2)), num(b.requests)]);
  const regionTable = table('Services: objective attainment per region (% of requests within the latency objective)', [{ label: 'Region' }, ...runs.map(([name]) => ({ label: name, num: true })), { label: 'Requests', num: true }], regions);
  const regionCosts = table(
    'Services: cost (yuan), carbon (kg CO2) and green share (%) charged to each region (each site\'s energy split by the requests routed there)',
    [{ label: 'Region' }, ...runs.map(([name]) => ({ label: name, num: true }))],
    s.baseline.regions.map((b) => [b.region, ...runs.map(([, x]) => {
      const y = x.regions.find((z) => z.region === b.region);
      return y ? `${num(y.costYuan)} / ${num(y.carbonKg)} / ${pct(y.greenShare)}` : 'n/a';
    })]),
  );
  const siteIds = [...new Set(runs.flatMap(([, x]) => x.sites.map((y) => y.site)))];
  const siteTable = table(
    'Services: energy per site (kWh, green share %)',
    [{ label: 'Site' }, ...runs.map(([name]) => ({ label: name, num: true }))],
    siteIds.map((site) => [site, ...runs.map(([, x]) => {
      const y = x.sites.find((z) => z.site === site);
      return y ? `${num(y.energyKWh)} (${pct(share(y.greenKWh, y.energyKWh))} %)` : '0';
    })]),
  );
  const versus = table(
    'Services against the nearest-site baseline',
    [{ label: 'Policy' }, { label: 'Cost (%)', num: true }, { label: 'Carbon (%)', num: true }, { label: 'Green share (points)', num: true }, { label: 'Attainment (points)', num: true }],
    s.versusBaseline.map((v) => [v.policy, signed(v.costPct), signed(v.carbonPct), signed(v.greenSharePts), signed(v.attainmentPts)]),
  );
  const first = r.policies.find((p) => p.services && p.services.preemptions.count > 0);
  const preemptions = first
    ? table(
        `Batch runs pre-empted under ${first.policy} (first ${Math.min(PREEMPTIONS_SHOWN, first.services!.preemptions.count)} of ${first.services!.preemptions.count}; report.json lists ${first.services!.preemptions.first.length} with every region)`,
        [{ label: 'Slot start (UTC)' }, { label: 'Job' }, { label: 'Pool' }, { label: 'Units', num: true }, { label: 'Why: service short at a site, its regions\' requests/s over forecast' }],
        first.services!.preemptions.first.slice(0, PREEMPTIONS_SHOWN).map((x) => [dateTime(x.start), x.job, x.pool, num(x.units), reasonsInShort(x.reasons)]),
      )
    : '<p>No batch run was pre-empted.</p>';
  const note = `<p>Services are placed first, on the forecast (${esc(s.forecast)}); batch fills the units left. Actual demand: ${esc(s.actual)}. A request is within the objective when its site served no more than its capacity in that minute; bursts above the planned capacity start replicas on free units, then on units of interruptible batch runs (pre-empted), never of non-interruptible ones.</p>`;
  return section('services', 'Services', [note, totals, versus, regionTable, regionCosts, siteTable, preemptions].join('\n'));
}

/** Pre-emptions listed in the page (the JSON has more). */
const PREEMPTIONS_SHOWN = 20;

/** Reasons of a pre-emption per service and site: the regions it serves and their requests/s over forecast in all. */
function reasonsInShort(reasons: { service: string; site: string; region: string; requestsPerSOverForecast: number }[]): string {
  const groups = new Map<string, { regions: number; overRps: number }>();
  for (const r of reasons) {
    const key = `${r.service} at ${r.site}`;
    const g = groups.get(key) ?? { regions: 0, overRps: 0 };
    g.regions++;
    g.overRps += r.requestsPerSOverForecast;
    groups.set(key, g);
  }
  return [...groups].map(([key, g]) => `${key}: ${g.regions} region${g.regions === 1 ? '' : 's'}, ${signed(g.overRps)} req/s`).join('; ');
}

/** One policy: its energy mix and utilisation over time (when detailed), and its site, pool and link tables. */
function policySection(p: PolicyResult, index: number, detailed: boolean): string {
  const parts = [`<p>Objective: ${esc(p.objective)}.</p>`];
  if (detailed && hasSeries(p)) parts.push(energyMixFigure(p, index), utilisationFigure(p, index));
  parts.push(sitesTable(p), poolsTable(p), linksTable(p));
  if (p.backup) parts.push(backupTables(p));
  return section(`policy-${index}`, `Policy ${p.policy}`, parts.join('\n'));
}

/** Whether a policy has time series to draw (a report of an empty period has none). */
function hasSeries(p: PolicyResult): boolean {
  return p.series.starts.length > 0 && Object.keys(p.series.sites).length > 0;
}

// ---------------------------------------------------------------- per-policy figures and tables

/** Stacked renewable and grid energy used per site, with the renewable energy available as a line. */
function energyMixFigure(p: PolicyResult, index: number): string {
  const axes = Object.fromEntries(Object.entries(p.series.sites).map(([site, s]) => [site, usedEnergyAxis(s)]));
  const { option, height } = siteChart(
    p,
    'kWh',
    (site) => {
      const s = p.series.sites[site];
      return [
        { ...line('Renewable used', s.greenKWh, COLOURS.green), stack: site, areaStyle: { opacity: 0.8 } },
        { ...line('Grid', s.gridKWh, COLOURS.grid), stack: site, areaStyle: { opacity: 0.8 } },
        { ...line('Renewable available', s.renewableKWh, COLOURS.renewable), lineStyle: { type: 'dashed', width: 1.5 } },
      ];
    },
    (site) => axes[site],
  );
  const capped = Object.keys(axes).filter((site) => axes[site] !== undefined);
  const cut = capped.length > 0 ? ` At ${capped.join(', ')}, renewable available is far above the energy used: the axis follows the energy used and the dashed line is cut off at the top.` : '';
  const alt = p.sites.map((s) => `${s.site} ${num(s.energyKWh)} kWh, ${pct(share(s.greenKWh, s.energyKWh))} % renewable`).join('; ');
  return figure({
    key: `mix-${index}`,
    option,
    height,
    caption: `Energy used per site under ${p.policy}, kWh per ${num(p.series.bucketHours)}-hour bucket: renewable (green) and grid (grey) stacked, renewable available dashed.${cut}`,
    alt: `Stacked area charts, one per site, of renewable and grid energy used over time under policy ${p.policy}, with renewable energy available as a dashed line. Totals: ${alt}.${cut}`,
  });
}

/**
 * A site's energy axis when its renewable energy available would flatten the energy used (peak
 * above twice the peak used): up to just above the peak used, in about four round steps.
 * Otherwise undefined (automatic, renewable included).
 */
function usedEnergyAxis(s: PolicyResult['series']['sites'][string]): Axis | undefined {
  const used = Math.max(0, ...s.greenKWh.map((g, i) => g + (s.gridKWh[i] ?? 0)));
  const available = Math.max(0, ...s.renewableKWh);
  if (!(used > 0 && available > 2 * used)) return undefined;
  const interval = roundStep((used * 1.1) / 4);
  return { min: 0, max: interval * Math.ceil((used * 1.1) / interval), interval };
}

/** The smallest of 1, 2, 2.5, 5 (× a power of ten) at or above x > 0. */
function roundStep(x: number): number {
  const scale = 10 ** Math.floor(Math.log10(x));
  return ([1, 2, 2.5, 5].find((m) => m * scale >= x) ?? 10) * scale;
}

/** Utilisation over time, one panel per site. */
function utilisationFigure(p: PolicyResult, index: number): string {
  const { option, height } = siteChart(
    p,
    '%',
    (site) => [{ ...line('Utilisation', p.series.sites[site].utilisation.map((u) => u * 100), COLOURS.bar), areaStyle: { opacity: 0.2 } }],
    () => PERCENT_AXIS,
  );
  const alt = p.sites.map((s) => `${s.site} ${pct(s.utilisation)} %`).join('; ');
  return figure({
    key: `util-${index}`,
    option,
    height,
    caption: `Utilisation per site under ${p.policy}, % of unit-hours available, per ${num(p.series.bucketHours)}-hour bucket.`,
    alt: `Area charts, one per site, of utilisation over time under policy ${p.policy}. Over the period: ${alt}.`,
  });
}

function sitesTable(p: PolicyResult): string {
  const cols = [
    { label: 'Site' },
    { label: 'Energy (kWh)', num: true },
    { label: 'Green energy (kWh)', num: true },
    { label: 'Green share (%)', num: true },
    { label: 'Cost (yuan)', num: true },
    { label: 'Carbon (kg CO2)', num: true },
    { label: 'Utilisation (%)', num: true },
  ];
  const rows = p.sites.map((s) => [
    s.site,
    num(s.energyKWh),
    num(s.greenKWh),
    pct(share(s.greenKWh, s.energyKWh)),
    num(s.costYuan),
    num(s.carbonKg),
    pct(s.utilisation),
  ]);
  return table(`Sites under ${p.policy}`, cols, rows);
}

function poolsTable(p: PolicyResult): string {
  if (p.pools.length === 0) return '';
  const cols = [{ label: 'Site' }, { label: 'Pool' }, { label: 'Utilisation (%)', num: true }];
  return table(`Pools under ${p.policy}`, cols, p.pools.map((q) => [q.site, q.pool, pct(q.utilisation)]));
}

/** Backups planned around the policy's job transfers: totals, RPO compliance per dataset, link volume split. */
function backupTables(p: PolicyResult): string {
  const b = p.backup!;
  const t = b.totals;
  const summary =
    `<p>Backups under ${esc(p.policy)}: ${num(t.backupGB)} GB of backup copies and ${num(t.jobGB)} GB of job input over the links; network energy ${num(t.energyKWh)} kWh, ` +
    `cost ${num(t.costYuan)} yuan, carbon ${num(t.carbonKg)} kg CO2 (actual signals); ${num(t.datasetsWithinRpo)} of ${num(b.datasets.length)} datasets within their RPO all the time` +
    `${t.unmetGB > 0 ? `; ${num(t.unmetGB)} GB could not reach its target in time` : ''}${b.unplaced.length > 0 ? `; ${num(b.unplaced.length)} datasets not placed (${esc(b.unplaced.map((u) => `${u.id}: ${u.reason}`).join('; '))})` : ''}.</p>`;
  const datasets = table(
    `RPO compliance per dataset under ${p.policy} (% of the period each replica's newest copy is within the RPO)`,
    [{ label: 'Dataset' }, { label: 'Origin' }, { label: 'RPO (h)', num: true }, { label: 'Worst replica (%)', num: true }, { label: 'Replicas: site (% within, oldest copy h)' }],
    b.datasets.map((d) => [d.id, d.origin, num(d.rpoHours), fixed(d.withinRpoPct, 1), d.replicas.map((r) => `${r.site} (${fixed(r.withinRpoPct, 1)} %, ${r.maxAgeHours === null ? 'no copy' : num(r.maxAgeHours)})`).join('; ')]),
  );
  const links = table(
    `Link volume under ${p.policy}: backup against job input (each direction)`,
    [{ label: 'From' }, { label: 'To' }, { label: 'Backup (GB)', num: true }, { label: 'Job input (GB)', num: true }, { label: 'Busiest slot (% of capacity)', num: true }],
    b.links.map((l) => [l.from, l.to, num(l.backupGB), num(l.jobGB), pct(l.peakUsePct / 100)]),
  );
  return [summary, datasets, links].join('\n');
}

function linksTable(p: PolicyResult): string {
  if (p.links.length === 0) return `<p>No input data moved between sites under ${esc(p.policy)}.</p>`;
  const cols = [{ label: 'From' }, { label: 'To' }, { label: 'Data moved, both directions (GB)', num: true }];
  return table(`Data moved over each link under ${p.policy}`, cols, p.links.map((l) => [l.from, l.to, num(l.gb)]));
}

// ---------------------------------------------------------------- chart options

const LEGEND: LegendComponentOption = { top: 0, itemGap: 24 };
/** Fixed margins (no automatic shrinking to fit labels) so that stacked panels line up. */
const GRID: GridComponentOption = { left: 64, right: 48, outerBoundsMode: 'none' };
/** Fixed bounds of a value axis. */
interface Axis {
  min: number;
  max: number;
  interval: number;
}
const PERCENT_AXIS: Axis = { min: 0, max: 100, interval: 25 };

/** What every chart shares: no animation (deterministic output), system fonts. */
function baseOption(): ChartOption {
  return { animation: false, textStyle: { fontFamily: CHART_FONT }, color: PALETTE };
}

function barChartOption(names: string[], values: number[]): ChartOption {
  return {
    ...baseOption(),
    grid: { left: 72, right: 16, top: 24, bottom: 40 },
    xAxis: { type: 'category', data: names, axisLabel: { interval: 0, hideOverlap: true } },
    yAxis: { type: 'value' },
    series: [
      {
        type: 'bar',
        data: values.map(round),
        itemStyle: { color: COLOURS.bar },
        barMaxWidth: 64,
        label: { show: true, position: 'top', formatter: (x) => num(Number(x.value)) },
      },
    ],
  };
}

/** A line series without markers; `round` keeps the SVG and the alt text short. */
function line(name: string, data: number[], color?: string): LineSeriesOption {
  return { type: 'line', name, data: data.map(round), showSymbol: false, symbol: 'none', ...(color ? { itemStyle: { color }, lineStyle: { color } } : {}) };
}

/**
 * The category axis of bucket starts, labelled in UTC: the date for daily (or longer) buckets; for
 * shorter ones over two days or more, a tick and the date at midnight every few days (at most ~10).
 */
function timeAxis(starts: string[], bucketHours: number, gridIndex = 0, showLabels = true) {
  const isos = starts.map(isoOrRaw);
  const labels = isos.map((iso) => (bucketHours >= 24 ? iso.slice(0, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`));
  const axis = { type: 'category' as const, data: labels, gridIndex, boundaryGap: false, axisLabel: { show: showLabels, hideOverlap: true } };
  const days = (starts.length * bucketHours) / 24;
  if (bucketHours >= 24 || days < 2) return axis;
  const everyDays = Math.ceil(days / 10);
  const shown = (i: number) => isos[i].slice(11, 16) === '00:00' && Math.round(Date.parse(isos[i]) / 86_400_000) % everyDays === 0;
  if (!isos.some((_, i) => shown(i))) return axis;
  return {
    ...axis,
    axisTick: { interval: shown },
    axisLabel: { ...axis.axisLabel, interval: shown, formatter: (label: string) => label.slice(0, 5) },
  };
}

/**
 * Small multiples: one panel per site of `p` (in its series order), titled with the site and
 * `unit`, stacked vertically on a shared time axis, with a legend when there are several series
 * names; `yAxisFor` may fix a panel's value axis. Used by the energy-mix, utilisation and difference charts.
 */
function siteChart(
  p: PolicyResult,
  unit: string,
  seriesFor: (site: string) => Series[],
  yAxisFor: (site: string) => Axis | undefined = () => undefined,
): { option: ChartOption; height: number } {
  const sites = Object.keys(p.series.sites);
  const series = sites.flatMap((site, i) => seriesFor(site).map((s) => ({ ...s, xAxisIndex: i, yAxisIndex: i })));
  const legend = new Set(series.map((s) => s.name)).size > 1;
  const top = legend ? 36 : 8;
  const gap = 28;
  const bottom = 32;
  const height = top + sites.length * (PANEL_HEIGHT + gap) + bottom;
  const panelTop = (i: number) => top + gap + i * (PANEL_HEIGHT + gap);
  const option: ChartOption = {
    ...baseOption(),
    legend: { show: legend, ...LEGEND },
    title: sites.map((site, i) => ({ text: `${site} (${unit})`, left: 64, top: panelTop(i) - 22, textStyle: { fontSize: 13, fontWeight: 'bold' as const } })),
    grid: sites.map((_, i) => ({ ...GRID, top: panelTop(i), height: PANEL_HEIGHT - 20 })),
    xAxis: sites.map((_, i) => timeAxis(p.series.starts, p.series.bucketHours, i, i === sites.length - 1)),
    yAxis: sites.map((site, i) => ({ type: 'value' as const, gridIndex: i, splitNumber: 3, ...yAxisFor(site) })),
    series,
  };
  return { option, height };
}

// ---------------------------------------------------------------- SVG and HTML helpers

interface Figure {
  /** Unique in the page: it prefixes the SVG's ids. */
  key: string;
  option: ChartOption;
  height: number;
  width?: number;
  caption: string;
  /** The chart said in words, for screen readers (`aria-label`). */
  alt: string;
}

/** A chart in a `<figure>` with its caption. */
function figure(f: Figure): string {
  return `<figure>\n${svgFor(f)}\n<figcaption>${esc(f.caption)}</figcaption>\n</figure>`;
}

/** Renders one chart to SVG with ECharts' server-side renderer. */
function svgFor({ key, option, height, width = CHART_WIDTH, alt }: Figure): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(option);
    return cleanSvg(chart.renderToSVGString(), key, alt);
  } finally {
    chart.dispose();
  }
}

/**
 * Makes ECharts' SVG static, deterministic and accessible: drops the hover styles and the
 * interaction metadata (no scripts run here), renames the per-process ids (`zr3-c0`) after the
 * chart's key, drops the unused xlink namespace, and labels the root as an image.
 */
function cleanSvg(svg: string, key: string, alt: string): string {
  let out = svg
    .replace(/<style[^>]*>[\s\S]*?<\/style>\s*/g, '')
    .replace(/ class="zr\d+-cls-\d+"/g, '')
    .replace(/ ecmeta_\w+="[^"]*"/g, '')
    .replace(/ pointer-events="visible"/g, '')
    .replace(/\bzr\d+-/g, `kumul-${key}-`);
  if (!out.includes('xlink:')) out = out.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', '');
  return out.replace(/^<svg /, `<svg role="img" aria-label="${esc(alt)}" `);
}

function section(id: string, heading: string, content: string): string {
  return `<section id="${id}">\n<h2>${esc(heading)}</h2>\n${content}\n</section>`;
}

/** A table whose first column heads its rows; cells are plain text (escaped here), `num` columns right-aligned. */
function table(caption: string, cols: { label: string; num?: boolean }[], rows: string[][]): string {
  const cls = (i: number) => (cols[i]?.num ? ' class="num"' : '');
  const head = cols.map((c, i) => `<th scope="col"${cls(i)}>${esc(c.label)}</th>`).join('');
  const body = rows
    .map((row) => '<tr>' + row.map((cell, i) => (i === 0 ? `<th scope="row">${esc(cell)}</th>` : `<td${cls(i)}>${esc(cell)}</td>`)).join('') + '</tr>')
    .join('\n');
  return `<table>\n<caption>${esc(caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

// ---------------------------------------------------------------- numbers and dates

const formatters = new Map<number, Intl.NumberFormat>();

/** Fixed decimals with en-US thousands separators (fixed locale: the same bytes on every machine). */
function fixed(x: number, digits: number): string {
  let f = formatters.get(digits);
  if (!f) formatters.set(digits, (f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f.format(x);
}

/** A quantity: whole numbers from 100 up, one decimal from 10, two below; integers as they are. */
function num(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  return fixed(x, Number.isInteger(x) || a >= 100 ? 0 : a >= 10 ? 1 : 2);
}

/** A share 0..1 as a percentage with one decimal. */
function pct(share01: number): string {
  return Number.isFinite(share01) ? fixed(share01 * 100, 1) : 'n/a';
}

/** A change with an explicit sign (+ or the minus sign) and one decimal; zero has none. */
function signed(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const text = fixed(Math.abs(x), 1);
  if (/^[0.]+$/.test(text)) return text;
  return (x < 0 ? '\u2212' : '+') + text;
}

function share(part: number, whole: number): number {
  return whole > 0 ? part / whole : NaN;
}

function mean(xs: number[]): number {
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Chart values to 3 decimals: enough for any axis, and the SVG paths stay short. */
function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** ISO 8601 normalised to UTC (`2026-06-01T00:00:00.000Z`), or the text itself when it is not a date. */
function isoOrRaw(s: string): string {
  const t = Date.parse(s);
  return Number.isNaN(t) ? s : new Date(t).toISOString();
}

function dateTime(s: string): string {
  const iso = isoOrRaw(s);
  return iso.endsWith('Z') ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso;
}

// ---------------------------------------------------------------- style

const CSS = `
:root { color-scheme: light; }
body { font-family: ${FONT}; color: #1f2328; background: #fff; margin: 0; line-height: 1.45; }
main { max-width: 920px; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 0.6rem; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0; }
dl.settings dt { font-weight: 600; }
dl.settings dd { margin: 0; }
table { border-collapse: collapse; margin: 0.8rem 0 1.2rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #57606a; }
tbody th { font-weight: normal; }
.num { text-align: right; }
figure { margin: 1rem 0 1.5rem; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 0.9rem; color: #57606a; margin-top: 0.3rem; }
.pair { display: flex; flex-wrap: wrap; gap: 0 1rem; }
.pair figure { flex: 1 1 400px; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  figure, table, dl { break-inside: avoid; }
}
`;
