/** The built-in scenario europe-2020: the three one-site 2020 grids on one network (scripts/build-europe-2020-data.ts). */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinScenarioNames, loadScenario } from '../../src/scenario/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHARED_DATA = join(ROOT, '../shared/data');
const DAY = { start: '2020-06-15T00:00Z', slots: 48 };

describe('built-in scenario europe-2020', () => {
  const europe = loadScenario('europe-2020', DAY);

  it('is listed and has the sites de, gb, fr with the pools of the one-site scenarios', () => {
    expect(builtinScenarioNames()).toContain('europe-2020');
    expect(europe.network.sites.map((s) => s.id)).toEqual(['de', 'gb', 'fr']);
    for (const site of europe.network.sites) {
      const alone = loadScenario(`${site.id}-2020`, DAY).network.sites[0];
      expect(site.pools).toEqual(alone.pools);
      expect(site.pue).toBe(alone.pue);
    }
  });

  it('joins every pair of sites with half the measured GCP round trip (Frankfurt, London, Paris) and 10 Gbit/s', () => {
    // shared/data/network/gcp_inter_region_latency_pairs_ms.csv: europe-west3 ↔ europe-west2 13 ms, ↔ europe-west9 10 ms; west2 ↔ west9 7 ms
    expect(europe.network.links.map((l) => [l.from, l.to, 2 * l.latencyMs, l.bandwidthGbps])).toEqual([
      ['de', 'gb', 13, 10],
      ['de', 'fr', 10, 10],
      ['gb', 'fr', 7, 10],
    ]);
    for (const l of europe.network.links) expect([l.energyKWhPerGB, l.costYuanPerGB]).toEqual([0.01, 0.01]);
  });

  it('has the same actual and forecast series at each site as the one-site scenario of its country', () => {
    for (const site of europe.network.sites) {
      expect(europe.signals[site.id]).toEqual(loadScenario(`${site.id}-2020`, DAY).signals[site.id]);
    }
  });

  it('states every assumption in docs/space-and-time.md', () => {
    const docs = readFileSync(join(ROOT, 'docs/space-and-time.md'), 'utf8');
    for (const a of europe.assumptions) expect(docs, a.what).toContain(a.what);
  });

  it.skipIf(!existsSync(SHARED_DATA))('equals what scripts/build-europe-2020-data.ts builds from the shared data', () => {
    const out = mkdtempSync(join(tmpdir(), 'kumul-europe-2020-'));
    for (const script of ['build-de-2020-data.ts', 'build-europe-2020-data.ts']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', script), '--out', out, '--quiet'], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    expect(readFileSync(join(out, 'europe-2020/scenario.json'), 'utf8')).toBe(readFileSync(join(ROOT, 'scenarios/europe-2020/scenario.json'), 'utf8'));
  });
});
