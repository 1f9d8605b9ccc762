/**
 * A small metrics registry rendered in the Prometheus text format (`GET /metrics`): counters and
 * gauges with optional labels. The dispatch loop and the API update it; nothing else reads it.
 */
type Labels = Record<string, string>;

interface Family {
  type: 'counter' | 'gauge';
  help: string;
  values: Map<string, { labels: Labels; value: number }>;
}

export class Metrics {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string): (by?: number, labels?: Labels) => void {
    const family = this.family(name, 'counter', help);
    return (by = 1, labels = {}) => this.update(family, labels, (v) => v + by);
  }

  gauge(name: string, help: string): (value: number, labels?: Labels) => void {
    const family = this.family(name, 'gauge', help);
    return (value, labels = {}) => this.update(family, labels, () => value);
  }

  /** The Prometheus text exposition (version 0.0.4). */
  render(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const { labels, value } of f.values.values()) lines.push(`${name}${formatLabels(labels)} ${Number.isFinite(value) ? value : 0}`);
    }
    return lines.join('\n') + '\n';
  }

  private family(name: string, type: Family['type'], help: string): Family {
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { type, help, values: new Map() }));
    return f;
  }

  private update(f: Family, labels: Labels, next: (v: number) => number): void {
    const key = formatLabels(labels);
    const entry = f.values.get(key) ?? { labels, value: 0 };
    entry.value = next(entry.value);
    f.values.set(key, entry);
  }
}

function formatLabels(labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k].replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}
