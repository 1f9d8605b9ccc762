/**
 * Inference services in the store (migration 0012; docs/services.md "The service"): services per tenant, their
 * demand per region and slot, the dispatch loop's placement per slot, replica runs and their metering, and the sums
 * bills read. The API writes services and demand; the dispatch loop (fenced: its writes check the lease) writes
 * placements, replicas and metering.
 */
import { sql, type Selectable } from 'kysely';
import type { ServiceSpec } from '../core/services/model.ts';
import type { ReplicaRun, ServiceBurst, ServicePlacementSlot, ServiceUsage, StoredService, Store } from './port.ts';
import type { ServiceReplicasTable, ServicesTable } from './schema.ts';
import { monthBoundsMs } from './metering.ts';
import { chunks, count, inTransaction, refuse, type Db, type WriteGuard } from './support.ts';
import { checkExecutorRef, checkId } from './validate.ts';

type ServiceMethods = Pick<
  Store,
  | 'createService'
  | 'getService'
  | 'listServices'
  | 'deleteService'
  | 'putServiceDemand'
  | 'serviceDemand'
  | 'putServicePlacements'
  | 'servicePlacements'
  | 'addReplica'
  | 'replicaStarted'
  | 'replicaStopped'
  | 'replicaRuns'
  | 'meterReplica'
  | 'serviceUsage'
  | 'putServiceLoad'
  | 'serviceLoad'
  | 'putServiceBurst'
  | 'serviceBurst'
>;

const MS_PER_HOUR = 3_600_000;

function toService(row: Selectable<ServicesTable>): StoredService {
  return {
    tenantId: row.tenant_id,
    serviceId: row.service_id,
    spec: JSON.parse(row.spec) as ServiceSpec,
    status: row.status as StoredService['status'],
    createdMs: Number(row.created_ms),
    updatedMs: Number(row.updated_ms),
    deletedMs: row.deleted_ms === null ? null : Number(row.deleted_ms),
  };
}

function toReplica(row: Selectable<ServiceReplicasTable>): ReplicaRun {
  const ms = (v: number | null) => (v === null ? null : Number(v));
  return {
    ref: row.ref,
    tenantId: row.tenant_id,
    serviceId: row.service_id,
    site: row.site,
    pool: row.pool,
    units: Number(row.units),
    requestedMs: Number(row.requested_ms),
    startedMs: ms(row.started_ms),
    stoppedMs: ms(row.stopped_ms),
    meteredToMs: ms(row.metered_to_ms),
  };
}

const finite = (v: number) => typeof v === 'number' && Number.isFinite(v);

/** The services methods; `guard` checks the dispatch lease in the loop's writes (a fenced store). */
export function serviceMethods(db: Db, guard: WriteGuard = null): ServiceMethods {
  const replica = async (trx: Db, ref: string) => {
    const row = await trx.selectFrom('service_replicas').selectAll().where('ref', '=', ref).executeTakeFirst();
    return row ? toReplica(row) : null;
  };
  return {
    async createService(tenantId, spec, nowMs) {
      const bad = checkId('service id', spec.id) ?? checkId('tenant id', tenantId);
      if (bad) return refuse('invalid', bad);
      return inTransaction(db, async (trx) => {
        if (!(await trx.selectFrom('tenants').select('id').where('id', '=', tenantId).executeTakeFirst())) return refuse('not-found', `no tenant ${tenantId}`);
        const old = await trx.selectFrom('services').selectAll().where('tenant_id', '=', tenantId).where('service_id', '=', spec.id).executeTakeFirst();
        if (old?.status === 'active') return refuse('duplicate', `service ${spec.id} already exists for tenant ${tenantId}`);
        const row = { tenant_id: tenantId, service_id: spec.id, spec: JSON.stringify(spec), status: 'active', created_ms: nowMs, updated_ms: nowMs, deleted_ms: null };
        if (old) {
          // A deleted service's id is taken again: its demand, placements, load and burst go, its replicas and metering stay (bills).
          await trx.deleteFrom('service_demand').where('tenant_id', '=', tenantId).where('service_id', '=', spec.id).execute();
          await trx.deleteFrom('service_placements').where('tenant_id', '=', tenantId).where('service_id', '=', spec.id).execute();
          await trx.deleteFrom('service_load').where('tenant_id', '=', tenantId).where('service_id', '=', spec.id).execute();
          await trx.deleteFrom('service_bursts').where('tenant_id', '=', tenantId).where('service_id', '=', spec.id).execute();
          await trx.updateTable('services').set(row).where('tenant_id', '=', tenantId).where('service_id', '=', spec.id).execute();
        } else await trx.insertInto('services').values(row).execute();
        return { ok: true as const, service: toService(row) };
      });
    },

    async getService(ref) {
      const row = await db.selectFrom('services').selectAll().where('tenant_id', '=', ref.tenantId).where('service_id', '=', ref.serviceId).executeTakeFirst();
      return row ? toService(row) : null;
    },

    async listServices(filter = {}) {
      let query = db.selectFrom('services').selectAll();
      if (filter.tenantId !== undefined) query = query.where('tenant_id', '=', filter.tenantId);
      if (filter.statuses !== undefined) {
        if (filter.statuses.length === 0) return [];
        query = query.where('status', 'in', [...filter.statuses]);
      }
      return (await query.orderBy('tenant_id').orderBy('service_id').execute()).map(toService);
    },

    async deleteService(ref, nowMs) {
      return inTransaction(db, async (trx) => {
        const row = await trx.selectFrom('services').selectAll().where('tenant_id', '=', ref.tenantId).where('service_id', '=', ref.serviceId).executeTakeFirst();
        if (!row || row.status !== 'active') return refuse('not-found', `no service ${ref.serviceId}`);
        await trx.updateTable('services').set({ status: 'deleted', deleted_ms: nowMs, updated_ms: nowMs }).where('tenant_id', '=', ref.tenantId).where('service_id', '=', ref.serviceId).execute();
        return { ok: true as const, service: toService({ ...row, status: 'deleted', deleted_ms: nowMs, updated_ms: nowMs }) };
      });
    },

    async putServiceDemand(input, nowMs) {
      const slotMs = input.slotMinutes * 60_000;
      if (!Number.isInteger(input.slotMinutes) || input.slotMinutes <= 0) return refuse('invalid', `slotMinutes ${input.slotMinutes} must be a positive whole number`);
      const rows: { tenant_id: string; service_id: string; region: string; slot_ms: number; requests_per_s: number; recorded_ms: number }[] = [];
      for (const [i, s] of input.series.entries()) {
        const bad = checkId(`series[${i}].region`, s.region);
        if (bad) return refuse('invalid', bad);
        if (!Number.isSafeInteger(s.startMs) || s.startMs % slotMs !== 0) return refuse('invalid', `series[${i}]: start ${s.startMs} is not on a ${input.slotMinutes}-minute slot boundary`);
        for (const [k, v] of s.requestsPerS.entries()) {
          if (!finite(v) || v < 0) return refuse('invalid', `series[${i}].requestsPerS[${k}]: ${v} is not a number ≥ 0`);
          rows.push({ tenant_id: input.ref.tenantId, service_id: input.ref.serviceId, region: s.region, slot_ms: s.startMs + k * slotMs, requests_per_s: v, recorded_ms: nowMs });
        }
      }
      return inTransaction(db, async (trx) => {
        const service = await trx.selectFrom('services').select('status').where('tenant_id', '=', input.ref.tenantId).where('service_id', '=', input.ref.serviceId).executeTakeFirst();
        if (service?.status !== 'active') return refuse('not-found', `no service ${input.ref.serviceId}`);
        for (const part of chunks(rows)) {
          await trx
            .insertInto('service_demand')
            .values(part)
            .onConflict((oc) => oc.columns(['tenant_id', 'service_id', 'region', 'slot_ms']).doUpdateSet({ requests_per_s: (eb) => eb.ref('excluded.requests_per_s'), recorded_ms: nowMs }))
            .execute();
        }
        return { ok: true as const, values: rows.length };
      });
    },

    async serviceDemand(ref, fromMs, toMs) {
      const rows = await db
        .selectFrom('service_demand')
        .select(['region', 'slot_ms', 'requests_per_s'])
        .where('tenant_id', '=', ref.tenantId)
        .where('service_id', '=', ref.serviceId)
        .where('slot_ms', '>=', fromMs)
        .where('slot_ms', '<', toMs)
        .orderBy('region')
        .orderBy('slot_ms')
        .execute();
      return rows.map((r) => ({ region: r.region, slotMs: Number(r.slot_ms), requestsPerS: Number(r.requests_per_s) }));
    },

    async putServicePlacements(items, nowMs) {
      return inTransaction(
        db,
        async (trx) => {
          let slots = 0;
          for (const item of items) {
            if (item.slots.length === 0) continue;
            const first = Math.min(...item.slots.map((s) => s.slotMs));
            await trx.deleteFrom('service_placements').where('tenant_id', '=', item.ref.tenantId).where('service_id', '=', item.ref.serviceId).where('slot_ms', '>=', first).execute();
            const rows = item.slots.map(({ slotMs, plannedMs, ...placement }) => ({
              tenant_id: item.ref.tenantId,
              service_id: item.ref.serviceId,
              slot_ms: slotMs,
              placement: JSON.stringify(placement),
              planned_ms: plannedMs ?? nowMs,
            }));
            for (const part of chunks(rows)) await trx.insertInto('service_placements').values(part).execute();
            slots += rows.length;
          }
          return { ok: true as const, slots };
        },
        guard,
      );
    },

    async servicePlacements(ref, fromMs, toMs) {
      const rows = await db
        .selectFrom('service_placements')
        .selectAll()
        .where('tenant_id', '=', ref.tenantId)
        .where('service_id', '=', ref.serviceId)
        .where('slot_ms', '>=', fromMs)
        .where('slot_ms', '<', toMs)
        .orderBy('slot_ms')
        .execute();
      return rows.map((r): ServicePlacementSlot => ({ ...(JSON.parse(r.placement) as Omit<ServicePlacementSlot, 'slotMs' | 'plannedMs'>), slotMs: Number(r.slot_ms), plannedMs: Number(r.planned_ms) }));
    },

    async addReplica(run) {
      const bad = checkExecutorRef(run.ref);
      if (bad) return refuse('invalid', bad);
      if (!Number.isInteger(run.units) || run.units <= 0) return refuse('invalid', `units ${run.units} must be a positive whole number`);
      return inTransaction(
        db,
        async (trx) => {
          const known = await replica(trx, run.ref);
          if (known) return { ok: true as const, replica: known, replayed: true };
          const service = await trx.selectFrom('services').select('status').where('tenant_id', '=', run.tenantId).where('service_id', '=', run.serviceId).executeTakeFirst();
          if (!service) return refuse('not-found', `no service ${run.serviceId} for tenant ${run.tenantId}`);
          const row = { ref: run.ref, tenant_id: run.tenantId, service_id: run.serviceId, site: run.site, pool: run.pool, units: run.units, requested_ms: run.requestedMs, started_ms: null, stopped_ms: null, metered_to_ms: null };
          await trx.insertInto('service_replicas').values(row).execute();
          return { ok: true as const, replica: toReplica(row), replayed: false };
        },
        guard,
      );
    },

    async replicaStarted(ref, startedMs) {
      return inTransaction(
        db,
        async (trx) => {
          await trx.updateTable('service_replicas').set({ started_ms: startedMs }).where('ref', '=', ref).where('started_ms', 'is', null).execute();
          const r = await replica(trx, ref);
          return r ? { ok: true as const, replica: r } : refuse('not-found', `no replica ${ref}`);
        },
        guard,
      );
    },

    async replicaStopped(ref, stoppedMs) {
      return inTransaction(
        db,
        async (trx) => {
          await trx.updateTable('service_replicas').set({ stopped_ms: stoppedMs }).where('ref', '=', ref).where('stopped_ms', 'is', null).execute();
          const r = await replica(trx, ref);
          return r ? { ok: true as const, replica: r } : refuse('not-found', `no replica ${ref}`);
        },
        guard,
      );
    },

    async replicaRuns(filter = {}) {
      let query = db.selectFrom('service_replicas').selectAll();
      if (filter.tenantId !== undefined) query = query.where('tenant_id', '=', filter.tenantId);
      if (filter.serviceId !== undefined) query = query.where('service_id', '=', filter.serviceId);
      if (filter.live) query = query.where('stopped_ms', 'is', null);
      if (filter.unmetered)
        query = query
          .where('started_ms', 'is not', null)
          .where((eb) => eb.or([eb('stopped_ms', 'is', null), eb('metered_to_ms', 'is', null), eb('metered_to_ms', '<', eb.ref('stopped_ms'))]));
      return (await query.orderBy('tenant_id').orderBy('service_id').orderBy('ref').execute()).map(toReplica);
    },

    async meterReplica(ref, rows, meteredToMs, nowMs) {
      for (const [i, r] of rows.entries()) {
        if (![r.energyKWh, r.greenKWh, r.costYuan, r.carbonKg].every(finite) || !(r.endMs > r.startMs) || r.greenKWh > r.energyKWh + 1e-9)
          return refuse('invalid', `rows[${i}] (${r.key}): figures must be finite, greenKWh ≤ energyKWh, and endMs after startMs`);
      }
      return inTransaction(
        db,
        async (trx) => {
          const run = await replica(trx, ref);
          if (!run) return refuse('not-found', `no replica ${ref}`);
          let inserted = 0;
          for (const part of chunks(rows.map((r) => ({
            tenant_id: run.tenantId,
            service_id: run.serviceId,
            key: r.key,
            replica_ref: ref,
            site: run.site,
            pool: run.pool,
            start_ms: r.startMs,
            end_ms: r.endMs,
            units: run.units,
            energy_kwh: r.energyKWh,
            green_kwh: r.greenKWh,
            cost_yuan: r.costYuan,
            carbon_kg: r.carbonKg,
            recorded_ms: nowMs,
          })))) {
            const result = await trx.insertInto('service_metering').values(part).onConflict((oc) => oc.doNothing()).executeTakeFirst();
            inserted += count(result.numInsertedOrUpdatedRows);
          }
          await trx.updateTable('service_replicas').set({ metered_to_ms: meteredToMs }).where('ref', '=', ref).execute();
          return { ok: true as const, inserted };
        },
        guard,
      );
    },

    async serviceUsage(month, tenantId) {
      const bounds = monthBoundsMs(month);
      if (!bounds) return refuse('invalid', `month ${JSON.stringify(month)} is not YYYY-MM`);
      const rows = await db
        .selectFrom('service_metering')
        .select((eb) => [
          'service_id',
          'site',
          'pool',
          eb.fn.countAll().as('rows'),
          eb.fn.sum(sql<number>`end_ms - start_ms`).as('replica_ms'),
          eb.fn.sum(sql<number>`units * (end_ms - start_ms)`).as('unit_ms'),
          eb.fn.sum('energy_kwh').as('energy_kwh'),
          eb.fn.sum('green_kwh').as('green_kwh'),
          eb.fn.sum('cost_yuan').as('cost_yuan'),
          eb.fn.sum('carbon_kg').as('carbon_kg'),
        ])
        .where('tenant_id', '=', tenantId)
        .where('start_ms', '>=', bounds.startMs)
        .where('start_ms', '<', bounds.endMs)
        .groupBy(['service_id', 'site', 'pool'])
        .orderBy('service_id')
        .orderBy('site')
        .orderBy('pool')
        .execute();
      const usage: ServiceUsage[] = rows.map((r) => ({
        serviceId: r.service_id,
        site: r.site,
        pool: r.pool,
        rows: Number(r.rows),
        replicaHours: Number(r.replica_ms) / MS_PER_HOUR,
        unitHours: Number(r.unit_ms) / MS_PER_HOUR,
        energyKWh: Number(r.energy_kwh),
        greenKWh: Number(r.green_kwh),
        costYuan: Number(r.cost_yuan),
        carbonKg: Number(r.carbon_kg),
      }));
      return { ok: true, usage };
    },

    async putServiceLoad(ref, load, reportedMs) {
      const rows: { tenant_id: string; service_id: string; region: string; requests_per_s: number; reported_ms: number }[] = [];
      for (const [i, l] of load.entries()) {
        const bad = checkId(`load[${i}].region`, l.region);
        if (bad) return refuse('invalid', bad);
        if (!finite(l.requestsPerS) || l.requestsPerS < 0) return refuse('invalid', `load[${i}].requestsPerS: ${l.requestsPerS} is not a number ≥ 0`);
        rows.push({ tenant_id: ref.tenantId, service_id: ref.serviceId, region: l.region, requests_per_s: l.requestsPerS, reported_ms: reportedMs });
      }
      if (!Number.isSafeInteger(reportedMs)) return refuse('invalid', `reportedMs ${reportedMs} is not an instant`);
      return inTransaction(db, async (trx) => {
        const service = await trx.selectFrom('services').select('status').where('tenant_id', '=', ref.tenantId).where('service_id', '=', ref.serviceId).executeTakeFirst();
        if (service?.status !== 'active') return refuse('not-found', `no service ${ref.serviceId}`);
        for (const part of chunks(rows))
          await trx
            .insertInto('service_load')
            .values(part)
            .onConflict((oc) => oc.columns(['tenant_id', 'service_id', 'region']).doUpdateSet({ requests_per_s: (eb) => eb.ref('excluded.requests_per_s'), reported_ms: (eb) => eb.ref('excluded.reported_ms') }))
            .execute();
        return { ok: true as const, regions: rows.length };
      });
    },

    async serviceLoad(ref, sinceMs) {
      const rows = await db
        .selectFrom('service_load')
        .select(['region', 'requests_per_s', 'reported_ms'])
        .where('tenant_id', '=', ref.tenantId)
        .where('service_id', '=', ref.serviceId)
        .where('reported_ms', '>=', sinceMs)
        .orderBy('region')
        .execute();
      return rows.map((r) => ({ region: r.region, requestsPerS: Number(r.requests_per_s), reportedMs: Number(r.reported_ms) }));
    },

    async putServiceBurst(ref, burst, nowMs) {
      return inTransaction(
        db,
        async (trx) => {
          if (!(await trx.selectFrom('services').select('status').where('tenant_id', '=', ref.tenantId).where('service_id', '=', ref.serviceId).executeTakeFirst())) return refuse('not-found', `no service ${ref.serviceId}`);
          const row = { tenant_id: ref.tenantId, service_id: ref.serviceId, burst: JSON.stringify(burst), updated_ms: nowMs };
          await trx
            .insertInto('service_bursts')
            .values(row)
            .onConflict((oc) => oc.columns(['tenant_id', 'service_id']).doUpdateSet({ burst: row.burst, updated_ms: nowMs }))
            .execute();
          return { ok: true as const, burst };
        },
        guard,
      );
    },

    async serviceBurst(ref) {
      const row = await db.selectFrom('service_bursts').select('burst').where('tenant_id', '=', ref.tenantId).where('service_id', '=', ref.serviceId).executeTakeFirst();
      return row ? (JSON.parse(row.burst) as ServiceBurst) : null;
    },
  };
}
