/**
 * Operator routes on tenants and their API keys. Creating a tenant also creates its first key, whose plaintext
 * is in that answer only. A tenant may read itself (`GET /v1/tenants/{id}`) to see its quotas and keys.
 * Changes here forget the auth cache's entries at once (auth.ts).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Tenant } from '../../store/port.ts';
import { principalOf } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { ApiError, fromRefusal } from '../errors.ts';
import { AUTH_ERRORS, Id, SECURITY, errorResponses } from '../schemas/common.ts';
import { CreateKeyBody, CreateTenantBody, KeyId, KeyView, NewKey, PatchTenantBody, TenantView, mergeQuotas, toKeyView, toTenantView } from '../schemas/tenants.ts';

const TAGS = ['tenants'];
const TenantParams = z.strictObject({ id: Id });

export const tenantRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { ctx, auth }) => {
  const { store, clock } = ctx;

  const view = async (tenant: Tenant) => toTenantView(tenant, await store.listApiKeys(tenant.id));

  async function existing(id: string): Promise<Tenant> {
    const tenant = await store.getTenant(id);
    if (!tenant) throw new ApiError('KUMUL_NOT_FOUND', `no tenant ${id}`);
    return tenant;
  }

  app.post(
    '/v1/tenants',
    {
      onRequest: auth.operator,
      schema: {
        summary: 'Create a tenant with its quotas and a first API key (shown once)',
        tags: TAGS,
        security: SECURITY,
        body: CreateTenantBody,
        response: { 201: NewKey.extend({ tenant: TenantView }), ...errorResponses(...AUTH_ERRORS, 'KUMUL_CONFLICT') },
      },
    },
    async (request, reply) => {
      const { keyLabel, maxConcurrentUnits, ...rest } = request.body;
      const nowMs = clock.nowMs();
      const created = await store.createTenant({ ...rest, maxConcurrentUnits: mergeQuotas(maxConcurrentUnits) }, nowMs);
      if (!created.ok) throw fromRefusal(created);
      const key = await store.createApiKey(created.tenant.id, keyLabel, nowMs);
      if (!key.ok) throw fromRefusal(key);
      return reply.code(201).send({ tenant: toTenantView(created.tenant, [key.key]), key: toKeyView(key.key), apiKey: key.plaintext });
    },
  );

  app.get(
    '/v1/tenants',
    {
      onRequest: auth.operator,
      schema: {
        summary: 'List tenants with their keys (never their secrets)',
        tags: TAGS,
        security: SECURITY,
        response: { 200: z.object({ tenants: z.array(TenantView) }), ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async () => ({ tenants: await Promise.all((await store.listTenants()).map(view)) }),
  );

  app.get(
    '/v1/tenants/:id',
    {
      onRequest: auth.tenant,
      schema: {
        summary: 'Read a tenant: quotas and keys (an operator any, a tenant itself)',
        tags: TAGS,
        security: SECURITY,
        params: TenantParams,
        response: { 200: TenantView, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request) => {
      const { tenant } = principalOf(request);
      if (tenant.role !== 'operator' && tenant.id !== request.params.id) throw new ApiError('KUMUL_FORBIDDEN', 'a tenant key may read its own tenant only');
      return view(await existing(request.params.id));
    },
  );

  app.patch(
    '/v1/tenants/:id',
    {
      onRequest: auth.operator,
      schema: {
        summary: "Change a tenant's name, role or quotas",
        description: 'Quotas of pool classes left out are kept. The last operator cannot be made a tenant (409).',
        tags: TAGS,
        security: SECURITY,
        params: TenantParams,
        body: PatchTenantBody,
        response: { 200: TenantView, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND', 'KUMUL_CONFLICT') },
      },
    },
    async (request) => {
      const current = await existing(request.params.id);
      const { maxConcurrentUnits, ...patch } = request.body;
      if (current.role === 'operator' && patch.role === 'tenant') {
        const operators = (await store.listTenants()).filter((t) => t.role === 'operator');
        if (operators.length === 1) throw new ApiError('KUMUL_CONFLICT', `${current.id} is the last operator; make another tenant operator first`);
      }
      const quotas = maxConcurrentUnits && mergeQuotas(maxConcurrentUnits, current.maxConcurrentUnits);
      const updated = await store.updateTenant(current.id, { ...patch, ...(quotas ? { maxConcurrentUnits: quotas } : {}) }, clock.nowMs());
      if (!updated.ok) throw fromRefusal(updated);
      auth.forgetTenant(current.id);
      return view(updated.tenant);
    },
  );

  app.post(
    '/v1/tenants/:id/keys',
    {
      onRequest: auth.operator,
      schema: {
        summary: 'Create another API key for a tenant (shown once)',
        tags: TAGS,
        security: SECURITY,
        params: TenantParams,
        body: CreateKeyBody,
        response: { 201: NewKey, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request, reply) => {
      const created = await store.createApiKey(request.params.id, request.body.label, clock.nowMs());
      if (!created.ok) throw fromRefusal(created);
      return reply.code(201).send({ key: toKeyView(created.key), apiKey: created.plaintext });
    },
  );

  app.delete(
    '/v1/keys/:keyId',
    {
      onRequest: auth.operator,
      schema: {
        summary: 'Revoke an API key (at once on this instance; within seconds on others)',
        tags: TAGS,
        security: SECURITY,
        params: z.strictObject({ keyId: KeyId }),
        response: { 200: z.object({ key: KeyView }), ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request) => {
      const revoked = await store.revokeApiKey(request.params.keyId, clock.nowMs());
      if (!revoked.ok) throw fromRefusal(revoked);
      auth.forgetKey(revoked.key.id);
      return { key: toKeyView(revoked.key) };
    },
  );
};
