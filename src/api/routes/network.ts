/** Operator routes: read-only views of the network the service runs on (`ctx.network()`): sites with their pools, and links. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { AUTH_ERRORS, SECURITY, errorResponses } from '../schemas/common.ts';
import { LinkSchema, SiteSchema } from '../schemas/network.ts';

const TAGS = ['network'];

export const networkRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { ctx, auth }) => {
  app.get(
    '/v1/sites',
    {
      onRequest: auth.operator,
      schema: {
        summary: 'Sites with their pools, PUE, renewable terms and location',
        tags: TAGS,
        security: SECURITY,
        response: { 200: z.object({ sites: z.array(SiteSchema) }), ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async () => ({ sites: ctx.network().sites }),
  );

  app.get(
    '/v1/links',
    {
      onRequest: auth.operator,
      schema: {
        summary: 'Network links between sites: bandwidth, latency, cost and energy per GB',
        tags: TAGS,
        security: SECURITY,
        response: { 200: z.object({ links: z.array(LinkSchema) }), ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async () => ({ links: ctx.network().links }),
  );
};
