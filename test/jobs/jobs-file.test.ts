import { describe, expect, it } from 'vitest';
import { JobsFileError, MAX_LISTED_ISSUES } from '../../src/jobs/errors.ts';
import { formatJobsCsv, JOBS_CSV_COLUMNS, parseJobsCsv } from '../../src/jobs/jobs-file.ts';
import { makeJob } from '../fixtures/job-builder.ts';

const HEADER = JOBS_CSV_COLUMNS.join(',');
const GOOD_ROW = 'j1,t1,training,ai,8,7200,2026-06-01T03:00Z,2026-06-01T07:00Z,hami,50,true,hami|beijing';

/** A jobs file of the header and the given rows, LF line ends. */
function file(...rows: string[]): string {
  return [HEADER, ...rows].map((r) => `${r}\n`).join('');
}

/** The row GOOD_ROW with one column replaced. */
function withColumn(column: string, value: string, row = GOOD_ROW): string {
  const fields = row.split(',');
  fields[JOBS_CSV_COLUMNS.indexOf(column as (typeof JOBS_CSV_COLUMNS)[number])] = value;
  return fields.join(',');
}

async function parseError(text: string, siteIds?: string[]): Promise<JobsFileError> {
  try {
    await parseJobsCsv(text, 'jobs.csv', { siteIds });
  } catch (err) {
    if (err instanceof JobsFileError) return err;
    throw err;
  }
  throw new Error('expected a JobsFileError');
}

const GOOD_JOB = makeJob('j1')
  .units(8)
  .duration('2h')
  .release('2026-06-01T03:00Z')
  .deadline('4h')
  .interruptible()
  .at('hami')
  .allowed('hami', 'beijing')
  .input(50)
  .build();

describe('parseJobsCsv reads good files', () => {
  const cases: { name: string; text: string; expected: ReturnType<typeof makeJob>[] }[] = [
    { name: 'one full row', text: file(GOOD_ROW), expected: [makeJob('j1').units(8).duration('2h').release('2026-06-01T03:00Z').deadline('4h').interruptible().allowed('hami', 'beijing').input(50)] },
    { name: 'CRLF line ends', text: file(GOOD_ROW).replaceAll('\n', '\r\n'), expected: [makeJob('j1').units(8).duration('2h').release('2026-06-01T03:00Z').deadline('4h').interruptible().allowed('hami', 'beijing').input(50)] },
    { name: 'no final newline', text: file(GOOD_ROW).trimEnd(), expected: [makeJob('j1').units(8).duration('2h').release('2026-06-01T03:00Z').deadline('4h').interruptible().allowed('hami', 'beijing').input(50)] },
    { name: 'blank lines and a byte-order mark', text: `\uFEFF${HEADER}\n\n${GOOD_ROW}\n\r\n  \n`, expected: [makeJob('j1').units(8).duration('2h').release('2026-06-01T03:00Z').deadline('4h').interruptible().allowed('hami', 'beijing').input(50)] },
    {
      name: 'quoted fields with a comma and quotes',
      text: file('"job,""a""","t 1",inference,ai,1,60,"2026-06-01T00:00Z",2026-06-01T01:00Z,beijing,0,false,""'),
      expected: [makeJob('job,"a"').tenant('t 1').class('inference').duration('60s').deadline('1h').at('beijing')],
    },
    {
      name: 'empty deadline is release + 7 days',
      text: file(withColumn('deadline', '')),
      expected: [makeJob('j1').units(8).duration('2h').release('2026-06-01T03:00Z').deadline('2026-06-08T03:00Z').interruptible().allowed('hami', 'beijing').input(50)],
    },
    {
      name: 'offsets, seconds and milliseconds',
      text: file('j2,t1,hpc,hpc,4,1.5,2026-06-01T08:00:00+08:00,2026-06-01T00:00:02.500Z,urumqi,0.25,false,'),
      expected: [makeJob('j2').class('hpc').pool('hpc').units(4).duration(1.5).release('2026-06-01T00:00Z').deadline('2.5s').at('urumqi').input(0.25)],
    },
    {
      name: 'spaces around unquoted fields and site ids are ignored',
      text: file('j3 , t1 , batch , general , 16 , 600 , 2026-06-01T00:00Z , , qingyang , 0 , false , hami | qingyang '),
      expected: [makeJob('j3').class('batch').pool('general').units(16).duration('10m').deadline('7d').at('qingyang').allowed('hami', 'qingyang')],
    },
    { name: 'header only', text: file(), expected: [] },
  ];
  it.each(cases)('$name', async ({ text, expected }) => {
    expect(await parseJobsCsv(text, 'jobs.csv')).toEqual(expected.map((b) => b.build()));
  });

  it('builds the job the builder describes', async () => {
    expect(await parseJobsCsv(file(GOOD_ROW), 'jobs.csv')).toEqual([GOOD_JOB]);
  });

  it('accepts a deadline equal to release + duration (no slack: start at release)', async () => {
    const [job] = await parseJobsCsv(file(withColumn('deadline', '2026-06-01T05:00Z')), 'jobs.csv');
    expect(job.deadlineMs - job.releaseMs).toBe(job.durationS * 1000);
  });

  it('accepts origin and allowed sites among the given sites', async () => {
    expect(await parseJobsCsv(file(GOOD_ROW), 'jobs.csv', { siteIds: ['hami', 'beijing'] })).toEqual([GOOD_JOB]);
  });
});

describe('parseJobsCsv names the line, column and reason of bad input', () => {
  const cases: { name: string; text: string; message: string; siteIds?: string[] }[] = [
    { name: 'bad month', text: file(withColumn('deadline', '2026-13-01T00:00Z')), message: "jobs.csv line 2, column deadline: '2026-13-01T00:00Z' is not an ISO 8601 UTC instant" },
    { name: 'no time zone', text: file(withColumn('release', '2026-06-01T03:00')), message: "jobs.csv line 2, column release: '2026-06-01T03:00' is not an ISO 8601 UTC instant" },
    { name: 'February 30', text: file(withColumn('release', '2026-02-30T03:00Z')), message: "line 2, column release: '2026-02-30T03:00Z' is not an ISO 8601" },
    { name: 'deadline too early', text: file(withColumn('deadline', '2026-06-01T04:59Z')), message: 'jobs.csv line 2, column deadline: 2026-06-01T04:59:00Z is before release + duration (2026-06-01T05:00:00Z)' },
    { name: 'unknown class', text: file(withColumn('class', 'service')), message: "jobs.csv line 2, column class: 'service' is not one of training|inference|hpc|batch|backup" },
    { name: 'unknown pool class', text: file(withColumn('pool_class', 'gpu')), message: "jobs.csv line 2, column pool_class: 'gpu' is not one of ai|general|hpc" },
    { name: 'zero units', text: file(withColumn('units', '0')), message: "jobs.csv line 2, column units: '0' is not a positive integer" },
    { name: 'fractional units', text: file(withColumn('units', '1.5')), message: "jobs.csv line 2, column units: '1.5' is not a positive integer" },
    { name: 'negative duration', text: file(withColumn('duration_s', '-60')), message: "jobs.csv line 2, column duration_s: '-60' is not a positive number" },
    { name: 'duration with unit', text: file(withColumn('duration_s', '2h')), message: "jobs.csv line 2, column duration_s: '2h' is not a positive number" },
    { name: 'negative input', text: file(withColumn('input_gb', '-1')), message: "jobs.csv line 2, column input_gb: '-1' is not a number ≥ 0" },
    { name: 'yes for a boolean', text: file(withColumn('interruptible', 'yes')), message: "jobs.csv line 2, column interruptible: 'yes' is not true or false" },
    { name: 'empty id', text: file(withColumn('id', '')), message: 'jobs.csv line 2, column id: is empty' },
    { name: 'empty tenant', text: file(withColumn('tenant', '""')), message: 'jobs.csv line 2, column tenant: is empty' },
    { name: 'empty origin', text: file(withColumn('origin', '')), message: 'jobs.csv line 2, column origin: is empty' },
    { name: 'unknown origin', text: file(GOOD_ROW), siteIds: ['beijing'], message: "jobs.csv line 2, column origin: 'hami' is not a known site (beijing)" },
    { name: 'unknown allowed site', text: file(GOOD_ROW), siteIds: ['hami'], message: "jobs.csv line 2, column allowed_sites: 'beijing' is not a known site (hami)" },
    { name: 'empty allowed site', text: file(withColumn('allowed_sites', 'hami||beijing')), message: "jobs.csv line 2, column allowed_sites: 'hami||beijing' has an empty site id between |" },
    { name: 'repeated allowed site', text: file(withColumn('allowed_sites', 'hami|hami')), message: "jobs.csv line 2, column allowed_sites: 'hami|hami' lists hami twice" },
    { name: 'duplicate id', text: file(GOOD_ROW, GOOD_ROW), message: "jobs.csv line 3, column id: 'j1' is already the id of the job on line 2" },
    { name: 'too few fields', text: file('j1,t1'), message: 'jobs.csv line 2: has 2 fields, expected 12' },
    { name: 'unclosed quote', text: file(GOOD_ROW, '"j2,t1'), message: 'jobs.csv line 3: quoted field opened on line 3 is not closed' },
    { name: 'quote inside a field', text: file(withColumn('tenant', 'a"b')), message: 'jobs.csv line 2: a quote inside an unquoted field' },
    { name: 'wrong header', text: `${HEADER.replace('pool_class', 'poolclass')}\n${GOOD_ROW}\n`, message: 'jobs.csv line 1: column pool_class missing; the header must be id,tenant,' },
    { name: 'columns out of order', text: `${HEADER.replace('id,tenant', 'tenant,id')}\n`, message: 'jobs.csv line 1: column 1 is tenant, expected id' },
    { name: 'extra column', text: `${HEADER},note\n`, message: 'jobs.csv line 1: unexpected column note' },
    { name: 'empty file', text: '', message: 'jobs.csv line 1: the file is empty' },
  ];
  it.each(cases)('$name', async ({ text, message, siteIds }) => {
    expect((await parseError(text, siteIds)).message).toContain(message);
  });

  it('names the line a field starts on after a quoted line break', async () => {
    const text = file('j1,t1,training,ai,x,60,2026-06-01T00:00Z,,hami,"0\n",false,');
    expect((await parseError(text)).message).toBe(
      "jobs.csv line 2, column units: 'x' is not a positive integer\n" + "jobs.csv line 2, column input_gb: '0\\n' is not a number ≥ 0",
    );
    const later = file('"a\nb",t1,training,ai,1,60,2026-06-01T00:00Z,,hami,0,maybe,');
    expect((await parseError(later)).message).toBe(
      "jobs.csv line 2, column id: 'a\\nb' contains a control character\n" +
        "jobs.csv line 3, column interruptible: 'maybe' is not true or false",
    );
  });

  it('reports every bad field of a row, and rows in line order', async () => {
    const err = await parseError(file('x,t1', withColumn('units', '0', withColumn('class', 'x'))));
    expect(err.issues.map((i) => [i.line, i.column])).toEqual([
      [2, undefined],
      [3, 'class'],
      [3, 'units'],
    ]);
  });

  it(`lists the first ${MAX_LISTED_ISSUES} errors and counts the rest`, async () => {
    const rows = Array.from({ length: 25 }, (_, i) => withColumn('id', `j${i}`, withColumn('units', '-1')));
    const err = await parseError(file(...rows));
    expect(err.total).toBe(25);
    expect(err.issues).toHaveLength(MAX_LISTED_ISSUES);
    const lines = err.message.split('\n');
    expect(lines).toHaveLength(MAX_LISTED_ISSUES + 1);
    expect(lines[0]).toBe("jobs.csv line 2, column units: '-1' is not a positive integer");
    expect(lines[MAX_LISTED_ISSUES]).toBe('… and 5 more errors in jobs.csv (25 in all)');
  });

  it('carries a stable code and HTTP status for the API', async () => {
    const err = await parseError(file('x'));
    expect([err.code, err.httpStatus]).toEqual(['invalid_jobs_file', 400]);
  });
});

describe('formatJobsCsv', () => {
  it('writes the header, one row per job, quoting where needed', () => {
    const jobs = [GOOD_JOB, makeJob('a,"b"').tenant(' t2').duration(90.5).release('2026-06-01T00:00:00.250Z').build()];
    expect(formatJobsCsv(jobs)).toBe(
      `${HEADER}\n` +
        'j1,t1,training,ai,8,7200,2026-06-01T03:00:00Z,2026-06-01T07:00:00Z,hami,50,true,hami|beijing\n' +
        '"a,""b"""," t2",training,ai,1,90.5,2026-06-01T00:00:00.250Z,2026-06-02T00:00:00.250Z,hami,0,false,\n',
    );
  });

  it('writes just the header for no jobs', () => {
    expect(formatJobsCsv([])).toBe(`${HEADER}\n`);
  });
});
