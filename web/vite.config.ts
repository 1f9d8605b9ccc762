/**
 * The dashboard's build (`npm run build:web`): web/ → dist/web/ (index.html and hashed files under assets/),
 * served by `kumul serve` at `/` (src/api/routes/web.ts). `vite --config web/vite.config.ts` serves it for
 * development, passing the API through to a `kumul serve` on 127.0.0.1:8080.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const api = { target: 'http://127.0.0.1:8080', changeOrigin: false };

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('../dist/web/', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
  },
  server: { proxy: { '/v1': api, '/openapi.json': api, '/docs': api } },
});
