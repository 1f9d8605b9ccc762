/**
 * The changes the operator's scenario routes (routes/scenario.ts) make to the stored scenario document: pure
 * functions from a document (a copy) to the changed one, throwing ApiErrors for what is missing. The whole result
 * is then validated by the scenario loader (ScenarioState.put); `fieldsOf` turns the loader's issues, which name
 * document paths (`sites[3].pools[0].units`), into fields of the request (`pools[0].units`).
 */
import { ScenarioError } from '../scenario/index.ts';
import type { SignalName } from '../scenario/schema.ts';
import { ApiError, validationError, type FieldError } from './errors.ts';

/** The parts of a scenario file document the routes change; the rest is kept as it is. */
export interface ScenarioJson {
  sites: SiteJson[];
  links: LinkJson[];
  [field: string]: unknown;
}
interface SiteJson {
  id: string;
  signals?: Record<string, { actual: unknown; forecast?: unknown }>;
  [field: string]: unknown;
}
interface LinkJson {
  from: string;
  to: string;
  [field: string]: unknown;
}

/** An edit: the document with the change and the document path the request's fields sit at (`sites[3]`, `links[0]`). */
export interface Edit {
  doc: ScenarioJson;
  at: string;
}

function siteIndex(doc: ScenarioJson, id: string): number {
  const index = doc.sites.findIndex((s) => s.id === id);
  if (index < 0) throw new ApiError('KUMUL_NOT_FOUND', `no site ${id}`);
  return index;
}

/** Adds a site or replaces one, keeping its signals when the body has none. */
export function putSite(doc: ScenarioJson, id: string, body: { signals?: SiteJson['signals']; [field: string]: unknown }): Edit {
  const index = doc.sites.findIndex((s) => s.id === id);
  const signals = body.signals ?? doc.sites[index]?.signals;
  if (signals === undefined) throw validationError([{ field: 'signals', message: 'required for a new site' }]);
  const site: SiteJson = { id, ...body, signals };
  if (index < 0) doc.sites.push(site);
  else doc.sites[index] = site;
  return { doc, at: `sites[${index < 0 ? doc.sites.length - 1 : index}]` };
}

/** Removes a site and the links that reach it. */
export function deleteSite(doc: ScenarioJson, id: string): Edit {
  doc.sites.splice(siteIndex(doc, id), 1);
  doc.links = doc.links.filter((l) => l.from !== id && l.to !== id);
  return { doc, at: '' };
}

const samePair = (link: LinkJson, from: string, to: string) => (link.from === from && link.to === to) || (link.from === to && link.to === from);

/** Adds a link or replaces the one between the same two sites (either way round). */
export function putLink(doc: ScenarioJson, link: LinkJson): Edit {
  const index = doc.links.findIndex((l) => samePair(l, link.from, link.to));
  if (index < 0) doc.links.push(link);
  else doc.links[index] = link;
  return { doc, at: `links[${index < 0 ? doc.links.length - 1 : index}]` };
}

export function deleteLink(doc: ScenarioJson, from: string, to: string): Edit {
  const index = doc.links.findIndex((l) => samePair(l, from, to));
  if (index < 0) throw new ApiError('KUMUL_NOT_FOUND', `no link between ${from} and ${to}`);
  doc.links.splice(index, 1);
  return { doc, at: '' };
}

/** Replaces the actual or forecast series of one signal of a site. */
export function putSignal(doc: ScenarioJson, id: string, signal: SignalName, series: 'actual' | 'forecast', source: unknown): Edit {
  const index = siteIndex(doc, id);
  const signals = doc.sites[index].signals;
  if (!signals?.[signal]) throw new ApiError('KUMUL_NOT_FOUND', `site ${id} has no ${signal} signal`);
  signals[signal][series] = source;
  return { doc, at: `sites[${index}].signals.${signal}.${series}` };
}

/**
 * The loader's issues as request fields: a path inside the edited part loses its prefix (`sites[3].pools[0].units`
 * → `pools[0].units`; the part itself is `body`), other paths stay document paths. Anything else is rethrown.
 */
export function fieldsOf(error: unknown, at: string): FieldError[] {
  if (!(error instanceof ScenarioError)) throw error;
  return error.issues.map((issue) => {
    const inside = at !== '' && (issue.path === at || issue.path.startsWith(`${at}.`) || issue.path.startsWith(`${at}[`));
    const field = !inside ? issue.path || 'body' : issue.path === at ? 'body' : issue.path.slice(at.length).replace(/^\./, '');
    return { field, message: issue.reason };
  });
}
