/**
 * The dashboard's backup load per link (docs/backup.md, "The service"): the leader's backup loop stores it
 * (Store.saveBackupLinkLoads, migration 0015), and `GET /v1/dashboard/network` of any instance reads it from the store,
 * so an instance that runs no backup loop (it does not lead) shows the same load. On SQLite and, with KUMUL_TEST_PG,
 * on PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { API_BACKENDS } from '../api/fixtures.ts';
import { NOW, useDashboard } from './fixtures.ts';

for (const backend of API_BACKENDS) describe(backend, () => {
  const h = useDashboard(backend);
  const network = async () => (await h.f.app.inject({ method: 'GET', url: '/v1/dashboard/network' })).json() as { links: { from: string; to: string; backupGbps: number }[] };

  it('shows the backup load the leader stored, on an instance without a backup loop', async () => {
    const before = await network();
    expect(before.links.every((l) => l.backupGbps === 0)).toBe(true);
    // What a leader's backup loop stores as its copies move: both directions of beijing–hami count on the link.
    expect(await h.f.store.saveBackupLinkLoads([{ from: 'beijing', to: 'hami', gbps: 2.5 }, { from: 'hami', to: 'beijing', gbps: 0.5 }], NOW)).toEqual({ ok: true, saved: 2 });
    const link = (await network()).links.find((l) => [l.from, l.to].sort().join() === 'beijing,hami')!;
    expect(link.backupGbps).toBeCloseTo(3, 12);
    // The copies ended: the leader stores none, and every instance shows none.
    await h.f.store.saveBackupLinkLoads([], NOW + 1000);
    expect((await network()).links.every((l) => l.backupGbps === 0)).toBe(true);
  });
});
