/** Metering: idempotent rows per job with their baselines, sums per tenant and UTC month, sums per time bucket, a site's rows over a window. */
import { expect, it } from 'vitest';
import type { Harness } from '../harness.ts';
import { instantMs, metering, ref, specs, tenant } from '../fixtures.ts';

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
      { ...early, baseline: null, recordedMs: 11 },
      { ...late, baseline: null, recordedMs: 10 },
    ]);
  });

  it('keeps a row’s baseline, and refuses a bad one', async () => {
    await h.store.createTenant(tenant('acme'), 0);
    await h.store.submitJobs('acme', specs('j1'), 1);
    const baseline = { energyKWh: 12.5, greenKWh: 0.25, costYuan: -0.5, carbonKg: 7.75 };
    const row = { ...metering('acme', 'j1', 'run-0', '2026-06-01T00:00Z', 1), baseline };
    for (const bad of [{ ...baseline, energyKWh: -1 }, { ...baseline, carbonKg: Number.NaN }, { ...baseline, costYuan: Infinity }]) {
      expect(await h.store.recordMetering({ ...row, baseline: bad }, 2)).toMatchObject({ ok: false, code: 'invalid', reason: expect.stringMatching(/baseline\./) });
    }
    expect(await h.store.recordMetering(row, 3)).toEqual({ ok: true, inserted: true });
    expect(await h.store.recordMetering({ ...row, key: 'run-1', baseline: null }, 3)).toEqual({ ok: true, inserted: true });
    expect(await h.store.jobMetering(ref('acme', 'j1'))).toEqual([
      { ...row, recordedMs: 3 },
      { ...row, key: 'run-1', baseline: null, recordedMs: 3 },
    ]);
  });

  it('sums every tenant’s rows per bucket of their run start, comparing only rows with a baseline', async () => {
    for (const t of ['acme', 'beta']) {
      await h.store.createTenant(tenant(t), 0);
      await h.store.submitJobs(t, specs('j1', 'j2'), 1);
    }
    const base = (scale: number) => ({ energyKWh: 20 * scale, greenKWh: 2 * scale, costYuan: 5 * scale, carbonKg: 4 * scale });
    const rows = [
      { ...metering('acme', 'j1', 'a', '2026-06-01T00:00Z', 1), baseline: base(1) },
      { ...metering('beta', 'j1', 'a', '2026-06-01T23:59Z', 3, 2), baseline: base(2) }, // ends the next day: counts in its start's
      metering('acme', 'j2', 'a', '2026-06-01T12:00Z', 1, 100), // no baseline: counted apart, not summed
      { ...metering('acme', 'j1', 'b', '2026-06-03T00:00Z', 1, 0.5), baseline: base(0.5) },
    ];
    for (const row of rows) expect(await h.store.recordMetering(row, 5)).toEqual({ ok: true, inserted: true });
    const daily = await h.store.savingsByBucket(86_400_000);
    if (!daily.ok) throw new Error(daily.reason);
    expect(daily.buckets.map((b) => [b.startMs, b.runs, b.runsWithoutBaseline])).toEqual([
      [instantMs('2026-06-01T00:00Z'), 2, 1],
      [instantMs('2026-06-03T00:00Z'), 1, 0],
    ]);
    const [first, third] = daily.buckets;
    expect(first.energyKWh).toBeCloseTo(30, 9);
    expect(first.greenKWh).toBeCloseTo(18, 9);
    expect(first.costYuan).toBeCloseTo(10.5, 9);
    expect(first.carbonKg).toBeCloseTo(6.75, 9);
    expect(first.baseline.energyKWh).toBeCloseTo(60, 9);
    expect(first.baseline.greenKWh).toBeCloseTo(6, 9);
    expect(first.baseline.costYuan).toBeCloseTo(15, 9);
    expect(first.baseline.carbonKg).toBeCloseTo(12, 9);
    expect(third).toMatchObject({ energyKWh: 5, baseline: { energyKWh: 10, costYuan: 2.5 } });
    const hourly = await h.store.savingsByBucket(3_600_000);
    expect(hourly.ok && hourly.buckets.map((b) => [new Date(b.startMs).toISOString(), b.runs, b.runsWithoutBaseline])).toEqual([
      ['2026-06-01T00:00:00.000Z', 1, 0],
      ['2026-06-01T12:00:00.000Z', 0, 1],
      ['2026-06-01T23:00:00.000Z', 1, 0],
      ['2026-06-03T00:00:00.000Z', 1, 0],
    ]);
    for (const bad of [0, -3_600_000, 1.5]) expect(await h.store.savingsByBucket(bad)).toMatchObject({ ok: false, code: 'invalid' });
  });

  it('answers no buckets when nothing was metered', async () => {
    expect(await h.store.savingsByBucket(3_600_000)).toEqual({ ok: true, buckets: [] });
  });

  it('lists a site’s rows whose run overlaps a window, every tenant’s', async () => {
    for (const t of ['acme', 'beta']) {
      await h.store.createTenant(tenant(t), 0);
      await h.store.submitJobs(t, specs('j1'), 1);
    }
    const rows = [
      metering('acme', 'j1', 'ends-at-window-start', '2026-06-01T00:00Z', 2), // [00:00, 02:00): touches, does not overlap
      metering('acme', 'j1', 'across-start', '2026-06-01T01:00Z', 2),
      metering('beta', 'j1', 'inside', '2026-06-01T03:00Z', 1),
      { ...metering('beta', 'j1', 'other-site', '2026-06-01T03:00Z', 1), site: 'beijing' },
      metering('acme', 'j1', 'starts-at-window-end', '2026-06-01T06:00Z', 1),
    ];
    for (const row of rows) expect((await h.store.recordMetering(row, 5)).ok).toBe(true);
    const found = await h.store.siteMetering('hami', instantMs('2026-06-01T02:00Z'), instantMs('2026-06-01T06:00Z'));
    expect(found.map((r) => [r.tenantId, r.key])).toEqual([
      ['acme', 'across-start'],
      ['beta', 'inside'],
    ]);
    expect(await h.store.siteMetering('nowhere', 0, Number.MAX_SAFE_INTEGER)).toEqual([]);
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
