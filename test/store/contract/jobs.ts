/** Job submission (atomic batches, ids unique per tenant), reads, filters and keyset pagination. */
import { expect, it } from 'vitest';
import type { StoredJob } from '../../../src/store/port.ts';
import type { Harness } from '../harness.ts';
import { at, instantMs, makeJob, ref, spec, specs, tenant } from '../fixtures.ts';

async function allJobs(h: Harness, tenantId: string): Promise<StoredJob[]> {
  const page = await h.store.listJobs({ tenantId }, { limit: 1000 });
  if (!page.ok) throw new Error(page.reason);
  return page.jobs;
}

export function jobContract(h: Harness): void {
  it('stores a batch as submitted, version 1, every field as given, with a submit event each', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    const a = spec(makeJob('train-1').class('training').pool('ai').units(8).duration(5400.5).release('2026-06-01T03:00Z').deadline('2026-06-03T00:00Z').input(12.5).interruptible().allowed('hami', 'qingyang'));
    const b = spec(makeJob('backup.7').class('backup').pool('general').units(1).at('beijing').allowed());
    const result = await h.store.submitJobs('acme', [a, b], at(5));
    if (!result.ok) throw new Error(result.reason);
    expect(result.jobs.map((j) => j.job)).toEqual([
      { ...a, tenant: 'acme' },
      { ...b, tenant: 'acme' },
    ]);
    for (const stored of result.jobs) {
      expect(stored).toMatchObject({ status: 'submitted', version: 1, plan: null, executorRef: null, submittedMs: at(5), updatedMs: at(5) });
      expect(await h.store.getJob(ref('acme', stored.job.id))).toEqual(stored);
      expect(await h.store.jobEvents(ref('acme', stored.job.id))).toEqual([
        { tenantId: 'acme', jobId: stored.job.id, version: 1, atMs: at(5), name: 'submit', from: null, to: 'submitted', detail: {} },
      ]);
    }
    expect(await h.store.getJob(ref('acme', 'nope'))).toBeNull();
    expect(await h.store.getJob(ref('other', 'train-1'))).toBeNull();
  });

  it('keeps a job\'s command (null without one) and refuses one too long', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    const withCommand = { ...spec(makeJob('cmd')), command: 'srun python train.py --epochs 3' };
    const result = await h.store.submitJobs('acme', [withCommand, spec(makeJob('plain'))], at(5));
    if (!result.ok) throw new Error(result.reason);
    expect(result.jobs.map((j) => j.command)).toEqual(['srun python train.py --epochs 3', null]);
    expect((await h.store.getJob(ref('acme', 'cmd')))!.command).toBe('srun python train.py --epochs 3');
    expect((await h.store.getJob(ref('acme', 'plain')))!.command).toBeNull();
    const long = await h.store.submitJobs('acme', [{ ...spec(makeJob('long')), command: 'x'.repeat(65_537) }], at(6));
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.reason).toMatch(/job long: command must be a string of at most 65536 characters/);
    expect(await h.store.getJob(ref('acme', 'long'))).toBeNull();
  });

  it('keeps text exactly, whatever characters it holds, and a batch of thousands whole', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    // PostgreSQL passes a batch's columns as arrays: quotes, braces, commas, backslashes, NULL and newlines must survive.
    const command = 'echo "a,b" {c} \\ \'d\' NULL\n\tsrun --comment="{\\"x\\": [1, 2]}"';
    const odd = { ...spec(makeJob('id.with-odd_chars:1').allowed('hami', 'qingyang')), command };
    const many = specs(...Array.from({ length: 1200 }, (_, i) => `bulk-${i}`));
    const result = await h.store.submitJobs('acme', [odd, { ...spec(makeJob('NULL')), command: 'NULL' }, ...many], at(5));
    if (!result.ok) throw new Error(result.reason);
    expect((await h.store.getJob(ref('acme', 'id.with-odd_chars:1')))).toMatchObject({ command, job: { allowedSites: ['hami', 'qingyang'] } });
    expect((await h.store.getJob(ref('acme', 'NULL')))!.command).toBe('NULL');
    expect((await h.store.getJob(ref('acme', 'bulk-1199')))!.job).toEqual({ ...many[1199], tenant: 'acme' });
    expect(await allJobs(h, 'acme')).toHaveLength(1000);
    expect(await h.store.jobEvents(ref('acme', 'bulk-1199'))).toHaveLength(1);
  });

  it('stores nothing of a batch with one bad job, and names it', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    const bad = [
      { ...spec(makeJob('bad')), units: 0 },
      { ...spec(makeJob('bad')), units: 1.5 },
      { ...spec(makeJob('bad')), durationS: Number.NaN },
      { ...spec(makeJob('bad')), deadlineMs: instantMs('2026-05-01T00:00Z') },
      { ...spec(makeJob('bad')), class: 'mining' as never },
      { ...spec(makeJob('bad')), poolClass: 'gpu' as never },
      { ...spec(makeJob('bad')), allowedSites: [''] },
      { ...spec(makeJob('bad')), id: 'has/slash' },
      { ...spec(makeJob('bad')), id: '' },
    ];
    for (const job of bad) {
      const result = await h.store.submitJobs('acme', [...specs('ok1', 'ok2'), job], 2);
      expect(result).toMatchObject({ ok: false, code: 'invalid' });
      expect(!result.ok && result.reason).toMatch(/^jobs\[2\]: /);
    }
    expect(await h.store.submitJobs('acme', specs('a', 'b', 'a'), 2)).toMatchObject({ ok: false, code: 'invalid', reason: 'jobs[2]: job id a appears twice in the batch' });
    expect(await h.store.submitJobs('acme', [], 2)).toMatchObject({ ok: false, code: 'invalid' });
    expect(await h.store.submitJobs('nobody', specs('x'), 2)).toMatchObject({ ok: false, code: 'not-found', reason: 'no tenant nobody' });
    expect(await allJobs(h, 'acme')).toEqual([]);
    expect(await h.raw('job_events')).toEqual([]);
  });

  it('refuses a whole batch, however large, when one id is taken; ids are unique per tenant only', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    await h.store.createTenant(tenant('beta'), 1);
    expect((await h.store.submitJobs('acme', specs('taken'), 2)).ok).toBe(true);
    // 1,200 jobs span three INSERT statements; the taken id is in the last one.
    const batch = [...Array.from({ length: 1199 }, (_, i) => spec(makeJob(`n${i}`))), spec(makeJob('taken'))];
    expect(await h.store.submitJobs('acme', batch, 3)).toMatchObject({ ok: false, code: 'duplicate', reason: 'tenant acme already has job taken' });
    expect((await allJobs(h, 'acme')).map((j) => j.job.id)).toEqual(['taken']);
    expect(await h.raw('job_events')).toHaveLength(1);

    const ok = await h.store.submitJobs('beta', batch, 4);
    expect(ok.ok && ok.jobs.length).toBe(1200);
    const page = await h.store.listJobs({ tenantId: 'beta' }, { limit: 1000 });
    expect(page.ok && page.jobs.length).toBe(1000);
  });

  it('filters by tenant, status, class, pool class and last change', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    await h.store.createTenant(tenant('beta'), 1);
    await h.store.submitJobs('acme', [spec(makeJob('a1').class('training')), spec(makeJob('a2').class('backup').pool('general')), spec(makeJob('a3').class('hpc').pool('hpc'))], at(1));
    await h.store.submitJobs('beta', [spec(makeJob('b1').class('backup').pool('general'))], at(2));
    await h.store.cancel(ref('acme', 'a3'), { nowMs: at(3) });
    const ids = async (filter: Parameters<typeof h.store.listJobs>[0]) => {
      const page = await h.store.listJobs(filter);
      if (!page.ok) throw new Error(page.reason);
      return page.jobs.map((j) => `${j.job.tenant}/${j.job.id}`);
    };
    expect(await ids({})).toEqual(['acme/a1', 'acme/a2', 'acme/a3', 'beta/b1']);
    expect(await ids({ tenantId: 'beta' })).toEqual(['beta/b1']);
    expect(await ids({ class: 'backup' })).toEqual(['acme/a2', 'beta/b1']);
    expect(await ids({ poolClass: 'hpc' })).toEqual(['acme/a3']);
    expect(await ids({ statuses: ['cancelled'] })).toEqual(['acme/a3']);
    expect(await ids({ statuses: ['submitted', 'cancelled'], tenantId: 'acme', class: 'training' })).toEqual(['acme/a1']);
    expect(await ids({ statuses: [] })).toEqual([]);
    expect(await ids({ updatedSinceMs: at(3) })).toEqual(['acme/a3']);
    expect(await ids({ updatedSinceMs: at(2) })).toEqual(['acme/a3', 'beta/b1']);
    expect(await ids({ statuses: ['submitted'], updatedSinceMs: at(4) })).toEqual([]);
  });

  it('pages by (submitted, tenant, id) compared bytewise; pages stay stable while jobs are added after them', async () => {
    for (const t of ['Zed', 'acme']) await h.store.createTenant(tenant(t), 1);
    // Two submissions at the same instant from two tenants, mixed-case ids: ordering must not depend on locale.
    for (const [t, ids, minute] of [['acme', ['b', 'B', 'a', 'A', 'a_1', '0', 'a-1', 'a.1'], 1], ['Zed', ['z', 'Z', 'y'], 1], ['acme', ['later', 'Later'], 2]] as const) {
      expect((await h.store.submitJobs(t, specs(...ids), at(minute))).ok).toBe(true);
    }
    const expected = ['Zed/Z', 'Zed/y', 'Zed/z', 'acme/0', 'acme/A', 'acme/B', 'acme/a', 'acme/a-1', 'acme/a.1', 'acme/a_1', 'acme/b', 'acme/Later', 'acme/later'];

    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page = await h.store.listJobs({}, { limit: 4, after });
      if (!page.ok) throw new Error(page.reason);
      seen.push(...page.jobs.map((j) => `${j.job.tenant}/${j.job.id}`));
      after = page.next;
      pages += 1;
      // New work arriving while a client pages sorts after every page already given.
      if (pages === 1) await h.store.submitJobs('acme', specs('newest'), at(3));
    } while (after);
    expect(seen).toEqual([...expected, 'acme/newest']);
    expect(pages).toBe(4);

    const exact = await h.store.listJobs({ tenantId: 'Zed' }, { limit: 3 });
    expect(exact.ok && exact.next).toBeNull();
  });

  it('refuses a bad page request', async () => {
    for (const limit of [0, 1001, 2.5]) expect(await h.store.listJobs({}, { limit })).toMatchObject({ ok: false, code: 'invalid' });
    for (const after of ['not-a-cursor', Buffer.from('[1,2]').toString('base64url')]) expect(await h.store.listJobs({}, { after })).toMatchObject({ ok: false, code: 'invalid' });
  });
}
