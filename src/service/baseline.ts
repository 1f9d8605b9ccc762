/**
 * The carbon-agnostic baseline of a finished run: what the same work would have used under the policy `asap-origin`
 * (at the job's origin, on a pool of its class, as soon as it was released), priced with the ACTUAL signals of the
 * slots it would have run in. The dispatch loop's `meter()` computes it for each run it records and stores it with
 * the metering row; the dashboard's savings view (src/service/dashboard.ts) compares the two.
 *
 * Approximations (docs/api.md states them): the baseline run starts at max(release, submission) plus the work of the
 * job's runs metered before it (so a job's baseline runs back to back), not rounded to a slot; the origin always has room (its capacity and the
 * other work there are ignored), and its renewables are shared with nothing else; there is no transfer (the input is
 * at the origin).
 */
import { accountUses } from '../core/energy/accounting.ts';
import { busyUnitFacilityKW } from '../core/model/power.ts';
import type { Job, Scenario } from '../core/model/types.ts';
import type { MeteringFigures } from '../store/port.ts';
import { fallbacksOf } from './signal-overlay.ts';

export interface BaselineRun {
  job: Job;
  /** When the store received the job: the baseline cannot start before it. */
  submittedMs: number;
  /** Length of the job's runs metered before this one, ms: the baseline does that work first. */
  earlierWorkMs: number;
  /** The finished run's length, ms. */
  durationMs: number;
}

/**
 * The run's baseline figures, or null when asap-origin could not run the job (no pool of its class with enough units
 * at the origin, or the origin not among its allowed sites) or the scenario has no signals for that time.
 */
export function asapOriginBaseline(run: BaselineRun, slotMinutes: number, scenarioWindow: (startMs: number, slots: number) => Scenario): MeteringFigures | null {
  const { job } = run;
  if (job.allowedSites !== null && !job.allowedSites.includes(job.origin)) return null;
  const startMs = Math.max(job.releaseMs, run.submittedMs) + run.earlierWorkMs;
  const endMs = startMs + run.durationMs;
  const slotMs = slotMinutes * 60_000;
  const firstSlot = Math.floor(startMs / slotMs);
  const slots = Math.max(1, Math.ceil(endMs / slotMs) - firstSlot);
  let scenario: Scenario;
  try {
    scenario = scenarioWindow(firstSlot * slotMs, slots);
  } catch {
    return null; // signals that do not reach back (or forward) to the baseline's slots
  }
  const origin = scenario.network.sites.find((s) => s.id === job.origin);
  const pool = origin?.pools.find((p) => p.class === job.poolClass && p.units >= job.units);
  if (!origin || !pool) return null;
  // The service's windows never fail for lack of data (they fall back on history); with no data at all, no baseline.
  if (fallbacksOf(scenario).some((f) => f.siteId === origin.id && f.series === 'actual' && f.kind === 'none')) return null;
  const kW = job.units * busyUnitFacilityKW(pool, origin.pue);
  const used: number[] = [];
  const energyKWh: number[] = [];
  for (let i = 0; i < slots; i++) {
    const overlapMs = Math.min(endMs, (firstSlot + i + 1) * slotMs) - Math.max(startMs, (firstSlot + i) * slotMs);
    if (overlapMs <= 0) continue;
    used.push(i);
    energyKWh.push((kW * overlapMs) / 3_600_000);
  }
  const [figures] = accountUses(scenario.grid, [origin], { [origin.id]: scenario.signals[origin.id].actual }, [{ siteId: origin.id, slots: used, energyKWh, transfer: null }]);
  return { energyKWh: figures.energyKWh, greenKWh: figures.greenKWh, costYuan: figures.costYuan, carbonKg: figures.carbonKg };
}
