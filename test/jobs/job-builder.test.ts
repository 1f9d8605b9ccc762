import { describe, expect, it } from 'vitest';
import { durationS, instantMs, makeJob, makeJobs } from '../fixtures/job-builder.ts';

const H = 3_600_000;
const JUNE_1 = Date.UTC(2026, 5, 1);

describe('job builder', () => {
  it('has the documented defaults', () => {
    expect(makeJob('a').build()).toEqual({
      id: 'a',
      tenant: 't1',
      class: 'training',
      poolClass: 'ai',
      units: 1,
      durationS: 3600,
      releaseMs: JUNE_1,
      deadlineMs: JUNE_1 + 24 * H,
      origin: 'hami',
      inputGb: 0,
      interruptible: false,
      allowedSites: null,
    });
  });

  it('sets every field fluently', () => {
    const job = makeJob('b')
      .tenant('t2')
      .class('inference')
      .pool('general')
      .units(8)
      .duration('2h')
      .release('2026-06-01T03:00Z')
      .deadline('4h')
      .interruptible()
      .at('beijing')
      .allowed('hami', 'beijing')
      .input(50)
      .build();
    expect(job).toEqual({
      id: 'b',
      tenant: 't2',
      class: 'inference',
      poolClass: 'general',
      units: 8,
      durationS: 7200,
      releaseMs: JUNE_1 + 3 * H,
      deadlineMs: JUNE_1 + 7 * H,
      origin: 'beijing',
      inputGb: 50,
      interruptible: true,
      allowedSites: ['hami', 'beijing'],
    });
  });

  it('keeps a relative deadline relative to release, whatever the order of calls', () => {
    expect(makeJob().deadline('4h').release('2026-06-02T00:00Z').build().deadlineMs).toBe(JUNE_1 + 28 * H);
    expect(makeJob().deadline('2026-06-01T10:00Z').release('2026-06-01T05:00Z').build().deadlineMs).toBe(JUNE_1 + 10 * H);
  });

  it('gives fresh ids and independent jobs', () => {
    const a = makeJob().allowed('hami');
    const first = a.build();
    const second = a.build();
    first.allowedSites?.push('beijing');
    expect(second.allowedSites).toEqual(['hami']);
    expect(makeJob().build().id).not.toBe(makeJob().build().id);
  });

  it('makeJobs builds a table, ids j0 … j(n-1)', () => {
    const jobs = makeJobs(3, (b, i) => b.units(i + 1).release(JUNE_1 + i * H));
    expect(jobs.map((j) => [j.id, j.units, j.releaseMs, j.deadlineMs - j.releaseMs])).toEqual([
      ['j0', 1, JUNE_1, 24 * H],
      ['j1', 2, JUNE_1 + H, 24 * H],
      ['j2', 3, JUNE_1 + 2 * H, 24 * H],
    ]);
  });

  it.each([
    ['30s', 30],
    ['90m', 5400],
    ['2h', 7200],
    ['1d', 86_400],
    ['1.5h', 5400],
  ])('duration %s is %d s', (text, seconds) => {
    expect(durationS(text)).toBe(seconds);
  });

  it('rejects bad durations and instants loudly', () => {
    expect(() => durationS('2 h')).toThrow("duration '2 h'");
    expect(() => instantMs('2026-06-01')).toThrow("'2026-06-01' is not");
  });
});
