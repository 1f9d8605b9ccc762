/**
 * Forecast smoothing: a decision rule for forecasts whose error is independent from slot to slot (the
 * `actual-plus-noise` model of scenarios and of `kumul simulate --forecast-error`). Scored slot by slot, such a
 * forecast sends a job to the slot the noise made lowest rather than to the one that is: the lowest of a dozen
 * noisy values is mostly noise. The grid itself changes smoothly from one half-hour to the next, so a weighted mean
 * of the forecast around each slot keeps the grid's shape and averages the noise out.
 *
 * The simulator (src/sim/engine.ts) and the service's dispatch loop (src/service/loop.ts) call `forecastWindow` to
 * cut each cycle's forecast signals; with a half-width of 0 it only cuts them. docs/temporal-shifting.md ("Noisy
 * forecasts") measures the rule and how its width was chosen.
 */
import type { SiteSignals } from '../model/types.ts';

/**
 * Half-width of the smoothing, in minutes, per % of forecast error (σ as % of the series' mean): 60 min at 5 %,
 * 120 min at 10 %. `kumul simulate --forecast-error X` smooths this much unless told otherwise; the measurement that
 * chose it is in docs/temporal-shifting.md.
 */
export const SMOOTHING_MINUTES_PER_ERROR_PCT = 12;

/** Half-width in whole slots of a smoothing of `halfWidthMinutes` on slots of `slotMinutes` (nearest; 0: none). */
export function smoothingSlots(halfWidthMinutes: number, slotMinutes: number): number {
  return Math.max(0, Math.round(halfWidthMinutes / slotMinutes));
}

/**
 * Slots [from, from + count) of every site's forecast signals, with carbon intensity and renewable power each
 * replaced by its triangular weighted mean over the `halfWidthSlots` slots on either side (weights k + 1 − |d|; the
 * slots of `signals` outside the window count too, so give some around it; past its ends the weights that remain
 * are used). Prices are published tariffs: they are cut, never smoothed.
 */
export function forecastWindow(signals: Readonly<Record<string, SiteSignals>>, from: number, count: number, halfWidthSlots: number): Record<string, SiteSignals> {
  const out: Record<string, SiteSignals> = {};
  for (const [id, s] of Object.entries(signals)) {
    out[id] = {
      priceYuanPerKWh: s.priceYuanPerKWh.slice(from, from + count),
      carbonGPerKWh: triangularMeans(s.carbonGPerKWh, from, count, halfWidthSlots),
      renewableKW: triangularMeans(s.renewableKW, from, count, halfWidthSlots),
    };
  }
  return out;
}

/** The triangular weighted means of `values` at slots [from, from + count), over the slots that exist. */
export function triangularMeans(values: readonly number[], from: number, count: number, halfWidthSlots: number): number[] {
  if (halfWidthSlots <= 0) return values.slice(from, from + count);
  const end = Math.min(values.length, from + count);
  const means: number[] = [];
  for (let i = from; i < end; i++) {
    let sum = 0;
    let weights = 0;
    for (let j = Math.max(0, i - halfWidthSlots); j <= Math.min(values.length - 1, i + halfWidthSlots); j++) {
      const weight = halfWidthSlots + 1 - Math.abs(j - i);
      sum += weight * values[j];
      weights += weight;
    }
    means.push(sum / weights);
  }
  return means;
}
