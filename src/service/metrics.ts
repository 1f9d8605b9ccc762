/**
 * A small metrics registry rendered in the Prometheus text format (`GET /metrics`): counters, gauges and histograms
 * with optional labels. The dispatch loop, the leadership, the live events and the API update it; nothing else reads
 * it. Names follow Prometheus's conventions (base units in the name, `_total` on counters; `promtool check metrics`
 * accepts the output: test/service/prometheus.test.ts); docs/metrics.md lists every series.
 */
type Labels = Record<string, string>;

interface Series {
  labels: Labels;
  value: number;
  /** Histograms: cumulative counts per bucket (the `le` bounds of the family) and the sum of observations. */
  buckets?: number[];
  sum?: number;
}

interface Family {
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  /** Histograms: the upper bounds of the buckets, ascending (+Inf is implied). */
  bounds: readonly number[];
  values: Map<string, Series>;
}

/** Bucket bounds for durations of a loop tick or a dispatch cycle, seconds (a tick is due every second by default). */
/** Joules in a kWh: the metrics count energy in joules, Prometheus's base unit. */
export const JOULES_PER_KWH = 3_600_000;

export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export class Metrics {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string): (by?: number, labels?: Labels) => void {
    const family = this.family(name, 'counter', help);
    return (by = 1, labels = {}) => this.update(family, labels, (s) => (s.value += by));
  }

  /** A gauge's setter; `null` drops the series (there is no value now, as the green share of a site with no load). */
  gauge(name: string, help: string): (value: number | null, labels?: Labels) => void {
    const family = this.family(name, 'gauge', help);
    return (value, labels = {}) => {
      if (value === null) family.values.delete(formatLabels(labels));
      else this.update(family, labels, (s) => (s.value = value));
    };
  }

  /** A histogram's observer: each observation counts in every bucket whose bound it does not exceed. */
  histogram(name: string, help: string, bounds: readonly number[]): (value: number, labels?: Labels) => void {
    const family = this.family(name, 'histogram', help, bounds);
    return (value, labels = {}) =>
      this.update(family, labels, (s) => {
        s.buckets ??= family.bounds.map(() => 0);
        family.bounds.forEach((bound, i) => {
          if (value <= bound) s.buckets![i]++;
        });
        s.sum = (s.sum ?? 0) + value;
        s.value++;
      });
  }

  /** The Prometheus text exposition (version 0.0.4). */
  render(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const s of f.values.values()) {
        if (f.type !== 'histogram') {
          lines.push(`${name}${formatLabels(s.labels)} ${number(s.value)}`);
          continue;
        }
        f.bounds.forEach((bound, i) => lines.push(`${name}_bucket${formatLabels({ ...s.labels, le: String(bound) })} ${s.buckets?.[i] ?? 0}`));
        lines.push(`${name}_bucket${formatLabels({ ...s.labels, le: '+Inf' })} ${s.value}`, `${name}_sum${formatLabels(s.labels)} ${number(s.sum ?? 0)}`, `${name}_count${formatLabels(s.labels)} ${s.value}`);
      }
    }
    return lines.join('\n') + '\n';
  }

  private family(name: string, type: Family['type'], help: string, bounds: readonly number[] = []): Family {
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { type, help, bounds: [...bounds].sort((a, b) => a - b), values: new Map() }));
    if (f.type !== type) throw new Error(`metric ${name} is a ${f.type}, not a ${type}`);
    return f;
  }

  private update(f: Family, labels: Labels, change: (s: Series) => void): void {
    const key = formatLabels(labels);
    const series = f.values.get(key) ?? { labels, value: 0 };
    change(series);
    f.values.set(key, series);
  }
}

function number(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

function formatLabels(labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k].replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}
