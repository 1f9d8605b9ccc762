/**
 * Metering: what each run used, recorded by the service as runs end (idempotently, by a key per job), and
 * summed per tenant and UTC month for bills. A row counts in the month its `startMs` falls in; the service
 * splits runs that cross a month boundary if a bill must follow them exactly. The dashboard reads rows summed per
 * time bucket with their baselines (savings) and a site's rows over a window (its load history).
 */
import { sql } from 'kysely';
import type { MonthlyUsage, SavingsBucket, Store } from './port.ts';
import { meteringRow, toMeteringRow } from './rows.ts';
import { count, inTransaction, refuse, type Db, type WriteGuard } from './support.ts';
import { checkMetering } from './validate.ts';

type MeteringMethods = Pick<Store, 'recordMetering' | 'jobMetering' | 'monthlyUsage' | 'savingsByBucket' | 'siteMetering'>;

const MS_PER_HOUR = 3_600_000;

/** The UTC bounds [startMs, endMs) of a `YYYY-MM` month, or null when it is not one. */
export function monthBoundsMs(month: string): { startMs: number; endMs: number } | null {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) return null;
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  return { startMs: Date.UTC(year, index, 1), endMs: Date.UTC(year, index + 1, 1) };
}

export function meteringMethods(db: Db, guard: WriteGuard = null): MeteringMethods {
  return {
    async recordMetering(input, nowMs) {
      const bad = checkMetering(input);
      if (bad) return refuse('invalid', bad);
      return inTransaction(
        db,
        async (trx) => {
          const job = await trx.selectFrom('jobs').select('job_id').where('tenant_id', '=', input.tenantId).where('job_id', '=', input.jobId).executeTakeFirst();
          if (!job) return refuse('not-found', `no job ${input.jobId} for tenant ${input.tenantId}`);
          const result = await trx.insertInto('metering').values(meteringRow(input, nowMs)).onConflict((oc) => oc.doNothing()).executeTakeFirst();
          return { ok: true as const, inserted: count(result.numInsertedOrUpdatedRows) === 1 };
        },
        guard,
      );
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

    async savingsByBucket(bucketMs) {
      if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) return refuse('invalid', `bucket length ${bucketMs} ms is not a positive whole number`);
      // A literal, not a parameter: PostgreSQL must see the same expression in the select and the group by.
      const bucket = sql<number>`start_ms - (start_ms % ${sql.lit(bucketMs)})`;
      const withBaseline = (column: string) => sql<number>`sum(case when baseline_energy_kwh is null then 0 else ${sql.ref(column)} end)`;
      const rows = await db
        .selectFrom('metering')
        .select((eb) => [
          bucket.as('bucket_ms'),
          eb.fn.countAll().as('all_rows'),
          eb.fn.count('baseline_energy_kwh').as('runs'),
          withBaseline('energy_kwh').as('energy_kwh'),
          withBaseline('green_kwh').as('green_kwh'),
          withBaseline('cost_yuan').as('cost_yuan'),
          withBaseline('carbon_kg').as('carbon_kg'),
          eb.fn.sum('baseline_energy_kwh').as('baseline_energy_kwh'),
          eb.fn.sum('baseline_green_kwh').as('baseline_green_kwh'),
          eb.fn.sum('baseline_cost_yuan').as('baseline_cost_yuan'),
          eb.fn.sum('baseline_carbon_kg').as('baseline_carbon_kg'),
        ])
        .groupBy(bucket)
        .orderBy(bucket)
        .execute();
      const buckets: SavingsBucket[] = rows.map((r) => ({
        startMs: Number(r.bucket_ms),
        runs: Number(r.runs),
        runsWithoutBaseline: Number(r.all_rows) - Number(r.runs),
        energyKWh: Number(r.energy_kwh),
        greenKWh: Number(r.green_kwh),
        costYuan: Number(r.cost_yuan),
        carbonKg: Number(r.carbon_kg),
        baseline: { energyKWh: Number(r.baseline_energy_kwh ?? 0), greenKWh: Number(r.baseline_green_kwh ?? 0), costYuan: Number(r.baseline_cost_yuan ?? 0), carbonKg: Number(r.baseline_carbon_kg ?? 0) },
      }));
      return { ok: true, buckets };
    },

    async siteMetering(siteId, fromMs, toMs) {
      const rows = await db.selectFrom('metering').selectAll().where('site', '=', siteId).where('end_ms', '>', fromMs).where('start_ms', '<', toMs).orderBy('start_ms').orderBy('tenant_id').orderBy('job_id').orderBy('key').execute();
      return rows.map(toMeteringRow);
    },
  };
}
