/**
 * Energy signals operators push as they arrive (POST /v1/sites/{id}/signals/{signal}/points): one row per site,
 * signal, series, time stamp and, for forecasts, issue instant, so a forecast's history is kept (the forecast of a
 * slot is its latest issue; "the forecast as stored at T" reads the issues recorded by T). Actuals have one row per
 * time stamp (`issued_ms` is 0 for them) and are overwritten. Values are in the signal's own unit.
 * The primary key serves range reads by site, signal and series; an index on recorded_ms serves the service's
 * "what changed since" refresh.
 */
import type { Kysely, Migration } from 'kysely';
import { idType, type Backend } from '../dialects.ts';

export function signalPointsMigration(backend: Backend): Migration {
  const id = idType(backend);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('signal_points')
        .addColumn('site', id, (c) => c.notNull())
        .addColumn('signal', 'text', (c) => c.notNull())
        .addColumn('series', 'text', (c) => c.notNull())
        .addColumn('time_ms', 'bigint', (c) => c.notNull())
        .addColumn('issued_ms', 'bigint', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('recorded_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('signal_points_pk', ['site', 'signal', 'series', 'time_ms', 'issued_ms'])
        .execute();
      await db.schema.createIndex('signal_points_recorded').on('signal_points').columns(['recorded_ms']).execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('signal_points').execute();
    },
  };
}
