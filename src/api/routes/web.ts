/**
 * The dashboard (web/, built by Vite into dist/web/) served at `/`: `index.html` for `/` and `/index.html`
 * (revalidated on each load), the hashed files under `/assets/` (cached for a year, immutable; gzip when the
 * client takes it). Left out of the OpenAPI document. When the bundle is missing, `/` answers 503 with a page
 * saying how to build it. `/v1/*`, `/docs`, `/openapi.json`, `/metrics` and `/healthz` are other route groups.
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ApiDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';

/** Where `npm run build:web` writes the bundle. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt']);
/** Hashed asset names as Vite writes them: no slashes, no leading dot. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;

/** Everything the page loads comes from this origin (no CDN, no tiles); echarts (and the /docs viewer, routes/docs.ts) set inline styles. */
export const SAME_ORIGIN_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Kumul: dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>The dashboard is not built</h1>
<p>This Kumul serves its API, but the web dashboard's files are missing. Build them from the repository, then reload:</p>
<pre>npm run build:web</pre>
<p>(<code>npm start</code> builds them before it starts.) The API is running: see <a href="/docs">/docs</a>.</p>
</body></html>
`;

interface Cached {
  body: Buffer;
  gzip: Buffer | null;
}

/** The route group serving the bundle in `dir` (default dist/web/). */
export function webRoutesFrom(dir: string = DEFAULT_WEB_DIR): FastifyPluginAsync<ApiDeps> {
  return async (app) => {
    /** Hashed files never change under their name: read and compress each once. */
    const assets = new Map<string, Cached>();

    function send(reply: FastifyReply, ext: string, file: Cached, acceptEncoding: string | undefined, cacheControl: string): FastifyReply {
      reply.header('content-type', CONTENT_TYPES[ext] ?? 'application/octet-stream').header('cache-control', cacheControl).header('x-content-type-options', 'nosniff');
      if (COMPRESSIBLE.has(ext)) reply.header('vary', 'accept-encoding');
      if (file.gzip && /\bgzip\b/.test(acceptEncoding ?? '')) return reply.header('content-encoding', 'gzip').send(file.gzip);
      return reply.send(file.body);
    }

    const index = async (request: { headers: { 'accept-encoding'?: string } }, reply: FastifyReply) => {
      let body: Buffer;
      try {
        body = await readFile(join(dir, 'index.html'));
      } catch {
        return reply.code(503).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
      }
      reply.header('content-security-policy', SAME_ORIGIN_CSP).header('referrer-policy', 'no-referrer');
      return send(reply, '.html', { body, gzip: null }, request.headers['accept-encoding'], 'no-cache');
    };
    app.get('/', { schema: { hide: true } }, index);
    app.get('/index.html', { schema: { hide: true } }, index);

    app.get('/assets/*', { schema: { hide: true } }, async (request, reply) => {
      const name = (request.params as { '*': string })['*'];
      if (!ASSET_NAME.test(name)) throw new ApiError('KUMUL_NOT_FOUND', `no asset ${name}`);
      const ext = extname(name);
      let file = assets.get(name);
      if (!file) {
        let body: Buffer;
        try {
          body = await readFile(join(dir, 'assets', name));
        } catch {
          throw new ApiError('KUMUL_NOT_FOUND', `no asset ${name}`);
        }
        file = { body, gzip: COMPRESSIBLE.has(ext) && body.length > 1024 ? gzipSync(body) : null };
        assets.set(name, file);
      }
      return send(reply, ext, file, request.headers['accept-encoding'], 'public, max-age=31536000, immutable');
    });
  };
}

export const webRoutes = webRoutesFrom();
