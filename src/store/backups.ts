/**
 * Cross-regional backup in the store (docs/backup.md, "The service"): tenants' policies and datasets, each replica's
 * newest verified copy, the bytes copies moved per hop, and the bytes replicas keep over time. The API writes
 * policies and datasets; the service's backup loop (src/service/backup-loop.ts) writes replicas and transfers
 * through the fenced store; bills read `backupUsage`.
 */
import type { Selectable } from 'kysely';
import type { BackupLinkLoad, BackupLoopStateDocument, BackupRecord, BackupTransferRecord, BackupUsage, ReplicaRecord, Store } from './port.ts';
import type { BackupDocumentsTable, BackupReplicasTable, BackupTransfersTable } from './schema.ts';
import { monthBoundsMs } from './metering.ts';
import { inTransaction, refuse, type Db, type WriteGuard } from './support.ts';
import { checkId } from './validate.ts';

type BackupMethods = Pick<
  Store,
  | 'createBackupPolicy'
  | 'createBackupDataset'
  | 'backupPolicies'
  | 'backupDatasets'
  | 'backupDataset'
  | 'recordReplica'
  | 'replicas'
  | 'recordBackupTransfer'
  | 'backupTransfers'
  | 'backupUsage'
  | 'saveBackupLoopStates'
  | 'backupLoopState'
  | 'saveBackupLinkLoads'
  | 'backupLinkLoads'
>;

const GB = 1e9;

function toRecord(row: Selectable<BackupDocumentsTable>): BackupRecord {
  return { tenantId: row.tenant_id, id: row.id, document: JSON.parse(row.document) as Record<string, unknown>, createdMs: Number(row.created_ms) };
}

function toReplica(row: Selectable<BackupReplicasTable>): ReplicaRecord {
  return {
    tenantId: row.tenant_id,
    datasetId: row.dataset_id,
    site: row.site,
    versionMs: Number(row.version_ms),
    verifiedMs: Number(row.verified_ms),
    bytes: Number(row.bytes),
    files: Number(row.files),
    storedBytes: Number(row.stored_bytes),
    updatedMs: Number(row.updated_ms),
  };
}

function toTransfer(row: Selectable<BackupTransfersTable>): BackupTransferRecord {
  return {
    tenantId: row.tenant_id,
    datasetId: row.dataset_id,
    key: row.key,
    from: row.from_site,
    to: row.to_site,
    target: row.target,
    bytes: Number(row.bytes),
    startMs: Number(row.start_ms),
    endMs: Number(row.end_ms),
    energyKWh: Number(row.energy_kwh),
    carbonKg: Number(row.carbon_kg),
    recordedMs: Number(row.recorded_ms),
  };
}

const wholeBytes = (what: string, v: number) => (Number.isSafeInteger(v) && v >= 0 ? null : `${what} ${v} must be a whole number of bytes ≥ 0`);
const instant = (what: string, v: number) => (Number.isSafeInteger(v) ? null : `${what} ${v} must be an instant in whole milliseconds`);
const amount = (what: string, v: number) => (Number.isFinite(v) && v >= 0 ? null : `${what} ${v} must be a finite number ≥ 0`);

export function backupMethods(db: Db, guard: WriteGuard = null): BackupMethods {
  function create(table: 'backup_policies' | 'backup_datasets', what: string): Store['createBackupPolicy'] {
    return async (tenantId, id, document, nowMs) => {
      const bad = checkId(`${what} id`, id);
      if (bad) return refuse('invalid', bad);
      return inTransaction(db, async (trx) => {
        if (!(await trx.selectFrom('tenants').select('id').where('id', '=', tenantId).executeTakeFirst())) return refuse('not-found', `no tenant ${tenantId}`);
        const inserted = await trx
          .insertInto(table)
          .values({ tenant_id: tenantId, id, document: JSON.stringify(document), created_ms: nowMs })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return refuse('duplicate', `tenant ${tenantId} already has a backup ${what} ${id}`);
        return { ok: true as const, record: { tenantId, id, document, createdMs: nowMs } };
      });
    };
  }

  function list(table: 'backup_policies' | 'backup_datasets') {
    return async (tenantId?: string) => {
      let query = db.selectFrom(table).selectAll();
      if (tenantId !== undefined) query = query.where('tenant_id', '=', tenantId);
      return (await query.orderBy('tenant_id').orderBy('id').execute()).map(toRecord);
    };
  }

  return {
    createBackupPolicy: create('backup_policies', 'policy'),
    createBackupDataset: create('backup_datasets', 'dataset'),
    backupPolicies: list('backup_policies'),
    backupDatasets: list('backup_datasets'),

    async backupDataset(tenantId, id) {
      const row = await db.selectFrom('backup_datasets').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row ? toRecord(row) : null;
    },

    async recordReplica(r, nowMs) {
      const bad = wholeBytes('bytes', r.bytes) ?? wholeBytes('storedBytes', r.storedBytes) ?? wholeBytes('files', r.files) ?? instant('versionMs', r.versionMs) ?? instant('verifiedMs', r.verifiedMs);
      if (bad) return refuse('invalid', `replica ${r.tenantId}/${r.datasetId}@${r.site}: ${bad}`);
      return inTransaction(
        db,
        async (trx) => {
          const dataset = await trx.selectFrom('backup_datasets').select('id').where('tenant_id', '=', r.tenantId).where('id', '=', r.datasetId).executeTakeFirst();
          if (!dataset) return refuse('not-found', `no backup dataset ${r.datasetId} for tenant ${r.tenantId}`);
          const key = (q: any) => q.where('tenant_id', '=', r.tenantId).where('dataset_id', '=', r.datasetId).where('site', '=', r.site);
          const before = await key(trx.selectFrom('backup_replicas').selectAll()).executeTakeFirst() as Selectable<BackupReplicasTable> | undefined;
          if (before && Number(before.version_ms) > r.versionMs) return { ok: true as const, replica: toReplica(before), changed: false };
          const row = {
            version_ms: r.versionMs,
            verified_ms: r.verifiedMs,
            bytes: r.bytes,
            files: r.files,
            stored_bytes: r.storedBytes,
            updated_ms: nowMs,
          };
          if (before) await key(trx.updateTable('backup_replicas').set(row)).execute();
          else await trx.insertInto('backup_replicas').values({ tenant_id: r.tenantId, dataset_id: r.datasetId, site: r.site, ...row }).execute();
          if (!before || Number(before.stored_bytes) !== r.storedBytes) {
            await trx
              .insertInto('backup_storage')
              .values({ tenant_id: r.tenantId, dataset_id: r.datasetId, site: r.site, from_ms: nowMs, stored_bytes: r.storedBytes })
              .onConflict((oc) => oc.columns(['tenant_id', 'dataset_id', 'site', 'from_ms']).doUpdateSet({ stored_bytes: r.storedBytes }))
              .execute();
          }
          return { ok: true as const, replica: { ...r, updatedMs: nowMs }, changed: true };
        },
        guard,
      );
    },

    async replicas(filter = {}) {
      let query = db.selectFrom('backup_replicas').selectAll();
      if (filter.tenantId !== undefined) query = query.where('tenant_id', '=', filter.tenantId);
      if (filter.datasetId !== undefined) query = query.where('dataset_id', '=', filter.datasetId);
      return (await query.orderBy('tenant_id').orderBy('dataset_id').orderBy('site').execute()).map(toReplica);
    },

    async recordBackupTransfer(t, nowMs) {
      const energyKWh = t.energyKWh ?? 0;
      const carbonKg = t.carbonKg ?? 0;
      const bad =
        checkId('transfer key', t.key) ??
        wholeBytes('bytes', t.bytes) ??
        instant('startMs', t.startMs) ??
        instant('endMs', t.endMs) ??
        (t.endMs < t.startMs ? `endMs ${t.endMs} is before startMs ${t.startMs}` : null) ??
        amount('energyKWh', energyKWh) ??
        amount('carbonKg', carbonKg);
      if (bad) return refuse('invalid', `transfer ${t.tenantId}/${t.datasetId}/${t.key}: ${bad}`);
      return inTransaction(
        db,
        async (trx) => {
          const where = (q: any) => q.where('tenant_id', '=', t.tenantId).where('dataset_id', '=', t.datasetId).where('key', '=', t.key);
          const before = (await where(trx.selectFrom('backup_transfers').selectAll()).executeTakeFirst()) as Selectable<BackupTransfersTable> | undefined;
          if (!before) {
            await trx
              .insertInto('backup_transfers')
              .values({ tenant_id: t.tenantId, dataset_id: t.datasetId, key: t.key, from_site: t.from, to_site: t.to, target: t.target, bytes: t.bytes, start_ms: t.startMs, end_ms: t.endMs, recorded_ms: nowMs, energy_kwh: energyKWh, carbon_kg: carbonKg })
              .execute();
            return { ok: true as const, transfer: { ...t, energyKWh, carbonKg, recordedMs: nowMs } };
          }
          const stored = toTransfer(before);
          // The figures go with the larger count of bytes (a stale progress report lowers neither).
          const raised = t.bytes > stored.bytes;
          const next = { ...stored, bytes: Math.max(stored.bytes, t.bytes), endMs: Math.max(stored.endMs, t.endMs), recordedMs: nowMs, ...(raised ? { energyKWh, carbonKg } : {}) };
          await where(trx.updateTable('backup_transfers').set({ bytes: next.bytes, end_ms: next.endMs, recorded_ms: nowMs, energy_kwh: next.energyKWh, carbon_kg: next.carbonKg })).execute();
          return { ok: true as const, transfer: next };
        },
        guard,
      );
    },

    async backupTransfers(filter = {}) {
      let query = db.selectFrom('backup_transfers').selectAll();
      if (filter.tenantId !== undefined) query = query.where('tenant_id', '=', filter.tenantId);
      if (filter.datasetId !== undefined) query = query.where('dataset_id', '=', filter.datasetId);
      if (filter.fromMs !== undefined) query = query.where('start_ms', '>=', filter.fromMs);
      if (filter.toMs !== undefined) query = query.where('start_ms', '<', filter.toMs);
      return (await query.orderBy('start_ms').orderBy('tenant_id').orderBy('dataset_id').orderBy('key').execute()).map(toTransfer);
    },

    async backupUsage(month, nowMs, tenantId) {
      const bounds = monthBoundsMs(month);
      if (!bounds) return refuse('invalid', `month ${JSON.stringify(month)} is not YYYY-MM`);
      let moved = db
        .selectFrom('backup_transfers')
        .select((eb) => ['tenant_id', eb.fn.sum('bytes').as('bytes'), eb.fn.sum('energy_kwh').as('energy_kwh'), eb.fn.sum('carbon_kg').as('carbon_kg')])
        .where('start_ms', '>=', bounds.startMs)
        .where('start_ms', '<', bounds.endMs);
      if (tenantId !== undefined) moved = moved.where('tenant_id', '=', tenantId);
      // Storage periods: each row holds until the next row of its replica; those that start before the month's end count.
      let periods = db.selectFrom('backup_storage').selectAll().where('from_ms', '<', bounds.endMs);
      if (tenantId !== undefined) periods = periods.where('tenant_id', '=', tenantId);
      const usage = new Map<string, BackupUsage>();
      const of = (tenant: string) => {
        let u = usage.get(tenant);
        if (!u) usage.set(tenant, (u = { tenantId: tenant, month, storedGBMonths: 0, transferredGB: 0, networkEnergyKWh: 0, networkCarbonKg: 0 }));
        return u;
      };
      for (const r of await moved.groupBy('tenant_id').execute()) {
        const u = of(r.tenant_id);
        u.transferredGB += Number(r.bytes) / GB;
        u.networkEnergyKWh += Number(r.energy_kwh ?? 0);
        u.networkCarbonKg += Number(r.carbon_kg ?? 0);
      }
      const rows = await periods.orderBy('tenant_id').orderBy('dataset_id').orderBy('site').orderBy('from_ms').execute();
      const monthMs = bounds.endMs - bounds.startMs;
      const end = Math.min(bounds.endMs, nowMs);
      rows.forEach((row, i) => {
        const next = rows[i + 1];
        const sameReplica = next && next.tenant_id === row.tenant_id && next.dataset_id === row.dataset_id && next.site === row.site;
        const from = Math.max(bounds.startMs, Number(row.from_ms));
        const to = Math.min(end, sameReplica ? Number(next.from_ms) : end);
        if (to > from) of(row.tenant_id).storedGBMonths += ((Number(row.stored_bytes) / GB) * (to - from)) / monthMs;
        else of(row.tenant_id);
      });
      return { ok: true, usage: [...usage.values()].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0)) };
    },

    async saveBackupLoopStates(states, nowMs) {
      if (states.length === 0) return { ok: true, saved: 0 };
      return inTransaction(
        db,
        async (trx) => {
          for (const { tenantId, datasetId, state } of states) {
            const document = JSON.stringify(state);
            await trx
              .insertInto('backup_loop_state')
              .values({ tenant_id: tenantId, dataset_id: datasetId, document, updated_ms: nowMs })
              .onConflict((oc) => oc.columns(['tenant_id', 'dataset_id']).doUpdateSet({ document, updated_ms: nowMs }))
              .execute();
          }
          return { ok: true as const, saved: states.length };
        },
        guard,
      );
    },

    async backupLoopState(tenantId, datasetId) {
      const row = await db.selectFrom('backup_loop_state').selectAll().where('tenant_id', '=', tenantId).where('dataset_id', '=', datasetId).executeTakeFirst();
      return row ? { state: JSON.parse(row.document) as BackupLoopStateDocument, updatedMs: Number(row.updated_ms) } : null;
    },

    async saveBackupLinkLoads(loads, nowMs) {
      const seen = new Set<string>();
      for (const [i, l] of loads.entries()) {
        if (!l.from || !l.to) return refuse('invalid', `loads[${i}].${l.from ? 'to' : 'from'}: must be a site id`);
        if (!(l.gbps >= 0) || !Number.isFinite(l.gbps)) return refuse('invalid', `loads[${i}].gbps: must be a finite number ≥ 0, got ${l.gbps}`);
        if (seen.has(`${l.from}>${l.to}`)) return refuse('invalid', `loads[${i}]: ${l.from}>${l.to} given twice`);
        seen.add(`${l.from}>${l.to}`);
      }
      return inTransaction(
        db,
        async (trx) => {
          // The whole set at once: directions no copy uses any more go.
          await trx.deleteFrom('backup_link_loads').execute();
          const rows = [{ from_site: '', to_site: '', gbps: 0, updated_ms: nowMs }, ...loads.map((l) => ({ from_site: l.from, to_site: l.to, gbps: l.gbps, updated_ms: nowMs }))];
          await trx.insertInto('backup_link_loads').values(rows).execute();
          return { ok: true as const, saved: loads.length };
        },
        guard,
      );
    },

    async backupLinkLoads() {
      const rows = await db.selectFrom('backup_link_loads').selectAll().orderBy('from_site').orderBy('to_site').execute();
      const stamp = rows.find((r) => r.from_site === '' && r.to_site === '');
      if (!stamp || Number(stamp.updated_ms) < 0) return null;
      const loads: BackupLinkLoad[] = rows.filter((r) => r !== stamp).map((r) => ({ from: r.from_site, to: r.to_site, gbps: Number(r.gbps) }));
      return { loads, updatedMs: Number(stamp.updated_ms) };
    },
  };
}
