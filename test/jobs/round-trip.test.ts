import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JOB_CLASSES, POOL_CLASSES, type Job } from '../../src/core/model/types.ts';
import { formatJobsCsv, parseJobsCsv } from '../../src/jobs/jobs-file.ts';
import { formatInstant, parseInstantMs } from '../../src/jobs/instant.ts';

/** Names as a jobs file can hold them: any printable text without surrounding blanks (commas, quotes and | included). */
const nameArb = fc
  .string({ minLength: 1, maxLength: 12, unit: 'grapheme' })
  .filter((s) => !/\p{Cc}/u.test(s) && !/^[ \t]|[ \t]$/.test(s));
const siteArb = fc.oneof(fc.constantFrom('hami', 'beijing', 'zhengzhou'), fc.stringMatching(/^[a-z0-9_-]{1,8}$/));
const LAST_MS = Date.UTC(2100, 0, 1);

const jobArb: fc.Arbitrary<Job> = fc
  .record({
    id: nameArb,
    tenant: nameArb,
    class: fc.constantFrom(...JOB_CLASSES),
    poolClass: fc.constantFrom(...POOL_CLASSES),
    units: fc.integer({ min: 1, max: 100_000 }),
    durationS: fc.oneof(fc.integer({ min: 1, max: 10 ** 9 }), fc.double({ min: 1e-6, max: 1e9, noNaN: true })),
    releaseMs: fc.integer({ min: 0, max: LAST_MS }),
    slackMs: fc.integer({ min: 1, max: 10 ** 11 }),
    origin: siteArb,
    inputGb: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e7, noNaN: true })),
    interruptible: fc.boolean(),
    allowedSites: fc.option(fc.uniqueArray(siteArb, { minLength: 1, maxLength: 4 }), { nil: null }),
  })
  .map(({ slackMs, ...job }) => ({ ...job, deadlineMs: job.releaseMs + Math.ceil(job.durationS * 1000) + slackMs }));

describe('jobs file round trip', () => {
  it('parse(format(jobs)) gives the same jobs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(jobArb, { maxLength: 8, selector: (j) => j.id }), async (jobs) => {
        expect(await parseJobsCsv(formatJobsCsv(jobs), 'jobs.csv')).toEqual(jobs);
      }),
      { numRuns: 300 },
    );
  });

  it('format(parse(text)) is stable: a formatted file formats to itself', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(jobArb, { maxLength: 4, selector: (j) => j.id }), async (jobs) => {
        const text = formatJobsCsv(jobs);
        expect(formatJobsCsv(await parseJobsCsv(text, 'jobs.csv'))).toBe(text);
      }),
    );
  });

  it('instants round-trip through formatInstant and parseInstantMs', () => {
    const first = Date.parse('0000-01-01T00:00:00Z');
    const last = Date.parse('9999-12-31T23:59:59.999Z');
    fc.assert(fc.property(fc.integer({ min: first, max: last }), (ms) => {
      expect(parseInstantMs(formatInstant(ms))).toBe(ms);
    }));
  });
});
