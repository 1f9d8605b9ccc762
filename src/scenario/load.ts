/**
 * Loads a scenario — a built-in name (`hami`), a scenario file, or an export document — and
 * resolves it onto a time grid. Called by the CLI (`kumul scenario …`, `kumul plan`), the
 * dispatcher's callers and the simulator. Synchronous: files are small and CSVs are cached.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Network, Pool, PowerPoint, Scenario, Site, SiteSignalPair, SiteSignals, TimeGrid, UserRegion } from '../core/model/types.ts';
import { ScenarioError, fail, readTextFile } from './errors.ts';
import { EXPORT_FORMAT, scenarioFromExportJson } from './export.ts';
import { issuesFromZod } from './issues.ts';
import { defaultPoolId, networkIssues } from './refs.ts';
import { resolveSignal } from './resolve.ts';
import { PeriodSchema, SIGNAL_NAMES, ScenarioFileSchema, type ScenarioFile, type SignalName, type SiteSpec } from './schema.ts';
import { formatIsoMinute, parseIsoInstant } from './time.ts';

/** A requested time grid; missing fields come from the scenario's default period. */
export interface PeriodRequest {
  start?: string;
  slots?: number;
  slotMinutes?: number;
}

/** How a resolution treats slots its data does not cover (ResolveContext['uncovered']): the CLI throws, `kumul serve` asks for `missing`. */
export interface ResolveOptions {
  /** `throw` (default): a ScenarioError "no data covers …"; `missing`: NaN in those slots, for the caller to fill. */
  uncovered?: 'throw' | 'missing';
}

/** Folder of the built-in scenarios, found from this file (not the working directory). */
export const BUILTIN_SCENARIOS_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

/** Names of the built-in scenarios (folders of scenarios/ with a scenario.json), sorted. */
export function builtinScenarioNames(): string[] {
  if (!existsSync(BUILTIN_SCENARIOS_DIR)) return [];
  return readdirSync(BUILTIN_SCENARIOS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(BUILTIN_SCENARIOS_DIR, e.name, 'scenario.json')))
    .map((e) => e.name)
    .sort();
}

/** The file a scenario name or path refers to: a name without '/' or '.json' is a built-in scenario. */
export function scenarioPath(nameOrPath: string): string {
  const isPath = nameOrPath.includes('/') || nameOrPath.includes('\\') || nameOrPath.endsWith('.json');
  if (isPath) return resolvePath(nameOrPath);
  const file = join(BUILTIN_SCENARIOS_DIR, nameOrPath, 'scenario.json');
  if (!existsSync(file)) {
    const names = builtinScenarioNames();
    fail(nameOrPath, '', `unknown scenario '${nameOrPath}'; built-in scenarios are ${names.join(', ') || 'none'} (give a path to load a file)`);
  }
  return file;
}

/**
 * Loads and validates a scenario and resolves its signals onto the requested grid
 * (default: the scenario's period). Throws ScenarioError naming the file, JSON path and reason.
 */
export function loadScenario(nameOrPath: string, period?: PeriodRequest): Scenario {
  const file = scenarioPath(nameOrPath);
  return resolveScenarioDocument(readScenarioJson(file), dirname(file), period, file);
}

/**
 * Validates a parsed scenario document (a scenario file, or an export document) and resolves it onto the
 * requested grid; relative CSV paths are relative to `baseDir`. `name` is what errors call the document
 * (default: `<baseDir>/scenario.json`). Called by `loadScenario` and by `kumul serve`, whose scenario
 * document lives in the store (src/service/scenario-state.ts) and which resolves with `{ uncovered: 'missing' }`:
 * slots the data does not cover are NaN instead of an error (every other problem still throws).
 */
export function resolveScenarioDocument(json: unknown, baseDir: string, period?: PeriodRequest, name = join(baseDir, 'scenario.json'), options: ResolveOptions = {}): Scenario {
  const uncovered = options.uncovered ?? 'throw';
  if (isExportDocument(json)) return sliceToPeriod(scenarioFromExportJson(json, name), period, name, uncovered);
  const doc = parseScenarioDocument(json, name);
  const grid = requestedGrid(doc.period, period, name);
  const signals: Record<string, SiteSignalPair> = {};
  doc.sites.forEach((site, s) => {
    signals[site.id] = siteSignals(site, { scenarioFile: name, dir: baseDir, grid, siteId: site.id, uncovered }, `sites[${s}].signals`);
  });
  return {
    id: doc.id,
    name: doc.name,
    description: doc.description,
    network: { sites: doc.sites.map((site) => toSite(site, doc.powerCurves ?? {})), links: doc.links },
    grid,
    signals,
    assumptions: doc.assumptions,
    ...(doc.userRegions ? { userRegions: doc.userRegions } : {}),
  };
}

/** The sites, pools and links of a parsed document (scenario file or export), its user regions and slot length, checked but with no signal read. */
export function documentOutline(json: unknown, name: string): { network: Network; slotMinutes: number; userRegions: UserRegion[] } {
  if (isExportDocument(json)) {
    const s = scenarioFromExportJson(json, name);
    return { network: s.network, slotMinutes: s.grid.slotMinutes, userRegions: s.userRegions ?? [] };
  }
  const doc = parseScenarioDocument(json, name);
  return { network: { sites: doc.sites.map((site) => toSite(site, doc.powerCurves ?? {})), links: doc.links }, slotMinutes: doc.period.slotMinutes, userRegions: doc.userRegions ?? [] };
}

/** A scenario file document checked against the schema and its cross-references (no signal is read); throws ScenarioError. */
export function parseScenarioDocument(json: unknown, name: string): ScenarioFile {
  const parsed = ScenarioFileSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new ScenarioError(name, issuesFromZod(parsed.error));
  const doc = parsed.data;
  const refIssues = [...networkIssues(doc.sites, doc.links, doc.userRegions), ...curveNameIssues(doc)];
  if (refIssues.length > 0) throw new ScenarioError(name, refIssues);
  return doc;
}

/** The parsed JSON of a scenario (or export) file; throws ScenarioError when unreadable or not JSON. */
export function readScenarioJson(file: string): unknown {
  const content = readTextFile(file, (reason) => fail(file, '', reason));
  try {
    return JSON.parse(content);
  } catch (err) {
    return fail(file, '', `not valid JSON: ${jsonErrorWhere(content, (err as Error).message)}`);
  }
}

/** Adds the line and column to a JSON.parse message that gives only a position. */
function jsonErrorWhere(content: string, message: string): string {
  const m = /at position (\d+)/.exec(message);
  if (!m || /line \d+/.test(message)) return message;
  const before = content.slice(0, Number(m[1])).split('\n');
  return `${message} (line ${before.length}, column ${before[before.length - 1].length + 1})`;
}

function isExportDocument(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as { format?: unknown }).format === EXPORT_FORMAT;
}

function curveNameIssues(doc: ScenarioFile) {
  const names = Object.keys(doc.powerCurves ?? {});
  return doc.sites.flatMap((site, s) =>
    site.pools.flatMap((pool, p) =>
      typeof pool.powerCurve === 'string' && !names.includes(pool.powerCurve)
        ? [{ path: `sites[${s}].pools[${p}].powerCurve`, reason: `unknown power curve '${pool.powerCurve}'; powerCurves has ${names.join(', ') || 'none'}` }]
        : [],
    ),
  );
}

/** The grid: the scenario's period with the requested fields replaced, validated like the file's. */
function requestedGrid(defaults: ScenarioFile['period'], request: PeriodRequest | undefined, file: string): TimeGrid {
  const merged = { ...defaults, ...stripUndefined(request ?? {}) };
  const parsed = PeriodSchema.safeParse(merged, { reportInput: true });
  if (!parsed.success)
    throw new ScenarioError(file, issuesFromZod(parsed.error).map((i) => ({ path: `requested period.${i.path}`, reason: i.reason })));
  return { startMs: parseIsoInstant(parsed.data.start) as number, slots: parsed.data.slots, slotMinutes: parsed.data.slotMinutes };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function siteSignals(site: SiteSpec, ctx: Parameters<typeof resolveSignal>[2], jsonPath: string): SiteSignalPair {
  const resolved = Object.fromEntries(SIGNAL_NAMES.map((name) => [name, resolveSignal(name, site.signals[name], ctx, `${jsonPath}.${name}`)]));
  return {
    forecast: mapSignals((name) => resolved[name].forecast),
    actual: mapSignals((name) => resolved[name].actual),
  };
}

/** Builds a SiteSignals from one array per signal name. */
function mapSignals(values: (name: SignalName) => number[]): SiteSignals {
  return { priceYuanPerKWh: values('priceYuanPerKWh'), carbonGPerKWh: values('carbonGPerKWh'), renewableKW: values('renewableKW') };
}

function toSite(spec: SiteSpec, curves: Record<string, PowerPoint[]>): Site {
  const pools: Pool[] = spec.pools.map((p) => ({
    id: p.id ?? defaultPoolId(spec.id, p.class),
    class: p.class,
    unit: p.unit,
    units: p.units,
    unitsPerNode: p.unitsPerNode,
    peakTflopsPerNode: p.peakTflopsPerNode,
    ...(p.speed ? { speed: p.speed } : {}),
    ...(p.powerStates ? { powerStates: p.powerStates } : {}),
    powerCurve: typeof p.powerCurve === 'string' ? curves[p.powerCurve] : p.powerCurve,
  }));
  const { id, name, region, lat, lon, pue, renewable } = spec;
  return { id, name, region, lat, lon, pue, pools, renewable };
}

/**
 * An export document covers one grid; a different period is served by cutting a window out of it
 * (same slot length, start on a slot boundary inside it). With `uncovered: 'missing'` the window may reach outside
 * the export: those slots are NaN.
 */
function sliceToPeriod(s: Scenario, request: PeriodRequest | undefined, file: string, uncovered: 'throw' | 'missing' = 'throw'): Scenario {
  const want = requestedGrid({ start: formatIsoMinute(s.grid.startMs), slots: s.grid.slots, slotMinutes: s.grid.slotMinutes }, request, file);
  if (want.startMs === s.grid.startMs && want.slots === s.grid.slots && want.slotMinutes === s.grid.slotMinutes) return s;
  const lengthMs = s.grid.slotMinutes * 60_000;
  const offset = (want.startMs - s.grid.startMs) / lengthMs;
  const covers = `the export covers ${s.grid.slots} slots of ${s.grid.slotMinutes} min from ${formatIsoMinute(s.grid.startMs)}`;
  if (want.slotMinutes !== s.grid.slotMinutes) fail(file, 'requested period.slotMinutes', `must be ${s.grid.slotMinutes} for an export document (${covers})`);
  const inside = Number.isInteger(offset) && offset >= 0 && offset + want.slots <= s.grid.slots;
  if (!inside && !(uncovered === 'missing' && Number.isInteger(offset)))
    fail(file, 'requested period', `${formatIsoMinute(want.startMs)} + ${want.slots} slots is not a window of the export (${covers})`);
  const cut = (signals: SiteSignals): SiteSignals =>
    mapSignals((name) => Array.from({ length: want.slots }, (_, i) => (offset + i >= 0 && offset + i < s.grid.slots ? signals[name][offset + i] : NaN)));
  const signals = Object.fromEntries(Object.entries(s.signals).map(([id, pair]) => [id, { forecast: cut(pair.forecast), actual: cut(pair.actual) }]));
  return { ...s, grid: want, signals };
}
