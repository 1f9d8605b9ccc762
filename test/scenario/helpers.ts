/** Fixture helpers for the scenario tests: the hand-made `tiny` scenario and variants of it in a temp folder. */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TINY_DIR = fileURLToPath(new URL('./fixtures/tiny/', import.meta.url));
export const TINY = join(TINY_DIR, 'scenario.json');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export function tinyJson(): Json {
  return JSON.parse(readFileSync(TINY, 'utf8'));
}

/**
 * Writes a variant of the tiny scenario (and its data folder) to a fresh temp folder and returns
 * the scenario path. `mutate` edits the parsed JSON; `files` adds or replaces files (e.g. bad CSVs).
 */
export function tinyVariant(mutate: (doc: Json) => void, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'kumul-scenario-'));
  cpSync(join(TINY_DIR, 'data'), join(dir, 'data'), { recursive: true });
  const doc = tinyJson();
  mutate(doc);
  const file = join(dir, 'scenario.json');
  writeFileSync(file, JSON.stringify(doc, null, 2));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return file;
}

/** Replaces every signal except `keep` (e.g. `['east.priceYuanPerKWh']`) by a constant, to test one signal at a time. */
export function keepOnly(doc: Json, keep: string[]): void {
  for (const site of doc.sites) {
    for (const name of Object.keys(site.signals)) {
      if (!keep.includes(`${site.id}.${name}`)) site.signals[name] = { actual: { source: 'constant', value: 1 } };
    }
  }
}
