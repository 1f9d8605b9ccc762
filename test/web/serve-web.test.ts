/**
 * The dashboard's files through `buildApp` (app.inject, no sockets): `/` is the built index.html, a hashed
 * asset it names comes with its content type, immutable caching and gzip; bad asset names are 404s; the API
 * routes are unchanged; without a bundle `/` is a 503 page saying how to build it. Needs dist/web/
 * (scripts/test.sh builds it; `npm run build:web` by hand).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WEB_DIR, webRoutesFrom } from '../../src/api/routes/web.ts';
import type { ApiDeps } from '../../src/api/deps.ts';
import { ApiFixture } from '../api/fixtures.ts';

let api: ApiFixture;
beforeAll(async () => {
  api = await ApiFixture.open();
});
afterAll(async () => {
  await api.close();
});

describe('the dashboard served at /', () => {
  it('has a built bundle to serve', () => {
    expect(existsSync(join(DEFAULT_WEB_DIR, 'index.html')), `no ${DEFAULT_WEB_DIR}index.html: run npm run build:web`).toBe(true);
  });

  it('serves index.html at / and its hashed assets with their content types and caching', async () => {
    const page = await api.app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.body).toContain('<nav class="views" aria-label="Views">');
    expect(page.body).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // nothing loaded from elsewhere

    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(page.body)?.[1];
    const style = /<link rel="stylesheet" crossorigin href="(\/assets\/[^"]+\.css)"/.exec(page.body)?.[1];
    expect(script, 'index.html names a script under /assets/').toBeDefined();
    expect(style, 'index.html names a stylesheet under /assets/').toBeDefined();

    const js = await api.app.inject({ method: 'GET', url: script! });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-encoding']).toBeUndefined();
    expect(js.body).toContain('/v1/dashboard/network');

    const zipped = await api.app.inject({ method: 'GET', url: script!, headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('accept-encoding');
    expect(gunzipSync(zipped.rawPayload).toString('utf8')).toBe(js.body);

    const css = await api.app.inject({ method: 'GET', url: style! });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers 404 in the API error shape for unknown or unsafe asset names', async () => {
    for (const url of ['/assets/nope-123.js', '/assets/..%2Findex.html', '/assets/.hidden', '/assets/a/b.js']) {
      const res = await api.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe('KUMUL_NOT_FOUND');
    }
  });

  it('leaves the API, its documents and health routes as they were', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok', store: 'ok' });
    const openapi = await api.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(openapi.statusCode).toBe(200);
    expect(Object.keys(openapi.json().paths)).not.toContain('/');
    expect(Object.keys(openapi.json().paths)).not.toContain('/assets/*');
    expect((await api.app.inject({ method: 'GET', url: '/docs' })).headers['content-type']).toBe('text/html; charset=utf-8');
    expect((await api.app.inject({ method: 'GET', url: '/v1/jobs' })).statusCode).toBe(401);
    expect((await api.app.inject({ method: 'GET', url: '/v1/nothing' })).statusCode).toBe(404);
  });

  it('answers / with a 503 page saying how to build the bundle when it is missing', async () => {
    const app = Fastify();
    app.register(webRoutesFrom(mkdtempSync(join(tmpdir(), 'kumul-noweb-'))), {} as ApiDeps);
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('npm run build:web');
    await app.close();
  });
});
