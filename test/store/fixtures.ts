/**
 * Builders for the store contract: tenants, job specs (from test/fixtures/job-builder.ts), plans, metering rows.
 */
import type { PlannedJob } from '../../src/core/dispatch/plan.ts';
import type { Job } from '../../src/core/model/types.ts';
import type { JobRef, JobSpec, MeteringInput, TenantInput } from '../../src/store/port.ts';
import { instantMs, makeJob, type JobBuilder } from '../fixtures/job-builder.ts';

export { instantMs, makeJob };

/** A clock for tests: 2026-06-01T00:00Z plus minutes. */
export const T0_MS = instantMs('2026-06-01T00:00Z');
export function at(minutes: number): number {
  return T0_MS + minutes * 60_000;
}

export function tenant(id: string, role: TenantInput['role'] = 'tenant'): TenantInput {
  return { id, name: `Tenant ${id}`, role, maxConcurrentUnits: { ai: 16, general: null, hpc: 4 } };
}

/** A job as submitted: the builder's job without its tenant. */
export function spec(job: Job | JobBuilder): JobSpec {
  const { tenant: _tenant, ...rest } = 'build' in job ? job.build() : job;
  return rest;
}

export function specs(...ids: string[]): JobSpec[] {
  return ids.map((id) => spec(makeJob(id)));
}

export function ref(tenantId: string, jobId: string): JobRef {
  return { tenantId, jobId };
}

/** A plan for a job at `site`, one run of `hours` from `startIso`. */
export function plannedJob(id: string, site = 'hami', startIso = '2026-06-01T02:00:00.000Z', hours = 1): PlannedJob {
  const end = new Date(Date.parse(startIso) + hours * 3_600_000).toISOString();
  return {
    id,
    site,
    pool: `${site}-ai`,
    runs: [{ start: startIso, end, units: 1 }],
    transfer: null,
    energyKWh: 1.25,
    greenKWh: 1,
    costYuan: 0.3,
    carbonKg: 0.1,
    transferKWh: 0,
    explain: { policy: 'cost', candidates: [], earliestHere: null, rejected: [{ site: 'beijing', reason: 'no ai pool' }] },
  };
}

export function metering(tenantId: string, jobId: string, key: string, startIso: string, hours: number, scale = 1): MeteringInput {
  const startMs = instantMs(startIso);
  return {
    tenantId,
    jobId,
    key,
    site: 'hami',
    pool: 'hami-ai',
    startMs,
    endMs: startMs + hours * 3_600_000,
    units: 2,
    energyKWh: 10 * scale,
    greenKWh: 6 * scale,
    costYuan: 3.5 * scale,
    carbonKg: 2.25 * scale,
    pflopHours: { fp64: 0.5 * scale, fp32: 1 * scale, bf16: 4 * scale },
  };
}
