/**
 * The ad hoc jobs of Wiesner et al., "Let's Wait Awhile" (Middleware 2021), scenario II, as a jobs file: machine-
 * learning jobs submitted on workdays during office hours, each of which may be postponed until the next workday.
 * docs/space-and-time.md runs them on europe-2020 (docs/temporal-shifting.md explains how ad hoc jobs are simulated):
 *
 *   node --import tsx scripts/ad-hoc-jobs.ts --sites de,gb,fr [--count 3387] [--seed 0] [--window next-workday|none]
 *        [--allowance 1m] [--from 2020-01-01] [--to 2020-12-24] [--units 8] [--input-gb 1] [--interruptible] [--out FILE]
 *
 * As the paper's generate_batch_jobs (github.com/dos-group/lets-wait-awhile, simulate.py): each job is submitted on a
 * workday (Monday to Friday, each equally likely) at 09:00, 09:30, … or 16:30 UTC, and runs 4 h, 4.5 h, … or 89.5 h,
 * all uniformly at random. Here the draws come from a seeded Mulberry32 (src/scenario/random.ts), so the jobs are the
 * paper's in distribution, not one for one. Origins take turns over --sites in order of submission.
 *
 * Deadline = the latest finish the window allows, plus --allowance (default 1 min: time to move the input to another
 * site first, so that a job with no slack can still leave its origin; it can also start up to that much later).
 * --window next-workday (default) is the paper's "next workday" rule: the job's original finish (submission + run
 * time) if that falls on a workday between 09:00 and 17:00, else 09:00 of the next workday (the paper's code sends a
 * Friday-evening finish to Saturday 09:00; here it goes to Monday). --window none: the original finish, so a job runs
 * at once, at any site (space alone). --to defaults to 2020-12-24 so every window ends within the 2020 data.
 */
import { writeFileSync } from 'node:fs';
import type { Job } from '../src/core/model/types.ts';
import { formatJobsCsv } from '../src/jobs/jobs-file.ts';
import { dayOrInstantMs, durationMs } from '../src/jobs/recurring.ts';
import { hashSeed, mulberry32 } from '../src/scenario/random.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const argument = (flag: string, fallback: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : fallback);

const sites = argument('--sites', '').split(',').filter(Boolean);
if (sites.length === 0) throw new Error('--sites: give the origin sites, comma-separated (e.g. de,gb,fr)');
const count = Number(argument('--count', '3387'));
const seed = Number(argument('--seed', '0'));
const window = argument('--window', 'next-workday');
if (window !== 'next-workday' && window !== 'none') throw new Error(`--window: must be next-workday or none, got '${window}'`);
const allowanceMs = durationMs(argument('--allowance', '1m'));
const fromMs = dayOrInstantMs(argument('--from', '2020-01-01'), 0);
const toMs = dayOrInstantMs(argument('--to', '2020-12-24'), 0);
const units = Number(argument('--units', '8'));
const inputGb = Number(argument('--input-gb', '1'));
const interruptible = process.argv.includes('--interruptible');

const isWorkday = (ms: number) => ![0, 6].includes(new Date(ms).getUTCDay());
/** 09:00 UTC of the first workday on or after the day of `ms`. */
function nineOnWorkdayFrom(ms: number): number {
  let day = Math.floor(ms / DAY_MS) * DAY_MS;
  while (!isWorkday(day)) day += DAY_MS;
  return day + 9 * HOUR_MS;
}
/** The paper's "next workday" deadline of a job that would finish at `finishMs` if started at once. */
function nextWorkdayDeadlineMs(finishMs: number): number {
  const timeOfDayMs = finishMs - Math.floor(finishMs / DAY_MS) * DAY_MS;
  if (!isWorkday(finishMs) || timeOfDayMs > 17 * HOUR_MS) return nineOnWorkdayFrom(Math.floor(finishMs / DAY_MS) * DAY_MS + DAY_MS);
  return timeOfDayMs < 9 * HOUR_MS ? nineOnWorkdayFrom(finishMs) : finishMs;
}
const deadlineOf = (finishMs: number) => (window === 'next-workday' ? nextWorkdayDeadlineMs(finishMs) : finishMs) + allowanceMs;

const workdays: number[] = [];
for (let day = fromMs; day < toMs; day += DAY_MS) if (isWorkday(day)) workdays.push(day);
const random = mulberry32(hashSeed('ad-hoc-jobs', seed));
const pick = (n: number) => Math.floor(random() * n);
const drawn = Array.from({ length: count }, () => ({
  releaseMs: workdays[pick(workdays.length)] + 9 * HOUR_MS + pick(16) * 30 * 60_000,
  durationS: (4 * 60 + pick(172) * 30) * 60,
})).sort((a, b) => a.releaseMs - b.releaseMs);

const jobs: Job[] = drawn.map(({ releaseMs, durationS }, k) => ({
  id: `adhoc-${String(k + 1).padStart(4, '0')}`,
  tenant: 'ad-hoc',
  class: 'training',
  poolClass: 'general',
  units,
  durationS,
  releaseMs,
  deadlineMs: deadlineOf(releaseMs + durationS * 1000),
  origin: sites[k % sites.length],
  inputGb,
  interruptible,
  allowedSites: null,
}));
const csv = formatJobsCsv(jobs);
const out = process.argv.includes('--out') ? argument('--out', '') : null;
if (out === null) process.stdout.write(csv);
else writeFileSync(out, csv);
const slackH = jobs.reduce((sum, j) => sum + (j.deadlineMs - j.releaseMs) / 1000 - j.durationS, 0) / 3600 / jobs.length;
process.stderr.write(`${jobs.length} ad hoc jobs from ${sites.join(', ')} on ${workdays.length} workdays; mean run ${(jobs.reduce((s, j) => s + j.durationS, 0) / 3600 / jobs.length).toFixed(1)} h, mean slack ${slackH.toFixed(1)} h${out ? `; written to ${out}` : ''}\n`);
