import type { ScorePlugin } from '../../framework.ts';

/** Score: emissions, kg CO2 — renewable at its own intensity, grid at the slot's intensity, data moves at the origin's. */
export const carbonScore: ScorePlugin = {
  name: 'carbon',
  unit: 'kgCO2',
  greenPerKWh: (site) => site.renewable.carbonGPerKWh / 1000,
  gridPerKWh: (_site, signals, slot) => signals.carbonGPerKWh[slot] / 1000,
  transfer: (gb, route, origin, slot) => (gb * route.energyKWhPerGB * origin.carbonGPerKWh[slot]) / 1000,
  ofFigures: (f) => f.carbonKg,
};
