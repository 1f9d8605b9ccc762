/**
 * echarts with only the pieces the dashboard draws (a smaller bundle): the China outline as a geo
 * component with sites (scatter) and links (lines), and line/bar charts over time. Charts resize with
 * their box. Canvas rendering; every chart has a table or text beside it for keyboards and screen readers.
 */
import * as echarts from 'echarts/core';
import { BarChart, LineChart, LinesChart, ScatterChart } from 'echarts/charts';
import { GeoComponent, GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import china from './china.geo.json';

echarts.use([BarChart, LineChart, LinesChart, ScatterChart, GeoComponent, GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TooltipComponent, CanvasRenderer]);
// Not under the name 'china': echarts adds insets of its own to a map of that name; this draws only the outline shipped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
echarts.registerMap('china-outline', china as any);

export type Chart = echarts.ECharts;
export type Option = Parameters<echarts.ECharts['setOption']>[0];

/** A chart in `el` that follows the element's size; `dispose()` when the view goes. */
export function chart(el: HTMLElement): { chart: Chart; dispose: () => void } {
  const instance = echarts.init(el, null, { renderer: 'canvas' });
  const observer = new ResizeObserver(() => instance.resize());
  observer.observe(el);
  return {
    chart: instance,
    dispose: () => {
      observer.disconnect();
      instance.dispose();
    },
  };
}

export const COLORS = { green: '#2e7d32', baseline: '#9e9e9e', demand: '#ef6c00', idle: '#8d6e63', price: '#6a1b9a', carbon: '#37474f', ours: '#00897b' };
