/**
 * What `POST /v1/jobs` checks beyond the schema, before anything is stored: the job's sites and pool class
 * against the network the service runs on, and its size against the tenant's quota. A job that fails either
 * could never run, so it is refused at the edge instead of waiting forever in the queue.
 *
 * The quota check is per job (`units` ≤ `maxConcurrentUnits[poolClass]`); the dispatch loop enforces the
 * concurrent limit (the sum over a tenant's running jobs) when it starts work.
 */
import type { Network, PoolClass } from '../core/model/types.ts';
import type { JobSpec, Tenant } from '../store/port.ts';
import type { FieldError } from './errors.ts';
import { fieldPath } from './validation.ts';

interface NetworkIndex {
  siteIds: Set<string>;
  /** Largest pool of each class at each site, units. */
  largestPool: Map<string, Partial<Record<PoolClass, number>>>;
  siteList: string;
}

const indexes = new WeakMap<Network, NetworkIndex>();

/** Built once per network object (`ctx.network()` returns the same one until the network changes). */
function indexOf(network: Network): NetworkIndex {
  let index = indexes.get(network);
  if (!index) {
    const largestPool = new Map<string, Partial<Record<PoolClass, number>>>();
    for (const site of network.sites) {
      const bySite: Partial<Record<PoolClass, number>> = {};
      for (const pool of site.pools) bySite[pool.class] = Math.max(bySite[pool.class] ?? 0, pool.units);
      largestPool.set(site.id, bySite);
    }
    const siteIds = new Set(network.sites.map((s) => s.id));
    index = { siteIds, largestPool, siteList: [...siteIds].join(', ') };
    indexes.set(network, index);
  }
  return index;
}

/**
 * Problems of each job with the network: unknown origin or allowed site, no pool of its class where it may run,
 * more units than the largest such pool. `pathOf(i)` is where job `i` sits in the body (`[]` or `['jobs', i]`).
 */
export function networkProblems(specs: readonly JobSpec[], network: Network, pathOf: (i: number) => PropertyKey[]): FieldError[] {
  const index = indexOf(network);
  const fields: FieldError[] = [];
  specs.forEach((spec, i) => {
    const at = (...rest: PropertyKey[]) => fieldPath([...pathOf(i), ...rest]);
    if (!index.siteIds.has(spec.origin)) fields.push({ field: at('origin'), message: `unknown site ${spec.origin} (sites: ${index.siteList})` });
    const unknown = (spec.allowedSites ?? []).map((site, k) => [site, k] as const).filter(([site]) => !index.siteIds.has(site));
    for (const [site, k] of unknown) fields.push({ field: at('allowedSites', k), message: `unknown site ${site} (sites: ${index.siteList})` });
    if (unknown.length > 0) return;
    let largest = 0;
    let largestAt = '';
    for (const site of spec.allowedSites ?? index.siteIds) {
      const units = index.largestPool.get(site)?.[spec.poolClass] ?? 0;
      if (units > largest) [largest, largestAt] = [units, site];
    }
    const where = spec.allowedSites ? 'any allowed site' : 'any site';
    if (largest === 0) fields.push({ field: at('poolClass'), message: `no ${spec.poolClass} pool at ${where}` });
    else if (spec.units > largest) fields.push({ field: at('units'), message: `${spec.units} units exceed the largest ${spec.poolClass} pool at ${where} (${largest} at ${largestAt})` });
  });
  return fields;
}

/** Jobs that need more units at once than the tenant may use in their pool class. */
export function quotaProblems(specs: readonly JobSpec[], tenant: Tenant, pathOf: (i: number) => PropertyKey[]): FieldError[] {
  const fields: FieldError[] = [];
  specs.forEach((spec, i) => {
    const limit = tenant.maxConcurrentUnits[spec.poolClass];
    if (limit !== null && spec.units > limit) {
      fields.push({ field: fieldPath([...pathOf(i), 'units']), message: `${spec.units} units exceed tenant ${tenant.id}'s maxConcurrentUnits.${spec.poolClass} (${limit})` });
    }
  });
  return fields;
}
