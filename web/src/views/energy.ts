/**
 * Energy view (`#/energy/<site>`): one site's renewable supply against its demand and idle draw over time, its price and
 * carbon series, forecast against actual, with a line at now. Data: `GET /v1/dashboard/energy/:siteId`
 * (the site list from `GET /v1/dashboard/network`).
 */
import { api } from '../api.ts';
import { chart, COLORS, type Option } from '../charts.ts';
import { field, fill, h, num, select, table, utc } from '../dom.ts';
import type { ForecastActual, SiteEnergy } from '../types.ts';
import { fallbackAreas, points, slotLine, UTC_TIME_AXIS } from '../time-series.ts';
import { router, serviceClock, type View } from '../view.ts';

/** The value in the slot that holds `nowMs`, or null. */
function atNow(energy: SiteEnergy, values: readonly (number | null)[]): number | null {
  const i = Math.floor((energy.nowMs - energy.startMs) / (energy.slotMinutes * 60_000));
  return i >= 0 && i < values.length ? values[i] : null;
}

/** A time chart of per-slot series with a line at now, the slots filled in by the service's fallback (`fallback`) shaded. */
function timeChart(energy: SiteEnergy, unit: string, series: Parameters<typeof slotLine>[0][], fallback: ForecastActual[] = []): Option {
  const areas = fallbackAreas(energy, fallback.flatMap((fa) => [fa.forecastFallback, fa.actualFallback]));
  return {
    animation: false,
    ...UTC_TIME_AXIS,
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${num(v, v < 10 ? 3 : 0)} ${unit}` : '–') },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 56, right: 16, top: 56, bottom: 32 },
    yAxis: { type: 'value', name: unit, nameTextStyle: { align: 'left' } },
    series: series.map((s, i) => ({
      ...slotLine(s),
      markLine:
        i === 0
          ? { symbol: 'none', silent: true, label: { formatter: 'now' }, lineStyle: { color: '#d32f2f', type: 'solid' }, data: [{ xAxis: energy.nowMs }] }
          : undefined,
      markArea:
        i === 0 && areas.length > 0
          ? { silent: true, label: { show: true, formatter: 'fallback', position: 'insideTop', color: '#555' }, itemStyle: { color: '#9e9e9e', opacity: 0.15 }, data: areas }
          : undefined,
    })),
  };
}

/** The fallbacks of slot `i` in words for the table (`renewable forecast: week-ago; …`), or `–`. */
function slotFallbacks(e: SiteEnergy, i: number): string {
  const named: [string, ForecastActual][] = [['renewable', e.renewableKW], ['price', e.priceYuanPerKWh], ['carbon', e.carbonGPerKWh]];
  const parts = named.flatMap(([name, fa]) => [
    ...(fa.forecastFallback[i] ? [`${name} forecast: ${fa.forecastFallback[i]}`] : []),
    ...(fa.actualFallback[i] ? [`${name} actual: ${fa.actualFallback[i]}`] : []),
  ]);
  return parts.length ? parts.join('; ') : '–';
}

export function energyView(root: HTMLElement, siteId: string | undefined): View {
  const siteSelect = select('site', []);
  const windowSelect = select('window', [
    ['24,48', '24 h back, 48 h ahead'],
    ['72,24', '72 h back, 24 h ahead'],
    ['168,48', '7 days back, 48 h ahead'],
  ], '24,48');
  const heading = h('h1', null, 'Energy');
  // Not a live region: it changes with the service's clock at every refresh.
  const summary = h('p', { class: 'muted' }, 'Loading…');
  const boxes = [0, 1, 2].map((i) => h('div', { class: 'chart', role: 'img', 'aria-label': ['Renewable supply, demand and idle power, kW', 'Grid price, yuan per kWh', 'Grid carbon intensity, gCO2 per kWh'][i] }));
  const now = h('div');
  const notes = h('div', { class: 'signal-notes' });
  const perSlot = h('div');
  const form = h('form', { class: 'filters', onsubmit: (e: Event) => e.preventDefault() }, field('Site', siteSelect), field('Time window', windowSelect));
  fill(
    root,
    heading,
    form,
    summary,
    now,
    notes,
    h('h2', null, 'Renewable supply, demand and idle power'),
    boxes[0],
    h('h2', null, 'Price'),
    boxes[1],
    h('h2', null, 'Carbon intensity'),
    boxes[2],
    h('details', null, h('summary', null, 'The figures per slot (a table)'), perSlot),
  );
  const charts = boxes.map((b) => chart(b));
  let current = siteId;
  siteSelect.addEventListener('change', () => {
    location.hash = `#/energy/${encodeURIComponent(siteSelect.value)}`;
  });
  windowSelect.addEventListener('change', () => router.refresh());

  const view: View = {
    async refresh() {
      const net = await api.network();
      serviceClock.nowMs = net.nowMs;
      if (siteSelect.options.length !== net.sites.length) {
        fill(siteSelect, net.sites.map((s) => h('option', { value: s.id }, s.name)));
      }
      if (!current || !net.sites.some((s) => s.id === current)) current = net.sites[0]?.id;
      if (!current) {
        summary.textContent = 'No sites.';
        return;
      }
      siteSelect.value = current;
      const name = net.sites.find((s) => s.id === current)?.name ?? current;
      heading.textContent = `Energy at ${name}`;
      const [back, ahead] = windowSelect.value.split(',').map(Number);
      const e = await api.energy(current, back, ahead);
      summary.textContent = `${e.slots} slots of ${e.slotMinutes} min from ${utc(e.startMs)} · now ${utc(e.nowMs)} · solid: actual, dashed: forecast${e.signalNotes.length ? ' · shaded: filled in by the fallback' : ''}`;
      fill(
        notes,
        e.signalNotes.length
          ? [h('p', null, 'No data stored for some slots: the service filled them in from history (docs/service.md, "Live signals"):'), h('ul', null, ...e.signalNotes.map((n) => h('li', null, n)))]
          : [],
      );
      const nowOf = (fa: ForecastActual) => atNow(e, fa.actual) ?? atNow(e, fa.forecast);
      fill(
        now,
        h(
          'dl',
          { class: 'cards' },
          h('div', null, h('dt', null, 'Renewable now'), h('dd', null, `${num(nowOf(e.renewableKW), 0)} kW`)),
          h('div', null, h('dt', null, 'Demand now'), h('dd', null, `${num(atNow(e, e.demandKW), 0)} kW`)),
          h('div', null, h('dt', null, `Idle now (${e.powerPolicy === 'sleep' ? 'idle nodes asleep' : 'every node on'})`), h('dd', null, `${num(atNow(e, e.idleKW), 0)} kW`)),
          h('div', null, h('dt', null, 'Price now'), h('dd', null, `${num(nowOf(e.priceYuanPerKWh), 3)} yuan/kWh`)),
          h('div', null, h('dt', null, 'Carbon now'), h('dd', null, `${num(nowOf(e.carbonGPerKWh), 0)} gCO2/kWh`)),
        ),
      );
      const slotMs = e.slotMinutes * 60_000;
      fill(
        perSlot,
        table(
          'Per slot (start, UTC)',
          ['Start', 'Renewable actual kW', 'Renewable forecast kW', 'Demand kW', 'Idle kW', 'Price actual yuan/kWh', 'Price forecast yuan/kWh', 'Carbon actual gCO2/kWh', 'Carbon forecast gCO2/kWh', 'Filled in by the fallback'],
          e.demandKW.map((demand, i) => [
            utc(e.startMs + i * slotMs),
            num(e.renewableKW.actual[i], 0),
            num(e.renewableKW.forecast[i], 0),
            num(demand, 0),
            num(e.idleKW[i], 0),
            num(e.priceYuanPerKWh.actual[i], 3),
            num(e.priceYuanPerKWh.forecast[i], 3),
            num(e.carbonGPerKWh.actual[i], 0),
            num(e.carbonGPerKWh.forecast[i], 0),
            slotFallbacks(e, i),
          ]),
          { numeric: [1, 2, 3, 4, 5, 6, 7, 8] },
        ),
      );
      // Merged (series replaced), so a live refresh keeps the series the user switched off in the legend.
      charts[0].chart.setOption(
        timeChart(e, 'kW', [
          { name: 'Renewable actual', data: points(e, e.renewableKW.actual), color: COLORS.green, area: true },
          { name: 'Renewable forecast', data: points(e, e.renewableKW.forecast), color: COLORS.green, dashed: true },
          { name: 'Demand', data: points(e, e.demandKW), color: COLORS.demand },
          { name: 'Idle (operator)', data: points(e, e.idleKW), color: COLORS.idle },
        ], [e.renewableKW]),
        { replaceMerge: ['series'] },
      );
      charts[1].chart.setOption(
        timeChart(e, 'yuan/kWh', [
          { name: 'Price actual', data: points(e, e.priceYuanPerKWh.actual), color: COLORS.price },
          { name: 'Price forecast', data: points(e, e.priceYuanPerKWh.forecast), color: COLORS.price, dashed: true },
        ], [e.priceYuanPerKWh]),
        { replaceMerge: ['series'] },
      );
      charts[2].chart.setOption(
        timeChart(e, 'gCO2/kWh', [
          { name: 'Carbon actual', data: points(e, e.carbonGPerKWh.actual), color: COLORS.carbon },
          { name: 'Carbon forecast', data: points(e, e.carbonGPerKWh.forecast), color: COLORS.carbon, dashed: true },
        ], [e.carbonGPerKWh]),
        { replaceMerge: ['series'] },
      );
    },
    dispose: () => charts.forEach((c) => c.dispose()),
  };
  return view;
}
