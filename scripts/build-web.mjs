// Builds the dashboard (web/ → dist/web/) with Vite when the bundle is missing or older than any file in web/
// (or package-lock.json); otherwise does nothing. `npm start` (prestart) and scripts/test.sh run it;
// `--force` always builds. Exits non-zero when a build fails; without Vite installed it only warns, except with
// `--required` (`npm pack`'s prepack: the package must carry the dashboard, as an installed kumul serves it).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const index = join(root, 'dist/web/index.html');

function newestMs(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMs(join(path, name))));
}

const force = process.argv.includes('--force');
if (!force && existsSync(index) && statSync(index).mtimeMs >= Math.max(newestMs(join(root, 'web')), newestMs(join(root, 'package-lock.json')))) {
  process.exit(0);
}
const vite = join(root, 'node_modules/vite/bin/vite.js');
if (!existsSync(vite)) {
  console.warn('kumul: the dashboard is not built and Vite is not installed (npm ci installs it); / will say so.');
  process.exit(process.argv.includes('--required') ? 1 : 0);
}
console.error('kumul: building the dashboard (vite build → dist/web/)');
const result = spawnSync(process.execPath, [vite, 'build', '--config', join(root, 'web/vite.config.ts'), '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
