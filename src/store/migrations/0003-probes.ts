/**
 * Computing-power probes over time (src/probe): per site, pool and instant, what a benchmark measured on one node
 * (GFLOP/s per core and per node by precision), what the pool advertises, their ratio, the threshold it was judged
 * by and whether it was flagged, the node's inventory (JSON text) and the error of a failed probe.
 * An index on (site, pool, measured_ms) serves the history of a pool and the latest probe of each.
 */
import type { Kysely, Migration } from 'kysely';
import { idType, type Backend } from '../dialects.ts';

export function probesMigration(backend: Backend): Migration {
  const id = idType(backend);
  return {
    async up(db: Kysely<any>): Promise<void> {
      let table = db.schema
        .createTable('probes')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('pool', 'text', (c) => c.notNull())
        .addColumn('measured_ms', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('node', 'text')
        .addColumn('cores', 'integer');
      for (const column of ['fp64_gflops_per_core', 'fp32_gflops_per_core', 'fp64_gflops_per_node', 'fp32_gflops_per_node', 'bf16_gflops_per_node']) {
        table = table.addColumn(column, 'double precision');
      }
      for (const column of ['advertised_fp64_tflops_per_node', 'advertised_fp32_tflops_per_node', 'advertised_bf16_tflops_per_node']) {
        table = table.addColumn(column, 'double precision', (c) => c.notNull());
      }
      await table
        .addColumn('ratio_fp64', 'double precision')
        .addColumn('ratio_fp32', 'double precision')
        .addColumn('ratio_bf16', 'double precision')
        .addColumn('threshold', 'double precision', (c) => c.notNull())
        .addColumn('flagged', 'integer', (c) => c.notNull())
        .addColumn('note', 'text')
        .addColumn('inventory', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('recorded_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('probes_pool_time').on('probes').columns(['site', 'pool', 'measured_ms']).execute();
      await db.schema.createIndex('probes_time').on('probes').columns(['measured_ms']).execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('probes').execute();
    },
  };
}
