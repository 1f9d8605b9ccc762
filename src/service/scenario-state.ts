/**
 * The scenario `kumul serve` runs on, kept in the store as a versioned document: the v1 scenario file
 * JSON, the folder its relative CSV paths are read from, and the dispatch settings (policy, objective).
 * `startRuntime` opens it (storing the configured scenario on a first start); the dispatch loop reads
 * the network, windows and settings from it; the operator routes (src/api/routes/scenario.ts) change it
 * through `put`, which validates the whole new document with the scenario loader before storing it.
 */
import { dirname } from 'node:path';
import type { Network, Scenario } from '../core/model/types.ts';
import type { Objective } from '../core/dispatch/objective.ts';
import type { PolicyName } from '../core/dispatch/plugins/index.ts';
import { objectiveFrom, policyFrom } from '../planning/plan-jobs.ts';
import { documentOutline, readScenarioJson, resolveScenarioDocument, scenarioPath } from '../scenario/index.ts';
import type { Store } from '../store/port.ts';

/** How dispatch cycles plan: `PUT /v1/policies` changes it. */
export interface DispatchSettings {
  policy: PolicyName;
  /** `cost`, `carbon`, `green` or a mix such as `cost=1,carbon=0.2`. */
  objective: string;
}

/** What one stored scenario version holds. */
export interface ServiceDocument {
  /** A scenario file document, format v1 (docs/scenario-format.md). */
  scenario: unknown;
  /** Absolute folder the document's relative CSV paths are read from. */
  baseDir: string;
  dispatch: DispatchSettings;
}

/** What errors call the stored document. */
const DOCUMENT_NAME = 'scenario';
const MAX_CACHED_WINDOWS = 64;

interface Current {
  version: number;
  document: ServiceDocument;
  network: Network;
  objective: Objective;
}

export class ScenarioState {
  private windows = new Map<string, Scenario>();
  private updating: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: Store,
    private current: Current,
    /** Slot length of every window, minutes (the first document's). */
    readonly slotMinutes: number,
    /** Slots a new document must resolve over from now (the dispatch loop's horizon). */
    private readonly checkSlots: number,
  ) {}

  /**
   * The latest stored document; on a first start (none stored) the configured scenario's file (a built-in name
   * or a path) with its folder and `dispatch`, stored as version 1.
   */
  static async open(store: Store, configured: { scenario: string; dispatch: DispatchSettings; horizonHours: number }, nowMs: number): Promise<ScenarioState> {
    let stored = await store.currentScenario();
    if (!stored) {
      const file = scenarioPath(configured.scenario);
      const document: ServiceDocument = { scenario: readScenarioJson(file), baseDir: dirname(file), dispatch: configured.dispatch };
      outline(document);
      stored = await store.putScenario(document, nowMs);
    }
    const current = outline(stored.document as ServiceDocument, stored.version);
    const slotMinutes = documentOutline(current.document.scenario, DOCUMENT_NAME).slotMinutes;
    return new ScenarioState(store, current, slotMinutes, Math.max(1, Math.round((configured.horizonHours * 60) / slotMinutes)));
  }

  get version(): number {
    return this.current.version;
  }

  get document(): ServiceDocument {
    return this.current.document;
  }

  /** The sites, pools and links of the current version (the same object until it changes). */
  network(): Network {
    return this.current.network;
  }

  /** The policy and objective dispatch cycles use now. */
  dispatch(): { policy: PolicyName; objective: Objective } {
    return { policy: this.current.document.dispatch.policy, objective: this.current.objective };
  }

  /** The current version resolved over `slots` slots from `startMs`; cached per version. */
  window(startMs: number, slots: number): Scenario {
    const key = `${startMs}/${slots}`;
    let s = this.windows.get(key);
    if (!s) {
      if (this.windows.size >= MAX_CACHED_WINDOWS) this.windows.clear();
      s = this.resolve(this.current.document, startMs, slots);
      this.windows.set(key, s);
    }
    return s;
  }

  /**
   * Adopts the latest stored version if another writer (or instance) stored one; called before each tick. Asks for
   * the next version number first (a primary-key miss, not the whole document) so an unchanged scenario costs little.
   */
  async refresh(): Promise<void> {
    if ((await this.store.getScenario(this.current.version + 1)) === null) return;
    const stored = await this.store.currentScenario();
    if (stored && stored.version > this.current.version) this.adopt(outline(stored.document as ServiceDocument, stored.version));
  }

  /**
   * Validates `document` (schema, cross-references, dispatch settings, and every signal resolved over the loop's
   * horizon from `nowMs`), then stores it as the next version and runs on it. Throws the loader's ScenarioError
   * (or an Error for bad settings) and stores nothing when it is invalid.
   */
  async put(document: ServiceDocument, nowMs: number): Promise<number> {
    const checked = outline(document);
    const slotMs = this.slotMinutes * 60_000;
    this.resolve(document, Math.floor(nowMs / slotMs) * slotMs, this.checkSlots);
    const stored = await this.store.putScenario(document, nowMs);
    this.adopt({ ...checked, version: stored.version });
    return stored.version;
  }

  /**
   * Applies `change` to the latest version and stores the result through `put`; changes are applied one at a time,
   * so two operators editing at once both land. Called by the operator's scenario routes.
   */
  update(change: (document: ServiceDocument) => ServiceDocument, nowMs: number): Promise<number> {
    const next = this.updating.then(async () => {
      await this.refresh();
      return this.put(change(structuredClone(this.current.document)), nowMs);
    });
    this.updating = next.catch(() => undefined);
    return next;
  }

  private adopt(current: Current): void {
    this.current = current;
    this.windows = new Map();
  }

  private resolve(document: ServiceDocument, startMs: number, slots: number): Scenario {
    return resolveScenarioDocument(document.scenario, document.baseDir, { start: new Date(startMs).toISOString(), slots, slotMinutes: this.slotMinutes }, DOCUMENT_NAME);
  }
}

/** A document's network and settings, checked (throws ScenarioError or Error when invalid). */
function outline(document: ServiceDocument, version = 0): Current {
  const { network } = documentOutline(document.scenario, DOCUMENT_NAME);
  policyFrom(document.dispatch.policy);
  return { version, document, network, objective: objectiveFrom(document.dispatch.objective) };
}
