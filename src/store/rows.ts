/**
 * Rows ↔ port types, for every store module: the one place that knows column names and JSON-as-text.
 */
import type { Selectable } from 'kysely';
import type { JobClass, PoolClass } from '../core/model/types.ts';
import type { PlannedJob } from '../core/dispatch/plan.ts';
import type { JobStatus } from './lifecycle.ts';
import type { ApiKeyInfo, JobEvent, JobSpec, MeteringInput, MeteringRow, StoredJob, Tenant, TenantRole, Unplaced } from './port.ts';
import type { ApiKeysTable, JobEventsTable, JobsTable, MeteringTable, TenantsTable } from './schema.ts';

export function toTenant(row: Selectable<TenantsTable>): Tenant {
  return { id: row.id, name: row.name, role: row.role as TenantRole, maxConcurrentUnits: JSON.parse(row.quotas), createdMs: row.created_ms };
}

export function toApiKeyInfo(row: Pick<Selectable<ApiKeysTable>, 'id' | 'tenant_id' | 'label' | 'created_ms' | 'revoked_ms'>): ApiKeyInfo {
  return { id: row.id, tenantId: row.tenant_id, label: row.label, createdMs: row.created_ms, revokedMs: row.revoked_ms };
}

/** The row of a newly submitted job. */
export function jobRow(tenantId: string, spec: JobSpec, nowMs: number): JobsTable {
  return {
    tenant_id: tenantId,
    job_id: spec.id,
    class: spec.class,
    pool_class: spec.poolClass,
    units: spec.units,
    duration_s: spec.durationS,
    release_ms: spec.releaseMs,
    deadline_ms: spec.deadlineMs,
    origin: spec.origin,
    input_gb: spec.inputGb,
    interruptible: spec.interruptible ? 1 : 0,
    allowed_sites: spec.allowedSites === null ? null : JSON.stringify(spec.allowedSites),
    status: 'submitted',
    version: 1,
    plan: null,
    executor_ref: null,
    command: spec.command ?? null,
    unplaced: null,
    submitted_ms: nowMs,
    updated_ms: nowMs,
  };
}

export function toStoredJob(row: Selectable<JobsTable>): StoredJob {
  return {
    job: {
      id: row.job_id,
      tenant: row.tenant_id,
      class: row.class as JobClass,
      poolClass: row.pool_class as PoolClass,
      units: row.units,
      durationS: row.duration_s,
      releaseMs: row.release_ms,
      deadlineMs: row.deadline_ms,
      origin: row.origin,
      inputGb: row.input_gb,
      interruptible: row.interruptible === 1,
      allowedSites: row.allowed_sites === null ? null : JSON.parse(row.allowed_sites),
    },
    status: row.status as JobStatus,
    version: row.version,
    plan: row.plan === null ? null : (JSON.parse(row.plan) as PlannedJob),
    executorRef: row.executor_ref,
    command: row.command,
    unplaced: row.unplaced === null ? null : (JSON.parse(row.unplaced) as Unplaced),
    submittedMs: row.submitted_ms,
    updatedMs: row.updated_ms,
  };
}

export function toJobEvent(row: Selectable<JobEventsTable>): JobEvent {
  return {
    tenantId: row.tenant_id,
    jobId: row.job_id,
    version: row.version,
    atMs: row.at_ms,
    name: row.name as JobEvent['name'],
    from: row.from_status as JobStatus | null,
    to: row.to_status as JobStatus,
    detail: JSON.parse(row.detail),
  };
}

export function meteringRow(input: MeteringInput, nowMs: number): MeteringTable {
  return {
    tenant_id: input.tenantId,
    job_id: input.jobId,
    key: input.key,
    site: input.site,
    pool: input.pool,
    start_ms: input.startMs,
    end_ms: input.endMs,
    units: input.units,
    energy_kwh: input.energyKWh,
    green_kwh: input.greenKWh,
    cost_yuan: input.costYuan,
    carbon_kg: input.carbonKg,
    pflop_h_fp64: input.pflopHours.fp64,
    pflop_h_fp32: input.pflopHours.fp32,
    pflop_h_bf16: input.pflopHours.bf16,
    recorded_ms: nowMs,
    baseline_energy_kwh: input.baseline?.energyKWh ?? null,
    baseline_green_kwh: input.baseline?.greenKWh ?? null,
    baseline_cost_yuan: input.baseline?.costYuan ?? null,
    baseline_carbon_kg: input.baseline?.carbonKg ?? null,
  };
}

export function toMeteringRow(row: Selectable<MeteringTable>): MeteringRow {
  return {
    tenantId: row.tenant_id,
    jobId: row.job_id,
    key: row.key,
    site: row.site,
    pool: row.pool,
    startMs: row.start_ms,
    endMs: row.end_ms,
    units: row.units,
    energyKWh: row.energy_kwh,
    greenKWh: row.green_kwh,
    costYuan: row.cost_yuan,
    carbonKg: row.carbon_kg,
    pflopHours: { fp64: row.pflop_h_fp64, fp32: row.pflop_h_fp32, bf16: row.pflop_h_bf16 },
    baseline:
      row.baseline_energy_kwh === null
        ? null
        : { energyKWh: row.baseline_energy_kwh, greenKWh: Number(row.baseline_green_kwh), costYuan: Number(row.baseline_cost_yuan), carbonKg: Number(row.baseline_carbon_kg) },
    recordedMs: row.recorded_ms,
  };
}
