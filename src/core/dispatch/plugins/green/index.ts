import type { ScorePlugin } from '../../framework.ts';

/** Score: grid (non-renewable) energy, kWh; minimising it maximises the green share. Data moves use grid energy. */
export const greenScore: ScorePlugin = {
  name: 'green',
  unit: 'gridKWh',
  greenPerKWh: () => 0,
  gridPerKWh: () => 1,
  transfer: (gb, route) => gb * route.energyKWhPerGB,
  ofFigures: (f) => f.energyKWh - f.greenKWh,
};
