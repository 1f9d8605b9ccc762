/**
 * Every job matching a filter, read page by page through the port (1,000 a page). For the service's own
 * sweeps over all tenants: the dispatch loop, the dashboard's views, the scenario routes' checks.
 */
import type { JobFilter, Store, StoredJob } from './port.ts';

export async function allJobs(store: Store, filter: JobFilter): Promise<StoredJob[]> {
  const all: StoredJob[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await store.listJobs(filter, { limit: 1000, after });
    if (!page.ok) throw new Error(page.reason);
    all.push(...page.jobs);
    if (page.next === null) return all;
    after = page.next;
  }
}
