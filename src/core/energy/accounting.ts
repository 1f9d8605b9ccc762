/**
 * Energy accounting: a placement's energy, green energy, cost and carbon from a site's signals.
 * The same function prices a plan (with forecasts) and, in the simulator, what ran (with actuals).
 * The model is documented in docs/energy-model.md; keep the two in step.
 *
 * Per site and slot, the facility energy of all work there is E = Σ units × unitFacilityKW × hours run.
 * Renewable energy available in the slot is G = renewableKW × slot hours, used first:
 * green = min(E, G), shared among the jobs in proportion to their energy; the rest is grid energy.
 * A job's cost = green × renewable price + grid × slot price; carbon likewise.
 * Moving input data: energy = GB × Σ link kWh/GB (grid energy, at the origin's grid carbon in the
 * slot the transfer starts), cost = GB × Σ link yuan/GB.
 */
import type { Site, SiteSignals, TimeGrid } from '../model/types.ts';
import type { Route } from '../network/routes.ts';

/** Where and when a job runs, in the grid's slots, as the accounting needs it. */
export interface SlotUse {
  siteId: string;
  /** Slot indices the job runs in, ascending. */
  slots: number[];
  /** Facility energy in each of `slots`, kWh. */
  energyKWh: number[];
  transfer: { route: Route; gb: number; startSlot: number } | null;
}

export interface JobFigures {
  energyKWh: number;
  greenKWh: number;
  costYuan: number;
  carbonKg: number;
  transferKWh: number;
}

export interface Totals {
  energyKWh: number;
  greenKWh: number;
  costYuan: number;
  carbonKg: number;
}

/**
 * Prices every use at once (green energy is shared per site and slot, so jobs are not independent).
 * `signals` are the series to account with: forecasts for a plan, actuals for what ran.
 * `background` is work decided earlier (a plan's committed work): it takes renewables first and is
 * not priced, so that a plan's figures are what the plan adds.
 */
export function accountUses(
  grid: TimeGrid,
  sites: readonly Site[],
  signals: Record<string, SiteSignals>,
  uses: readonly SlotUse[],
  background: readonly SlotUse[] = [],
): JobFigures[] {
  const slotHours = grid.slotMinutes / 60;
  const siteLoad = new Map<string, Float64Array>(sites.map((s) => [s.id, new Float64Array(grid.slots)]));
  // Renewables left after the background (work committed before this plan, which has first claim).
  const renewableKWh = new Map<string, Float64Array>(sites.map((s) => [s.id, Float64Array.from(signals[s.id].renewableKW, (kw) => Math.max(0, kw) * slotHours)]));
  for (const use of background) {
    const left = renewableKWh.get(use.siteId)!;
    use.slots.forEach((slot, i) => (left[slot] = Math.max(0, left[slot] - use.energyKWh[i])));
  }
  for (const use of uses) {
    const load = siteLoad.get(use.siteId)!;
    use.slots.forEach((slot, i) => (load[slot] += use.energyKWh[i]));
  }
  const siteById = new Map(sites.map((s) => [s.id, s]));
  return uses.map((use) => {
    const site = siteById.get(use.siteId)!;
    const sig = signals[use.siteId];
    const load = siteLoad.get(use.siteId)!;
    const left = renewableKWh.get(use.siteId)!;
    const figures: JobFigures = { energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0, transferKWh: 0 };
    use.slots.forEach((slot, i) => {
      const energy = use.energyKWh[i];
      const available = left[slot];
      const greenShare = load[slot] > 0 ? Math.min(1, available / load[slot]) : 0;
      const green = energy * greenShare;
      const gridKWh = energy - green;
      figures.energyKWh += energy;
      figures.greenKWh += green;
      figures.costYuan += green * site.renewable.priceYuanPerKWh + gridKWh * sig.priceYuanPerKWh[slot];
      figures.carbonKg += (green * site.renewable.carbonGPerKWh + gridKWh * sig.carbonGPerKWh[slot]) / 1000;
    });
    if (use.transfer) {
      const { route, gb, startSlot } = use.transfer;
      const origin = signals[route.path[0]];
      const transferKWh = gb * route.energyKWhPerGB;
      figures.transferKWh = transferKWh;
      figures.energyKWh += transferKWh;
      figures.costYuan += gb * route.costYuanPerGB;
      figures.carbonKg += (transferKWh * origin.carbonGPerKWh[clampSlot(startSlot, grid)]) / 1000;
    }
    return figures;
  });
}

/** The energy `marginalCarbonGPerKWh` prices in each slot: one watt-hour, small against any unit of work. */
export const MARGINAL_PROBE_KWH = 0.001;

/**
 * Marginal carbon intensity of a site per slot, gCO2/kWh: the carbon of one watt-hour more drawn there, on top of
 * `loadKWh` (the facility energy of the work already there in each slot), priced by `accountUses` with that load as
 * background work that takes the renewables first. So it is the renewables' carbon (`site.renewable.carbonGPerKWh`)
 * in slots where the site's renewable energy exceeds its load, the grid's `carbonGPerKWh` where it does not, and a
 * blend in a slot where the renewables run out within the watt-hour. NaN in slots whose signals are NaN.
 * Called by the service's Carbon Aware SDK ratings (src/service/carbon-aware.ts).
 */
export function marginalCarbonGPerKWh(grid: TimeGrid, site: Site, signals: SiteSignals, loadKWh: ArrayLike<number>): number[] {
  const slots = Array.from({ length: grid.slots }, (_, t) => t);
  const probes: SlotUse[] = slots.map((t) => ({ siteId: site.id, slots: [t], energyKWh: [MARGINAL_PROBE_KWH], transfer: null }));
  const load: SlotUse = { siteId: site.id, slots, energyKWh: slots.map((t) => loadKWh[t]), transfer: null };
  return accountUses(grid, [site], { [site.id]: signals }, probes, [load]).map((f) => (f.carbonKg * 1000) / MARGINAL_PROBE_KWH);
}

/** Slot index clamped to the grid (a transfer may start before the grid's first slot). */
export function clampSlot(slot: number, grid: TimeGrid): number {
  return Math.min(grid.slots - 1, Math.max(0, slot));
}

export function sumFigures(figures: readonly JobFigures[]): Totals {
  const totals: Totals = { energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0 };
  for (const f of figures) {
    totals.energyKWh += f.energyKWh;
    totals.greenKWh += f.greenKWh;
    totals.costYuan += f.costYuan;
    totals.carbonKg += f.carbonKg;
  }
  return totals;
}
