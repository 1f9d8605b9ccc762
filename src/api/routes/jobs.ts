/**
 * Tenant routes on jobs: submit (one job or an all-or-nothing batch), list, read, cancel, plan, events.
 * The tenant is the key's; an operator may name another with `?tenant=`. A job of another tenant is
 * answered exactly like a job that does not exist (404), so ids of other tenants cannot be probed.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { JOB_CLASSES, POOL_CLASSES } from '../../core/model/types.ts';
import type { StoredJob } from '../../store/port.ts';
import { principalOf, scopeTenantId } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { ApiError, fromRefusal, validationError } from '../errors.ts';
import { networkProblems, quotaProblems } from '../job-checks.ts';
import { AUTH_ERRORS, Id, SECURITY, TenantScope, errorResponses } from '../schemas/common.ts';
import { EventView, JobView, PlanView, StatusList, SubmitBody, toEventView, toJobView, toUnplacedView } from '../schemas/jobs.ts';

const TAGS = ['jobs'];
const JobParams = z.strictObject({ id: Id });

/** A whole number in a query string, e.g. `?limit=50`. */
function queryInt(min: number, max: number) {
  return z
    .string()
    .regex(/^[0-9]{1,10}$/, 'not a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .meta({ description: `A whole number from ${min} to ${max}` });
}

export const jobRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { ctx, auth, submitQueue, countSubmitted }) => {
  const { store, clock } = ctx;

  /** The job a request names, in the tenant it acts for; 404 when that tenant has no such job. */
  async function findJob(request: FastifyRequest, jobId: string, tenant: string | undefined): Promise<StoredJob> {
    const ref = { tenantId: scopeTenantId(request, tenant), jobId };
    const job = await store.getJob(ref);
    if (!job) throw new ApiError('KUMUL_NOT_FOUND', `no job ${jobId}`);
    return job;
  }

  app.post(
    '/v1/jobs',
    {
      onRequest: auth.tenant,
      schema: {
        summary: 'Submit one job, or { jobs: [...] } stored all or nothing',
        description:
          "Fields as in jobs files (docs/jobs-format.md). Origin, allowed sites and pool class are checked against the service's network; " +
          "a job needing more units than the tenant's maxConcurrentUnits for its pool class is refused (422). Wakes the dispatch loop.",
        tags: TAGS,
        security: SECURITY,
        querystring: TenantScope,
        body: SubmitBody,
        response: { 201: z.object({ jobs: z.array(JobView) }), ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND', 'KUMUL_CONFLICT', 'KUMUL_PAYLOAD_TOO_LARGE', 'KUMUL_UNSUPPORTED_MEDIA_TYPE', 'KUMUL_QUOTA_EXCEEDED') },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const tenantId = scopeTenantId(request, request.query.tenant);
      const tenant = tenantId === principal.tenant.id ? principal.tenant : await store.getTenant(tenantId);
      if (!tenant) throw new ApiError('KUMUL_NOT_FOUND', `no tenant ${tenantId}`);
      const body = request.body;
      const specs = 'jobs' in body ? body.jobs : [body];
      const pathOf = 'jobs' in body ? (i: number) => ['jobs', i] : () => [];
      const invalid = networkProblems(specs, ctx.network(), pathOf);
      if (invalid.length > 0) throw validationError(invalid);
      const overQuota = quotaProblems(specs, tenant, pathOf);
      if (overQuota.length > 0) throw new ApiError('KUMUL_QUOTA_EXCEEDED', overQuota[0].message, overQuota);
      const stored = await submitQueue.submit(tenantId, specs);
      if (!stored.ok) throw fromRefusal(stored);
      for (const poolClass of POOL_CLASSES) {
        const n = specs.filter((s) => s.poolClass === poolClass).length;
        if (n > 0) countSubmitted(n, { pool_class: poolClass });
      }
      ctx.wake();
      return reply.code(201).send({ jobs: stored.jobs.map(toJobView) });
    },
  );

  app.get(
    '/v1/jobs',
    {
      onRequest: auth.tenant,
      schema: {
        summary: 'List jobs, oldest submission first, a page at a time',
        description: "A tenant sees its own jobs; an operator sees every tenant's unless ?tenant= names one. Pass `next` back as `after` for the next page.",
        tags: TAGS,
        security: SECURITY,
        querystring: TenantScope.extend({
          status: StatusList.optional(),
          class: z.enum(JOB_CLASSES).optional(),
          poolClass: z.enum(POOL_CLASSES).optional(),
          limit: queryInt(1, 1000).optional().meta({ description: 'Jobs per page, 1-1000 (default 100)' }),
          after: z.string().max(1000).optional().meta({ description: 'The `next` of the previous page' }),
        }),
        response: { 200: z.object({ jobs: z.array(JobView), next: z.string().nullable() }), ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { tenant, status, class: jobClass, poolClass, limit, after } = request.query;
      const everyone = principalOf(request).tenant.role === 'operator' && tenant === undefined;
      const filter = { tenantId: everyone ? undefined : scopeTenantId(request, tenant), statuses: status, class: jobClass, poolClass };
      const page = await store.listJobs(filter, { limit, after });
      if (!page.ok) throw fromRefusal(page, 'after');
      return { jobs: page.jobs.map(toJobView), next: page.next };
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      onRequest: auth.tenant,
      schema: {
        summary: 'Read one job',
        tags: TAGS,
        security: SECURITY,
        params: JobParams,
        querystring: TenantScope,
        response: { 200: JobView, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request) => toJobView(await findJob(request, request.params.id, request.query.tenant)),
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      onRequest: auth.tenant,
      schema: {
        summary: 'Cancel a job that has not ended',
        description: 'A running job is cancelled in the store at once; the dispatch loop stops its run. 409 when the job has already ended, or is no longer at ?expectedVersion=.',
        tags: TAGS,
        security: SECURITY,
        params: JobParams,
        querystring: TenantScope.extend({ expectedVersion: queryInt(1, 1_000_000_000).optional().meta({ description: 'Cancel only if the job is still at this version' }) }),
        response: { 200: JobView, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND', 'KUMUL_CONFLICT') },
      },
    },
    async (request) => {
      const { tenant, expectedVersion } = request.query;
      const ref = { tenantId: scopeTenantId(request, tenant), jobId: request.params.id };
      const result = await store.cancel(ref, { nowMs: clock.nowMs(), expectedVersion, detail: { by: principalOf(request).keyId } });
      if (!result.ok) throw result.code === 'not-found' ? new ApiError('KUMUL_NOT_FOUND', `no job ${ref.jobId}`) : fromRefusal(result);
      ctx.wake();
      return toJobView(result.job);
    },
  );

  app.get(
    '/v1/jobs/:id/plan',
    {
      onRequest: auth.tenant,
      schema: {
        summary: "A job's current plan: where, when, what it costs, and why (explain); without one, why the dispatch loop found no place for it (unplaced)",
        tags: TAGS,
        security: SECURITY,
        params: JobParams,
        querystring: TenantScope,
        response: { 200: PlanView, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request) => {
      const { job, status, version, plan, unplaced } = await findJob(request, request.params.id, request.query.tenant);
      return { id: job.id, tenant: job.tenant, status, version, plan, unplaced: toUnplacedView(unplaced) };
    },
  );

  app.get(
    '/v1/jobs/:id/events',
    {
      onRequest: auth.tenant,
      schema: {
        summary: "A job's events, oldest first",
        tags: TAGS,
        security: SECURITY,
        params: JobParams,
        querystring: TenantScope,
        response: { 200: z.object({ events: z.array(EventView) }), ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request) => {
      const { job } = await findJob(request, request.params.id, request.query.tenant);
      const events = await store.jobEvents({ tenantId: job.tenant, jobId: job.id });
      return { events: events.map(toEventView) };
    },
  );
};
