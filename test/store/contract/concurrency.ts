/**
 * Races: two transitions on one job at once, exactly one wins and exactly one event is appended.
 * On PostgreSQL the two calls come from two store instances (two connection pools), as two service instances
 * would make them, and truly overlap. SQLite is the single-instance embedded store: the racing calls share one
 * instance, whose transactions Kysely runs one after another.
 */
import { expect, it } from 'vitest';
import type { Store, TransitionResult } from '../../../src/store/port.ts';
import type { Harness } from '../harness.ts';
import { at, plannedJob, ref, specs, tenant } from '../fixtures.ts';

const ROUNDS = 10;

async function pair(h: Harness): Promise<[Store, Store]> {
  return [h.store, h.backend === 'postgres' ? await h.reopen() : h.store];
}

function winners(results: TransitionResult[]): number {
  return results.filter((r) => r.ok).length;
}

export function concurrencyContract(h: Harness): void {
  it('of two racing cancels, startRuns with different refs, or fail against succeed, exactly one applies', async () => {
    const [one, two] = await pair(h);
    await one.createTenant(tenant('acme'), 0);
    const ids = Array.from({ length: ROUNDS }, (_, i) => `j${i}`);
    await one.submitJobs('acme', specs(...ids.flatMap((id) => [`${id}-c`, `${id}-s`, `${id}-f`])), at(0));
    for (const id of ids) {
      const c = ref('acme', `${id}-c`);
      const s = ref('acme', `${id}-s`);
      const f = ref('acme', `${id}-f`);
      const cancels = await Promise.all([one.cancel(c, { nowMs: at(1) }), two.cancel(c, { nowMs: at(1) })]);
      expect(winners(cancels)).toBe(1);
      expect(cancels.find((r) => !r.ok)).toMatchObject({ code: 'illegal-transition', reason: expect.stringMatching(/is cancelled; cannot cancel/) });

      await one.planJob(s, plannedJob(s.jobId), { nowMs: at(1) });
      const starts = await Promise.all([one.startRun(s, `${id}-A`, { nowMs: at(2) }), two.startRun(s, `${id}-B`, { nowMs: at(2) })]);
      expect(winners(starts)).toBe(1);
      const winner = starts.findIndex((r) => r.ok);
      expect((await one.getJob(s))?.executorRef).toBe(`${id}-${'AB'[winner]}`);

      await one.planJob(f, plannedJob(f.jobId), { nowMs: at(1) });
      await one.startRun(f, `${id}-F`, { nowMs: at(2) });
      const ends = await Promise.all([one.succeed(f, { nowMs: at(3) }), two.fail(f, 'lost', { nowMs: at(3) })]);
      expect(winners(ends)).toBe(1);
    }
    for (const id of ids) {
      expect((await one.jobEvents(ref('acme', `${id}-c`))).map((e) => e.name)).toEqual(['submit', 'cancel']);
      expect((await one.jobEvents(ref('acme', `${id}-s`))).map((e) => e.name)).toEqual(['submit', 'planJob', 'startRun']);
      expect((await one.jobEvents(ref('acme', `${id}-f`))).map((e) => e.version)).toEqual([1, 2, 3, 4]);
    }
  });

  it('of two re-plans pinned to the same version, exactly one applies; the other is told the version moved', async () => {
    const [one, two] = await pair(h);
    await one.createTenant(tenant('acme'), 0);
    const ids = Array.from({ length: ROUNDS }, (_, i) => `j${i}`);
    await one.submitJobs('acme', specs(...ids), at(0));
    for (const id of ids) {
      const r = ref('acme', id);
      const results = await Promise.all([
        one.planJob(r, plannedJob(id, 'hami'), { nowMs: at(1), expectedVersion: 1 }),
        two.planJob(r, plannedJob(id, 'qingyang'), { nowMs: at(1), expectedVersion: 1 }),
      ]);
      expect(winners(results)).toBe(1);
      expect(results.find((x) => !x.ok)).toMatchObject({ code: 'version-mismatch' });
      const won = results.findIndex((x) => x.ok);
      expect((await one.getJob(r))?.plan?.site).toBe(['hami', 'qingyang'][won]);
      expect(await one.jobEvents(r)).toHaveLength(2);
    }
  });

  it('a cycle’s planJobs racing cancels leaves every job cancelled with a gapless, chained history', async () => {
    const [one, two] = await pair(h);
    await one.createTenant(tenant('acme'), 0);
    const ids = Array.from({ length: 4 * ROUNDS }, (_, i) => `j${i}`);
    await one.submitJobs('acme', specs(...ids), at(0));
    const [planned, ...cancelled] = await Promise.all([
      one.planJobs(ids.map((id) => ({ ref: ref('acme', id), plan: plannedJob(id), expectedVersion: 1 })), at(1)),
      ...ids.map((id) => two.cancel(ref('acme', id), { nowMs: at(1) })),
    ]);
    expect(cancelled.every((r) => r.ok)).toBe(true);
    expect(planned.every((r) => r.ok || r.code === 'version-mismatch')).toBe(true);
    for (const id of ids) {
      const events = await one.jobEvents(ref('acme', id));
      expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
      events.slice(1).forEach((e, i) => expect(e.from).toBe(events[i].to));
      expect(events.at(-1)?.to).toBe('cancelled');
    }
  });

  it('of two batches submitting the same job id at once, exactly one is stored', async () => {
    const [one, two] = await pair(h);
    await one.createTenant(tenant('acme'), 0);
    for (let i = 0; i < ROUNDS; i++) {
      const results = await Promise.all([one.submitJobs('acme', specs(`a${i}`, `same${i}`), at(1)), two.submitJobs('acme', specs(`b${i}`, `same${i}`), at(1))]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.find((r) => !r.ok)).toMatchObject({ code: 'duplicate' });
    }
    const page = await one.listJobs({ tenantId: 'acme' });
    expect(page.ok && page.jobs.length).toBe(2 * ROUNDS);
  });
}
