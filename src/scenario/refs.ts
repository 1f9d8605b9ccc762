/**
 * Cross-reference checks that a schema cannot express: unique ids, one pool per class at a site,
 * whole nodes, links between known distinct sites. Shared by the scenario file loader and the
 * export reader, after their zod parse succeeded.
 */
import type { ScenarioIssue } from './errors.ts';

interface PoolLike {
  id?: string;
  class: string;
  unit: string;
  units: number;
  unitsPerNode: number;
}
interface SiteLike {
  id: string;
  pools: PoolLike[];
}
interface LinkLike {
  from: string;
  to: string;
}

/** The id of a pool that states none. */
export function defaultPoolId(siteId: string, poolClass: string): string {
  return `${siteId}-${poolClass}`;
}

interface UserRegionLike {
  id: string;
  access: { site: string }[];
}

/** Problems with ids and references among sites, pools, links and user regions; empty when consistent. */
export function networkIssues(sites: SiteLike[], links: LinkLike[], userRegions: readonly UserRegionLike[] = []): ScenarioIssue[] {
  const issues: ScenarioIssue[] = [];
  const siteIndex = new Map<string, number>();
  const poolIndex = new Map<string, string>();
  sites.forEach((site, s) => {
    const first = siteIndex.get(site.id);
    if (first !== undefined) issues.push({ path: `sites[${s}].id`, reason: `duplicate site id '${site.id}' (also sites[${first}].id)` });
    else siteIndex.set(site.id, s);
    const classIndex = new Map<string, number>();
    site.pools.forEach((pool, p) => {
      const at = `sites[${s}].pools[${p}]`;
      const sameClass = classIndex.get(pool.class);
      if (sameClass !== undefined)
        issues.push({ path: `${at}.class`, reason: `site '${site.id}' already has a pool of class '${pool.class}' (pools[${sameClass}]); a site has at most one pool per class` });
      else classIndex.set(pool.class, p);
      const id = pool.id ?? defaultPoolId(site.id, pool.class);
      const other = poolIndex.get(id);
      if (other !== undefined) issues.push({ path: `${at}.id`, reason: `duplicate pool id '${id}' (also ${other})` });
      else poolIndex.set(id, at);
      if (pool.unit === 'node' && pool.unitsPerNode !== 1)
        issues.push({ path: `${at}.unitsPerNode`, reason: `must be 1 when unit is node (found ${pool.unitsPerNode})` });
      if (pool.units % pool.unitsPerNode !== 0)
        issues.push({ path: `${at}.units`, reason: `must be a whole number of nodes: ${pool.units} is not a multiple of unitsPerNode ${pool.unitsPerNode}` });
    });
  });
  const known = [...siteIndex.keys()].join(', ');
  const pairs = new Map<string, number>();
  links.forEach((link, l) => {
    for (const end of ['from', 'to'] as const) {
      if (!siteIndex.has(link[end])) issues.push({ path: `links[${l}].${end}`, reason: `unknown site '${link[end]}' in links[${l}].${end}; sites are ${known}` });
    }
    if (link.from === link.to) issues.push({ path: `links[${l}].to`, reason: `a link must join two different sites; links[${l}] goes from '${link.from}' to itself` });
    const pair = [link.from, link.to].sort().join('|');
    const first = pairs.get(pair);
    if (first !== undefined) issues.push({ path: `links[${l}]`, reason: `duplicate link between '${link.from}' and '${link.to}' (also links[${first}]; links are bidirectional)` });
    else pairs.set(pair, l);
  });
  const regionIndex = new Map<string, number>();
  userRegions.forEach((region, r) => {
    const first = regionIndex.get(region.id);
    if (first !== undefined) issues.push({ path: `userRegions[${r}].id`, reason: `duplicate user region id '${region.id}' (also userRegions[${first}].id)` });
    else regionIndex.set(region.id, r);
    const seen = new Set<string>();
    region.access.forEach((a, i) => {
      const at = `userRegions[${r}].access[${i}].site`;
      if (!siteIndex.has(a.site)) issues.push({ path: at, reason: `unknown site '${a.site}'; sites are ${known}` });
      else if (seen.has(a.site)) issues.push({ path: at, reason: `site '${a.site}' is listed twice` });
      seen.add(a.site);
    });
  });
  return issues;
}
