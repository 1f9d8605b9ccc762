/** Recurring jobs (`src/jobs/recurring.ts`, `kumul jobs recurring`): count, local time, deadlines, bad options. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FieldError } from '../../src/jobs/errors.ts';
import { formatJobsCsv, parseJobsCsv } from '../../src/jobs/jobs-file.ts';
import { RecurringSpecError, dayOrInstantMs, durationMs, recurringJobs, timeOfDayMinutes, utcOffsetMinutes, type RecurringSpec } from '../../src/jobs/recurring.ts';

const KUMUL = fileURLToPath(new URL('../../bin/kumul.js', import.meta.url));
const kumul = (...args: string[]) => spawnSync(process.execPath, [KUMUL, ...args], { encoding: 'utf8' });

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

/** Daily 1-hour jobs at 09:00 UTC through 2020. */
function spec(over: Partial<RecurringSpec> = {}): RecurringSpec {
  return {
    site: 'de',
    atMinutes: 9 * 60,
    offsetMinutes: 0,
    fromMs: Date.UTC(2020, 0, 1),
    toMs: Date.UTC(2021, 0, 1),
    everyMs: DAY,
    durationS: 3600,
    units: 1,
    poolClass: 'general',
    jobClass: 'batch',
    interruptible: false,
    inputGb: 0,
    tenant: 'recurring',
    ...over,
  };
}

describe('recurringJobs', () => {
  it('makes one job a day over a period: 366 in the leap year 2020, 365 in 2021', () => {
    expect(recurringJobs(spec())).toHaveLength(366);
    expect(recurringJobs(spec({ fromMs: Date.UTC(2021, 0, 1), toMs: Date.UTC(2022, 0, 1) }))).toHaveLength(365);
    expect(recurringJobs(spec({ everyMs: 12 * HOUR }))).toHaveLength(732);
    expect(recurringJobs(spec({ everyMs: 7 * DAY }))).toHaveLength(53); // 2020-01-01, then every Wednesday
    expect(recurringJobs(spec({ toMs: Date.UTC(2020, 0, 1, 9) }))).toEqual([]); // --to is exclusive
  });

  it('releases each job at its requested time, with the standard job fields', () => {
    const jobs = recurringJobs(spec({ units: 4, poolClass: 'ai', jobClass: 'training', interruptible: true, inputGb: 2.5, tenant: 't7' }));
    expect(jobs[0]).toEqual({
      id: 'de-20200101T0900',
      tenant: 't7',
      class: 'training',
      poolClass: 'ai',
      units: 4,
      durationS: 3600,
      releaseMs: Date.parse('2020-01-01T09:00Z'),
      deadlineMs: Date.parse('2020-01-02T10:00Z'),
      origin: 'de',
      inputGb: 2.5,
      interruptible: true,
      allowedSites: null,
    });
    expect(iso(jobs[365].releaseMs)).toBe('2020-12-31T09:00:00.000Z');
    expect(jobs.every((j, k) => k === 0 || j.releaseMs - jobs[k - 1].releaseMs === DAY)).toBe(true);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(366);
  });

  it('reads --at, --from and --to in the local zone and writes UTC releases', () => {
    // 09:00 at +01:00 is 08:00Z every day; --from 2020-01-01 is local midnight (2019-12-31T23:00Z)
    const cet = recurringJobs(spec({ offsetMinutes: 60, fromMs: dayOrInstantMs('2020-01-01', 60), toMs: dayOrInstantMs('2020-01-03', 60) }));
    expect(cet.map((j) => [j.id, iso(j.releaseMs)])).toEqual([
      ['de-20200101T0900', '2020-01-01T08:00:00.000Z'],
      ['de-20200102T0900', '2020-01-02T08:00:00.000Z'],
    ]);
    // 23:00 at -05:00 is 04:00Z the next day; the id keeps the local date
    const east = recurringJobs(spec({ atMinutes: 23 * 60, offsetMinutes: -300, fromMs: dayOrInstantMs('2020-03-01', -300), toMs: dayOrInstantMs('2020-03-02', -300) }));
    expect(east.map((j) => [j.id, iso(j.releaseMs)])).toEqual([['de-20200301T2300', '2020-03-02T04:00:00.000Z']]);
    // a local day that starts on the previous UTC day: 00:30 at +05:30 is 19:00Z the day before
    const india = recurringJobs(spec({ atMinutes: 30, offsetMinutes: 330, fromMs: dayOrInstantMs('2020-01-01', 330), toMs: dayOrInstantMs('2020-01-02', 330) }));
    expect(india.map((j) => [j.id, iso(j.releaseMs)])).toEqual([['de-20200101T0030', '2019-12-31T19:00:00.000Z']]);
  });

  it('starts at the first request at or after --from when --from is an instant', () => {
    const jobs = recurringJobs(spec({ fromMs: Date.parse('2020-01-01T09:00:01Z'), toMs: Date.UTC(2020, 0, 4) }));
    expect(jobs.map((j) => iso(j.releaseMs))).toEqual(['2020-01-02T09:00:00.000Z', '2020-01-03T09:00:00.000Z']);
    const sixHourly = recurringJobs(spec({ fromMs: Date.parse('2020-01-01T10:00Z'), toMs: Date.UTC(2020, 0, 2), everyMs: 6 * HOUR }));
    expect(sixHourly.map((j) => iso(j.releaseMs).slice(11, 16))).toEqual(['15:00', '21:00']);
  });

  it('sets the deadline to release + duration + 24 h, or release + --deadline-after', () => {
    for (const j of recurringJobs(spec({ durationS: 1800 }))) expect(j.deadlineMs - j.releaseMs).toBe(1800_000 + DAY);
    for (const j of recurringJobs(spec({ deadlineAfterMs: 10 * HOUR }))) expect(j.deadlineMs - j.releaseMs).toBe(10 * HOUR);
  });

  it('takes --deadline-after equal to --duration: no slack, each job starts at its release', () => {
    for (const j of recurringJobs(spec({ durationS: 3600, deadlineAfterMs: HOUR }))) expect(j.deadlineMs - j.releaseMs).toBe(HOUR);
  });

  it('writes a jobs file that reads back unchanged', async () => {
    const jobs = recurringJobs(spec({ offsetMinutes: 60, interruptible: true }));
    expect(await parseJobsCsv(formatJobsCsv(jobs), 'recurring.csv', { siteIds: ['de'] })).toEqual(jobs);
  });

  it.each([
    [{ toMs: Date.UTC(2020, 0, 1) }, '--to: 2020-01-01T00:00:00Z is not after --from (2020-01-01T00:00:00Z)'],
    [{ everyMs: 90_000 }, '--every: 90 s is not a positive whole number of minutes'],
    [{ durationS: 3600, deadlineAfterMs: HOUR - 1000 }, '--deadline-after: 3599 s is shorter than --duration (3600 s)'],
    [{ everyMs: 60_000, toMs: Date.UTC(2022, 0, 1) }, '--every: makes 1052100 jobs between --from and --to; at most 527040'],
  ] as [Partial<RecurringSpec>, string][])('rejects options that do not fit together: %s', (over, message) => {
    expect(() => recurringJobs(spec(over))).toThrow(new RecurringSpecError(message.split(': ')[0], message.slice(message.indexOf(': ') + 2)));
  });
});

describe('option parsers', () => {
  it('read durations, times of day, offsets and days', () => {
    expect(['30m', '1h', '1h30m', '1.5h', '2d', '1w', '45s'].map(durationMs)).toEqual([1800_000, HOUR, 5400_000, 5400_000, 2 * DAY, 7 * DAY, 45_000]);
    expect(['00:00', '9:05', '23:59'].map(timeOfDayMinutes)).toEqual([0, 545, 1439]);
    expect(['Z', 'UTC', '+01:00', '-05:00', '+0530'].map(utcOffsetMinutes)).toEqual([0, 0, 60, -300, 330]);
    expect(iso(dayOrInstantMs('2020-06-01', 120))).toBe('2020-05-31T22:00:00.000Z');
    expect(iso(dayOrInstantMs('2020-06-01T03:00+02:00', 0))).toBe('2020-06-01T01:00:00.000Z');
  });

  it.each([
    [() => durationMs('0h'), "'0h' is not a positive duration"],
    [() => durationMs('1 h'), "'1 h' is not a positive duration"],
    [() => durationMs('h'), "'h' is not a positive duration"],
    [() => timeOfDayMinutes('24:00'), "'24:00' is not a time of day HH:MM"],
    [() => timeOfDayMinutes('0900'), "'0900' is not a time of day HH:MM"],
    [() => utcOffsetMinutes('Europe/Berlin'), "'Europe/Berlin' is not a fixed UTC offset"],
    [() => utcOffsetMinutes('+25:00'), "'+25:00' is not a fixed UTC offset"],
    [() => dayOrInstantMs('2020-02-30', 0), "'2020-02-30' is not a day YYYY-MM-DD"],
    [() => dayOrInstantMs('2020-06-01T03:00', 0), "'2020-06-01T03:00' is not a day YYYY-MM-DD (midnight in --tz) or an ISO 8601 instant with Z or an offset"],
  ])('reject bad text with the reason (%#)', (parse, message) => {
    expect(parse).toThrow(FieldError);
    expect(parse).toThrow(message);
  });
});

describe('kumul jobs recurring', () => {
  const base = ['jobs', 'recurring', '--site', 'de', '--at', '09:00', '--tz', '+01:00', '--duration', '1h', '--from', '2020-01-01', '--to', '2021-01-01'];

  it('writes the jobs of the spec to stdout and a summary to stderr', () => {
    const r = kumul(...base, '--interruptible', '--units', '8', '--class', 'backup', '--input-gb', '3');
    expect(r.status, r.stderr).toBe(0);
    const expected = recurringJobs(spec({ offsetMinutes: 60, fromMs: Date.parse('2019-12-31T23:00Z'), toMs: Date.parse('2020-12-31T23:00Z'), interruptible: true, units: 8, jobClass: 'backup', inputGb: 3 }));
    expect(r.stdout).toBe(formatJobsCsv(expected));
    expect(r.stderr).toBe(
      '366 jobs at de, requested at 09:00 +01:00 every 1d from 2020-01-01T08:00:00Z to 2020-12-31T08:00:00Z; deadline release + duration + 24h\n',
    );
  });

  it.each([
    [['jobs', 'recurring', '--site', 'de'], 'kumul: jobs recurring: --at is required\n'],
    [[...base, '--tz', 'CET'], "kumul: --tz: 'CET' is not a fixed UTC offset (e.g. +01:00, -05:00, Z)\n"],
    [[...base, '--to', '2019-12-01'], 'kumul: --to: 2019-11-30T23:00:00Z is not after --from (2019-12-31T23:00:00Z)\n'],
    [[...base, '--to', '2020-01-01T08:30+01:00'], 'kumul: jobs recurring: no job is requested at 09:00 between --from and --to\n'],
  ])('fails with exit 2 naming the option and the reason: %j', (args, message) => {
    const r = kumul(...args);
    expect([r.status, r.stdout, r.stderr]).toEqual([2, '', message]);
  });
});
