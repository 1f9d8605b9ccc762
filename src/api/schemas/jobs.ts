/**
 * Jobs as the API takes and shows them (routes/jobs.ts): the submission (the jobs file's fields in JSON,
 * docs/jobs-format.md), the job view, its plan and its events. Instants are ISO 8601 here and epoch
 * milliseconds in the store; the conversions live next to the schemas.
 */
import { z } from 'zod';
import { JOB_CLASSES, POOL_CLASSES } from '../../core/model/types.ts';
import { DEFAULT_DEADLINE_AFTER_RELEASE_MS } from '../../jobs/jobs-file.ts';
import { JOB_STATUSES, TRANSITION_NAMES } from '../../store/lifecycle.ts';
import type { JobEvent, JobSpec, StoredJob, Unplaced } from '../../store/port.ts';
import { MAX_COMMAND_CHARS } from '../../store/validate.ts';
import type { PlannedJob } from '../../core/dispatch/plan.ts';
import { Id, Instant, InstantInput, iso } from './common.ts';

/** A batch is refused whole; the body limit (1 MiB) is usually reached first (about 4,000 jobs). */
export const MAX_JOBS_PER_BATCH = 10_000;

const SiteId = z.string().min(1).max(128);

/** One job as a tenant submits it; becomes the store's `JobSpec` (deadline defaults to release + 7 days). */
export const JobInput = z
  .strictObject({
    id: Id,
    class: z.enum(JOB_CLASSES),
    poolClass: z.enum(POOL_CLASSES).meta({ description: 'ai: accelerators, general: CPU cores, hpc: nodes' }),
    units: z.number().int().positive().max(1_000_000).meta({ description: 'Units needed at once (accelerators, cores or nodes of the pool class)' }),
    durationS: z.number().positive().max(366 * 86_400).meta({ description: 'Run time at full speed on `units` units, seconds' }),
    release: InstantInput.meta({ description: 'Earliest start' }),
    deadline: InstantInput.optional().meta({ description: 'Latest end, at or after release + duration (equal: no slack, start at release); default release + 7 days' }),
    origin: SiteId.meta({ description: 'Site where the input data is' }),
    inputGb: z.number().min(0).default(0).meta({ description: 'Input data to move if the job runs away from its origin, GB' }),
    interruptible: z.boolean().default(false).meta({ description: 'Can be paused and resumed later at the same site' }),
    allowedSites: z
      .array(SiteId)
      .min(1)
      .nullable()
      .default(null)
      .meta({ description: 'Sites the job may run at (data residency); null means any' }),
    command: z
      .string()
      .min(1)
      .max(MAX_COMMAND_CHARS)
      .optional()
      .meta({ description: "Shell script body the job's runs execute on the site's engine (Slurm: the batch script, with KUMUL_REF set); without it a run waits its length" }),
  })
  .transform((job, ctx): JobSpec => {
    const deadlineMs = job.deadline ?? job.release + DEFAULT_DEADLINE_AFTER_RELEASE_MS;
    const earliestEndMs = job.release + job.durationS * 1000;
    // Equal is "no slack": the job must start at its release.
    if (deadlineMs < earliestEndMs) {
      ctx.addIssue({ code: 'custom', path: ['deadline'], input: job.deadline, message: `${iso(deadlineMs)} is before release + duration (${iso(Math.ceil(earliestEndMs))})` });
    }
    const sites = job.allowedSites ?? [];
    sites.forEach((site, i) => {
      if (sites.indexOf(site) !== i) ctx.addIssue({ code: 'custom', path: ['allowedSites', i], input: site, message: `${site} is listed twice` });
    });
    const { release, deadline, ...rest } = job;
    return { ...rest, releaseMs: release, deadlineMs };
  })
  .meta({ id: 'JobSubmission' });

/** `POST /v1/jobs`: one job, or `{ jobs: [...] }` stored all or nothing. */
export const SubmitBody = z.union([
  z
    .strictObject({ jobs: z.array(JobInput).min(1).max(MAX_JOBS_PER_BATCH) })
    .superRefine(({ jobs }, ctx) => {
      const first = new Map<string, number>();
      jobs.forEach((job, i) => {
        const earlier = first.get(job.id);
        if (earlier === undefined) first.set(job.id, i);
        else ctx.addIssue({ code: 'custom', path: ['jobs', i, 'id'], input: job.id, message: `${job.id} is already the id of jobs[${earlier}]` });
      });
    }),
  JobInput,
]);

/** Why the dispatch loop found no place for a job (the store's `Unplaced`, instants as ISO 8601). */
export const UnplacedView = z
  .object({
    at: Instant.meta({ description: 'The latest dispatch cycle that found no place for the job (or that marked it missed)' }),
    since: Instant.meta({ description: 'The first cycle that found no place for it for these codes' }),
    codes: z.array(z.string()).meta({ description: "Short codes of the reasons (the dispatcher's filter codes, e.g. 'too few units', 'no free capacity in its window', 'cannot finish by the deadline'); the metric kumul_jobs_unplaced counts jobs by them" }),
    reasons: z.array(z.string()).meta({ description: 'A summary (0/6 sites can run it: 4 too few units, 2 not allowed), then each site and its reason' }),
  })
  .meta({ id: 'Unplaced' });

export function toUnplacedView(unplaced: Unplaced | null): z.output<typeof UnplacedView> | null {
  return unplaced && { at: iso(unplaced.atMs), since: iso(unplaced.sinceMs), codes: unplaced.codes, reasons: unplaced.reasons };
}

export const JobView = z
  .object({
    id: z.string(),
    tenant: z.string(),
    class: z.enum(JOB_CLASSES),
    poolClass: z.enum(POOL_CLASSES),
    units: z.number().int(),
    durationS: z.number(),
    release: Instant,
    deadline: Instant,
    origin: z.string(),
    inputGb: z.number(),
    interruptible: z.boolean(),
    allowedSites: z.array(z.string()).nullable(),
    status: z.enum(JOB_STATUSES),
    version: z.number().int().meta({ description: 'Pass it back as expectedVersion to cancel only this version' }),
    executorRef: z.string().nullable(),
    command: z.string().nullable(),
    unplaced: UnplacedView.nullable().meta({ description: "Why the dispatch loop found no place for the job, or why it was marked missed; null while it has a plan or before any cycle looked at it" }),
    submitted: Instant,
    updated: Instant,
  })
  .meta({ id: 'Job' });

export function toJobView(stored: StoredJob): z.output<typeof JobView> {
  const { job } = stored;
  return {
    id: job.id,
    tenant: job.tenant,
    class: job.class,
    poolClass: job.poolClass,
    units: job.units,
    durationS: job.durationS,
    release: iso(job.releaseMs),
    deadline: iso(job.deadlineMs),
    origin: job.origin,
    inputGb: job.inputGb,
    interruptible: job.interruptible,
    allowedSites: job.allowedSites,
    status: stored.status,
    version: stored.version,
    executorRef: stored.executorRef,
    command: stored.command,
    unplaced: toUnplacedView(stored.unplaced),
    submitted: iso(stored.submittedMs),
    updated: iso(stored.updatedMs),
  };
}

const ExplainCandidate = z.object({
  site: z.string(),
  start: Instant,
  end: Instant,
  score: z.number().meta({ description: 'Weighted objective of running the job here (lower is better)' }),
  parts: z.record(z.string(), z.number()).meta({ description: "Each score plugin's value, in its unit (yuan, kgCO2, gridKWh)" }),
});

/** The stored plan of a job (`PlannedJob`, docs/plan-format.md): where, when, what it costs, and why. */
export const PlannedJobSchema = z
  .object({
    id: z.string(),
    site: z.string(),
    pool: z.string(),
    runs: z.array(z.object({ start: Instant, end: Instant, units: z.number().int() })),
    transfer: z
      .object({
        route: z.array(z.string()),
        gb: z.number(),
        start: Instant,
        end: Instant,
        segments: z
          .array(z.object({ start: Instant, end: Instant, gb: z.number() }))
          .optional()
          .meta({ description: 'The pieces the input moves in, GB each at one rate within one slot, on what backups and other jobs left of its links' }),
      })
      .nullable(),
    energyKWh: z.number(),
    greenKWh: z.number(),
    costYuan: z.number(),
    carbonKg: z.number(),
    transferKWh: z.number(),
    explain: z.object({
      policy: z.string(),
      candidates: z.array(ExplainCandidate).meta({ description: 'Best candidate per site, best first; the first is the one chosen' }),
      earliestHere: ExplainCandidate.nullable().meta({ description: 'The earliest start at the chosen site, to show what waiting bought' }),
      rejected: z.array(z.object({ site: z.string(), reason: z.string() })),
      signalNotes: z
        .array(z.string())
        .optional()
        .meta({ description: 'Where the forecasts this plan used came from a fallback because none was stored: site, signal, slots and kind (docs/service.md, "Live signals"); absent when none did' }),
    }),
    cycle: z
      .object({
        at: Instant,
        jobsPlaced: z.number().int(),
        bound: z
          .object({ objective: z.string(), value: z.number(), planValue: z.number(), gapPct: z.number(), method: z.string() })
          .nullable()
          .meta({ description: "A proven lower bound on the objective of the cycle's placements (all its jobs together), and the gap of the cycle's plan to it; null when the relaxation could not be solved" }),
      })
      .optional()
      .meta({ description: 'The dispatch cycle that made this plan (docs/service.md)' }),
  })
  .meta({ id: 'PlannedJob' });

// The schema must describe every field of the core's type: this fails to typecheck when PlannedJob gains one.
const plannedJobFits: (plan: PlannedJob) => z.input<typeof PlannedJobSchema> = (plan) => plan;
void plannedJobFits;

export const PlanView = z.object({
  id: z.string(),
  tenant: z.string(),
  status: z.enum(JOB_STATUSES),
  version: z.number().int(),
  plan: PlannedJobSchema.nullable().meta({ description: 'null until the dispatch loop has planned the job (and again when a later cycle finds no place for it)' }),
  unplaced: UnplacedView.nullable().meta({
    description: 'With plan null: why the last dispatch cycle found no place for the job (it stays submitted), or why it was marked missed; null while it has a plan or before any cycle looked at it',
  }),
});

export const EventView = z.object({
  version: z.number().int().meta({ description: "The job's version after the event (1, 2, … without gaps)" }),
  at: Instant,
  name: z.enum(['submit', ...TRANSITION_NAMES]),
  from: z.enum(JOB_STATUSES).nullable(),
  to: z.enum(JOB_STATUSES),
  detail: z.record(z.string(), z.unknown()),
});

export function toEventView(event: JobEvent): z.output<typeof EventView> {
  return { version: event.version, at: iso(event.atMs), name: event.name, from: event.from, to: event.to, detail: event.detail };
}

/** `?status=` takes one status or several separated by commas. */
export const StatusList = z
  .string()
  .meta({ description: `One or more of ${JOB_STATUSES.join(', ')}, separated by commas`, example: 'submitted,planned' })
  .transform((text) => text.split(','))
  .pipe(z.array(z.enum(JOB_STATUSES)));
