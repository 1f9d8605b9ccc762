import { PASS, type FilterPlugin } from '../../framework.ts';

/** Filter: the input can reach the site and the job still finish by its deadline (and within the horizon). */
export const deadlineReachableFilter: FilterPlugin = {
  name: 'deadline-reachable',
  filter(job, view) {
    if (!view.route) return { ok: false, code: 'no route', reason: `no network route from ${job.origin}` };
    const have = view.lastSlot - view.firstSlot + 1;
    if (have >= view.slotsNeeded) return PASS;
    const horizonEndMs = view.grid.startMs + view.grid.slots * view.grid.slotMinutes * 60_000;
    if (view.readyMs >= horizonEndMs) return { ok: false, code: 'after the horizon', reason: 'ready only after the planning horizon ends' };
    const end = job.deadlineMs > horizonEndMs ? 'the horizon end' : 'the deadline';
    const transfer = view.transferS >= 60 ? ` after moving ${job.inputGb} GB (${(view.transferS / 3600).toFixed(1)} h)` : '';
    return { ok: false, code: `cannot finish by ${end}`, reason: `cannot finish by ${end}${transfer}: needs ${view.slotsNeeded} slot(s) of ${view.grid.slotMinutes} min, ${Math.max(0, have)} left` };
  },
};
