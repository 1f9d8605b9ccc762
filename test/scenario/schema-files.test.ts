/** Generated files are committed up to date: the JSON Schemas in docs/ and the built-in hami scenario. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { schemaDocuments } from '../../scripts/write-schemas.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHARED_DATA = join(ROOT, '../shared/data');

describe('generated files', () => {
  for (const [path, content] of Object.entries(schemaDocuments())) {
    it(`${path} equals the schema generated from src/scenario (run scripts/write-schemas.ts)`, () => {
      expect(readFileSync(join(ROOT, path), 'utf8')).toBe(content);
    });
  }

  it.skipIf(!existsSync(SHARED_DATA))('scenarios/hami equals what scripts/build-hami-data.ts builds from the shared data', () => {
    const out = mkdtempSync(join(tmpdir(), 'kumul-hami-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/build-hami-data.ts'), '--out', out, '--quiet'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const committed = join(ROOT, 'scenarios/hami');
    for (const file of ['scenario.json', ...readdirSync(join(committed, 'data')).map((f) => `data/${f}`)]) {
      expect(readFileSync(join(out, file), 'utf8'), file).toBe(readFileSync(join(committed, file), 'utf8'));
    }
  });
});
