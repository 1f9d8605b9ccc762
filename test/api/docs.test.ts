/**
 * The API describes itself: the OpenAPI document lists every route the app registered, with a summary, its
 * auth and its parameters, and every `$ref` resolves; Swagger UI at /docs reads that document and loads nothing
 * from elsewhere (its files come from this server, under a same-origin CSP).
 */
import { describe, expect, test } from 'vitest';
import type { RouteOptions } from 'fastify';
import { SAME_ORIGIN_CSP } from '../../src/api/routes/web.ts';
import { ApiFixture } from './fixtures.ts';

/** `/v1/jobs/:id` → `/v1/jobs/{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

async function documented() {
  const f = await ApiFixture.open();
  const routes: RouteOptions[] = [];
  f.app.addHook('onRoute', (route) => void routes.push(route));
  const res = await f.call(null, 'GET', '/openapi.json');
  await f.close();
  return { routes, res };
}

function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refs(v, found));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) k === '$ref' ? found.push(v as string) : refs(v, found);
  return found;
}

describe('OpenAPI document and docs page', () => {
  test('GET /openapi.json is JSON, OpenAPI 3, and lists every registered route with a summary and its auth', async () => {
    const { routes, res } = await documented();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const doc = JSON.parse(res.body);
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe('Kumul API');

    // Routes hidden from the document on purpose (the dashboard's static files, routes/web.ts; the /docs viewer) are left out.
    const registered = routes
      .filter((r) => !(r.schema as { hide?: boolean } | undefined)?.hide)
      .flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((m) => `${m} ${openApiPath(r.url)}`))
      .sort();
    const listed = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item as object).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    expect(listed).toEqual(registered);
    expect(registered).toEqual(
      [
        'GET /healthz', 'GET /metrics', 'GET /openapi.json',
        'POST /v1/jobs', 'GET /v1/jobs', 'GET /v1/jobs/{id}', 'POST /v1/jobs/{id}/cancel', 'GET /v1/jobs/{id}/plan', 'GET /v1/jobs/{id}/events',
        'POST /v1/tenants', 'GET /v1/tenants', 'GET /v1/tenants/{id}', 'PATCH /v1/tenants/{id}', 'POST /v1/tenants/{id}/keys', 'DELETE /v1/keys/{keyId}',
        'GET /v1/tenants/{id}/bill', 'GET /v1/sites', 'GET /v1/links',
        'GET /v1/scenario', 'PUT /v1/sites/{id}', 'DELETE /v1/sites/{id}', 'PUT /v1/links', 'DELETE /v1/links/{from}/{to}', 'PUT /v1/sites/{id}/signals/{signal}', 'POST /v1/sites/{id}/signals/{signal}/points', 'GET /v1/sites/{id}/signals/{signal}/points', 'GET /v1/policies', 'PUT /v1/policies',
        'POST /v1/probes', 'GET /v1/probes', 'GET /v1/probes/runs/{id}',
        'POST /v1/services', 'GET /v1/services', 'GET /v1/services/{id}', 'DELETE /v1/services/{id}', 'POST /v1/services/{id}/demand', 'POST /v1/services/{id}/load', 'GET /v1/services/{id}/routing', 'GET /v1/services/{id}/placements',
        'POST /v1/backup/policies', 'GET /v1/backup/policies', 'POST /v1/backup/datasets', 'GET /v1/backup/datasets', 'GET /v1/backup/datasets/{id}',
        'GET /v1/dashboard/network', 'GET /v1/dashboard/energy/{siteId}', 'GET /v1/dashboard/savings', 'GET /v1/dashboard/unplaced', 'GET /v1/events',
        // The Carbon Aware SDK WebAPI (v1), under its own paths (docs/carbon-aware-api.md).
        'GET /emissions/bylocation', 'GET /emissions/bylocations', 'GET /emissions/bylocations/best', 'GET /emissions/forecasts/current', 'POST /emissions/forecasts/batch',
        'GET /emissions/average-carbon-intensity', 'POST /emissions/average-carbon-intensity/batch', 'GET /locations',
      ].sort(),
    );

    // Every /v1/ route takes a key, except the dashboard's aggregate views and live events.
    const keyed = (path: string) => path.startsWith('/v1/') && !path.startsWith('/v1/dashboard/') && path !== '/v1/events';
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, { summary?: string; security?: unknown[]; responses: object }>)) {
        expect(op.summary, `${method} ${path}`).toBeTruthy();
        expect(Boolean(op.security?.length), `${method} ${path} security`).toBe(keyed(path));
        if (keyed(path)) expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['401', '403', '429']));
      }
    }
    for (const ref of refs(doc)) expect(doc.components.schemas[ref.replace('#/components/schemas/', '')], ref).toBeDefined();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });

    // The submission's schema comes from the zod schema: both forms, the job's required fields, strict objects.
    const body = doc.paths['/v1/jobs'].post.requestBody.content['application/json'].schema;
    expect(body.anyOf).toHaveLength(2);
    const job = doc.components.schemas[body.anyOf[1].$ref.replace('#/components/schemas/', '')];
    expect(job.required).toEqual(['id', 'class', 'poolClass', 'units', 'durationS', 'release', 'origin']);
    expect(job.additionalProperties).toBe(false);
    expect(doc.paths['/v1/jobs'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['tenant', 'status', 'class', 'poolClass', 'limit', 'after']);
  });

  test('GET /docs is Swagger UI on the same document, and loads nothing from elsewhere', async () => {
    const f = await ApiFixture.open();
    try {
      const get = (url: string) => f.call(null, 'GET', url);
      for (const [url, base] of [['/docs', '/docs/'], ['/docs/', '/docs/']]) {
        const page = await get(url);
        expect(page.statusCode, url).toBe(200);
        expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(page.headers['content-security-policy']).toBe(SAME_ORIGIN_CSP);
        expect(page.body).toContain('<title>Kumul API</title>');
        // Every file the page names is a path on this server, and the server has it.
        const files = [...page.body.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
        expect(files.length).toBeGreaterThanOrEqual(5);
        for (const file of files) {
          expect(file, url).not.toMatch(/^[a-z][a-z0-9+.-]*:|^\/\//i);
          const asset = await get(new URL(file, `http://kumul${base}`).pathname);
          expect(asset.statusCode, file).toBe(200);
          expect(asset.headers['content-security-policy'], file).toBe(SAME_ORIGIN_CSP);
        }
      }
      // The CSP allows this origin only (and data: images), so a browser fetches nothing from elsewhere.
      expect(SAME_ORIGIN_CSP).not.toMatch(/https?:|\*/);
      // The viewer reads the document next to it, with no validator badge (Swagger's default one is online).
      const initializer = (await get('/docs/static/swagger-initializer.js')).body;
      expect(initializer).toContain("url: resolveUrl('./json')");
      expect(initializer).toContain('validatorUrl: null');
      expect((await get('/docs/json')).json()).toEqual((await get('/openapi.json')).json());
      // Its styles take no fonts or images from elsewhere.
      const css = (await get('/docs/static/swagger-ui.css')).body;
      expect(css).not.toMatch(/@import|url\((?!["']?data:)/);
    } finally {
      await f.close();
    }
  });
});
