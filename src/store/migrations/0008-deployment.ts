/**
 * The deployment's id (issue 11, "runs belong to one deployment"): one row per id this store has held, the one in
 * force with `current` = 1 (a unique column: at most one row has it; replaced ids keep null and their `replaced_ms`).
 * Runs are named in the engines with the id (Slurm job names), so two deployments on one cluster never take each
 * other's runs. The table starts empty: `Store.deployment` makes the id on the service's first start, also on a
 * store upgraded from an earlier schema.
 */
import type { Kysely, Migration } from 'kysely';
import { idType, type Backend } from '../dialects.ts';

export function deploymentMigration(backend: Backend): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('deployments')
        .addColumn('id', idType(backend), (c) => c.primaryKey())
        .addColumn('created_ms', 'bigint', (c) => c.notNull())
        .addColumn('replaced_ms', 'bigint')
        .addColumn('current', 'integer', (c) => c.unique())
        .execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('deployments').execute();
    },
  };
}
