/**
 * The backup plan document `kumul backup plan` writes (docs/backup.md, "The plan"): its schema (the JSON
 * Schema docs/backup-plan.schema.json is generated from it) and the conversion from the planner's result.
 * scripts/verify-backup-plan.mjs recomputes its figures from it and the scenario export.
 */
import { z } from 'zod';
import type { TimeGrid } from '../core/model/types.ts';
import type { BackupPlanResult } from '../core/backup/planner.ts';

const iso = z.string().meta({ description: 'UTC instant, ISO 8601' });
const slot = z.number().int().nonnegative().meta({ description: 'slot index on the plan grid' });
const figures = {
  energyKWh: z.number().meta({ description: 'network energy, kWh (grid energy)' }),
  costYuan: z.number().meta({ description: 'link fees plus the energy at the grid price of both ends, yuan' }),
  carbonKg: z.number().meta({ description: 'energy at the grid carbon intensity of both ends, kg CO2' }),
};

export const BackupPlanSchema = z.strictObject({
  format: z.literal('kumul-backup-plan'),
  version: z.literal(1),
  objective: z.string().meta({ description: 'cost, carbon, green or a mix such as cost=1,carbon=0.2' }),
  start: iso.meta({ description: 'start of slot 0' }),
  slotMinutes: z.number().int().positive(),
  slots: z.number().int().positive(),
  signals: z.literal('forecast'),
  transfers: z
    .array(
      z.strictObject({
        target: z.string(),
        gb: z.number().nonnegative(),
        hops: z.array(z.strictObject({ from: z.string(), to: z.string(), slot })).min(1).meta({ description: 'in order; each in a later slot than the one before (store and forward)' }),
        datasets: z.array(z.strictObject({ id: z.string(), version: z.number().int().nonnegative(), gb: z.number().nonnegative() })).meta({ description: 'the dataset versions this path carries and their shares of gb' }),
        ...figures,
      }),
    )
    .meta({ description: 'paths of data: gb moved over each hop in its slot' }),
  links: z
    .array(
      z.strictObject({
        from: z.string(),
        to: z.string(),
        capacityGB: z.number().meta({ description: 'GB one direction carries in one slot: bandwidth × slot length' }),
        slots: z.array(z.strictObject({ slot, backupGB: z.number(), jobGB: z.number() })).meta({ description: 'slots with load, backups and job input transfers' }),
      }),
    )
    .meta({ description: 'load per directed link and slot' }),
  datasets: z.array(
    z.strictObject({
      id: z.string(),
      tenant: z.string(),
      origin: z.string(),
      policy: z.string(),
      rpoHours: z.number(),
      rpoMet: z.boolean(),
      replicas: z.array(
        z.strictObject({
          site: z.string(),
          seeded: z.boolean(),
          versions: z.array(
            z.strictObject({
              index: z.number().int().nonnegative().meta({ description: '0 is the seed (the whole dataset), v ≥ 1 the change since version v − 1' }),
              cut: iso,
              deadline: iso,
              gb: z.number().nonnegative(),
              arrival: iso.nullable().meta({ description: 'when the version is complete at the replica; null: not in time (unmet)' }),
            }),
          ),
          ageHours: z.array(z.number().nullable()).meta({ description: 'age of the newest complete copy at the end of each slot, hours; null before the first copy' }),
          maxAgeHours: z.number().nullable(),
          rpoMet: z.boolean(),
        }),
      ),
    }),
  ),
  unplaced: z.array(z.strictObject({ id: z.string(), reason: z.string() })),
  unmet: z.array(z.strictObject({ target: z.string(), deadline: iso, gb: z.number(), datasets: z.array(z.string()) })),
  totals: z.strictObject({
    backupGB: z.number(),
    jobGB: z.number(),
    ...figures,
    datasetsPlanned: z.number().int(),
    datasetsUnplaced: z.number().int(),
    datasetsRpoMet: z.number().int(),
  }),
  bound: z
    .strictObject({ objective: z.string(), value: z.number(), planValue: z.number(), gapPct: z.number(), method: z.string() })
    .nullable()
    .meta({ description: 'a proven lower bound on the objective of meeting every RPO, and how it was obtained; null when some RPO cannot be met' }),
});

export type BackupPlanDocument = z.infer<typeof BackupPlanSchema>;

/** The plan document of a planner result on `grid`. */
export function backupPlanDocument(result: BackupPlanResult, grid: TimeGrid, objective: string): BackupPlanDocument {
  const at = (tau: number) => new Date(grid.startMs + tau * grid.slotMinutes * 60_000).toISOString();
  return {
    format: 'kumul-backup-plan',
    version: 1,
    objective,
    start: at(0),
    slotMinutes: grid.slotMinutes,
    slots: grid.slots,
    signals: 'forecast',
    transfers: result.transfers,
    links: result.links,
    datasets: result.datasets.map((d) => ({
      ...d,
      replicas: d.replicas.map((r) => ({
        ...r,
        versions: r.versions.map((v) => ({ index: v.index, cut: at(v.cut), deadline: at(v.deadline), gb: v.gb, arrival: v.arrival === null ? null : at(v.arrival) })),
      })),
    })),
    unplaced: result.unplaced,
    unmet: result.unmet.map((u) => ({ ...u, deadline: at(u.deadline) })),
    totals: result.totals,
    bound: result.bound,
  };
}
