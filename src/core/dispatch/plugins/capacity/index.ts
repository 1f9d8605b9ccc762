import { PASS, type FilterPlugin } from '../../framework.ts';

/** Filter: the site has a pool of the job's class big enough for the job's units at once. */
export const capacityFilter: FilterPlugin = {
  name: 'capacity',
  filter(job, view) {
    if (!view.pool) return { ok: false, code: `no ${job.poolClass} pool`, reason: `no ${job.poolClass} pool` };
    if (view.pool.units < job.units) return { ok: false, code: 'too few units', reason: `needs ${job.units} units, ${job.poolClass} pool has ${view.pool.units}` };
    return PASS;
  },
};
