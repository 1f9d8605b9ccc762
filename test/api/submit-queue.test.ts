/**
 * Group commit of submissions: requests arriving together are stored in one `submitJobs` per tenant, each keeps
 * its own all-or-nothing answer (a refused merge is retried request by request), and a store failure reaches
 * every request of its commit.
 */
import { describe, expect, test } from 'vitest';
import { SubmitQueue } from '../../src/api/submit-queue.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import type { JobSpec, Store } from '../../src/store/port.ts';
import { ApiFixture, jobBody, T0 } from './fixtures.ts';

function spec(id: string): JobSpec {
  return { id, class: 'training', poolClass: 'ai', units: 1, durationS: 600, releaseMs: T0, deadlineMs: T0 + 86_400_000, origin: 'hami', inputGb: 0, interruptible: true, allowedSites: null };
}

async function storeWithTenants(...ids: string[]): Promise<{ store: Store; calls: string[][] }> {
  const store = await openStore('sqlite::memory:');
  for (const id of ids) await store.createTenant({ id, name: id, role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
  const calls: string[][] = [];
  const submit = store.submitJobs.bind(store);
  store.submitJobs = (tenantId, jobs, nowMs) => {
    calls.push(jobs.map((j) => `${tenantId}/${j.id}`));
    return submit(tenantId, jobs, nowMs);
  };
  return { store, calls };
}

describe('SubmitQueue', () => {
  test('requests arriving together are one commit per tenant; each gets its own jobs back', async () => {
    const { store, calls } = await storeWithTenants('a', 'b');
    const queue = new SubmitQueue(store, { nowMs: () => T0 });
    const results = await Promise.all([queue.submit('a', [spec('1'), spec('2')]), queue.submit('b', [spec('1')]), queue.submit('a', [spec('3')])]);
    expect(calls).toEqual([['a/1', 'a/2', 'a/3'], ['b/1']]);
    expect(results.map((r) => (r.ok ? r.jobs.map((j) => `${j.job.tenant}/${j.job.id}`) : r.code))).toEqual([['a/1', 'a/2'], ['b/1'], ['a/3']]);
    await store.close();
  });

  test('a refused merge is retried request by request: the duplicate is refused, the others stored', async () => {
    const { store, calls } = await storeWithTenants('a');
    const queue = new SubmitQueue(store, { nowMs: () => T0 });
    const results = await Promise.all([queue.submit('a', [spec('x')]), queue.submit('a', [spec('x'), spec('y')]), queue.submit('a', [spec('z')])]);
    expect(results.map((r) => (r.ok ? r.jobs.map((j) => j.job.id) : r.code))).toEqual([['x'], 'duplicate', ['z']]);
    expect(calls).toEqual([['a/x', 'a/x', 'a/y', 'a/z'], ['a/x'], ['a/x', 'a/y'], ['a/z']]);
    expect((await store.getJob({ tenantId: 'a', jobId: 'y' })) === null).toBe(true);
    await store.close();
  });

  test('a quiet service commits each request by itself, and big rounds are split', async () => {
    const { store, calls } = await storeWithTenants('a');
    const queue = new SubmitQueue(store, { nowMs: () => T0, maxJobsPerCommit: 3 });
    await queue.submit('a', [spec('1')]);
    await queue.submit('a', [spec('2')]);
    await Promise.all([queue.submit('a', [spec('3'), spec('4')]), queue.submit('a', [spec('5')]), queue.submit('a', [spec('6'), spec('7')]), queue.submit('a', [spec('8'), spec('9'), spec('10'), spec('11')])]);
    expect(calls).toEqual([['a/1'], ['a/2'], ['a/3', 'a/4', 'a/5'], ['a/6', 'a/7'], ['a/8', 'a/9', 'a/10', 'a/11']]);
    await store.close();
  });

  test('a store failure rejects every request of its commit, and the queue goes on', async () => {
    const { store } = await storeWithTenants('a');
    const queue = new SubmitQueue(store, { nowMs: () => T0 });
    const submit = store.submitJobs;
    store.submitJobs = async () => {
      throw new Error('connection lost');
    };
    const failed = await Promise.allSettled([queue.submit('a', [spec('1')]), queue.submit('a', [spec('2')])]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    store.submitJobs = submit;
    expect((await queue.submit('a', [spec('3')])).ok).toBe(true);
    await store.close();
  });
});

describe('POST /v1/jobs under concurrency', () => {
  test('50 submissions at once, one of them a duplicate: 49 stored with 201, the duplicate 409', async () => {
    const f = await ApiFixture.open();
    try {
      const key = await f.tenant('acme');
      const ids = [...Array.from({ length: 49 }, (_, i) => `job-${i}`), 'job-7'];
      const res = await Promise.all(ids.map((id) => f.call(key, 'POST', '/v1/jobs', jobBody(id))));
      expect(res.filter((r) => r.statusCode === 201)).toHaveLength(49);
      expect(res[49].statusCode).toBe(409);
      expect(await f.jobCount()).toBe(49);
    } finally {
      await f.close();
    }
  });
});
