/**
 * The dispatcher's plugin points (after the Kubernetes scheduling framework):
 * - a Filter says whether a job may run at a site at all, and if not, why;
 * - a Score prices work at a site: per kWh of renewable energy, per kWh of grid energy in each slot,
 *   and per move of the job's input data. A profile weights the scores into one objective.
 * Plugins register by name; src/core/dispatch/plugins/index.ts holds the built-in registry.
 */
import type { Job, Pool, Site, SiteSignals, TimeGrid } from '../model/types.ts';
import type { Route } from '../network/routes.ts';
import type { JobFigures } from '../energy/accounting.ts';

/** What a filter sees of a site in one cycle. */
export interface SiteView {
  site: Site;
  /** The series the plan uses (forecasts). */
  signals: SiteSignals;
  /** The site's pool of the job's class, if any. */
  pool: Pool | undefined;
  /** Route of the job's input from its origin; undefined when unreachable. */
  route: Route | undefined;
  /** Seconds to move the job's input here (0 at the origin). */
  transferS: number;
  /** When the job could start here: release (or now) plus the transfer. */
  readyMs: number;
  /** When its window here ends: its deadline, or the horizon's end if that comes first. */
  endMs: number;
  grid: TimeGrid;
}

/** A filter's verdict; `code` is a short kind of reason that unplaced summaries count by, `reason` the detail. */
export type FilterStatus = { ok: true } | { ok: false; code: string; reason: string };

/** The one "passes" status filters return (no allocation per call: filters run for every job and site). */
export const PASS: FilterStatus = Object.freeze({ ok: true });

export interface FilterPlugin {
  name: string;
  filter(job: Job, view: SiteView): FilterStatus;
}

export interface ScorePlugin {
  name: string;
  /** Unit of the plugin's value, e.g. 'yuan'. */
  unit: string;
  /** Value of one kWh of renewable facility energy at the site. */
  greenPerKWh(site: Site, signals: SiteSignals): number;
  /** Value of one kWh of grid facility energy at the site in `slot`. */
  gridPerKWh(site: Site, signals: SiteSignals, slot: number): number;
  /** Value of moving `gb` of input along `route`, starting in `slot` (origin's signals given). */
  transfer(gb: number, route: Route, originSignals: SiteSignals, slot: number): number;
  /** The plugin's value of a job's accounted figures (the same quantity, from accounting). */
  ofFigures(figures: JobFigures): number;
}

/** Which filters run and how scores are weighted: a named policy's configuration. */
export interface Profile {
  name: string;
  filters: readonly string[];
  /** Score plugin name → weight (objective units per plugin unit). */
  scores: Readonly<Record<string, number>>;
  /** `optimize`: cheapest by the weighted scores; `asap`: earliest start. */
  strategy: 'optimize' | 'asap';
  /** `origin`: only the job's origin site may run it (the carbon-agnostic baseline). */
  sites: 'any' | 'origin';
}

export class Registry {
  private readonly filters = new Map<string, FilterPlugin>();
  private readonly scores = new Map<string, ScorePlugin>();

  addFilter(plugin: FilterPlugin): this {
    this.filters.set(plugin.name, plugin);
    return this;
  }

  addScore(plugin: ScorePlugin): this {
    this.scores.set(plugin.name, plugin);
    return this;
  }

  filter(name: string): FilterPlugin {
    const plugin = this.filters.get(name);
    if (!plugin) throw new Error(`no filter plugin '${name}' (known: ${[...this.filters.keys()].join(', ')})`);
    return plugin;
  }

  score(name: string): ScorePlugin {
    const plugin = this.scores.get(name);
    if (!plugin) throw new Error(`no score plugin '${name}' (known: ${[...this.scores.keys()].join(', ')})`);
    return plugin;
  }

  scoreNames(): string[] {
    return [...this.scores.keys()];
  }
}
