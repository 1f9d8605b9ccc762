import { PASS, type FilterPlugin } from '../../framework.ts';

/** Filter: data residency — the job lists the sites it may run at. */
export const allowedSitesFilter: FilterPlugin = {
  name: 'allowed-sites',
  filter(job, view) {
    if (job.allowedSites === null || job.allowedSites.includes(view.site.id)) return PASS;
    return { ok: false, code: 'not allowed', reason: "not in the job's allowed sites (data residency)" };
  },
};
