/**
 * Savings view (`#/savings`): cost, carbon and green share of the work run, against the carbon-agnostic
 * baseline (each job at its origin as soon as possible), bucket by bucket and in total.
 * Data: `GET /v1/dashboard/savings?bucket=hour|day`.
 */
import { api } from '../api.ts';
import { chart, COLORS, type Option } from '../charts.ts';
import { amount, count, field, fill, h, num, pct, select, table, utc } from '../dom.ts';
import type { Savings } from '../types.ts';
import { router, type View } from '../view.ts';

const share = (green: number, energy: number) => (energy > 0 ? green / energy : null);

/** `2026-06-01` for a day bucket, `06-01 03:00` for an hour (UTC). */
const bucketLabel = (bucket: 'hour' | 'day', startMs: number) => {
  const iso = new Date(startMs).toISOString();
  return bucket === 'day' ? iso.slice(0, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
};

function pair(s: Savings, unit: string, ours: (b: Savings['buckets'][number]) => number | null, baseline: (b: Savings['buckets'][number]) => number | null, scale = 1): Option {
  const bar = (name: string, color: string, value: (b: Savings['buckets'][number]) => number | null) => ({
    type: 'bar',
    name,
    itemStyle: { color },
    data: s.buckets.map((b) => {
      const v = value(b);
      return v === null ? null : v * scale;
    }),
  });
  return {
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${amount(v)} ${unit}` : '–') },
    legend: { top: 0 },
    grid: { left: 56, right: 16, top: 56, bottom: 32 },
    xAxis: { type: 'category', data: s.buckets.map((b) => bucketLabel(s.bucket, b.startMs)), axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', name: unit, nameTextStyle: { align: 'left' } },
    series: [bar('Kumul', COLORS.ours, ours), bar('Baseline', COLORS.baseline, baseline)],
  };
}

export function savingsView(root: HTMLElement): View {
  const bucket = select('bucket', [
    ['hour', 'Hour'],
    ['day', 'Day'],
  ], 'day');
  // Not a live region: rebuilt at every refresh, it would be read out again each time.
  const totals = h('div', null, 'Loading…');
  const boxes = ['Cost per bucket, yuan: Kumul against the baseline', 'Carbon per bucket, kg CO2: Kumul against the baseline', 'Green share per bucket, %: Kumul against the baseline'].map((label) =>
    h('div', { class: 'chart', role: 'img', 'aria-label': label }),
  );
  const tableBox = h('div');
  fill(
    root,
    h('h1', null, 'Savings'),
    h('p', { class: 'muted' }, 'What the dispatched work cost and emitted, against the carbon-agnostic baseline: each job at its origin, as early as possible.'),
    h('form', { class: 'filters', onsubmit: (e: Event) => e.preventDefault() }, field('Bucket', bucket)),
    totals,
    h('h2', null, 'Cost'),
    boxes[0],
    h('h2', null, 'Carbon'),
    boxes[1],
    h('h2', null, 'Green share'),
    boxes[2],
    tableBox,
  );
  const charts = boxes.map((b) => chart(b));
  const view: View = {
    async refresh() {
      const s = await api.savings(bucket.value === 'day' ? 'day' : 'hour');
      const t = s.totals;
      fill(
        totals,
        h('p', { class: 'muted' }, `${count(t.runs, 'finished run')} compared${t.runsWithoutBaseline ? `; ${t.runsWithoutBaseline} without a recorded baseline left out` : ''}.`),
        h(
          'dl',
          { class: 'cards' },
          h('div', null, h('dt', null, 'Cost saved'), h('dd', null, t.costSavedPct === null ? '–' : `${num(t.costSavedPct, 1)} %`), h('small', null, `${amount(t.costYuan)} against ${amount(t.baseline.costYuan)} yuan`)),
          h('div', null, h('dt', null, 'Carbon saved'), h('dd', null, t.carbonSavedPct === null ? '–' : `${num(t.carbonSavedPct, 1)} %`), h('small', null, `${amount(t.carbonKg)} against ${amount(t.baseline.carbonKg)} kg CO2`)),
          h('div', null, h('dt', null, 'Green share'), h('dd', null, pct(t.greenShare)), h('small', null, `baseline ${pct(t.baselineGreenShare)}`)),
          h('div', null, h('dt', null, 'Energy'), h('dd', null, `${amount(t.energyKWh)} kWh`), h('small', null, `baseline ${amount(t.baseline.energyKWh)} kWh`)),
        ),
      );
      // Merged (series replaced), so a live refresh keeps the series the user switched off in the legend.
      charts[0].chart.setOption(pair(s, 'yuan', (b) => b.costYuan, (b) => b.baseline.costYuan), { replaceMerge: ['series'] });
      charts[1].chart.setOption(pair(s, 'kg CO2', (b) => b.carbonKg, (b) => b.baseline.carbonKg), { replaceMerge: ['series'] });
      charts[2].chart.setOption(pair(s, '%', (b) => share(b.greenKWh, b.energyKWh), (b) => share(b.baseline.greenKWh, b.baseline.energyKWh), 100), { replaceMerge: ['series'] });
      const recent = s.buckets.slice(-48).reverse();
      fill(
        tableBox,
        table(
          `Latest ${count(recent.length, 'bucket')}`,
          ['Start', 'Energy kWh', 'Cost yuan', 'Baseline cost yuan', 'Carbon kg', 'Baseline carbon kg', 'Green share', 'Baseline green share'],
          recent.map((b) => [utc(b.startMs), amount(b.energyKWh), amount(b.costYuan), amount(b.baseline.costYuan), amount(b.carbonKg), amount(b.baseline.carbonKg), pct(share(b.greenKWh, b.energyKWh)), pct(share(b.baseline.greenKWh, b.baseline.energyKWh))]),
          { numeric: [1, 2, 3, 4, 5, 6, 7], empty: 'No work has run yet.' },
        ),
      );
    },
    dispose: () => charts.forEach((c) => c.dispose()),
  };
  bucket.addEventListener('change', () => router.refresh());
  return view;
}
