/** Migrations: applied once, idempotent on every later open, data kept across a reopen (a restart). */
import { expect, it } from 'vitest';
import type { Harness } from '../harness.ts';
import { specs, tenant } from '../fixtures.ts';

export function migrationContract(h: Harness): void {
  it('applies nothing on a migrated database, again or from a second instance, and keeps the data', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    await h.store.submitJobs('acme', specs('j1', 'j2'), 2);
    expect(await h.store.migrate()).toEqual([]);
    const second = await h.reopen();
    expect(await second.migrate()).toEqual([]);
    expect((await second.getTenant('acme'))?.name).toBe('Tenant acme');
    const page = await second.listJobs({ tenantId: 'acme' });
    expect(page.ok && page.jobs.map((j) => j.job.id)).toEqual(['j1', 'j2']);
  });

  it('records the migration it applied once', async () => {
    const applied = await h.raw('kysely_migration');
    expect(applied.map((r) => r.name)).toEqual(['0001-initial', '0002-metering-baseline', '0003-probes', '0004-job-command', '0005-jobs-updated', '0006-job-unplaced', '0007-signal-points', '0008-deployment', '0009-leases', '0010-shared-runtime', '0011-backup', '0012-services', '0013-service-load', '0014-backup-metering', '0015-backup-link-loads']);
  });
}
