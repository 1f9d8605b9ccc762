/** Metering: idempotent rows per job, sums per tenant and UTC month. */
import { expect, it } from 'vitest';
import type { Harness } from '../harness.ts';
import { metering, ref, specs, tenant } from '../fixtures.ts';

export function meteringContract(h: Harness): void {
  it('records a row once per key and lists a job’s rows by start', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    await h.store.submitJobs('acme', specs('j1'), 1);
    const late = metering('acme', 'j1', 'run-2', '2026-06-02T00:00Z', 1);
    const early = metering('acme', 'j1', 'run-1', '2026-06-01T00:00Z', 2);
    expect(await h.store.recordMetering(late, 10)).toEqual({ ok: true, inserted: true });
    expect(await h.store.recordMetering(early, 11)).toEqual({ ok: true, inserted: true });
    expect(await h.store.recordMetering({ ...early, energyKWh: 999 }, 12)).toEqual({ ok: true, inserted: false });
    expect(await h.store.jobMetering(ref('acme', 'j1'))).toEqual([
      { ...early, recordedMs: 11 },
      { ...late, recordedMs: 10 },
    ]);
  });

  it('refuses rows of unknown jobs and bad rows', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    await h.store.submitJobs('acme', specs('j1'), 1);
    const row = metering('acme', 'j1', 'r', '2026-06-01T00:00Z', 1);
    expect(await h.store.recordMetering({ ...row, jobId: 'nope' }, 2)).toMatchObject({ ok: false, code: 'not-found' });
    for (const bad of [{ ...row, endMs: row.startMs - 1 }, { ...row, energyKWh: -1 }, { ...row, units: 0 }, { ...row, key: '' }, { ...row, pflopHours: { fp64: 1, fp32: 1 } as never }]) {
      expect(await h.store.recordMetering(bad, 2)).toMatchObject({ ok: false, code: 'invalid' });
    }
    expect(await h.raw('metering')).toEqual([]);
  });

  it('sums rows per tenant for the UTC month their run starts in', async () => {
    for (const t of ['acme', 'beta']) {
      await h.store.createTenant(tenant(t), 0);
      await h.store.submitJobs(t, specs('j1', 'j2'), 1);
    }
    const rows = [
      metering('acme', 'j1', 'a', '2026-01-01T00:00Z', 1), // first instant of January
      metering('acme', 'j2', 'b', '2026-01-31T23:30Z', 2, 2), // starts in January, ends in February
      metering('acme', 'j1', 'c', '2026-02-01T00:00Z', 1, 10), // first instant of February
      metering('beta', 'j1', 'a', '2026-01-15T12:00Z', 3, 0.5),
      metering('acme', 'j1', 'd', '2025-12-31T23:59Z', 1, 100), // December
    ];
    for (const row of rows) expect(await h.store.recordMetering(row, 5)).toEqual({ ok: true, inserted: true });

    const january = await h.store.monthlyUsage('2026-01');
    if (!january.ok) throw new Error(january.reason);
    expect(january.usage.map((u) => u.tenantId)).toEqual(['acme', 'beta']);
    const [acme, beta] = january.usage;
    expect(acme).toMatchObject({ tenantId: 'acme', month: '2026-01', rows: 2 });
    // Unit-hours: 2 units × 1 h + 2 units × 2 h.
    expect(acme.unitHours).toBeCloseTo(6, 9);
    expect(acme.energyKWh).toBeCloseTo(30, 9);
    expect(acme.greenKWh).toBeCloseTo(18, 9);
    expect(acme.costYuan).toBeCloseTo(10.5, 9);
    expect(acme.carbonKg).toBeCloseTo(6.75, 9);
    expect(acme.pflopHours.fp64).toBeCloseTo(1.5, 9);
    expect(acme.pflopHours.fp32).toBeCloseTo(3, 9);
    expect(acme.pflopHours.bf16).toBeCloseTo(12, 9);
    expect(beta).toMatchObject({ rows: 1, unitHours: 6, energyKWh: 5, costYuan: 1.75 });

    const february = await h.store.monthlyUsage('2026-02', 'acme');
    expect(february.ok && february.usage.map((u) => [u.tenantId, u.rows, u.energyKWh])).toEqual([['acme', 1, 100]]);
    const december = await h.store.monthlyUsage('2025-12');
    expect(december.ok && december.usage.map((u) => u.costYuan)).toEqual([350]);
    expect(await h.store.monthlyUsage('2026-03')).toEqual({ ok: true, usage: [] });
    expect(await h.store.monthlyUsage('2026-01', 'nobody')).toEqual({ ok: true, usage: [] });
    for (const bad of ['2026-1', '2026-13', '2026-01-01', 'January']) expect(await h.store.monthlyUsage(bad)).toMatchObject({ ok: false, code: 'invalid' });
  });
}
