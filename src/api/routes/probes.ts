/**
 * Operator routes for computing-power testing (docs/probes.md): POST /v1/probes starts probing a site's pools
 * through the service's executor and answers 202 with the run (one run per site at a time: a second request
 * for a busy site gets the running one, 202 too); GET /v1/probes/runs/{id} follows it; GET /v1/probes lists
 * stored probes over time. The probes are measured on the service's clock.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEFAULT_THRESHOLD } from '../../probe/measure.ts';
import { ProbeRuns } from '../../probe/runs.ts';
import { probeTargets } from '../../probe/run.ts';
import type { ApiDeps } from '../deps.ts';
import { ApiError, validationError } from '../errors.ts';
import { AUTH_ERRORS, Id, InstantInput, SECURITY, errorResponses } from '../schemas/common.ts';
import { ProbeRunView, ProbeStartBody, ProbeView, toProbeRunView, toProbeView } from '../schemas/probes.ts';

const TAGS = ['probes'];

/** A whole number in a query string. */
const Limit = z
  .string()
  .regex(/^[0-9]{1,4}$/, 'not a whole number')
  .transform(Number)
  .pipe(z.number().int().min(1).max(1000))
  .meta({ description: 'At most this many, the latest (1-1000, default 1000)' });

export const probeRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { ctx, auth }) => {
  let runs: ProbeRuns | null = null;
  const probeRuns = (): ProbeRuns => {
    if (!ctx.executor) throw new ApiError('KUMUL_NOT_FOUND', 'this service has no executor to run probes with');
    return (runs ??= new ProbeRuns(ctx.executor, ctx.store));
  };

  app.post(
    '/v1/probes',
    {
      onRequest: auth.operator,
      schema: {
        summary: "Start probing a site's pools: a benchmark job per pool through the site's executor",
        description: 'Answers 202 at once with the run; its probes are stored as each pool ends (GET /v1/probes, GET /v1/probes/runs/{id}).',
        tags: TAGS,
        security: SECURITY,
        body: ProbeStartBody,
        response: { 202: z.object({ run: ProbeRunView, started: z.boolean().meta({ description: 'false: the site was already being probed; this is that run' }) }), ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request, reply) => {
      const { site, pool, threshold } = request.body;
      // Probes compare with the advertised peaks: the stored scenario's network (ctx.network() may show measured ones).
      const network = ctx.scenario?.network() ?? ctx.network();
      const targets = probeTargets(network, site, pool);
      if ('error' in targets) throw validationError([{ field: pool !== undefined && network.sites.some((s) => s.id === site) ? 'pool' : 'site', message: targets.error }]);
      const { run, started } = probeRuns().start(targets.site, targets.pools, { threshold: threshold ?? DEFAULT_THRESHOLD, nowMs: () => ctx.clock.nowMs() });
      return reply.code(202).send({ run: toProbeRunView(run), started });
    },
  );

  app.get(
    '/v1/probes/runs/:id',
    {
      onRequest: auth.operator,
      schema: {
        summary: 'A probe run: its state and the probes stored so far',
        tags: TAGS,
        security: SECURITY,
        params: z.strictObject({ id: z.string().min(1).max(200) }),
        response: { 200: z.object({ run: ProbeRunView }), ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') },
      },
    },
    async (request) => {
      const run = probeRuns().get(request.params.id);
      if (!run) throw new ApiError('KUMUL_NOT_FOUND', `no probe run ${request.params.id} (runs are kept in memory until the service stops)`);
      return { run: toProbeRunView(run) };
    },
  );

  app.get(
    '/v1/probes',
    {
      onRequest: auth.operator,
      schema: {
        summary: 'Stored probes over time, oldest first: measured against advertised, ratio, flagged',
        tags: TAGS,
        security: SECURITY,
        querystring: z.strictObject({
          site: Id.optional(),
          pool: Id.optional(),
          since: InstantInput.optional().meta({ description: 'Only probes measured at or after this instant' }),
          limit: Limit.optional(),
        }),
        response: { 200: z.object({ probes: z.array(ProbeView) }), ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { site, pool, since, limit } = request.query;
      const listed = await ctx.store.listProbes({ siteId: site, poolId: pool, sinceMs: since, limit });
      if (!listed.ok) throw validationError([{ field: 'query', message: listed.reason }]);
      return { probes: listed.probes.map(toProbeView) };
    },
  );

  // Closing does not wait for probe runs (a Slurm probe may wait minutes for a node): a run cut short by the
  // store closing under it ends `failed`; the probes it stored before stay.
};
