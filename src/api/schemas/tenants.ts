/**
 * Tenants and API keys as the operator routes take and show them (routes/tenants.ts).
 * A key's plaintext appears once, in the answer that creates it; views show its visible id only.
 */
import { z } from 'zod';
import { POOL_CLASSES, type PoolClass } from '../../core/model/types.ts';
import type { ApiKeyInfo, Tenant } from '../../store/port.ts';
import { Id, Instant, iso } from './common.ts';

const Quota = z.number().int().min(0).max(1_000_000_000).nullable();

/** Per pool class, the most units a tenant may use at once; null or absent means no limit. */
export const QuotasInput = z
  .strictObject({ ai: Quota.optional(), general: Quota.optional(), hpc: Quota.optional() })
  .meta({ description: 'Most units the tenant may use at once per pool class; null means no limit' });

export const Quotas = z.object({ ai: z.number().int().nullable(), general: z.number().int().nullable(), hpc: z.number().int().nullable() });

const Name = z.string().trim().min(1).max(200);
const Label = z.string().trim().min(1).max(200).meta({ description: 'What the key is for, e.g. "ci" or "laptop"' });
const Role = z.enum(['operator', 'tenant']);

export const KeyId = z
  .string()
  .regex(/^kml_[A-Za-z0-9_-]{8}$/, 'not an API key id (kml_ and 8 characters)')
  .meta({ description: "The key's visible id: its first 12 characters", example: 'kml_Ab3dE9xQ' });

export const KeyView = z
  .object({ id: KeyId, tenant: z.string(), label: z.string(), created: Instant, revoked: Instant.nullable() })
  .meta({ id: 'ApiKey' });

export const TenantView = z
  .object({ id: z.string(), name: z.string(), role: Role, maxConcurrentUnits: Quotas, created: Instant, keys: z.array(KeyView) })
  .meta({ id: 'Tenant' });

export const CreateTenantBody = z.strictObject({
  id: Id,
  name: Name,
  role: Role.default('tenant'),
  maxConcurrentUnits: QuotasInput.default({}),
  keyLabel: Label.default('initial'),
});

export const PatchTenantBody = z
  .strictObject({ name: Name.optional(), role: Role.optional(), maxConcurrentUnits: QuotasInput.optional().meta({ description: 'Pool classes left out keep their limit' }) })
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one of name, role, maxConcurrentUnits');

export const CreateKeyBody = z.strictObject({ label: Label });

/** A new key: `apiKey` is the secret, shown here only. */
export const NewKey = z.object({ key: KeyView, apiKey: z.string().meta({ description: 'The key itself (Authorization: Bearer …); shown once' }) });

/** Quotas with every pool class: those left out of `input` keep `base`'s (no limit for a new tenant). */
export function mergeQuotas(input: z.output<typeof QuotasInput>, base?: Record<PoolClass, number | null>): Record<PoolClass, number | null> {
  const merged = {} as Record<PoolClass, number | null>;
  for (const poolClass of POOL_CLASSES) merged[poolClass] = input[poolClass] !== undefined ? input[poolClass] : (base?.[poolClass] ?? null);
  return merged;
}

export function toKeyView(key: ApiKeyInfo): z.output<typeof KeyView> {
  return { id: key.id, tenant: key.tenantId, label: key.label, created: iso(key.createdMs), revoked: key.revokedMs === null ? null : iso(key.revokedMs) };
}

export function toTenantView(tenant: Tenant, keys: readonly ApiKeyInfo[]): z.output<typeof TenantView> {
  return { id: tenant.id, name: tenant.name, role: tenant.role, maxConcurrentUnits: tenant.maxConcurrentUnits, created: iso(tenant.createdMs), keys: keys.map(toKeyView) };
}
