import type { FilterPlugin } from '../../framework.ts';

/** Filter: the input can reach the site and the job still finish by its deadline (and within the horizon). */
export const deadlineReachableFilter: FilterPlugin = {
  name: 'deadline-reachable',
  filter(job, view) {
    if (!view.route) return { ok: false, reason: `no network route from ${job.origin}` };
    if (view.lastSlot - view.firstSlot + 1 >= view.slotsNeeded) return { ok: true };
    const transfer = view.transferS > 0 ? ` after moving ${job.inputGb} GB (${(view.transferS / 3600).toFixed(1)} h)` : '';
    return { ok: false, reason: `deadline unreachable${transfer}` };
  },
};
