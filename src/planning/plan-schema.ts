/**
 * The plan document's schema (docs/plan-format.md): the JSON Schema in docs/plan.schema.json is
 * generated from it (scripts/write-schemas.ts), and tests validate every plan they make against it,
 * so the core's `Plan` type and this schema cannot drift apart.
 */
import { z } from 'zod';
import { POWER_POLICIES } from '../core/energy/idle.ts';

const iso = z.string().meta({ description: 'UTC instant, ISO 8601' });
const figure = (description: string) => z.number().meta({ description });

const Candidate = z.strictObject({
  site: z.string(),
  start: iso,
  end: iso,
  score: figure('weighted objective of running the job here, lower is better'),
  parts: z.record(z.string(), z.number()).meta({ description: "each score plugin's value in its unit: cost yuan, carbon kgCO2, green grid kWh" }),
});

export const PlanJobSchema = z.strictObject({
  id: z.string(),
  site: z.string(),
  pool: z.string(),
  speed: z.number().positive().optional().meta({ description: "the pool's speed for the job's precision (1 = as advertised): the runs add up to its duration ÷ speed; absent in plans made before it was stated, where it is 1" }),
  runs: z.array(z.strictObject({ start: iso, end: iso, units: z.number().int().positive() })).min(1).meta({ description: 'when the job runs, in time order; each run holds `units` units' }),
  transfer: z
    .strictObject({
      route: z.array(z.string()).min(2),
      gb: z.number().nonnegative(),
      start: iso,
      end: iso,
      segments: z
        .array(z.strictObject({ start: iso, end: iso, gb: z.number().nonnegative() }))
        .optional()
        .meta({ description: 'the pieces the input moves in, GB each at one rate within one slot, on what backups and the jobs planned before it left of each link; absent in plans made before they were stated' }),
    })
    .nullable()
    .meta({ description: 'the move of the input data from its origin; null when the job runs at its origin or has no input' }),
  energyKWh: figure('facility energy of the job plus its transfer, kWh'),
  greenKWh: figure('renewable energy of the job, kWh'),
  costYuan: figure('cost, yuan'),
  carbonKg: figure('emissions, kg CO2'),
  transferKWh: figure('energy of moving the input, kWh (part of energyKWh)'),
  explain: z.strictObject({
    policy: z.string(),
    candidates: z.array(Candidate).min(1).meta({ description: 'best candidate per site, best first; the first is the one chosen' }),
    earliestHere: Candidate.nullable().meta({ description: 'the earliest start at the chosen site (what waiting bought)' }),
    rejected: z.array(z.strictObject({ site: z.string(), reason: z.string() })).meta({ description: 'sites that could not run the job, and why' }),
    signalNotes: z
      .array(z.string())
      .optional()
      .meta({ description: 'kumul serve only: where the forecasts the plan used came from a fallback because none was stored (site, signal, slots, kind)' }),
  }),
});

export const PlanSchema = z.strictObject({
  format: z.literal('kumul-plan'),
  version: z.literal(1),
  policy: z.string().meta({ description: 'optimize, asap-origin or asap-any' }),
  objective: z.string().meta({ description: 'cost, carbon, green or a mix such as cost=1,carbon=0.2' }),
  start: iso.meta({ description: 'start of the first slot' }),
  slotMinutes: z.number().int().positive(),
  slots: z.number().int().positive(),
  signals: z.literal('forecast').meta({ description: 'the series the figures were computed with' }),
  jobs: z.array(PlanJobSchema),
  unplaced: z
    .array(z.strictObject({ id: z.string(), codes: z.array(z.string()).min(1).meta({ description: 'the distinct kinds of reason, e.g. "too few units"' }), reasons: z.array(z.string()).min(1) }))
    .meta({ description: 'jobs that fit nowhere: a summary reason first, then one per site' }),
  totals: z.strictObject({
    energyKWh: z.number(),
    greenKWh: z.number(),
    costYuan: z.number(),
    carbonKg: z.number(),
    jobsPlaced: z.number().int().nonnegative(),
    jobsUnplaced: z.number().int().nonnegative(),
    idle: z
      .strictObject({
        policy: z.enum(POWER_POLICIES),
        energyKWh: z.number().nonnegative(),
        greenKWh: z.number().nonnegative(),
        costYuan: z.number(),
        carbonKg: z.number(),
        idleUnitHours: z.number().nonnegative(),
        sleepingNodeHours: z.number().nonnegative(),
        wakes: z.number().int().nonnegative(),
      })
      .optional()
      .meta({ description: "the operator's idle energy over the plan's grid (units on but not busy, sleeping nodes, wake-ups), not part of the jobs' figures; absent in plans made before it was stated" }),
  }),
  bound: z
    .strictObject({
      objective: z.string(),
      value: figure('proven lower bound on the objective of placing the plan\'s jobs'),
      planValue: figure("the plan's objective value"),
      gapPct: figure('(planValue − value) / |planValue| × 100'),
      method: z.string().meta({ description: 'how the bound was obtained' }),
    })
    .nullable(),
});
