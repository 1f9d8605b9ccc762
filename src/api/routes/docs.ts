/**
 * The API described: the OpenAPI 3 document built from the routes' zod schemas (`GET /openapi.json`), and Swagger UI
 * reading it at `/docs` (@fastify/swagger-ui: its bundled files are served from node_modules, so the page works
 * offline, and a same-origin CSP keeps the browser from fetching anything elsewhere). The viewer's routes are left
 * out of the document; it reads the same document at `/docs/json`.
 */
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { SAME_ORIGIN_CSP } from './web.ts';

const TAGS = ['operations'];

export const docsRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app) => {
  app.get(
    '/openapi.json',
    { schema: { summary: 'This API as an OpenAPI 3 document', tags: TAGS, response: { 200: { description: 'OpenAPI 3', content: { 'application/json': { schema: z.unknown() } } } } } },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
  );

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // BaseLayout: this API's operations without Swagger's top bar (a box to load other documents from anywhere).
    uiConfig: { layout: 'BaseLayout', deepLinking: true, docExpansion: 'list', defaultModelsExpandDepth: 0 },
    theme: { title: 'Kumul API' },
    staticCSP: SAME_ORIGIN_CSP,
  });
};
