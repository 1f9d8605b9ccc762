import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** src/core may import only other core files and the pure libraries listed here. */
const ALLOWED_PACKAGES = new Set<string>([]);
const FORBIDDEN_CALLS = [/Date\.now\(/, /Math\.random\(/, /new Date\(\s*\)/, /performance\.now\(/, /process\./, /setTimeout\(/, /setInterval\(/];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('src/core is pure', () => {
  const files = tsFiles('src/core');
  it('has files to check', () => expect(files.length).toBeGreaterThan(3));
  for (const file of files) {
    it(`${file} imports only core and pure packages, uses no clock or randomness`, () => {
      const text = readFileSync(file, 'utf8');
      const specifiers = [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
      for (const spec of specifiers) {
        if (spec.startsWith('.')) {
          const resolved = join(file, '..', spec);
          expect(resolved.startsWith('src/core'), `${file} imports ${spec} outside src/core`).toBe(true);
        } else {
          expect(ALLOWED_PACKAGES.has(spec), `${file} imports package ${spec}`).toBe(true);
        }
      }
      for (const pattern of FORBIDDEN_CALLS) expect(pattern.test(text), `${file} uses ${pattern}`).toBe(false);
    });
  }
});
