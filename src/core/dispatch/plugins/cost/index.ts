import type { ScorePlugin } from '../../framework.ts';

/** Score: money, yuan — renewable at its contract price, grid at the slot's price, data moves per GB. */
export const costScore: ScorePlugin = {
  name: 'cost',
  unit: 'yuan',
  greenPerKWh: (site) => site.renewable.priceYuanPerKWh,
  gridPerKWh: (_site, signals, slot) => signals.priceYuanPerKWh[slot],
  transfer: (gb, route) => gb * route.costYuanPerGB,
  ofFigures: (f) => f.costYuan,
};
