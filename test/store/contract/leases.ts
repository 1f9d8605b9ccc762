/**
 * Leases and fencing: one holder at a time, renewals keep the token, takeovers (expired, released, or a holder known
 * to be gone) raise it, two instances racing for a lease never both get it, and a fenced store's writes change
 * nothing once another holder has the lease (LeaseLost), while unfenced writes go on.
 */
import { expect, it } from 'vitest';
import { LeaseLost } from '../../../src/store/port.ts';
import type { Harness } from '../harness.ts';
import { at, metering, plannedJob, ref, specs, tenant } from '../fixtures.ts';

const TTL = 5_000;

export function leaseContract(h: Harness): void {
  it('is taken by the first holder, renewed by it with the same token, and refused to others until it expires', async () => {
    expect(await h.store.lease('dispatch')).toBeNull();
    const first = await h.store.acquireLease('dispatch', 'a', TTL, 1000);
    expect(first).toEqual({ ok: true, takenOver: true, lease: { name: 'dispatch', holder: 'a', token: 1, acquiredMs: 1000, expiresMs: 6000 } });
    const renewed = await h.store.acquireLease('dispatch', 'a', TTL, 3000);
    expect(renewed).toEqual({ ok: true, takenOver: false, lease: { name: 'dispatch', holder: 'a', token: 1, acquiredMs: 1000, expiresMs: 8000 } });
    const refused = await h.store.acquireLease('dispatch', 'b', TTL, 7999);
    expect(refused).toEqual({ ok: false, lease: { name: 'dispatch', holder: 'a', token: 1, acquiredMs: 1000, expiresMs: 8000 } });
    const taken = await h.store.acquireLease('dispatch', 'b', TTL, 8000);
    expect(taken).toEqual({ ok: true, takenOver: true, lease: { name: 'dispatch', holder: 'b', token: 2, acquiredMs: 8000, expiresMs: 13000 } });
    // The old holder comes back late: refused, and it does not get its token back.
    expect((await h.store.acquireLease('dispatch', 'a', TTL, 9000)).ok).toBe(false);
    expect(await h.store.lease('dispatch')).toMatchObject({ holder: 'b', token: 2 });
  });

  it('is taken over before it expires when the caller knows its holder is gone, and at once after a release', async () => {
    await h.store.acquireLease('dispatch', 'a', TTL, 1000);
    const gone = await h.store.acquireLease('dispatch', 'b', TTL, 2000, (lease) => lease.holder === 'a');
    expect(gone).toMatchObject({ ok: true, takenOver: true, lease: { holder: 'b', token: 2 } });
    await h.store.releaseLease('dispatch', 'a', 1); // a stale release changes nothing
    expect((await h.store.acquireLease('dispatch', 'c', TTL, 2500)).ok).toBe(false);
    await h.store.releaseLease('dispatch', 'b', 2);
    expect(await h.store.acquireLease('dispatch', 'c', TTL, 2500)).toMatchObject({ ok: true, lease: { holder: 'c', token: 3 } });
  });

  it('goes to exactly one of several instances racing for it', async () => {
    const stores = [h.store, await h.reopen(), await h.reopen(), await h.reopen()];
    try {
      for (const round of [1, 2, 3]) {
        const nowMs = round * 100_000;
        const results = await Promise.all(stores.map((s, i) => s.acquireLease('dispatch', `r${round}i${i}`, TTL, nowMs)));
        expect(results.filter((r) => r.ok).length, `round ${round}`).toBe(1);
        const winner = results.find((r) => r.ok)!;
        expect(winner.lease.token).toBe(round);
      }
    } finally {
      for (const s of stores.slice(1)) await s.close();
    }
  });

  it('lets a fenced store write while its lease holds; once taken over, its writes throw LeaseLost and change nothing', async () => {
    await h.store.createTenant(tenant('lab'), at(0));
    await h.store.submitJobs('lab', specs('j1', 'j2'), at(0));
    const a = await h.store.acquireLease('dispatch', 'a', TTL, at(0));
    if (!a.ok) throw new Error('no lease');
    const fenced = h.store.fenced({ name: 'dispatch', holder: 'a', token: a.lease.token });
    expect((await fenced.planJob(ref('lab', 'j1'), plannedJob('j1'), { nowMs: at(1) })).ok).toBe(true);
    expect((await fenced.planJobs([{ ref: ref('lab', 'j2'), plan: plannedJob('j2') }], at(1)))[0].ok).toBe(true);
    expect((await fenced.startRun(ref('lab', 'j1'), 'lab/j1/0', { nowMs: at(2) })).ok).toBe(true);

    // Another instance takes the lease (the first one paused past its lease).
    expect((await h.store.acquireLease('dispatch', 'b', TTL, at(0) + TTL)).ok).toBe(true);
    const before = await h.store.getJob(ref('lab', 'j1'));
    await expect(fenced.succeed(ref('lab', 'j1'), { nowMs: at(3) })).rejects.toBeInstanceOf(LeaseLost);
    await expect(fenced.startRun(ref('lab', 'j2'), 'lab/j2/0', { nowMs: at(3) })).rejects.toThrow(/lease dispatch lost: a held it at token 1, b holds it at token 2/);
    await expect(fenced.recordMetering(metering('lab', 'j1', 'run-0', '2026-06-01T00:02:00Z', 1), at(3))).rejects.toBeInstanceOf(LeaseLost);
    await expect(fenced.recordUnplaced([{ ref: ref('lab', 'j2'), codes: ['x'], reasons: ['y'] }], at(3))).rejects.toBeInstanceOf(LeaseLost);
    expect(await h.store.getJob(ref('lab', 'j1'))).toEqual(before);
    expect((await h.store.jobEvents(ref('lab', 'j1'))).map((e) => e.name)).toEqual(['submit', 'planJob', 'startRun']);
    expect(await h.store.jobMetering(ref('lab', 'j1'))).toEqual([]);
    // Unfenced writes (the API's) and the new holder's fenced writes go on.
    expect((await h.store.cancel(ref('lab', 'j2'), { nowMs: at(4) })).ok).toBe(true);
    const b = h.store.fenced({ name: 'dispatch', holder: 'b', token: 2 });
    expect((await b.succeed(ref('lab', 'j1'), { nowMs: at(5) })).ok).toBe(true);
  });
}

/** What instances share besides jobs: the simulated executor's runs and the service's simulated instant. */
export function runtimeStateContract(h: Harness): void {
  it('keeps the simulated executor’s runs by ref, for any instance to read', async () => {
    expect(await h.store.simulatedRun('lab/j1/0')).toBeNull();
    const run = { ref: 'lab/j1/0', request: { ref: 'lab/j1/0', units: 8, durationS: 3600 }, startedMs: null, cancelledMs: null };
    await h.store.putSimulatedRun(run);
    await h.store.putSimulatedRun({ ...run, ref: 'lab/j0/0', request: { ref: 'lab/j0/0' } });
    const other = await h.reopen();
    try {
      expect(await other.simulatedRun('lab/j1/0')).toEqual(run);
      await other.putSimulatedRun({ ...run, startedMs: 1000, cancelledMs: 2000 });
      expect(await h.store.simulatedRun('lab/j1/0')).toEqual({ ...run, startedMs: 1000, cancelledMs: 2000 });
      expect(await h.store.simulatedRunRefs()).toEqual(['lab/j0/0', 'lab/j1/0']);
    } finally {
      await other.close();
    }
  });

  it('keeps the latest simulated instant saved, never going back', async () => {
    expect(await h.store.serviceInstant()).toBeNull();
    await h.store.saveServiceInstant(5000);
    await h.store.saveServiceInstant(4000);
    expect(await h.store.serviceInstant()).toBe(5000);
    await h.store.saveServiceInstant(9000);
    expect(await h.store.serviceInstant()).toBe(9000);
  });
}
