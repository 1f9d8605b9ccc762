import type { Pool, PowerPoint } from './types.ts';

/**
 * Power of one unit at `load` (0..1), linear between the curve's points.
 * Called by accounting and the dispatcher to price a unit of work.
 */
export function powerAtLoadW(curve: PowerPoint[], load: number): number {
  if (curve.length === 0) return 0;
  if (load <= curve[0].load) return curve[0].powerW;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1];
    const b = curve[i];
    if (load <= b.load) return a.powerW + ((b.powerW - a.powerW) * (load - a.load)) / (b.load - a.load);
  }
  return curve[curve.length - 1].powerW;
}

/** Facility power (IT × PUE) of one unit running a job at full load, kW. */
export function busyUnitFacilityKW(pool: Pool, pue: number): number {
  return (powerAtLoadW(pool.powerCurve, 1) * pue) / 1000;
}
