/** The API described: the OpenAPI 3 document built from the routes' zod schemas, and a plain HTML page of it. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { OpenAPIV3 } from 'openapi-types';
import { z } from 'zod';
import { renderDocsPage } from '../docs-page.ts';
import type { ApiDeps } from '../deps.ts';

const TAGS = ['operations'];

export const docsRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app) => {
  let page: string | null = null;

  app.get(
    '/openapi.json',
    { schema: { summary: 'This API as an OpenAPI 3 document', tags: TAGS, response: { 200: { description: 'OpenAPI 3', content: { 'application/json': { schema: z.unknown() } } } } } },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
  );

  app.get(
    '/docs',
    { schema: { summary: 'This API as a self-contained HTML page', tags: TAGS, response: { 200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } } } } },
    async (_request, reply) => {
      page ??= renderDocsPage(app.swagger() as OpenAPIV3.Document);
      return reply.type('text/html; charset=utf-8').send(page);
    },
  );
};
