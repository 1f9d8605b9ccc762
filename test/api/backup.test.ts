/**
 * The backup routes: policies and datasets defined by a tenant's key (an operator sees every tenant's), bad input
 * refused naming the field with the backup files' own messages, a dataset's replicas with their age against the RPO
 * and bytes moved, the backup loop's view read from the store, the routes in /openapi.json, and backup storage, transfers
 * and their network energy and carbon in the tenant's bill (JSON and CSV).
 */
import { describe, expect, test } from 'vitest';
import { BACKUP_PRICES } from '../../src/api/bill.ts';
import { API_BACKENDS, T0, useApi } from './fixtures.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const policy = { id: 'daily', targets: ['hami'], replicas: 1, rpoHours: 24, retainVersions: 3 };
const dataset = { id: 'records', origin: 'beijing', sizeGB: 20, dailyChangeGB: 2, policy: 'daily', prefix: 'health/records' };

for (const backend of API_BACKENDS) {
  describe(`backup routes (${backend})`, () => {
    const api = useApi(backend);

    async function setUp() {
      const { f } = api;
      const acme = await f.tenant('acme');
      const globex = await f.tenant('globex');
      expect((await f.call(acme, 'POST', '/v1/backup/policies', policy)).statusCode).toBe(201);
      const created = await f.call(acme, 'POST', '/v1/backup/datasets', dataset);
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toEqual({ tenant: 'acme', id: 'records', dataset, created: '2026-06-01T00:00:00Z' });
      return { acme, globex };
    }

    test("a tenant defines and lists its own; an operator sees every tenant's; another tenant sees none of them", async () => {
      const { f } = api;
      const { acme, globex } = await setUp();
      expect(f.wakes).toBeGreaterThanOrEqual(2);
      expect((await f.call(acme, 'GET', '/v1/backup/policies')).json().policies.map((p: { id: string }) => p.id)).toEqual(['daily']);
      expect((await f.call(globex, 'GET', '/v1/backup/datasets')).json().datasets).toEqual([]);
      expect((await f.call(globex, 'GET', '/v1/backup/datasets/records')).statusCode).toBe(404);
      expect((await f.call(globex, 'GET', '/v1/backup/datasets?tenant=acme')).statusCode).toBe(403);
      expect((await f.call(f.operatorKey, 'GET', '/v1/backup/datasets')).json().datasets.map((d: { tenant: string; id: string }) => `${d.tenant}/${d.id}`)).toEqual(['acme/records']);
      expect((await f.call(f.operatorKey, 'GET', '/v1/backup/datasets/records?tenant=acme')).statusCode).toBe(200);
      // The same ids for another tenant are its own.
      expect((await f.call(globex, 'POST', '/v1/backup/policies', policy)).statusCode).toBe(201);
      expect((await f.call(acme, 'POST', '/v1/backup/policies', policy)).statusCode).toBe(409);
      expect((await f.call(acme, 'POST', '/v1/backup/datasets', dataset)).statusCode).toBe(409);
    });

    test('bad input names the field with the files’ messages and stores nothing', async () => {
      const { f } = api;
      const { acme } = await setUp();
      const cases: [string, Record<string, unknown>, string, RegExp][] = [
        ['/v1/backup/policies', { ...policy, id: 'p2', rpoHours: 1 }, 'rpoHours', /an RPO of 1 h is under two slots of 60 min/],
        ['/v1/backup/policies', { ...policy, id: 'p2', targets: ['hami', 'hami'] }, 'targets', /lists a site twice/],
        ['/v1/backup/policies', { ...policy, id: 'p2', window: { from: '01:00', to: '01:00', timeZone: '+08:00' } }, 'window.to', /the window is empty/],
        ['/v1/backup/policies', { ...policy, id: 'p2', window: { from: '25:00', to: '01:00', timeZone: '+08:00' } }, 'window.from', /local time HH:MM/],
        ['/v1/backup/policies', { ...policy, id: 'p2', replicas: 0 }, 'replicas', /positive integer/],
        ['/v1/backup/datasets', { ...dataset, id: 'd2', seeded: ['mars'] }, 'seeded[0]', /unknown site 'mars'/],
        ['/v1/backup/datasets', { ...dataset, id: 'd2', origin: 'hami' }, 'policy', /targets 'hami', the dataset's own origin/],
        ['/v1/backup/datasets', { ...dataset, id: 'd2', dailyChangeGB: undefined, changeSeries: { start: '2026-06-01T00:00Z', stepMinutes: 60, gb: [1, 2] } }, 'changeSeries', /the plan runs from 2026-06-01T00:00:00.000Z to 2026-06-03T00:00:00.000Z/],
        ['/v1/backup/datasets', { ...dataset, id: 'bad id!' }, 'id', /./],
        ['/v1/backup/datasets', { ...dataset, id: 'd2', extra: 1 }, 'extra', /unknown field/],
      ];
      for (const [path, body, field, message] of cases) {
        const res = await f.call(acme, 'POST', path, body);
        expect(res.statusCode, `${path} ${JSON.stringify(body)}`).toBe(400);
        const fields: { field: string; message: string }[] = res.json().error.fields;
        const hit = fields.find((x) => x.field === field);
        expect(hit, JSON.stringify(fields)).toBeDefined();
        expect(hit!.message).toMatch(message);
      }
      expect((await f.store.backupPolicies()).map((p) => p.id)).toEqual(['daily']);
      expect((await f.store.backupDatasets()).map((d) => d.id)).toEqual(['records']);
    });

    test("a dataset's replicas: the newest verified copy per target, its age against the RPO, bytes moved", async () => {
      const { f } = api;
      const { acme } = await setUp();
      const before = (await f.call(acme, 'GET', '/v1/backup/datasets/records')).json();
      expect(before.replicas).toEqual([{ site: 'hami', versionAt: null, verifiedAt: null, ageHours: null, rpoHours: 24, withinRpo: false, bytes: 0, files: 0, storedBytes: 0, bytesMoved: 0 }]);
      expect(before.loop).toBeNull();
      await f.store.recordReplica({ tenantId: 'acme', datasetId: 'records', site: 'hami', versionMs: T0 + HOUR, verifiedMs: T0 + 2 * HOUR, bytes: 20e9, files: 400, storedBytes: 22e9 }, T0 + 2 * HOUR);
      await f.store.recordBackupTransfer({ tenantId: 'acme', datasetId: 'records', key: 'c1.1', from: 'beijing', to: 'zhengzhou', target: 'hami', bytes: 20e9, startMs: T0, endMs: T0 + HOUR }, T0 + HOUR);
      await f.store.recordBackupTransfer({ tenantId: 'acme', datasetId: 'records', key: 'c1.2', from: 'zhengzhou', to: 'hami', target: 'hami', bytes: 20e9, startMs: T0, endMs: T0 + HOUR }, T0 + HOUR);
      f.clock.set(T0 + 19 * HOUR);
      const view = (await f.call(acme, 'GET', '/v1/backup/datasets/records')).json();
      expect(view.replicas).toEqual([{ site: 'hami', versionAt: '2026-06-01T01:00:00Z', verifiedAt: '2026-06-01T02:00:00Z', ageHours: 18, rpoHours: 24, withinRpo: true, bytes: 20e9, files: 400, storedBytes: 22e9, bytesMoved: 40e9 }]);
      expect(view.bytesMoved).toBe(40e9);
      f.clock.set(T0 + 26 * HOUR);
      expect((await f.call(acme, 'GET', '/v1/backup/datasets/records')).json().replicas[0]).toMatchObject({ ageHours: 25, withinRpo: false });
    });

    test("the dataset's loop view comes from the store: an instance that runs no backup loop answers as the leader stored it", async () => {
      const { f } = api;
      const { acme } = await setUp();
      const state = {
        plannedMs: T0 + HOUR,
        targets: ['hami'],
        nextCopies: [{ target: 'hami', route: ['beijing', 'zhengzhou', 'hami'], startMs: T0 + 2 * HOUR, gb: 1.5 }],
        copying: [{ target: 'hami', route: ['beijing', 'hami'], startedMs: T0 + HOUR, bytes: 5, totalBytes: 10, kind: 'copy' as const }],
        problems: ['the copy to hami cannot meet the RPO: it runs now over beijing → hami'],
      };
      // This API's context has no backup loop (ctx.backup), as an instance that does not lead.
      await f.store.saveBackupLoopStates([{ tenantId: 'acme', datasetId: 'records', state }], T0 + HOUR + 1000);
      const view = (await f.call(acme, 'GET', '/v1/backup/datasets/records')).json();
      expect(view.loop).toEqual({
        plannedAt: '2026-06-01T01:00:00Z',
        storedAt: '2026-06-01T01:00:01Z',
        targets: ['hami'],
        nextCopies: [{ target: 'hami', route: ['beijing', 'zhengzhou', 'hami'], start: '2026-06-01T02:00:00Z', gb: 1.5 }],
        copying: [{ target: 'hami', route: ['beijing', 'hami'], started: '2026-06-01T01:00:00Z', bytes: 5, totalBytes: 10, kind: 'copy' }],
        problems: state.problems,
      });
    });

    test('the bill prices GB-months stored and GB moved at the stated prices, with the network energy and carbon moved, in JSON and CSV', async () => {
      const { f } = api;
      const { acme } = await setUp();
      // 30 GB kept from June 1 to June 16 (half of June), 40 GB moved (0.2 kWh, 0.1 kg as the backup loop metered them).
      await f.store.recordReplica({ tenantId: 'acme', datasetId: 'records', site: 'hami', versionMs: T0, verifiedMs: T0, bytes: 30e9, files: 1, storedBytes: 30e9 }, T0);
      await f.store.recordBackupTransfer({ tenantId: 'acme', datasetId: 'records', key: 'c1.1', from: 'beijing', to: 'hami', target: 'hami', bytes: 40e9, startMs: T0, endMs: T0 + HOUR, energyKWh: 0.2, carbonKg: 0.1 }, T0);
      f.clock.set(T0 + 15 * DAY);
      const bill = (await f.call(acme, 'GET', '/v1/tenants/acme/bill?month=2026-06')).json();
      expect(bill.backup.storedGBMonths).toBeCloseTo(15, 9);
      expect(bill.backup.transferredGB).toBeCloseTo(40, 9);
      expect(bill.backup).toMatchObject(BACKUP_PRICES);
      expect(bill.backup.storageYuan).toBeCloseTo(15 * BACKUP_PRICES.storageYuanPerGBMonth, 9);
      expect(bill.backup.transferYuan).toBeCloseTo(40 * BACKUP_PRICES.transferYuanPerGB, 9);
      expect(bill.backup.costYuan).toBeCloseTo(bill.backup.storageYuan + bill.backup.transferYuan, 9);
      expect(bill.backup.networkEnergyKWh).toBeCloseTo(0.2, 12);
      expect(bill.backup.networkCarbonKg).toBeCloseTo(0.1, 12);
      // The CSV carries the same backup figures as the JSON.
      const csv = (await f.call(acme, 'GET', '/v1/tenants/acme/bill?month=2026-06&format=csv')).body;
      const [header, ...records] = csv.trimEnd().split('\n').map((line: string) => line.split(','));
      const row = (kind: string) => Object.fromEntries(header.map((h: string, i: number) => [h, records.find((r: string[]) => r[0] === kind)![i]]));
      expect(row('backup_storage')).toMatchObject({ quantity: String(bill.backup.storedGBMonths), unit: 'GB-month', unit_price_yuan: '0.12', cost_yuan: String(bill.backup.storageYuan) });
      expect(row('backup_transfer')).toMatchObject({ quantity: '40', unit: 'GB', unit_price_yuan: '0.5', cost_yuan: String(bill.backup.transferYuan), energy_kwh: '0.2', green_kwh: '0', carbon_kg: '0.1', green_share: '0' });
      expect(row('backup_total')).toMatchObject({ cost_yuan: String(bill.backup.costYuan), energy_kwh: '0.2', carbon_kg: '0.1' });
      // Backup stays apart from the jobs' and services' total, as in the JSON.
      expect(row('total')).toMatchObject({ cost_yuan: String(bill.totals.costYuan) });
      const globex = (await f.call(f.operatorKey, 'GET', '/v1/tenants/globex/bill?month=2026-06')).json();
      expect(globex.backup).toMatchObject({ storedGBMonths: 0, transferredGB: 0, costYuan: 0, networkEnergyKWh: 0, networkCarbonKg: 0 });
    });

    test('the routes are in /openapi.json with their schemas', async () => {
      const { f } = api;
      const doc = (await f.call(null, 'GET', '/openapi.json')).json();
      for (const path of ['/v1/backup/policies', '/v1/backup/datasets', '/v1/backup/datasets/{id}']) expect(Object.keys(doc.paths)).toContain(path);
      expect(JSON.stringify(doc.paths['/v1/backup/datasets'].post)).toMatch(/dailyChangeGB/);
    });
  });
}
