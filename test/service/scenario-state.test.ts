/**
 * The service's scenario document in the store: a first start stores the configured scenario's file with its
 * folder, later starts read the stored version, `put` validates before storing, and windows follow the version.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/kysely-store.ts';
import type { Store } from '../../src/store/port.ts';
import { ScenarioState, type ServiceDocument } from '../../src/service/scenario-state.ts';
import { ScenarioError } from '../../src/scenario/index.ts';
import { TINY, TINY_DIR } from '../scenario/helpers.ts';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const configured = { scenario: TINY, dispatch: { policy: 'optimize' as const, objective: 'cost' }, horizonHours: 2 };

describe('scenario state', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  it('stores the configured file on a first start and reads the stored version after', async () => {
    const first = await ScenarioState.open(store, configured, T0);
    expect(first.version).toBe(1);
    expect(first.document.baseDir).toBe(TINY_DIR.replace(/\/$/, ''));
    expect(first.network().sites.map((s) => s.id)).toEqual(['east', 'west']);
    const again = await ScenarioState.open(store, { ...configured, scenario: 'no-such-scenario' }, T0);
    expect(again.version).toBe(1);
    expect(again.dispatch()).toMatchObject({ policy: 'optimize', objective: { name: 'cost' } });
  });

  it('put validates the whole document before storing; windows and network follow the new version', async () => {
    const state = await ScenarioState.open(store, configured, T0);
    const before = state.window(T0, 2);
    expect(state.window(T0, 2)).toBe(before);
    const doc = structuredClone(state.document) as ServiceDocument & { scenario: { sites: { pue: number; signals: Record<string, unknown> }[] } };
    doc.scenario.sites[1].pue = 9;
    await expect(state.put(doc, T0)).rejects.toThrow(/sites\[1\]\.pue: must be a number from 1 to 5/);
    doc.scenario.sites[1].pue = 1.5;
    doc.scenario.sites[1].signals.priceYuanPerKWh = { actual: { source: 'series', start: '2026-03-01T00:00Z', stepMinutes: 60, values: [1, 2], unit: 'yuan/kWh' } };
    expect(await state.put(doc, T0)).toBe(2);
    expect(state.window(T0, 2)).not.toBe(before);
    expect(state.window(T0, 2).signals.west.actual.priceYuanPerKWh).toEqual([1, 2]);
    expect(state.network().sites[1].pue).toBe(1.5);
    // A change that takes data away over the loop's horizon is refused, naming the signal...
    const shorter = structuredClone(doc);
    shorter.scenario.sites[1].signals.priceYuanPerKWh = { actual: { source: 'series', start: '2026-02-28T23:00Z', stepMinutes: 60, values: [1, 2], unit: 'yuan/kWh' } };
    const refused = await state.put(shorter, T0).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ScenarioError);
    expect((refused as ScenarioError).issues[0]).toMatchObject({ path: 'sites[1].signals.priceYuanPerKWh.actual', reason: expect.stringMatching(/^no data covers 2026-03-01T01:00Z \(the version in force has data there/) });
    expect((await store.currentScenario())!.version).toBe(2);
    // ...but a document whose data has ended where the stored data ends is stored: windows fill in (signal-overlay.ts).
    expect(await state.put(doc, T0 + 3 * 3_600_000)).toBe(3);
    const past = state.window(T0 + 3 * 3_600_000, 2);
    expect(past.signals.west.actual.priceYuanPerKWh.every(Number.isFinite)).toBe(true);
    expect(past.signalFallbacks.some((f) => f.siteId === 'west' && f.signal === 'priceYuanPerKWh')).toBe(true);
  });

  it('refresh adopts a version another writer stored', async () => {
    const a = await ScenarioState.open(store, configured, T0);
    const b = await ScenarioState.open(store, configured, T0);
    await a.put({ ...a.document, dispatch: { policy: 'asap-any', objective: 'carbon' } }, T0);
    await b.refresh();
    expect(b.version).toBe(2);
    expect(b.dispatch()).toMatchObject({ policy: 'asap-any', objective: { name: 'carbon' } });
  });
});
