/**
 * Tenant routes on cross-regional backup (docs/backup.md, "The service"): define policies and datasets, list them,
 * and see a dataset's replicas — the newest verified copy per target, its age against the RPO, bytes moved — with
 * the backup loop's view (next copies, copies running, problems). The tenant is the key's; an operator sees every
 * tenant's and may act for one with `?tenant=`. Bodies are the backup files' schemas; a policy or dataset is then
 * checked against the service's network and grid with the same checks as the files (src/backup/load.ts), and a bad
 * one is a 400 naming the field.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { datasetFrom, policyFrom, type BackupGround, type FieldAt } from '../../backup/load.ts';
import type { BackupPolicy } from '../../core/backup/model.ts';
import { formatJsonPath, type ScenarioIssue } from '../../scenario/errors.ts';
import type { PolicyInput } from '../../backup/schema.ts';
import type { ServiceContext } from '../../service/context.ts';
import type { BackupRecord, ReplicaRecord, Store } from '../../store/port.ts';
import { principalOf, scopeTenantId } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { ApiError, fromRefusal, validationError } from '../errors.ts';
import { AUTH_ERRORS, Id, SECURITY, TenantScope, errorResponses, iso } from '../schemas/common.ts';
import { DatasetBody, DatasetSummary, DatasetView, PolicyBody, PolicyView, type ReplicaView } from '../schemas/backup.ts';

const TAGS = ['backup'];
const HOUR_MS = 3_600_000;
/** The plan grid of the checks when the service keeps no scenario document (tests of routes): hourly slots, two days. */
const DEFAULT_SLOT_MINUTES = 60;
const DEFAULT_HORIZON_SLOTS = 48;

/** The network and the backup loop's grid from now: what a policy's RPO and a dataset's sites are checked against. */
export function backupGround(ctx: ServiceContext): BackupGround {
  const slotMinutes = ctx.scenario?.slotMinutes ?? DEFAULT_SLOT_MINUTES;
  const slotMs = slotMinutes * 60_000;
  return { network: ctx.network(), grid: { startMs: Math.floor(ctx.clock.nowMs() / slotMs) * slotMs, slotMinutes, slots: ctx.scenario?.horizonSlots ?? DEFAULT_HORIZON_SLOTS } };
}

/** A tenant's stored policies as the core's (each was checked when stored; checked again on today's network). */
export async function tenantPolicies(store: Store, tenantId: string, ground: BackupGround): Promise<Map<string, BackupPolicy>> {
  const out = new Map<string, BackupPolicy>();
  for (const record of await store.backupPolicies(tenantId)) out.set(record.id, policyFrom(record.document as PolicyInput, () => '', ground).policy);
  return out;
}

const at: FieldAt = (...path) => formatJsonPath(path);
const fieldsOf = (issues: ScenarioIssue[]) => issues.map((i) => ({ field: i.path || 'body', message: i.reason }));

function policyView(r: BackupRecord) {
  return { tenant: r.tenantId, id: r.id, policy: r.document, created: iso(r.createdMs) };
}
function datasetSummary(r: BackupRecord) {
  return { tenant: r.tenantId, id: r.id, dataset: r.document, created: iso(r.createdMs) };
}

export const backupRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { ctx, auth }) => {
  const { store } = ctx;
  const ERRORS = errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND', 'KUMUL_CONFLICT');

  /** Whose records a listing shows: an operator without ?tenant= sees every tenant's. */
  const listScope = (request: Parameters<typeof principalOf>[0], tenant: string | undefined) =>
    principalOf(request).tenant.role === 'operator' && tenant === undefined ? undefined : scopeTenantId(request, tenant);

  app.post(
    '/v1/backup/policies',
    {
      onRequest: auth.tenant,
      schema: {
        summary: 'Define a backup policy: target sites (or any outside the origin region), replicas, RPO, versions retained, copy window',
        description: 'Fields as in a policies file (docs/backup.md). The RPO must span two slots of the service and its copy window open more often than the RPO.',
        tags: TAGS,
        security: SECURITY,
        querystring: TenantScope,
        body: PolicyBody,
        response: { 201: PolicyView, ...ERRORS },
      },
    },
    async (request, reply) => {
      const tenantId = scopeTenantId(request, request.query.tenant);
      const { issues } = policyFrom(request.body, at, backupGround(ctx));
      if (issues.length > 0) throw validationError(fieldsOf(issues));
      const stored = await store.createBackupPolicy(tenantId, request.body.id, request.body, ctx.clock.nowMs());
      if (!stored.ok) throw fromRefusal(stored, 'id');
      ctx.wake();
      return reply.code(201).send(policyView(stored.record));
    },
  );

  app.get(
    '/v1/backup/policies',
    {
      onRequest: auth.tenant,
      schema: { summary: 'List backup policies (an operator: every tenant’s unless ?tenant=)', tags: TAGS, security: SECURITY, querystring: TenantScope, response: { 200: z.object({ policies: z.array(PolicyView) }), ...ERRORS } },
    },
    async (request) => ({ policies: (await store.backupPolicies(listScope(request, request.query.tenant))).map(policyView) }),
  );

  app.post(
    '/v1/backup/datasets',
    {
      onRequest: auth.tenant,
      schema: {
        summary: 'Define a dataset to back up: origin site, size, daily change, policy, where its objects are',
        description: "Fields as in a datasets file without tenant (the key's; docs/backup.md). Its policy must be one of the tenant's. Wakes the backup loop.",
        tags: TAGS,
        security: SECURITY,
        querystring: TenantScope,
        body: DatasetBody,
        response: { 201: DatasetSummary, ...ERRORS },
      },
    },
    async (request, reply) => {
      const tenantId = scopeTenantId(request, request.query.tenant);
      const ground = backupGround(ctx);
      const { issues } = datasetFrom(request.body, tenantId, at, await tenantPolicies(store, tenantId, ground), ground);
      if (issues.length > 0) throw validationError(fieldsOf(issues));
      const stored = await store.createBackupDataset(tenantId, request.body.id, request.body, ctx.clock.nowMs());
      if (!stored.ok) throw fromRefusal(stored, 'id');
      ctx.wake();
      return reply.code(201).send(datasetSummary(stored.record));
    },
  );

  app.get(
    '/v1/backup/datasets',
    {
      onRequest: auth.tenant,
      schema: { summary: 'List datasets backed up (an operator: every tenant’s unless ?tenant=)', tags: TAGS, security: SECURITY, querystring: TenantScope, response: { 200: z.object({ datasets: z.array(DatasetSummary) }), ...ERRORS } },
    },
    async (request) => ({ datasets: (await store.backupDatasets(listScope(request, request.query.tenant))).map(datasetSummary) }),
  );

  app.get(
    '/v1/backup/datasets/:id',
    {
      onRequest: auth.tenant,
      schema: {
        summary: "A dataset's replicas: the newest verified copy per target, its age against the RPO, bytes moved; and the backup loop's plan for it",
        tags: TAGS,
        security: SECURITY,
        params: z.strictObject({ id: Id }),
        querystring: TenantScope,
        response: { 200: DatasetView, ...ERRORS },
      },
    },
    async (request) => {
      const tenantId = scopeTenantId(request, request.query.tenant);
      const record = await store.backupDataset(tenantId, request.params.id);
      if (!record) throw new ApiError('KUMUL_NOT_FOUND', `no backup dataset ${request.params.id}`);
      const policy = (await store.backupPolicies(tenantId)).find((p) => p.id === record.document.policy);
      const rpoHours = Number(policy?.document.rpoHours ?? NaN);
      const replicas = await store.replicas({ tenantId, datasetId: record.id });
      const transfers = await store.backupTransfers({ tenantId, datasetId: record.id });
      // The leader's backup loop stores its view of the dataset: every instance answers the same.
      const stored = await store.backupLoopState(tenantId, record.id);
      const loop = stored?.state ?? null;
      // Every target: the policy's fixed ones, those the loop plans, and those holding a copy.
      const fixed = Array.isArray(policy?.document.targets) && policy.document.targets.length === policy.document.replicas ? (policy.document.targets as string[]) : [];
      const sites = [...new Set([...fixed, ...(loop?.targets ?? []), ...replicas.map((r) => r.site)])].sort();
      const nowMs = ctx.clock.nowMs();
      const view = sites.map((site): z.infer<typeof ReplicaView> => {
        const r: ReplicaRecord | undefined = replicas.find((x) => x.site === site);
        const ageHours = r ? (nowMs - r.versionMs) / HOUR_MS : null;
        return {
          site,
          versionAt: r ? iso(r.versionMs) : null,
          verifiedAt: r ? iso(r.verifiedMs) : null,
          ageHours,
          rpoHours,
          withinRpo: ageHours !== null && ageHours <= rpoHours,
          bytes: r?.bytes ?? 0,
          files: r?.files ?? 0,
          storedBytes: r?.storedBytes ?? 0,
          bytesMoved: transfers.filter((t) => t.target === site).reduce((sum, t) => sum + t.bytes, 0),
        };
      });
      return {
        ...datasetSummary(record),
        replicas: view,
        bytesMoved: transfers.reduce((sum, t) => sum + t.bytes, 0),
        loop: loop && {
          plannedAt: iso(loop.plannedMs),
          storedAt: iso(stored!.updatedMs),
          targets: loop.targets,
          nextCopies: loop.nextCopies.map((c) => ({ target: c.target, route: c.route, start: iso(c.startMs), gb: c.gb })),
          copying: loop.copying.map((c) => ({ target: c.target, route: c.route, started: iso(c.startedMs), bytes: c.bytes, totalBytes: c.totalBytes, kind: c.kind })),
          problems: loop.problems,
        },
      };
    },
  );
};
