/**
 * Metering rows carry their run's baseline: the same run under the carbon-agnostic policy `asap-origin` (at the job's
 * origin, as soon as it was released), priced with the actual signals (the dispatch loop computes it when it meters a
 * run). Null for rows metered before this migration, or when there is no baseline (no pool of the class at the origin).
 * An index on (site, end_ms) serves the dashboard's per-site history of finished runs.
 */
import type { Kysely, Migration } from 'kysely';

const COLUMNS = ['baseline_energy_kwh', 'baseline_green_kwh', 'baseline_cost_yuan', 'baseline_carbon_kg'] as const;

export function meteringBaselineMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const column of COLUMNS) await db.schema.alterTable('metering').addColumn(column, 'double precision').execute();
      await db.schema.createIndex('metering_site_end').on('metering').columns(['site', 'end_ms']).execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('metering_site_end').execute();
      for (const column of COLUMNS) await db.schema.alterTable('metering').dropColumn(column).execute();
    },
  };
}
