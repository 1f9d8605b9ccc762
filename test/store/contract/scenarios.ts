/** The scenario document: versions 1, 2, … and the latest one current. */
import { expect, it } from 'vitest';
import type { Harness } from '../harness.ts';

export function scenarioContract(h: Harness): void {
  it('stores numbered versions and returns the latest as current', async () => {
    expect(await h.store.currentScenario()).toBeNull();
    const first = { id: 'hami', sites: [{ id: 'hami', pue: 1.2 }], note: 'ünïcode ✓' };
    const second = { ...first, sites: [...first.sites, { id: 'qingyang', pue: 1.25 }] };
    expect(await h.store.putScenario(first, 100)).toEqual({ version: 1, document: first, createdMs: 100 });
    expect(await h.store.putScenario(second, 200)).toEqual({ version: 2, document: second, createdMs: 200 });
    expect(await h.store.currentScenario()).toEqual({ version: 2, document: second, createdMs: 200 });
    expect(await h.store.getScenario(1)).toEqual({ version: 1, document: first, createdMs: 100 });
    expect(await h.store.getScenario(3)).toBeNull();
  });

  it('gives concurrent writers distinct versions without gaps', async () => {
    const other = h.backend === 'postgres' ? await h.reopen() : h.store;
    const puts = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? other : h.store).putScenario({ n: i }, i)));
    expect(puts.map((p) => p.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await h.store.currentScenario())?.version).toBe(6);
  });
}
