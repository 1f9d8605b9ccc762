/**
 * The job lifecycle: every (transition, state) pair against a table written here independently of
 * src/store/lifecycle.ts, the plan and executor ref each transition records, events, optimistic versions,
 * and executor-ref idempotency.
 */
import { expect, it } from 'vitest';
import type { JobRef, JobStatus, Store, TransitionName, TransitionOptions, TransitionResult } from '../../../src/store/port.ts';
import type { Harness } from '../harness.ts';
import { at, plannedJob, ref, specs, tenant } from '../fixtures.ts';

const NOT_FINAL: JobStatus[] = ['submitted', 'planned', 'transferring', 'running', 'paused'];
const ALL: JobStatus[] = [...NOT_FINAL, 'succeeded', 'failed', 'cancelled', 'missed'];

/** The lifecycle the port promises. */
const LEGAL: Record<TransitionName, { from: JobStatus[]; to: JobStatus }> = {
  planJob: { from: ['submitted', 'planned'], to: 'planned' },
  unplanJob: { from: ['planned'], to: 'submitted' },
  noteUnplaced: { from: ['submitted'], to: 'submitted' },
  startTransfer: { from: ['planned'], to: 'transferring' },
  startRun: { from: ['planned', 'transferring'], to: 'running' },
  pauseRun: { from: ['running'], to: 'paused' },
  resumeRun: { from: ['paused'], to: 'running' },
  replanPaused: { from: ['paused'], to: 'paused' },
  requeueRun: { from: ['running', 'paused'], to: 'submitted' },
  succeed: { from: ['running'], to: 'succeeded' },
  fail: { from: NOT_FINAL, to: 'failed' },
  cancel: { from: NOT_FINAL, to: 'cancelled' },
  markMissed: { from: NOT_FINAL, to: 'missed' },
};

/** Applies a transition by name with typical arguments; executor refs end in `tag`, so calls with different tags never replay. */
function apply(store: Store, name: TransitionName, r: JobRef, options: TransitionOptions, tag = 'path'): Promise<TransitionResult> {
  switch (name) {
    case 'planJob':
      return store.planJob(r, plannedJob(r.jobId, 'qingyang'), options);
    case 'unplanJob':
      return store.unplanJob(r, 'no capacity before the deadline', options);
    case 'noteUnplaced':
      return store.recordUnplaced([{ ref: r, codes: ['too few units'], reasons: ['0/1 sites can run it: 1 too few units', 'hami: needs 99 units'], expectedVersion: options.expectedVersion }], options.nowMs).then(([x]) => x);
    case 'startTransfer':
      return store.startTransfer(r, options);
    case 'startRun':
      return store.startRun(r, `slurm-${r.jobId}-start-${tag}`, options);
    case 'pauseRun':
      return store.pauseRun(r, options);
    case 'resumeRun':
      return store.resumeRun(r, `slurm-${r.jobId}-resume-${tag}`, options);
    case 'replanPaused':
      return store.replanPaused(r, plannedJob(r.jobId, 'hami'), options);
    case 'requeueRun':
      return store.requeueRun(r, 'partition drained', options);
    case 'succeed':
      return store.succeed(r, options);
    case 'fail':
      return store.fail(r, 'node lost', options);
    case 'cancel':
      return store.cancel(r, options);
    case 'markMissed':
      return store.markMissed(r, options);
  }
}

/** The transitions that take a fresh job to `status`. */
const PATH: Record<JobStatus, TransitionName[]> = {
  submitted: [],
  planned: ['planJob'],
  transferring: ['planJob', 'startTransfer'],
  running: ['planJob', 'startRun'],
  paused: ['planJob', 'startRun', 'pauseRun'],
  succeeded: ['planJob', 'startRun', 'succeed'],
  failed: ['fail'],
  cancelled: ['cancel'],
  missed: ['markMissed'],
};

async function expectOk(result: Promise<TransitionResult>): Promise<Extract<TransitionResult, { ok: true }>> {
  const r = await result;
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.reason}`);
  return r;
}

/** Submits `jobId` for tenant acme and moves it to `status`. */
async function jobIn(store: Store, jobId: string, status: JobStatus): Promise<JobRef> {
  const r = ref('acme', jobId);
  const submitted = await store.submitJobs('acme', specs(jobId), at(0));
  if (!submitted.ok) throw new Error(submitted.reason);
  for (const [i, name] of PATH[status].entries()) await expectOk(apply(store, name, r, { nowMs: at(i + 1) }));
  expect((await store.getJob(r))?.status).toBe(status);
  return r;
}

export function transitionContract(h: Harness): void {
  for (const name of Object.keys(LEGAL) as TransitionName[]) {
    it(`${name}: applies from ${LEGAL[name].from.join(', ')} only; elsewhere refuses with a reason and changes nothing`, async () => {
      await h.store.createTenant(tenant('acme'), 0);
      for (const status of ALL) {
        const r = await jobIn(h.store, `${name}-from-${status}`, status);
        const before = (await h.store.getJob(r))!;
        const eventsBefore = await h.store.jobEvents(r);
        const result = await apply(h.store, name, r, { nowMs: at(100) }, 'tested');
        if (LEGAL[name].from.includes(status)) {
          if (!result.ok) throw new Error(`${name} from ${status}: ${result.reason}`);
          expect(result.replayed).toBe(false);
          expect(result.job).toMatchObject({ status: LEGAL[name].to, version: before.version + 1, updatedMs: at(100) });
          expect(await h.store.getJob(r)).toEqual(result.job);
          const events = await h.store.jobEvents(r);
          expect(events.slice(0, -1)).toEqual(eventsBefore);
          expect(events.at(-1)).toMatchObject({ version: before.version + 1, atMs: at(100), name, from: status, to: LEGAL[name].to });
        } else {
          expect(result).toMatchObject({ ok: false, code: 'illegal-transition' });
          expect(!result.ok && result.reason).toBe(`job ${r.jobId} is ${status}; cannot ${name} (allowed from ${LEGAL[name].from.join(', ')})`);
          expect(await h.store.getJob(r)).toEqual(before);
          expect(await h.store.jobEvents(r)).toEqual(eventsBefore);
        }
      }
    });
  }

  it('keeps the plan and executor refs each transition records, and says so in the events', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    const r = ref('acme', 'j1');
    await h.store.submitJobs('acme', specs('j1'), at(0));
    const first = plannedJob('j1', 'hami', '2026-06-01T02:00:00.000Z');
    const second = plannedJob('j1', 'qingyang', '2026-06-01T05:00:00.000Z', 2);
    const rest = plannedJob('j1', 'qingyang', '2026-06-01T09:00:00.000Z');
    expect((await expectOk(h.store.planJob(r, first, { nowMs: at(1) }))).job.plan).toEqual(first);
    expect((await expectOk(h.store.planJob(r, second, { nowMs: at(2) }))).job.plan).toEqual(second);
    await expectOk(h.store.startTransfer(r, { nowMs: at(3) }));
    const running = await expectOk(h.store.startRun(r, 'slurm:4242', { nowMs: at(4), detail: { site: 'qingyang', executorRef: 'ignored' } }));
    expect(running.job).toMatchObject({ status: 'running', executorRef: 'slurm:4242', plan: second });
    expect((await expectOk(h.store.pauseRun(r, { nowMs: at(5), plan: rest }))).job).toMatchObject({ status: 'paused', plan: rest, executorRef: 'slurm:4242' });
    expect((await expectOk(h.store.resumeRun(r, 'slurm:4300', { nowMs: at(6) }))).job).toMatchObject({ status: 'running', plan: rest, executorRef: 'slurm:4300' });
    await expectOk(h.store.succeed(r, { nowMs: at(7) }));
    expect(await h.store.findJobByExecutorRef('slurm:4300')).toMatchObject({ job: { id: 'j1' }, status: 'succeeded' });
    expect(await h.store.findJobByExecutorRef('slurm:4242')).toBeNull();

    const events = await h.store.jobEvents(r);
    expect(events.map((e) => [e.version, e.atMs, e.name, e.from, e.to])).toEqual([
      [1, at(0), 'submit', null, 'submitted'],
      [2, at(1), 'planJob', 'submitted', 'planned'],
      [3, at(2), 'planJob', 'planned', 'planned'],
      [4, at(3), 'startTransfer', 'planned', 'transferring'],
      [5, at(4), 'startRun', 'transferring', 'running'],
      [6, at(5), 'pauseRun', 'running', 'paused'],
      [7, at(6), 'resumeRun', 'paused', 'running'],
      [8, at(7), 'succeed', 'running', 'succeeded'],
    ]);
    expect(events[2].detail).toEqual({ site: 'qingyang', pool: 'qingyang-ai', start: '2026-06-01T05:00:00.000Z', end: '2026-06-01T07:00:00.000Z' });
    expect(events[4].detail).toEqual({ site: 'qingyang', executorRef: 'slurm:4242' });
    expect(events[6].detail).toEqual({ executorRef: 'slurm:4300' });
  });

  it('requeueRun clears the plan, keeps the last executor ref and records its reason', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    const r = await jobIn(h.store, 'j1', 'running');
    const before = (await h.store.getJob(r))!.executorRef;
    const requeued = (await expectOk(h.store.requeueRun(r, 'partition hami drained', { nowMs: at(9) }))).job;
    expect(requeued).toMatchObject({ status: 'submitted', plan: null, executorRef: before });
    expect((await h.store.jobEvents(r)).at(-1)!.detail).toEqual({ reason: 'partition hami drained' });
  });

  it('unplanJob clears the plan; fail records its reason', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    const r = await jobIn(h.store, 'j1', 'planned');
    expect((await expectOk(h.store.unplanJob(r, 'site down', { nowMs: at(9) }))).job).toMatchObject({ status: 'submitted', plan: null });
    await expectOk(h.store.fail(r, 'input data deleted', { nowMs: at(10) }));
    expect((await h.store.jobEvents(r)).map((e) => e.detail)).toEqual([{}, expect.objectContaining({ site: 'qingyang' }), { reason: 'site down' }, { reason: 'input data deleted' }]);
  });

  it('planJobs applies a cycle’s plans in one call, refusing items one by one', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    const fresh = await jobIn(h.store, 'fresh', 'submitted');
    const again = await jobIn(h.store, 'again', 'planned');
    const done = await jobIn(h.store, 'done', 'succeeded');
    const stale = await jobIn(h.store, 'stale', 'planned');
    const results = await h.store.planJobs(
      [
        { ref: fresh, plan: plannedJob('fresh', 'hami') },
        { ref: done, plan: plannedJob('done', 'hami') },
        { ref: again, plan: plannedJob('again', 'hami'), expectedVersion: 2 },
        { ref: stale, plan: plannedJob('stale', 'hami'), expectedVersion: 1 },
        { ref: ref('acme', 'ghost'), plan: plannedJob('ghost', 'hami') },
      ],
      at(50),
    );
    expect(results.map((r) => (r.ok ? `${r.job.job.id}:${r.job.status}:v${r.job.version}` : r.code))).toEqual([
      'fresh:planned:v2',
      'illegal-transition',
      'again:planned:v3',
      'version-mismatch',
      'not-found',
    ]);
    expect((await h.store.getJob(fresh))?.plan?.site).toBe('hami');
    expect((await h.store.getJob(stale))).toMatchObject({ version: 2, plan: { site: 'qingyang' } });
    expect((await h.store.jobEvents(done)).length).toBe(4);
    expect(await h.store.planJobs([], at(51))).toEqual([]);
  });

  it('recordUnplaced stores why a waiting job has no place; the same codes again change no version and add no event', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    const r = await jobIn(h.store, 'j1', 'submitted');
    const first = { codes: ['too few units', 'not allowed'], reasons: ['0/2 sites can run it: 1 too few units, 1 not allowed', 'hami: needs 99 units, ai pool has 64', "beijing: not in the job's allowed sites"] };
    const [noted] = await h.store.recordUnplaced([{ ref: r, ...first, expectedVersion: 1 }], at(10));
    expect(noted).toMatchObject({ ok: true, replayed: false, job: { status: 'submitted', version: 2, updatedMs: at(10), unplaced: { atMs: at(10), sinceMs: at(10), ...first } } });
    expect(await h.store.getJob(r)).toEqual(noted.ok && noted.job);
    expect((await h.store.jobEvents(r)).at(-1)).toMatchObject({ version: 2, name: 'noteUnplaced', from: 'submitted', to: 'submitted', detail: { reason: first.reasons[0], ...first } });

    // Next cycles: the same codes (in any order), with other text: stored in place, version and events unchanged.
    const again = { codes: ['not allowed', 'too few units'], reasons: ['0/2 sites can run it: 1 not allowed, 1 too few units', 'hami: needs 99 units, ai pool has 48'] };
    for (const minute of [20, 30]) {
      const [same] = await h.store.recordUnplaced([{ ref: r, ...again, expectedVersion: 2 }], at(minute));
      expect(same).toMatchObject({ ok: true, replayed: true, job: { version: 2, updatedMs: at(10), unplaced: { atMs: at(minute), sinceMs: at(10), codes: first.codes, reasons: again.reasons } } });
    }
    expect((await h.store.jobEvents(r)).length).toBe(2);
    // A stale version changes nothing, even for the same codes.
    expect(await h.store.recordUnplaced([{ ref: r, ...again, expectedVersion: 1 }], at(35))).toEqual([{ ok: false, code: 'version-mismatch', reason: 'job j1 is at version 2, not 1' }]);
    expect((await h.store.getJob(r))?.unplaced?.atMs).toBe(at(30));

    // Other codes: a new event, and the reasons start again.
    const [changed] = await h.store.recordUnplaced([{ ref: r, codes: ['no free capacity in its window'], reasons: ['0/2 sites can run it: 2 no free capacity in its window'] }], at(40));
    expect(changed).toMatchObject({ ok: true, replayed: false, job: { version: 3, unplaced: { atMs: at(40), sinceMs: at(40), codes: ['no free capacity in its window'] } } });
    expect((await h.store.jobEvents(r)).map((e) => e.name)).toEqual(['submit', 'noteUnplaced', 'noteUnplaced']);

    // A plan clears them; unplanJob with reasons stores them again and clears the plan.
    expect((await expectOk(h.store.planJob(r, plannedJob('j1'), { nowMs: at(50) }))).job.unplaced).toBeNull();
    const unplanned = await expectOk(h.store.unplanJob(r, 'ignored', { nowMs: at(60), unplaced: first }));
    expect(unplanned.job).toMatchObject({ status: 'submitted', plan: null, version: 5, unplaced: { atMs: at(60), sinceMs: at(60), ...first } });
    expect((await h.store.jobEvents(r)).at(-1)).toMatchObject({ name: 'unplanJob', detail: { reason: first.reasons[0], codes: first.codes } });
  });

  it('recordUnplaced refuses items one by one: other states, unknown jobs, empty reasons; keeps at most 64 lines', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    const waiting = await jobIn(h.store, 'waiting', 'submitted');
    const planned = await jobIn(h.store, 'planned', 'planned');
    const many = await jobIn(h.store, 'many', 'submitted');
    const lines = ['0/100 sites can run it: 100 too few units', ...Array.from({ length: 100 }, (_, i) => `site-${i}: needs 99 units`)];
    const results = await h.store.recordUnplaced(
      [
        { ref: waiting, codes: ['no route'], reasons: ['0/1 sites can run it: 1 no route'] },
        { ref: planned, codes: ['no route'], reasons: ['0/1 sites can run it: 1 no route'] },
        { ref: ref('acme', 'ghost'), codes: ['no route'], reasons: ['x'] },
        { ref: waiting, codes: [], reasons: ['x'] },
        { ref: many, codes: ['too few units', 'too few units'], reasons: lines },
      ],
      at(10),
    );
    expect(results.map((x) => (x.ok ? `${x.job.job.id}:v${x.job.version}` : x.code))).toEqual(['waiting:v2', 'illegal-transition', 'not-found', 'invalid', 'many:v2']);
    expect(await h.store.getJob(planned)).toMatchObject({ status: 'planned', version: 2, unplaced: null });
    const kept = (await h.store.getJob(many))!.unplaced!;
    expect(kept.codes).toEqual(['too few units']);
    expect(kept.reasons).toHaveLength(64);
    expect(kept.reasons[0]).toBe(lines[0]);
    expect(kept.reasons[63]).toBe('… and 38 more');
    expect(await h.store.recordUnplaced([], at(11))).toEqual([]);
  });

  it('markMissed with reasons stores them and puts them in its event', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    const r = await jobIn(h.store, 'j1', 'submitted');
    const why = { codes: ['cannot finish by the deadline'], reasons: ['0/1 sites can run it: 1 cannot finish by the deadline', 'hami: cannot finish by the deadline: needs 2 h 00 min, 1 h 00 min left'] };
    const missed = await expectOk(h.store.markMissed(r, { nowMs: at(10), expectedVersion: 1, unplaced: why }));
    expect(missed.job).toMatchObject({ status: 'missed', version: 2, unplaced: { atMs: at(10), sinceMs: at(10), ...why } });
    expect((await h.store.jobEvents(r)).at(-1)).toMatchObject({ name: 'markMissed', from: 'submitted', to: 'missed', detail: { reason: why.reasons[0], ...why } });
    expect(await h.store.markMissed(await jobIn(h.store, 'j2', 'submitted'), { nowMs: at(11), unplaced: { codes: ['x'], reasons: [] } })).toMatchObject({ ok: false, code: 'invalid' });
  });

  it('applies with the expected version only; refuses an unknown job', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    const r = await jobIn(h.store, 'j1', 'planned');
    expect(await h.store.startTransfer(r, { nowMs: at(9), expectedVersion: 1 })).toEqual({ ok: false, code: 'version-mismatch', reason: 'job j1 is at version 2, not 1' });
    expect((await h.store.getJob(r))?.status).toBe('planned');
    expect((await h.store.jobEvents(r)).length).toBe(2);
    expect((await expectOk(h.store.startTransfer(r, { nowMs: at(9), expectedVersion: 2 }))).job.version).toBe(3);
    expect(await h.store.cancel(ref('acme', 'nope'), { nowMs: at(9) })).toEqual({ ok: false, code: 'not-found', reason: 'no job nope for tenant acme' });
    expect(await h.store.cancel(ref('beta', 'j1'), { nowMs: at(9) })).toMatchObject({ ok: false, code: 'not-found' });
  });

  it('startRun with the executor ref already recorded returns the job as it is, at any later state', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    const r = await jobIn(h.store, 'j1', 'planned');
    const started = await expectOk(h.store.startRun(r, 'slurm:7', { nowMs: at(10) }));
    // A restart that cannot tell whether its startRun landed calls it again, even with the version it saw before.
    const again = await expectOk(h.store.startRun(r, 'slurm:7', { nowMs: at(11), expectedVersion: 2 }));
    expect(again).toEqual({ ok: true, job: started.job, replayed: true });
    expect((await h.store.jobEvents(r)).length).toBe(3);

    await expectOk(h.store.succeed(r, { nowMs: at(12) }));
    const late = await expectOk(h.store.startRun(r, 'slurm:7', { nowMs: at(13) }));
    expect(late.replayed).toBe(true);
    expect(late.job.status).toBe('succeeded');
    expect(await h.store.startRun(r, 'slurm:8', { nowMs: at(13) })).toMatchObject({ ok: false, code: 'illegal-transition' });
    expect((await h.store.jobEvents(r)).length).toBe(4);
  });

  it('resumeRun replays with the running ref, resumes in place with the paused one', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    const r = await jobIn(h.store, 'j1', 'running');
    await expectOk(h.store.pauseRun(r, { nowMs: at(10) }));
    const inPlace = await expectOk(h.store.resumeRun(r, 'slurm-j1-start-path', { nowMs: at(11) }));
    expect(inPlace).toMatchObject({ replayed: false, job: { status: 'running', executorRef: 'slurm-j1-start-path', version: 5 } });
    expect(await h.store.resumeRun(r, 'slurm-j1-start-path', { nowMs: at(12) })).toEqual({ ok: true, job: inPlace.job, replayed: true });
    expect(await h.store.resumeRun(r, 'slurm-other', { nowMs: at(12) })).toMatchObject({ ok: false, code: 'illegal-transition' });
  });

  it('refuses an executor ref another job holds, and a malformed one', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    const a = await jobIn(h.store, 'a', 'planned');
    const b = await jobIn(h.store, 'b', 'planned');
    await expectOk(h.store.startRun(a, 'slurm:1', { nowMs: at(10) }));
    expect(await h.store.startRun(b, 'slurm:1', { nowMs: at(11) })).toEqual({ ok: false, code: 'duplicate', reason: 'executor ref slurm:1 belongs to job a of tenant acme' });
    for (const bad of ['', 'has space', 'x'.repeat(257)]) expect(await h.store.startRun(b, bad, { nowMs: at(11) })).toMatchObject({ ok: false, code: 'invalid' });
    expect(await h.store.getJob(b)).toMatchObject({ status: 'planned', executorRef: null, version: 2 });
  });
}
