/** Tenants and API keys: quotas round-trip, keys stored as SHA-256 only, wrong and revoked keys find nobody. */
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Harness } from '../harness.ts';
import { tenant } from '../fixtures.ts';

export function tenantContract(h: Harness): void {
  it('creates, reads, lists (by id) and updates tenants', async () => {
    const created = await h.store.createTenant(tenant('zeta'), 10);
    expect(created).toEqual({ ok: true, tenant: { ...tenant('zeta'), createdMs: 10 } });
    await h.store.createTenant(tenant('Ops', 'operator'), 11);
    await h.store.createTenant(tenant('alpha'), 12);
    expect((await h.store.listTenants()).map((t) => t.id)).toEqual(['Ops', 'alpha', 'zeta']);
    expect(await h.store.getTenant('Ops')).toMatchObject({ role: 'operator', maxConcurrentUnits: { ai: 16, general: null, hpc: 4 } });

    const updated = await h.store.updateTenant('zeta', { name: 'Zeta Labs', maxConcurrentUnits: { ai: null, general: 64, hpc: 0 } }, 20);
    expect(updated).toEqual({ ok: true, tenant: { id: 'zeta', name: 'Zeta Labs', role: 'tenant', maxConcurrentUnits: { ai: null, general: 64, hpc: 0 }, createdMs: 10 } });
    expect(await h.store.getTenant('zeta')).toEqual(updated.ok && updated.tenant);
    expect(await h.store.getTenant('nobody')).toBeNull();
  });

  it('refuses a duplicate tenant, bad fields and updates of unknown tenants', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    expect(await h.store.createTenant({ ...tenant('acme'), name: 'Other' }, 2)).toMatchObject({ ok: false, code: 'duplicate', reason: 'tenant acme already exists' });
    expect((await h.store.getTenant('acme'))?.name).toBe('Tenant acme');
    const bad = [
      { ...tenant('has space') },
      { ...tenant('x'), role: 'root' as never },
      { ...tenant('x'), name: ' ' },
      { ...tenant('x'), maxConcurrentUnits: { ai: -1, general: null, hpc: null } },
      { ...tenant('x'), maxConcurrentUnits: { ai: 1, general: null } as never },
      { ...tenant('x'), maxConcurrentUnits: { ai: 1, general: null, hpc: null, gpu: 2 } as never },
    ];
    for (const input of bad) expect(await h.store.createTenant(input, 3)).toMatchObject({ ok: false, code: 'invalid' });
    expect((await h.store.listTenants()).map((t) => t.id)).toEqual(['acme']);
    expect(await h.store.updateTenant('nobody', { name: 'N' }, 4)).toMatchObject({ ok: false, code: 'not-found' });
    expect(await h.store.updateTenant('acme', { role: 'admin' as never }, 4)).toMatchObject({ ok: false, code: 'invalid' });
    expect((await h.store.getTenant('acme'))?.role).toBe('tenant');
  });

  it('returns a key once, stores only its SHA-256 and visible prefix, and finds its tenant by it', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    const created = await h.store.createApiKey('acme', 'ci runner', 5);
    if (!created.ok) throw new Error(created.reason);
    const { key, plaintext } = created;
    expect(plaintext).toMatch(/^kml_[A-Za-z0-9_-]{43}$/);
    expect(key).toEqual({ id: plaintext.slice(0, 12), tenantId: 'acme', label: 'ci runner', createdMs: 5, revokedMs: null });

    const rows = await h.raw('api_keys');
    expect(rows).toHaveLength(1);
    expect(rows[0].hash).toBe(createHash('sha256').update(plaintext).digest('hex'));
    const secret = plaintext.slice(12);
    for (const value of Object.values(rows[0])) expect(String(value)).not.toContain(secret);

    const found = await h.store.findTenantByKey(plaintext);
    expect(found?.tenant.id).toBe('acme');
    expect(found?.key).toEqual(key);
    expect(await h.store.listApiKeys('acme')).toEqual([key]);
  });

  it('finds nobody for a wrong, malformed or revoked key; revoking twice keeps the first instant', async () => {
    await h.store.createTenant(tenant('acme'), 1);
    const created = await h.store.createApiKey('acme', 'a', 5);
    const other = await h.store.createApiKey('acme', 'b', 6);
    if (!created.ok || !other.ok) throw new Error('no key');
    const last = created.plaintext.at(-1) === 'A' ? 'B' : 'A';
    const wrong = created.plaintext.slice(0, -1) + last;
    for (const attempt of [wrong, '', 'kml_', created.plaintext + 'x', created.plaintext.slice(12), created.key.id]) {
      expect(await h.store.findTenantByKey(attempt)).toBeNull();
    }

    const revoked = await h.store.revokeApiKey(created.key.id, 30);
    expect(revoked).toEqual({ ok: true, key: { ...created.key, revokedMs: 30 } });
    expect(await h.store.findTenantByKey(created.plaintext)).toBeNull();
    expect(await h.store.revokeApiKey(created.key.id, 40)).toEqual(revoked);
    expect((await h.store.findTenantByKey(other.plaintext))?.key.id).toBe(other.key.id);
    expect(await h.store.revokeApiKey('kml_nothing1', 50)).toMatchObject({ ok: false, code: 'not-found' });
    expect((await h.store.listApiKeys('acme')).map((k) => k.revokedMs)).toEqual(
      [created.key, other.key].sort((a, b) => (a.id < b.id ? -1 : 1)).map((k) => (k.id === created.key.id ? 30 : null)),
    );
  });

  it('refuses a key for an unknown tenant', async () => {
    expect(await h.store.createApiKey('nobody', 'x', 1)).toMatchObject({ ok: false, code: 'not-found', reason: 'no tenant nobody' });
    expect(await h.raw('api_keys')).toEqual([]);
  });
}
