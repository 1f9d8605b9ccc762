/**
 * Bills: line items per job and place from metering rows that start in the month, totals from the store's
 * monthly sums (and equal to the lines' sums), and the CSV form carrying the same numbers as the JSON.
 */
import { describe, expect, test } from 'vitest';
import { prefersCsv } from '../../src/api/routes/bills.ts';
import type { Bill } from '../../src/api/schemas/bill.ts';
import { jobBody, meteringRow, useApi } from './fixtures.ts';

const FIGURES = ['rows', 'unitHours', 'energyKWh', 'greenKWh', 'costYuan', 'carbonKg'] as const;

describe('bills', () => {
  const api = useApi();

  async function meter() {
    const { f } = api;
    const acme = await f.tenant('acme');
    const globex = await f.tenant('globex');
    await f.call(acme, 'POST', '/v1/jobs', { jobs: [jobBody('train-1'), jobBody('train-2', { poolClass: 'general', units: 32 }), jobBody('late')] });
    await f.call(globex, 'POST', '/v1/jobs', jobBody('train-1'));
    const rows = [
      meteringRow('acme', 'train-1', 's1', '2026-06-01T03:00:00Z', 2),
      // The same job resumed elsewhere: a second line.
      meteringRow('acme', 'train-1', 's2', '2026-06-03T10:00:00Z', 1.5, { site: 'beijing', greenKWh: 0, carbonKg: 9.1 }),
      meteringRow('acme', 'train-1', 's3', '2026-06-04T10:00:00Z', 0.25),
      meteringRow('acme', 'train-2', 's1', '2026-06-30T23:00:00Z', 3, { pool: 'general', units: 32, costYuan: 0.1 + 0.2 }),
      // Starts in July: not in June's bill, though its job is.
      meteringRow('acme', 'late', 's1', '2026-07-01T00:00:00Z', 1),
      // Another tenant's job with the same id.
      meteringRow('globex', 'train-1', 's1', '2026-06-01T03:00:00Z', 5),
    ];
    for (const row of rows) expect((await f.store.recordMetering(row, f.clock.nowMs())).ok).toBe(true);
    return { acme };
  }

  test('lines per job, site and pool; totals of the month equal the lines summed', async () => {
    const { f } = api;
    const { acme } = await meter();
    const bill = (await f.call(acme, 'GET', '/v1/tenants/acme/bill?month=2026-06')).json();
    expect(bill.tenant).toBe('acme');
    expect(bill.lines.map((l: { jobId: string; site: string; pool: string; rows: number }) => [l.jobId, l.site, l.pool, l.rows])).toEqual([
      ['train-1', 'beijing', 'ai', 1],
      ['train-1', 'hami', 'ai', 2],
      ['train-2', 'hami', 'general', 1],
    ]);
    const hami = bill.lines[1];
    expect(hami.unitHours).toBeCloseTo(4 * 2.25, 9);
    expect(hami.energyKWh).toBeCloseTo(22.5, 9);
    expect(hami.greenShare).toBeCloseTo(0.6, 9);
    expect(bill.lines[0].greenShare).toBe(0);
    for (const figure of FIGURES) {
      const sum = bill.lines.reduce((s: number, l: Record<string, number>) => s + l[figure], 0);
      expect(bill.totals[figure], figure).toBeCloseTo(sum, 9);
    }
    expect(bill.totals.pflopHours.bf16).toBeCloseTo(2 * (2 + 1.5 + 0.25 + 3), 9);
    expect(bill.totals.greenShare).toBeCloseTo(bill.totals.greenKWh / bill.totals.energyKWh, 12);

    const july = (await f.call(acme, 'GET', '/v1/tenants/acme/bill?month=2026-07')).json();
    expect(july.lines.map((l: { jobId: string }) => l.jobId)).toEqual(['late']);
    const empty = (await f.call(acme, 'GET', '/v1/tenants/acme/bill?month=2026-05')).json();
    expect(empty).toMatchObject({ lines: [], totals: { rows: 0, energyKWh: 0, greenShare: null } });
  });

  test('the month defaults to the service clock', async () => {
    const { f } = api;
    const { acme } = await meter();
    f.clock.set(Date.parse('2026-07-15T00:00:00Z'));
    expect((await f.call(acme, 'GET', '/v1/tenants/acme/bill')).json().month).toBe('2026-07');
  });

  test('CSV (Accept or ?format=csv) carries the same numbers as the JSON', async () => {
    const { f } = api;
    const { acme } = await meter();
    const bill: Bill = (await f.call(acme, 'GET', '/v1/tenants/acme/bill?month=2026-06')).json();
    const byQuery = await f.call(acme, 'GET', '/v1/tenants/acme/bill?month=2026-06&format=csv');
    const byAccept = await f.call(acme, 'GET', '/v1/tenants/acme/bill?month=2026-06', undefined, { accept: 'text/csv' });
    expect(byQuery.body).toBe(byAccept.body);
    expect(byQuery.headers['content-disposition']).toBe('attachment; filename="kumul-bill-acme-2026-06.csv"');

    const [header, ...records] = byQuery.body.trimEnd().split('\n').map((line) => line.split(','));
    const rows = records.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
    const asCsv = (x: Bill['totals']) => ({
      rows: String(x.rows),
      unit_hours: String(x.unitHours),
      energy_kwh: String(x.energyKWh),
      green_kwh: String(x.greenKWh),
      cost_yuan: String(x.costYuan),
      carbon_kg: String(x.carbonKg),
      pflop_h_fp64: String(x.pflopHours.fp64),
      pflop_h_fp32: String(x.pflopHours.fp32),
      pflop_h_bf16: String(x.pflopHours.bf16),
      green_share: x.greenShare === null ? '' : String(x.greenShare),
    });
    const none = { quantity: '', unit: '', unit_price_yuan: '' };
    // No backup this month: its rows say 0.
    const noFigures = { rows: '', unit_hours: '', pflop_h_fp64: '', pflop_h_fp32: '', pflop_h_bf16: '' };
    expect(rows).toEqual([
      ...bill.lines.map((l) => ({ kind: 'line', job_id: l.jobId, site: l.site, pool: l.pool, ...asCsv(l), ...none })),
      { kind: 'total', job_id: '', site: '', pool: '', ...asCsv(bill.totals), ...none },
      { kind: 'backup_storage', job_id: '', site: '', pool: '', ...noFigures, energy_kwh: '', green_kwh: '', cost_yuan: '0', carbon_kg: '', green_share: '', quantity: '0', unit: 'GB-month', unit_price_yuan: '0.12' },
      { kind: 'backup_transfer', job_id: '', site: '', pool: '', ...noFigures, energy_kwh: '0', green_kwh: '0', cost_yuan: '0', carbon_kg: '0', green_share: '', quantity: '0', unit: 'GB', unit_price_yuan: '0.5' },
      { kind: 'backup_total', job_id: '', site: '', pool: '', ...noFigures, energy_kwh: '0', green_kwh: '0', cost_yuan: '0', carbon_kg: '0', green_share: '', ...none },
    ]);
  });

  test('Accept negotiation honours q-values', () => {
    expect(prefersCsv(undefined)).toBe(false);
    expect(prefersCsv('text/csv')).toBe(true);
    expect(prefersCsv('application/json, text/csv;q=0.5')).toBe(false);
    expect(prefersCsv('text/csv, application/json;q=0.9')).toBe(true);
    expect(prefersCsv('*/*')).toBe(false);
    expect(prefersCsv('text/csv;q=0')).toBe(false);
  });
});
