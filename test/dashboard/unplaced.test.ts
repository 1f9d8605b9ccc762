/**
 * Never silent (issue 10): jobs the dispatch loop cannot place show why through the API (`GET /v1/jobs/{id}` and
 * `/plan`), the dashboard's `GET /v1/dashboard/unplaced` and the metrics; a job whose deadline no site can reach is
 * missed at once with why. The service of fixtures.ts (app.inject, a manual clock, the simulated executor), on SQLite
 * and, with KUMUL_TEST_PG, on PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { API_BACKENDS } from '../api/fixtures.ts';
import { HOUR, NOW, dispatchLoop, spec, useDashboard } from './fixtures.ts';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

for (const backend of API_BACKENDS) describe(backend, () => {
  const h = useDashboard(backend);

  async function labKey(): Promise<string> {
    const created = await h.f.store.createApiKey('lab', 'test', NOW);
    if (!created.ok) throw new Error(created.reason);
    return created.plaintext;
  }
  const get = (url: string, key?: string) => h.f.app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('shows why jobs have no place in the job, its plan, the dashboard and the metrics; misses at once a job that cannot reach its deadline', async () => {
    const { store, clock, ctx } = h.f;
    const key = await labKey();
    // Submitted before the network changed (the API checks pools and sites at submission): 100 accelerators, more
    // than any pool has; a region with no site; and 50,000 GB to move from beijing to hami at 10 Gbit/s (11.1 h)
    // before a deadline 6 h away.
    const submitted = await store.submitJobs(
      'lab',
      [
        spec('huge', { units: 100 }),
        spec('nowhere', { units: 4, allowedSites: ['lhasa'] }),
        spec('far', { units: 8, origin: 'beijing', allowedSites: ['hami'], inputGb: 50_000, durationS: 3600, releaseMs: NOW, deadlineMs: NOW + 6 * HOUR }),
      ],
      NOW,
    );
    expect(submitted.ok).toBe(true);
    const loop = dispatchLoop(h.f);
    await loop.tick();

    const plan = await get('/v1/jobs/huge/plan', key);
    expect(plan.statusCode).toBe(200);
    expect(plan.json()).toEqual({
      id: 'huge',
      tenant: 'lab',
      status: 'submitted',
      version: 2,
      plan: null,
      unplaced: {
        at: iso(NOW),
        since: iso(NOW),
        codes: ['too few units', 'no ai pool'],
        reasons: ['0/3 sites can run it: 2 too few units, 1 no ai pool', 'hami: needs 100 units, ai pool has 64', 'beijing: needs 100 units, ai pool has 8', 'zhengzhou: no ai pool'],
      },
    });
    expect((await get('/v1/jobs/huge', key)).json().unplaced).toEqual(plan.json().unplaced);
    expect((await get('/v1/jobs/nowhere/plan', key)).json()).toMatchObject({ status: 'submitted', plan: null, unplaced: { codes: ['not allowed'], reasons: ['0/3 sites can run it: 3 not allowed', "hami: not in the job's allowed sites (data residency)", "beijing: not in the job's allowed sites (data residency)", "zhengzhou: not in the job's allowed sites (data residency)"] } });

    const far = (await get('/v1/jobs/far/plan', key)).json();
    expect(far).toMatchObject({ status: 'missed', version: 2, plan: null, unplaced: { at: iso(NOW), codes: ['cannot finish by the deadline', 'not allowed'] } });
    expect(far.unplaced.reasons[0]).toBe('0/3 sites can run it: 1 cannot finish by the deadline, 2 not allowed');
    expect(far.unplaced.reasons).toContain('hami: cannot finish by the deadline after moving 50000 GB (11.1 h): needs 1 h 00 min, 0 s left');
    const events = (await get('/v1/jobs/far/events', key)).json().events;
    expect(events.at(-1)).toMatchObject({ name: 'markMissed', at: iso(NOW), from: 'submitted', to: 'missed', detail: { reason: far.unplaced.reasons[0] } });

    // The dashboard's summary: every tenant's waiting jobs by reason, no ids, no key.
    const summary = await get('/v1/dashboard/unplaced');
    expect(summary.statusCode).toBe(200);
    expect(summary.json()).toEqual({ nowMs: NOW, jobs: 2, reasons: [{ reason: 'no ai pool', jobs: 1 }, { reason: 'not allowed', jobs: 1 }, { reason: 'too few units', jobs: 1 }] });

    const metrics = ctx.metrics.render();
    for (const reason of ['too few units', 'no ai pool', 'not allowed']) expect(metrics).toContain(`kumul_jobs_unplaced{reason="${reason}"} 1`);
    expect(metrics).toContain('kumul_jobs_missed_total{reason="cannot finish by the deadline"} 1');

    // Hours of cycles later: the same reasons as of the latest cycle, the same version, no new events.
    for (let i = 0; i < 4; i++) {
      clock.advance(HOUR);
      await loop.tick();
    }
    expect((await get('/v1/jobs/huge/plan', key)).json()).toMatchObject({ version: 2, unplaced: { at: iso(NOW + 4 * HOUR), since: iso(NOW) } });
    expect((await get('/v1/jobs/huge/events', key)).json().events.map((e: { name: string }) => e.name)).toEqual(['submit', 'noteUnplaced']);
    expect((await h.f.app.inject({ method: 'POST', url: '/v1/jobs/huge/cancel?expectedVersion=2', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(200);
    await loop.tick();
    expect((await get('/v1/dashboard/unplaced')).json()).toMatchObject({ jobs: 1, reasons: [{ reason: 'not allowed', jobs: 1 }] });
    expect(ctx.metrics.render()).toContain('kumul_jobs_unplaced{reason="too few units"} 0');
  });

  it('answers no jobs and no reasons when every job has a place', async () => {
    expect((await get('/v1/dashboard/unplaced')).json()).toEqual({ nowMs: NOW, jobs: 0, reasons: [] });
  });
});
