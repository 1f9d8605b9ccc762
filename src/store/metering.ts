/**
 * Metering: what each run used, recorded by the service as runs end (idempotently, by a key per job), and
 * summed per tenant and UTC month for bills. A row counts in the month its `startMs` falls in; the service
 * splits runs that cross a month boundary if a bill must follow them exactly.
 */
import { sql } from 'kysely';
import type { MonthlyUsage, Store } from './port.ts';
import { meteringRow, toMeteringRow } from './rows.ts';
import { count, refuse, type Db } from './support.ts';
import { checkMetering } from './validate.ts';

type MeteringMethods = Pick<Store, 'recordMetering' | 'jobMetering' | 'monthlyUsage'>;

const MS_PER_HOUR = 3_600_000;

/** The UTC bounds [startMs, endMs) of a `YYYY-MM` month, or null when it is not one. */
export function monthBoundsMs(month: string): { startMs: number; endMs: number } | null {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) return null;
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  return { startMs: Date.UTC(year, index, 1), endMs: Date.UTC(year, index + 1, 1) };
}

export function meteringMethods(db: Db): MeteringMethods {
  return {
    async recordMetering(input, nowMs) {
      const bad = checkMetering(input);
      if (bad) return refuse('invalid', bad);
      const job = await db.selectFrom('jobs').select('job_id').where('tenant_id', '=', input.tenantId).where('job_id', '=', input.jobId).executeTakeFirst();
      if (!job) return refuse('not-found', `no job ${input.jobId} for tenant ${input.tenantId}`);
      const result = await db.insertInto('metering').values(meteringRow(input, nowMs)).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return { ok: true, inserted: count(result.numInsertedOrUpdatedRows) === 1 };
    },

    async jobMetering(ref) {
      const rows = await db.selectFrom('metering').selectAll().where('tenant_id', '=', ref.tenantId).where('job_id', '=', ref.jobId).orderBy('start_ms').orderBy('key').execute();
      return rows.map(toMeteringRow);
    },

    async monthlyUsage(month, tenantId) {
      const bounds = monthBoundsMs(month);
      if (!bounds) return refuse('invalid', `month ${JSON.stringify(month)} is not YYYY-MM`);
      let query = db
        .selectFrom('metering')
        .select((eb) => [
          'tenant_id',
          eb.fn.countAll().as('rows'),
          eb.fn.sum(sql<number>`units * (end_ms - start_ms)`).as('unit_ms'),
          eb.fn.sum('energy_kwh').as('energy_kwh'),
          eb.fn.sum('green_kwh').as('green_kwh'),
          eb.fn.sum('cost_yuan').as('cost_yuan'),
          eb.fn.sum('carbon_kg').as('carbon_kg'),
          eb.fn.sum('pflop_h_fp64').as('pflop_h_fp64'),
          eb.fn.sum('pflop_h_fp32').as('pflop_h_fp32'),
          eb.fn.sum('pflop_h_bf16').as('pflop_h_bf16'),
        ])
        .where('start_ms', '>=', bounds.startMs)
        .where('start_ms', '<', bounds.endMs);
      if (tenantId !== undefined) query = query.where('tenant_id', '=', tenantId);
      const rows = await query.groupBy('tenant_id').orderBy('tenant_id').execute();
      const usage: MonthlyUsage[] = rows.map((r) => ({
        tenantId: r.tenant_id,
        month,
        rows: Number(r.rows),
        unitHours: Number(r.unit_ms) / MS_PER_HOUR,
        energyKWh: Number(r.energy_kwh),
        greenKWh: Number(r.green_kwh),
        costYuan: Number(r.cost_yuan),
        carbonKg: Number(r.carbon_kg),
        pflopHours: { fp64: Number(r.pflop_h_fp64), fp32: Number(r.pflop_h_fp32), bf16: Number(r.pflop_h_bf16) },
      }));
      return { ok: true, usage };
    },
  };
}
