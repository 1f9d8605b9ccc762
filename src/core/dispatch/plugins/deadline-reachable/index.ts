import { runTimeMs } from '../../../model/capability.ts';
import { PASS, type FilterPlugin } from '../../framework.ts';

/** Filter: the input can reach the site and the job still finish by its deadline (and within the horizon). */
export const deadlineReachableFilter: FilterPlugin = {
  name: 'deadline-reachable',
  filter(job, view) {
    if (!view.route) return { ok: false, code: 'no route', reason: `no network route from ${job.origin}` };
    // The pool is there: the capacity filter runs first and refuses a site without one.
    const workMs = view.pool ? runTimeMs(job, view.pool) : Math.max(1, Math.round(job.durationS * 1000));
    if (view.readyMs + workMs <= view.endMs) return PASS;
    const horizonEndMs = view.grid.startMs + view.grid.slots * view.grid.slotMinutes * 60_000;
    if (view.readyMs >= horizonEndMs) return { ok: false, code: 'after the horizon', reason: 'ready only after the planning horizon ends' };
    const end = job.deadlineMs > horizonEndMs ? 'the horizon end' : 'the deadline';
    const transfer = view.transferS >= 60 ? ` after moving ${job.inputGb} GB (${(view.transferS / 3600).toFixed(1)} h)` : '';
    const left = Math.max(0, view.endMs - view.readyMs);
    return { ok: false, code: `cannot finish by ${end}`, reason: `cannot finish by ${end}${transfer}: needs ${hours(workMs)}, ${hours(left)} left` };
  },
};

/** A length as hours and minutes (`1 h 05 min`, `25 min`, `40 s`). */
function hours(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const minutes = Math.round(ms / 60_000);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
