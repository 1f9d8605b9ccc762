/** The deployment's id: made once, the same for every instance and after a restart; replaced only on request. */
import { expect, it } from 'vitest';
import type { Harness } from '../harness.ts';
import { plannedJob, ref, specs, tenant } from '../fixtures.ts';
import { isDeploymentId } from '../../../src/store/deployment.ts';

export function deploymentContract(h: Harness): void {
  it('makes the id on the first call and keeps it for later calls, other instances and a restart', async () => {
    const first = await h.store.deployment(1000);
    expect(first.id).toMatch(/^[a-z2-7]{8}$/);
    expect(first.createdMs).toBe(1000);
    expect(await h.store.deployment(2000)).toEqual(first);
    const other = await h.reopen();
    expect(await other.deployment(3000)).toEqual(first);
    expect((await h.raw('deployments')).map((r) => ({ id: r.id, current: Number(r.current) }))).toEqual([{ id: first.id, current: 1 }]);
  });

  it('gives instances starting at once on a new store one id', async () => {
    const others = h.backend === 'postgres' ? await Promise.all([h.reopen(), h.reopen(), h.reopen()]) : [h.store, h.store, h.store];
    const ids = await Promise.all([h.store, ...others].map((s, i) => s.deployment(i)).map(async (d) => (await d).id));
    expect(new Set(ids).size).toBe(1);
    expect(await h.raw('deployments')).toHaveLength(1);
  });

  it('replaces the id on request, keeping the old one as replaced', async () => {
    const old = await h.store.deployment(1000);
    const renewed = await h.store.renewDeployment(5000);
    expect(renewed.ok && renewed.previousId).toBe(old.id);
    if (!renewed.ok) return;
    expect(renewed.deployment.id).not.toBe(old.id);
    expect(isDeploymentId(renewed.deployment.id)).toBe(true);
    expect(await (await h.reopen()).deployment(6000)).toEqual({ id: renewed.deployment.id, createdMs: 5000 });
    const rows = (await h.raw('deployments')).map((r) => ({ id: r.id, replacedMs: r.replaced_ms === null ? null : Number(r.replaced_ms), current: r.current === null ? null : Number(r.current) }));
    expect(rows.sort((a, b) => (a.current ?? 0) - (b.current ?? 0))).toEqual([
      { id: old.id, replacedMs: 5000, current: null },
      { id: renewed.deployment.id, replacedMs: null, current: 1 },
    ]);
  });

  it('a store without an id yet gets one from a renewal, with no previous one', async () => {
    const renewed = await h.store.renewDeployment(7);
    expect(renewed.ok && renewed.previousId).toBe(null);
    expect(renewed.ok && (await h.store.deployment(8)).id).toBe(renewed.ok && renewed.deployment.id);
  });

  it('refuses a new id while jobs are running, naming how many and one run; changes nothing', async () => {
    const old = await h.store.deployment(1000);
    await h.store.createTenant(tenant('acme'), 1);
    await h.store.submitJobs('acme', specs('j1', 'j2', 'j3'), 2);
    for (const id of ['j1', 'j2']) {
      await h.store.planJob(ref('acme', id), plannedJob(id), { nowMs: 3 });
      expect((await h.store.startRun(ref('acme', id), `${old.id}/acme/${id}/0`, { nowMs: 4 })).ok).toBe(true);
    }
    const refused = await h.store.renewDeployment(5000);
    expect(refused).toEqual({ ok: false, code: 'illegal-transition', reason: expect.stringContaining(`2 jobs are running under deployment ${old.id} (first: acme/j1, run ${old.id}/acme/j1/0)`) });
    expect(await h.store.deployment(6000)).toEqual(old);
    expect(await h.raw('deployments')).toHaveLength(1);
    // Once they are back in the queue (their runs left to whoever owns them), the id can be replaced.
    for (const id of ['j1', 'j2']) expect((await h.store.requeueRun(ref('acme', id), 'store copied', { nowMs: 7 })).ok).toBe(true);
    const renewed = await h.store.renewDeployment(8000);
    expect(renewed.ok).toBe(true);
    expect((await h.store.getJob(ref('acme', 'j1')))?.executorRef).toBe(`${old.id}/acme/j1/0`);
  });

  it('of two renewals at once, one replaces the id and the other is refused', async () => {
    await h.store.deployment(1);
    const other = h.backend === 'postgres' ? await h.reopen() : h.store;
    const results = await Promise.all([h.store.renewDeployment(2), other.renewDeployment(3)]);
    const ok = results.filter((r) => r.ok);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    // On PostgreSQL both may run at once (one then refused); SQLite runs them one after the other (both apply).
    for (const r of results) if (!r.ok) expect(r.code).toBe('version-mismatch');
    expect((await h.raw('deployments')).filter((r) => r.current !== null)).toHaveLength(1);
  });
}
