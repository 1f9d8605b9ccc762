/**
 * Tenants and their API keys. The operator routes create tenants and keys; the API's authentication
 * hook calls `findTenantByKey` on every request. A key is `kml_` + 32 random bytes (base64url); the store
 * keeps its first 12 characters as its visible id and the SHA-256 of the whole key, never the key.
 */
import { createHash } from 'node:crypto';
import type { Store, TenantInput } from './port.ts';
import { toApiKeyInfo, toTenant } from './rows.ts';
import { count, inTransaction, refuse, type Db } from './support.ts';
import { checkTenant } from './validate.ts';

const KEY_PREFIX = 'kml_';
const KEY_SECRET_BYTES = 32;
/** `kml_` and 8 characters of the secret (48 bits): enough to tell keys apart in a list. */
const KEY_ID_LENGTH = 12;
const KEY_LENGTH = KEY_PREFIX.length + Math.ceil((KEY_SECRET_BYTES * 4) / 3);

export type RandomBytes = (size: number) => Buffer;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

type TenantMethods = Pick<Store, 'createTenant' | 'updateTenant' | 'getTenant' | 'listTenants' | 'createApiKey' | 'findTenantByKey' | 'revokeApiKey' | 'listApiKeys'>;

export function tenantMethods(db: Db, randomBytes: RandomBytes): TenantMethods {
  const getTenant = async (id: string) => {
    const row = await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toTenant(row) : null;
  };

  return {
    getTenant,

    async listTenants() {
      return (await db.selectFrom('tenants').selectAll().orderBy('id').execute()).map(toTenant);
    },

    async createTenant(input, nowMs) {
      const bad = checkTenant(input);
      if (bad) return refuse('invalid', bad);
      const result = await db
        .insertInto('tenants')
        .values({ id: input.id, name: input.name, role: input.role, quotas: JSON.stringify(input.maxConcurrentUnits), created_ms: nowMs, updated_ms: nowMs })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (count(result.numInsertedOrUpdatedRows) === 0) return refuse('duplicate', `tenant ${input.id} already exists`);
      return { ok: true, tenant: (await getTenant(input.id))! };
    },

    async updateTenant(id, patch, nowMs) {
      return inTransaction(db, async (trx) => {
        const row = await trx.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
        if (!row) return refuse('not-found', `no tenant ${id}`);
        const current = toTenant(row);
        const next: TenantInput = {
          id,
          name: patch.name ?? current.name,
          role: patch.role ?? current.role,
          maxConcurrentUnits: patch.maxConcurrentUnits ?? current.maxConcurrentUnits,
        };
        const bad = checkTenant(next);
        if (bad) return refuse('invalid', bad);
        await trx
          .updateTable('tenants')
          .set({ name: next.name, role: next.role, quotas: JSON.stringify(next.maxConcurrentUnits), updated_ms: nowMs })
          .where('id', '=', id)
          .execute();
        return { ok: true, tenant: { ...next, createdMs: current.createdMs } };
      });
    },

    async createApiKey(tenantId, label, nowMs) {
      if (!(await getTenant(tenantId))) return refuse('not-found', `no tenant ${tenantId}`);
      // A clash of the 48-bit visible id is possible in principle: draw again.
      for (let attempt = 0; attempt < 5; attempt++) {
        const plaintext = KEY_PREFIX + randomBytes(KEY_SECRET_BYTES).toString('base64url');
        const row = { id: plaintext.slice(0, KEY_ID_LENGTH), tenant_id: tenantId, hash: sha256Hex(plaintext), label, created_ms: nowMs, revoked_ms: null };
        const result = await db.insertInto('api_keys').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
        if (count(result.numInsertedOrUpdatedRows) === 1) return { ok: true, key: toApiKeyInfo(row), plaintext };
      }
      throw new Error('five API key ids in a row were taken: the random source is broken');
    },

    async findTenantByKey(plaintext) {
      if (typeof plaintext !== 'string' || plaintext.length !== KEY_LENGTH || !plaintext.startsWith(KEY_PREFIX)) return null;
      const row = await db
        .selectFrom('api_keys')
        .innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id')
        .selectAll('tenants')
        .select(['api_keys.id as key_id', 'api_keys.label', 'api_keys.created_ms as key_created_ms', 'api_keys.revoked_ms'])
        .where('api_keys.hash', '=', sha256Hex(plaintext))
        .where('api_keys.revoked_ms', 'is', null)
        .executeTakeFirst();
      if (!row) return null;
      const key = toApiKeyInfo({ id: row.key_id, tenant_id: row.id, label: row.label, created_ms: row.key_created_ms, revoked_ms: row.revoked_ms });
      return { tenant: toTenant(row), key };
    },

    async revokeApiKey(keyId, nowMs) {
      await db.updateTable('api_keys').set({ revoked_ms: nowMs }).where('id', '=', keyId).where('revoked_ms', 'is', null).execute();
      const row = await db.selectFrom('api_keys').select(['id', 'tenant_id', 'label', 'created_ms', 'revoked_ms']).where('id', '=', keyId).executeTakeFirst();
      return row ? { ok: true, key: toApiKeyInfo(row) } : refuse('not-found', `no API key ${keyId}`);
    },

    async listApiKeys(tenantId) {
      const rows = await db.selectFrom('api_keys').select(['id', 'tenant_id', 'label', 'created_ms', 'revoked_ms']).where('tenant_id', '=', tenantId).orderBy('id').execute();
      return rows.map(toApiKeyInfo);
    },
  };
}
