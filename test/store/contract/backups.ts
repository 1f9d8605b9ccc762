/**
 * Cross-regional backup in the store: tenants' policies and datasets (duplicates and unknown tenants refused), replica
 * state that only moves forward, transfers recorded and raised as a copy goes on, GB-months and transferred GB per
 * tenant and month, and the backup loop's writes refused through a fenced store once the lease is lost.
 */
import { expect, it } from 'vitest';
import { LeaseLost, type ReplicaInput } from '../../../src/store/port.ts';
import type { Harness } from '../harness.ts';
import { T0_MS, tenant } from '../fixtures.ts';

const DAY = 86_400_000;
const policy = { id: 'daily', targets: ['hami'], replicas: 1, rpoHours: 24, retainVersions: 3 };
const dataset = { id: 'records', origin: 'beijing', sizeGB: 2, dailyChangeGB: 0.5, policy: 'daily', prefix: 'health/records' };

function replica(patch: Partial<ReplicaInput> = {}): ReplicaInput {
  return { tenantId: 'acme', datasetId: 'records', site: 'hami', versionMs: T0_MS, verifiedMs: T0_MS + 60_000, bytes: 2e9, files: 40, storedBytes: 2e9, ...patch };
}

export function backupContract(h: Harness): void {
  it('stores policies and datasets per tenant, refusing duplicates and unknown tenants', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    await h.store.createTenant(tenant('bolt'), 1);
    expect(await h.store.createBackupPolicy('acme', 'daily', policy, 10)).toEqual({ ok: true, record: { tenantId: 'acme', id: 'daily', document: policy, createdMs: 10 } });
    expect(await h.store.createBackupPolicy('acme', 'daily', policy, 11)).toMatchObject({ ok: false, code: 'duplicate' });
    expect(await h.store.createBackupPolicy('bolt', 'daily', { ...policy, rpoHours: 12 }, 12)).toMatchObject({ ok: true });
    expect(await h.store.createBackupPolicy('nobody', 'daily', policy, 13)).toMatchObject({ ok: false, code: 'not-found' });
    expect(await h.store.createBackupDataset('acme', 'bad id!', dataset, 14)).toMatchObject({ ok: false, code: 'invalid' });
    expect(await h.store.createBackupDataset('acme', 'records', dataset, 15)).toMatchObject({ ok: true });
    expect(await h.store.createBackupDataset('acme', 'records', dataset, 16)).toMatchObject({ ok: false, code: 'duplicate' });
    expect((await h.store.backupPolicies()).map((p) => [p.tenantId, p.id, p.document.rpoHours])).toEqual([
      ['acme', 'daily', 24],
      ['bolt', 'daily', 12],
    ]);
    expect((await h.store.backupPolicies('bolt')).map((p) => p.tenantId)).toEqual(['bolt']);
    expect(await h.store.backupDataset('acme', 'records')).toEqual({ tenantId: 'acme', id: 'records', document: dataset, createdMs: 15 });
    expect(await h.store.backupDataset('bolt', 'records')).toBeNull();
    expect((await h.store.backupDatasets()).map((d) => d.id)).toEqual(['records']);
  });

  it('keeps the newest verified copy of each replica and never goes back to an older one', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    expect(await h.store.recordReplica(replica(), 5)).toMatchObject({ ok: false, code: 'not-found' });
    await h.store.createBackupDataset('acme', 'records', dataset, 2);
    expect(await h.store.recordReplica(replica(), 100)).toEqual({ ok: true, changed: true, replica: { ...replica(), updatedMs: 100 } });
    const newer = replica({ versionMs: T0_MS + DAY, verifiedMs: T0_MS + DAY + 60_000, bytes: 2.1e9, storedBytes: 2.6e9 });
    expect(await h.store.recordReplica(newer, 200)).toMatchObject({ ok: true, changed: true });
    // A late write of the older copy (an old leader, a slow copy) changes nothing.
    expect(await h.store.recordReplica(replica(), 300)).toEqual({ ok: true, changed: false, replica: { ...newer, updatedMs: 200 } });
    await h.store.recordReplica(replica({ site: 'urumqi' }), 400);
    expect((await h.store.replicas({ tenantId: 'acme', datasetId: 'records' })).map((r) => [r.site, r.versionMs, r.storedBytes])).toEqual([
      ['hami', T0_MS + DAY, 2.6e9],
      ['urumqi', T0_MS, 2e9],
    ]);
    expect(await h.store.recordReplica(replica({ bytes: -1 }), 500)).toMatchObject({ ok: false, code: 'invalid' });
  });

  it('records transfers per hop, raising bytes as a copy goes on, and sums usage per month: GB-months and GB moved', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    await h.store.createTenant(tenant('bolt'), 1);
    await h.store.createBackupDataset('acme', 'records', dataset, 1);
    await h.store.createBackupDataset('bolt', 'records', dataset, 1);
    const hop = { tenantId: 'acme', datasetId: 'records', key: 'c1.1', from: 'beijing', to: 'zhengzhou', target: 'hami', bytes: 1e9, startMs: T0_MS, endMs: T0_MS + 1000 };
    await h.store.recordBackupTransfer(hop, 10);
    const raised = await h.store.recordBackupTransfer({ ...hop, bytes: 3e9, endMs: T0_MS + 5000 }, 11);
    expect(raised).toEqual({ ok: true, transfer: { ...hop, bytes: 3e9, endMs: T0_MS + 5000, energyKWh: 0, carbonKg: 0, recordedMs: 11 } });
    // A stale progress report does not lower it.
    await h.store.recordBackupTransfer({ ...hop, bytes: 2e9 }, 12);
    await h.store.recordBackupTransfer({ ...hop, key: 'c1.2', from: 'zhengzhou', to: 'hami', bytes: 3e9 }, 13);
    await h.store.recordBackupTransfer({ ...hop, tenantId: 'bolt', key: 'c9.1', bytes: 5e8, startMs: T0_MS + 31 * DAY, endMs: T0_MS + 31 * DAY }, 14);
    expect(await h.store.recordBackupTransfer({ ...hop, key: 'c2', endMs: T0_MS - 1 }, 15)).toMatchObject({ ok: false, code: 'invalid' });
    expect((await h.store.backupTransfers({ tenantId: 'acme' })).map((t) => [t.key, t.from, t.to, t.bytes])).toEqual([
      ['c1.1', 'beijing', 'zhengzhou', 3e9],
      ['c1.2', 'zhengzhou', 'hami', 3e9],
    ]);
    // June 2026 has 30 days: 2 GB kept 15 days, then 4 GB kept 15 days is 1 + 2 = 3 GB-months.
    await h.store.recordReplica(replica({ storedBytes: 2e9 }), T0_MS);
    await h.store.recordReplica(replica({ versionMs: T0_MS + 15 * DAY, storedBytes: 4e9 }), T0_MS + 15 * DAY);
    const june = await h.store.backupUsage('2026-06', T0_MS + 40 * DAY);
    expect(june.ok).toBe(true);
    if (!june.ok) return;
    expect(june.usage.map((u) => u.tenantId)).toEqual(['acme']);
    expect(june.usage[0].transferredGB).toBeCloseTo(6, 9);
    expect(june.usage[0].storedGBMonths).toBeCloseTo(3, 9);
    // Counted up to now only: 2 GB over 7.5 of the 30 days.
    const early = await h.store.backupUsage('2026-06', T0_MS + 7.5 * DAY, 'acme');
    expect(early.ok && early.usage[0].storedGBMonths).toBeCloseTo(0.5, 9);
    const july = await h.store.backupUsage('2026-07', T0_MS + 40 * DAY);
    expect(july.ok && july.usage.map((u) => [u.tenantId, +u.transferredGB.toFixed(3), +u.storedGBMonths.toFixed(3)])).toEqual([
      ['acme', 0, +((4 * 10) / 31).toFixed(3)],
      ['bolt', 0.5, 0],
    ]);
    expect(await h.store.backupUsage('2026-13', 0)).toMatchObject({ ok: false, code: 'invalid' });
  });

  it('meters the network energy and carbon of transfers, raised with their bytes, and sums them per month', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    await h.store.createBackupDataset('acme', 'records', dataset, 1);
    const hop = { tenantId: 'acme', datasetId: 'records', key: 'c1.1', from: 'beijing', to: 'hami', target: 'hami', bytes: 1e9, startMs: T0_MS, endMs: T0_MS + 1000, energyKWh: 0.005, carbonKg: 0.002 };
    expect(await h.store.recordBackupTransfer(hop, 10)).toEqual({ ok: true, transfer: { ...hop, recordedMs: 10 } });
    const raised = await h.store.recordBackupTransfer({ ...hop, bytes: 4e9, energyKWh: 0.02, carbonKg: 0.008 }, 11);
    expect(raised.ok && [raised.transfer.energyKWh, raised.transfer.carbonKg]).toEqual([0.02, 0.008]);
    // A stale progress report lowers neither the bytes nor their figures.
    await h.store.recordBackupTransfer({ ...hop, bytes: 2e9, energyKWh: 0.01, carbonKg: 0.004 }, 12);
    await h.store.recordBackupTransfer({ ...hop, key: 'r2', bytes: 1e9, energyKWh: 0.005, carbonKg: 0.001 }, 13);
    const [first] = await h.store.backupTransfers({ tenantId: 'acme' });
    expect([first.bytes, first.energyKWh, first.carbonKg]).toEqual([4e9, 0.02, 0.008]);
    const june = await h.store.backupUsage('2026-06', T0_MS + 1000, 'acme');
    expect(june.ok).toBe(true);
    if (!june.ok) return;
    expect(june.usage[0].transferredGB).toBeCloseTo(5, 9);
    expect(june.usage[0].networkEnergyKWh).toBeCloseTo(0.025, 12);
    expect(june.usage[0].networkCarbonKg).toBeCloseTo(0.009, 12);
    expect(await h.store.recordBackupTransfer({ ...hop, key: 'c3', energyKWh: -1 }, 14)).toMatchObject({ ok: false, code: 'invalid', reason: expect.stringContaining('energyKWh') });
    expect(await h.store.recordBackupTransfer({ ...hop, key: 'c3', carbonKg: Number.NaN }, 14)).toMatchObject({ ok: false, code: 'invalid', reason: expect.stringContaining('carbonKg') });
  });

  it("keeps the backup loop's latest view of each dataset, the same for every reader", async () => {
    await h.store.createTenant(tenant('acme'), 1);
    expect(await h.store.backupLoopState('acme', 'records')).toBeNull();
    const state = {
      plannedMs: T0_MS,
      targets: ['hami'],
      nextCopies: [{ target: 'hami', route: ['beijing', 'zhengzhou', 'hami'], startMs: T0_MS + 3_600_000, gb: 1.5 }],
      copying: [],
      problems: ['a problem'],
    };
    expect(await h.store.saveBackupLoopStates([{ tenantId: 'acme', datasetId: 'records', state }], 100)).toEqual({ ok: true, saved: 1 });
    expect(await h.store.backupLoopState('acme', 'records')).toEqual({ state, updatedMs: 100 });
    const copying = { ...state, nextCopies: [], copying: [{ target: 'hami', route: ['beijing', 'hami'], startedMs: T0_MS, bytes: 10, totalBytes: 20, kind: 'copy' as const }] };
    await h.store.saveBackupLoopStates([{ tenantId: 'acme', datasetId: 'records', state: copying }], 200);
    expect(await h.store.backupLoopState('acme', 'records')).toEqual({ state: copying, updatedMs: 200 });
    expect(await h.store.backupLoopState('acme', 'other')).toBeNull();
    // Through a fenced store: refused once another instance holds the lease, and nothing changes.
    const lease = await h.store.acquireLease('dispatch', 'a', 5000, 1000);
    const fenced = h.store.fenced({ name: 'dispatch', holder: 'a', token: lease.lease.token });
    expect(await fenced.saveBackupLoopStates([{ tenantId: 'acme', datasetId: 'records', state }], 1500)).toEqual({ ok: true, saved: 1 });
    await h.store.acquireLease('dispatch', 'b', 5000, 7000);
    await expect(fenced.saveBackupLoopStates([{ tenantId: 'acme', datasetId: 'records', state: copying }], 7500)).rejects.toBeInstanceOf(LeaseLost);
    expect(await h.store.backupLoopState('acme', 'records')).toEqual({ state, updatedMs: 1500 });
  });

  it('keeps the backup load per link direction as the leader last stored it, the same for every reader', async () => {
    expect(await h.store.backupLinkLoads()).toBeNull();
    const loads = [
      { from: 'beijing', to: 'zhengzhou', gbps: 2.5 },
      { from: 'zhengzhou', to: 'hami', gbps: 2.5 },
      { from: 'beijing', to: 'hami', gbps: 0.75 },
    ];
    expect(await h.store.saveBackupLinkLoads(loads, 100)).toEqual({ ok: true, saved: 3 });
    const stored = await h.store.backupLinkLoads();
    expect(stored?.updatedMs).toBe(100);
    expect(stored?.loads).toEqual([loads[2], loads[0], loads[1]]);
    // The whole set is replaced: a direction no copy uses any more goes; none at all is stored as none, with its time.
    await h.store.saveBackupLinkLoads([{ from: 'beijing', to: 'hami', gbps: 1 }], 200);
    expect(await h.store.backupLinkLoads()).toEqual({ loads: [{ from: 'beijing', to: 'hami', gbps: 1 }], updatedMs: 200 });
    await h.store.saveBackupLinkLoads([], 300);
    expect(await h.store.backupLinkLoads()).toEqual({ loads: [], updatedMs: 300 });
    // Bad input names the field, and stores nothing.
    expect(await h.store.saveBackupLinkLoads([{ from: 'beijing', to: 'hami', gbps: -1 }], 400)).toMatchObject({ ok: false, code: 'invalid', reason: expect.stringContaining('loads[0].gbps') });
    expect(await h.store.saveBackupLinkLoads([{ from: 'beijing', to: '', gbps: 1 }], 400)).toMatchObject({ ok: false, code: 'invalid', reason: expect.stringContaining('loads[0].to') });
    expect(await h.store.saveBackupLinkLoads([loads[0], loads[0]], 400)).toMatchObject({ ok: false, code: 'invalid', reason: expect.stringContaining('loads[1]') });
    expect(await h.store.backupLinkLoads()).toEqual({ loads: [], updatedMs: 300 });
    // Through a fenced store: refused once another instance holds the lease, and nothing changes.
    const lease = await h.store.acquireLease('dispatch', 'a', 5000, 1000);
    const fenced = h.store.fenced({ name: 'dispatch', holder: 'a', token: lease.lease.token });
    expect(await fenced.saveBackupLinkLoads(loads, 1500)).toEqual({ ok: true, saved: 3 });
    await h.store.acquireLease('dispatch', 'b', 5000, 7000);
    await expect(fenced.saveBackupLinkLoads([], 7500)).rejects.toBeInstanceOf(LeaseLost);
    expect((await h.store.backupLinkLoads())?.updatedMs).toBe(1500);
    expect((await h.store.backupLinkLoads())?.loads).toHaveLength(3);
  });

  it("refuses the backup loop's writes through a fenced store once another instance holds the lease", async () => {
    await h.store.createTenant(tenant('acme'), 1);
    await h.store.createBackupDataset('acme', 'records', dataset, 1);
    const lease = await h.store.acquireLease('dispatch', 'a', 5000, 1000);
    const fenced = h.store.fenced({ name: 'dispatch', holder: 'a', token: lease.lease.token });
    expect(await fenced.recordReplica(replica(), 1500)).toMatchObject({ ok: true });
    await h.store.acquireLease('dispatch', 'b', 5000, 7000);
    await expect(fenced.recordReplica(replica({ versionMs: T0_MS + DAY }), 7500)).rejects.toBeInstanceOf(LeaseLost);
    await expect(fenced.recordBackupTransfer({ tenantId: 'acme', datasetId: 'records', key: 'k', from: 'beijing', to: 'hami', target: 'hami', bytes: 1, startMs: 0, endMs: 1 }, 7600)).rejects.toBeInstanceOf(LeaseLost);
    expect((await h.store.replicas())[0].versionMs).toBe(T0_MS);
    expect(await h.store.backupTransfers()).toEqual([]);
  });
}
