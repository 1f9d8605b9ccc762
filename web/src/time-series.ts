/**
 * Per-slot series on the energy view's time charts, as echarts options (no DOM, no echarts import: test/web/energy-chart.test.ts
 * checks them in Node). A slot's value is drawn over that slot, and times are UTC like everywhere else on the page.
 */

export type Point = [number, number | null];

/**
 * A per-slot series as the points of a line stepped at each point's end (`step: 'end'`): each value held from its
 * slot's start to the next point, and the last slot closed by a point at the window's end, so a slot's value is
 * drawn over that slot. (A null after a value ends the step at the next slot's start: the current slot's actual shows.)
 */
export function points(window: { startMs: number; slotMinutes: number }, values: readonly (number | null)[]): Point[] {
  const slotMs = window.slotMinutes * 60_000;
  const out: Point[] = values.map((v, i) => [window.startMs + i * slotMs, v]);
  if (values.length) out.push([window.startMs + values.length * slotMs, values[values.length - 1]]);
  return out;
}

/** A line of `points()`: stepped at each point's end, no symbols, gaps at nulls. */
export function slotLine(s: { name: string; data: Point[]; color: string; dashed?: boolean; area?: boolean }) {
  return {
    type: 'line' as const,
    name: s.name,
    data: s.data,
    showSymbol: false,
    step: 'end' as const,
    connectNulls: false,
    lineStyle: { color: s.color, type: s.dashed ? ('dashed' as const) : ('solid' as const), width: 2 },
    itemStyle: { color: s.color },
    areaStyle: s.area ? { color: s.color, opacity: 0.12 } : undefined,
  };
}

/** Time axes labelled in UTC (echarts uses the browser's time zone otherwise). */
export const UTC_TIME_AXIS = { useUTC: true, xAxis: { type: 'time' as const, axisLabel: { hideOverlap: true } } };

/**
 * The spans of slots where any of `marks` (per-slot fallback kinds, null for stored data) is set, as echarts mark-area
 * pairs: the energy view shades them so that values the service filled in from history stand apart.
 */
export function fallbackAreas(window: { startMs: number; slotMinutes: number }, marks: readonly (readonly (string | null)[])[]): [{ xAxis: number }, { xAxis: number }][] {
  const slotMs = window.slotMinutes * 60_000;
  const slots = Math.max(0, ...marks.map((m) => m.length));
  const areas: [{ xAxis: number }, { xAxis: number }][] = [];
  let from: number | null = null;
  for (let i = 0; i <= slots; i++) {
    const marked = i < slots && marks.some((m) => m[i] !== null && m[i] !== undefined);
    if (marked && from === null) from = i;
    if (!marked && from !== null) {
      areas.push([{ xAxis: window.startMs + from * slotMs }, { xAxis: window.startMs + i * slotMs }]);
      from = null;
    }
  }
  return areas;
}
