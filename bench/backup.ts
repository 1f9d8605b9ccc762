/**
 * `npm run bench` (backup part, issue 13): the figures of cross-regional backup, each with its target and ratio,
 * measured in this run:
 *   1. planning 1,000 datasets × 6 sites × 168 hourly slots on hami with its bound, target ≤ 2 s;
 *   2. rclone copying files between two local remotes (with --checksum, then `rclone check`) against `cp` of the
 *      same files: the ratio is the overhead of hashing and verification.
 * `--quick` runs smaller versions.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../src/scenario/index.ts';
import { loadHighsSolver } from '../src/solver/highs.ts';
import { parseObjective, type Objective } from '../src/core/dispatch/objective.ts';
import { BACKUP_SCORES, planBackups } from '../src/core/backup/planner.ts';
import type { BackupDataset, BackupPolicy } from '../src/core/backup/model.ts';
import { Rclone } from '../src/backup/rclone.ts';

const quick = process.argv.includes('--quick');

function report(name: string, value: number, unit: string, target: string, ratio: number, note = ''): void {
  console.log(`${name}: ${value.toPrecision(3)} ${unit} (${target}; ratio ${ratio.toFixed(2)})${note ? ` — ${note}` : ''}`);
}

/** A deterministic mix of datasets at the central and eastern cities (and Urumqi), policies of 6 to 48 h. */
export function benchDatasets(count: number, slots: number): BackupDataset[] {
  const origins = ['beijing', 'zhengzhou', 'chongqing', 'urumqi'];
  const policies: BackupPolicy[] = [
    { id: 'hami-6h', candidates: ['hami'], replicas: 1, rpoHours: 6, retainVersions: 7, window: null },
    { id: 'hami-24h', candidates: ['hami'], replicas: 1, rpoHours: 24, retainVersions: 7, window: null },
    { id: 'west-12h', candidates: ['hami', 'qingyang'], replicas: 1, rpoHours: 12, retainVersions: 7, window: null },
    { id: 'any-two-48h', candidates: null, replicas: 2, rpoHours: 48, retainVersions: 3, window: null },
    { id: 'hami-night', candidates: ['hami'], replicas: 1, rpoHours: 36, retainVersions: 7, window: { fromMin: 0, toMin: 480, offsetMin: 480 } },
  ];
  let seed = 13;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: count }, (_, i) => {
    const sizeGB = Math.round(50 + next() * 950);
    return {
      id: `ds-${i}`,
      tenant: `tenant-${i % 37}`,
      origin: origins[i % origins.length],
      sizeGB,
      changeGBPerSlot: new Array<number>(slots).fill((sizeGB * (0.02 + next() * 0.1)) / 24),
      prefix: `ds-${i}`,
      seeded: next() < 0.8 ? ['hami', 'qingyang', 'zhengzhou', 'chongqing', 'beijing', 'urumqi'] : [],
      policy: policies[i % policies.length],
    };
  });
}

// 1. Planning with the bound: median of 3 runs after a warm-up (the first run also compiles HiGHS's WebAssembly).
{
  const scenario = loadScenario('hami');
  const solver = await loadHighsSolver();
  const signals = Object.fromEntries(Object.entries(scenario.signals).map(([id, pair]) => [id, pair.forecast]));
  const objective = parseObjective('cost', BACKUP_SCORES) as Objective;
  const datasets = benchDatasets(quick ? 200 : 1000, scenario.grid.slots);
  const request = { network: scenario.network, grid: scenario.grid, signals, datasets, jobTransfers: [], objective };
  planBackups(request, { solver });
  const times: number[] = [];
  let result = null as ReturnType<typeof planBackups> | null;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    result = planBackups(request, { solver });
    times.push((performance.now() - t) / 1000);
  }
  const seconds = times.sort((a, b) => a - b)[1];
  const r = result!;
  report(
    `backup plan ${datasets.length} datasets × 6 sites × ${scenario.grid.slots} slots with bound`,
    seconds,
    's',
    'target ≤ 2 s',
    2 / seconds,
    `median of 3; ${r.stats.commodities} commodities, ${r.stats.variables} LP variables, ${r.stats.solves} solves; RPO met for ${r.totals.datasetsRpoMet}/${datasets.length}; gap ${r.bound ? r.bound.gapPct.toFixed(3) + ' %' : 'none'}`,
  );
}

// 2. rclone between two local remotes against cp, on the same files.
{
  const root = mkdtempSync(join(tmpdir(), 'kumul-bench-rclone-'));
  try {
    const files = quick ? 50 : 200;
    const fileBytes = 2 * 1024 * 1024;
    const src = join(root, 'a', 'data');
    mkdirSync(src, { recursive: true });
    const chunk = Buffer.alloc(fileBytes);
    for (let i = 0; i < files; i++) {
      for (let k = 0; k < chunk.length; k += 4) chunk.writeUInt32LE((i * 2654435761 + k * 40503) >>> 0, k);
      writeFileSync(join(src, `f${i}.bin`), chunk);
    }
    const mb = (files * fileBytes) / 1e6;
    const t0 = performance.now();
    execFileSync('cp', ['-r', src, join(root, 'cp-copy')]);
    execFileSync('sync');
    const cpS = (performance.now() - t0) / 1000;
    const config = join(root, 'rclone.conf');
    writeFileSync(config, '[site-a]\ntype = local\n\n[site-b]\ntype = local\n');
    const rclone = new Rclone({ config });
    const t1 = performance.now();
    await rclone.copy({ from: `site-a:${src}`, to: `site-b:${join(root, 'b', 'data')}` });
    execFileSync('sync');
    const copyS = (performance.now() - t1) / 1000;
    const check = await rclone.check({ from: `site-a:${src}`, to: `site-b:${join(root, 'b', 'data')}` });
    const verifiedS = (performance.now() - t1) / 1000;
    report('rclone copy --checksum between local remotes', mb / copyS, 'MB/s', `cp: ${(mb / cpS).toPrecision(3)} MB/s`, copyS / cpS, `${files} files, ${mb.toFixed(0)} MB; ratio = rclone time ÷ cp time`);
    report('rclone copy + rclone check (verified replica)', mb / verifiedS, 'MB/s', `cp: ${(mb / cpS).toPrecision(3)} MB/s`, verifiedS / cpS, `${check.matching} files verified, ${check.differences.length} differences; ratio = the overhead of verification`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
