/** The short human summary `kumul plan` prints on stdout. */
import type { Scenario } from '../core/model/types.ts';
import type { Plan } from '../core/dispatch/plan.ts';
import type { Comparison } from './plan-jobs.ts';

export interface SummaryInput {
  scenario: Scenario;
  plan: Plan;
  comparison: Comparison;
  seconds: number;
  out: string;
}

const n0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const n1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

export function formatPlanSummary({ scenario, plan, comparison, seconds, out }: SummaryInput): string {
  const { totals, bound } = plan;
  const lines = [
    `${scenario.id}: ${totals.jobsPlaced + totals.jobsUnplaced} jobs, ${plan.slots} slots of ${plan.slotMinutes} min from ${plan.start}; policy ${plan.policy}, objective ${plan.objective}`,
    `placed ${totals.jobsPlaced}, unplaced ${totals.jobsUnplaced}${totals.jobsUnplaced > 0 ? ` (reasons in ${out}: unplaced[])` : ''}`,
    `energy ${n0.format(totals.energyKWh)} kWh (green ${pct(totals.greenKWh, totals.energyKWh)}), cost ${n0.format(totals.costYuan)} yuan, carbon ${n0.format(totals.carbonKg)} kg`,
  ];
  if (totals.idle) {
    const idle = totals.idle;
    const sleep = idle.policy === 'sleep' ? `, ${n0.format(idle.sleepingNodeHours)} node-hours asleep, ${n0.format(idle.wakes)} wake-ups` : '';
    lines.push(`idle (operator, ${idle.policy}): ${n0.format(idle.energyKWh)} kWh (green ${pct(idle.greenKWh, idle.energyKWh)}), cost ${n0.format(idle.costYuan)} yuan, carbon ${n0.format(idle.carbonKg)} kg${sleep}`);
  }
  const { plan: a, baseline: b, jobs } = comparison;
  if (plan.policy !== 'asap-origin' && jobs > 0) {
    lines.push(
      `versus asap-origin on the ${jobs} jobs both place: cost ${change(a.costYuan, b.costYuan)}, carbon ${change(a.carbonKg, b.carbonKg)}, green share ${pct(a.greenKWh, a.energyKWh)} against ${pct(b.greenKWh, b.energyKWh)}`,
    );
  }
  if (bound) {
    lines.push(`bound: ${plan.objective} ≥ ${n1.format(bound.value)} against the plan's ${n1.format(bound.planValue)}: gap ${bound.gapPct.toFixed(2)} % (${bound.method})`);
  }
  lines.push(`wrote ${out} in ${seconds.toFixed(1)} s`);
  return lines.join('\n') + '\n';
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${n1.format((100 * part) / whole)} %` : '–';
}

function change(value: number, base: number): string {
  if (base === 0) return '–';
  const d = (100 * (value - base)) / Math.abs(base);
  return `${d <= 0 ? '−' : '+'}${n1.format(Math.abs(d))} %`;
}
