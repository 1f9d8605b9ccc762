/** Unauthenticated operations routes: liveness with a cheap store call (for load balancers), and Prometheus metrics. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { errorResponses } from '../schemas/common.ts';

const TAGS = ['operations'];

export const healthRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { ctx }) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the service answers and its store does; which instance runs the dispatch loop',
        tags: TAGS,
        response: {
          200: z.object({
            status: z.literal('ok'),
            store: z.literal('ok'),
            instance: z.string().optional().meta({ description: "This instance's id (<host>:<pid>:<random>)" }),
            role: z.enum(['leader', 'follower']).optional().meta({ description: 'Whether this instance runs the dispatch loop or only serves the API' }),
            leader: z.string().nullable().optional().meta({ description: 'The instance that runs the dispatch loop (holds its lease), null when none does' }),
          }),
          ...errorResponses('KUMUL_UNAVAILABLE'),
        },
      },
    },
    async (request) => {
      try {
        // A primary-key read: cheap on any store, and it fails when the database is gone.
        await ctx.store.getTenant('healthz');
      } catch (error) {
        request.log.error({ err: error }, 'healthz: the store failed');
        throw new ApiError('KUMUL_UNAVAILABLE', 'the store is not answering');
      }
      const leadership = ctx.leadership?.();
      return { status: 'ok' as const, store: 'ok' as const, ...(leadership ? { instance: leadership.instance, role: leadership.role, leader: leadership.leader } : {}) };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Metrics in the Prometheus text format (API requests by route and status, job submissions, dispatch loop)',
        tags: TAGS,
        response: { 200: { description: 'Prometheus text exposition 0.0.4', content: { 'text/plain': { schema: z.string() } } } },
      },
    },
    async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(ctx.metrics.render()),
  );
};
