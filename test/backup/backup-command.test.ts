/**
 * `kumul backup plan` end to end: the golden plan on `hami` with datasets at each eastern city (and Urumqi),
 * checked by scripts/verify-backup-plan.mjs and against the schema; a batch plan's transfers on the same links;
 * bad input naming file, field and reason. Regenerate the golden file with UPDATE_GOLDEN=1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackupPlanSchema, type BackupPlanDocument } from '../../src/backup/plan-document.ts';
import { loadBackupInput, loadEndpoints } from '../../src/backup/load.ts';
import { loadScenario } from '../../src/scenario/index.ts';

const DATASETS = 'datasets/backup/hami-datasets.json';
const POLICIES = 'datasets/backup/hami-policies.json';
const GOLDEN = 'test/backup/hami-golden.json';
let dir: string;

const kumul = (...args: string[]) => spawnSync('node', ['bin/kumul.js', ...args], { encoding: 'utf8' });
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kumul-backup-cli-'));
  writeFileSync(join(dir, 'hami.json'), kumul('scenario', 'export', 'hami').stdout);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the golden file keeps of a plan: GB per route, per-dataset replicas and ages, totals and the bound. */
function summary(plan: BackupPlanDocument) {
  const routes: Record<string, number> = {};
  for (const t of plan.transfers) {
    const key = [...t.hops.map((h) => h.from), t.target].join('>');
    routes[key] = Math.round(((routes[key] ?? 0) + t.gb) * 1000) / 1000;
  }
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    routes: Object.fromEntries(Object.entries(routes).sort()),
    datasets: plan.datasets.map((d) => ({ id: d.id, rpoMet: d.rpoMet, replicas: d.replicas.map((r) => ({ site: r.site, maxAgeHours: r.maxAgeHours, versions: r.versions.length })) })),
    totals: Object.fromEntries(Object.entries(plan.totals).map(([k, v]) => [k, round(v)])),
    bound: plan.bound && { value: round(plan.bound.value), planValue: round(plan.bound.planValue), gapPct: round(plan.bound.gapPct) },
  };
}

describe('kumul backup plan', () => {
  it('plans the hami golden case for cost and carbon, verified independently', () => {
    const golden: Record<string, unknown> = {};
    for (const objective of ['cost', 'carbon']) {
      const out = join(dir, `plan-${objective}.json`);
      const run = kumul('backup', 'plan', '--scenario', 'hami', '--datasets', DATASETS, '--policies', POLICIES, '--objective', objective, '--out', out);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/planned 5 datasets \(0 unplaced\).*RPO met for 5/);
      const plan = BackupPlanSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
      expect(plan.datasets.map((d) => d.origin).sort()).toEqual(['beijing', 'beijing', 'chongqing', 'urumqi', 'zhengzhou']);
      const verify = spawnSync('node', ['scripts/verify-backup-plan.mjs', join(dir, 'hami.json'), out], { encoding: 'utf8' });
      expect(verify.stdout + verify.stderr).not.toMatch(/problem/);
      expect(verify.status).toBe(0);
      golden[objective] = summary(plan);
    }
    if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, JSON.stringify(golden, null, 1) + '\n');
    expect(golden).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));
    // Carbon planning emits no more than cost planning, and the reverse for cost.
    const g = golden as Record<string, ReturnType<typeof summary>>;
    expect(g.carbon.totals.carbonKg).toBeLessThanOrEqual(g.cost.totals.carbonKg);
    expect(g.cost.totals.costYuan).toBeLessThanOrEqual(g.carbon.totals.costYuan);
  }, 120_000);

  it("shares links with a batch plan's input transfers (--jobs-plan)", () => {
    // A job plan whose transfers fill beijing→hami for the first 12 hours, leaving 500 GB an hour.
    const start = Date.parse('2026-06-01T00:00Z');
    const jobs = Array.from({ length: 12 }, (_, h) => ({ id: `j${h}`, transfer: { route: ['beijing', 'hami'], gb: 4000, start: new Date(start + h * 3_600_000).toISOString(), end: new Date(start + (h + 1) * 3_600_000).toISOString() } }));
    writeFileSync(join(dir, 'jobs-plan.json'), JSON.stringify({ jobs }));
    const out = join(dir, 'plan-jobs.json');
    const run = kumul('backup', 'plan', '--scenario', 'hami', '--datasets', DATASETS, '--policies', POLICIES, '--jobs-plan', join(dir, 'jobs-plan.json'), '--out', out);
    expect(run.status).toBe(0);
    const plan = BackupPlanSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(plan.totals.jobGB).toBeCloseTo(48_000, 6);
    const bjHami = plan.links.find((l) => l.from === 'beijing' && l.to === 'hami')!;
    for (const s of bjHami.slots) expect(s.backupGB + s.jobGB).toBeLessThanOrEqual(bjHami.capacityGB + 1e-6);
    expect(spawnSync('node', ['scripts/verify-backup-plan.mjs', join(dir, 'hami.json'), out]).status).toBe(0);
  }, 120_000);

  it('names the file, the field and the reason for bad input', () => {
    const bad = (name: string, doc: unknown) => {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify(doc));
      return file;
    };
    const datasets = bad('datasets.json', {
      version: 1,
      datasets: [
        { id: 'a', tenant: 't', origin: 'xian', sizeGB: 1, dailyChangeGB: 1, policy: 'hami-daily', prefix: 'a' },
        { id: 'b', tenant: 't', origin: 'beijing', sizeGB: -5, dailyChangeGB: 1, policy: 'nope', prefix: 'b' },
        { id: 'c', tenant: 't', origin: 'beijing', sizeGB: 1, policy: 'hami-daily', prefix: 'c', colour: 'red' },
      ],
    });
    // On the command line: status 2 and the message on stderr.
    let run = kumul('backup', 'plan', '--scenario', 'hami', '--datasets', datasets, '--policies', POLICIES, '--out', join(dir, 'x.json'));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('datasets[1].sizeGB: must be a number ≥ 0');
    expect(run.stderr).toContain('datasets[2].colour: unknown field');
    expect(run.stderr).toContain('datasets[2].dailyChangeGB: give exactly one of dailyChangeGB and changeSeries');
    // The same loader in process, for the other cases.
    const scenario = loadScenario('hami');
    const message = (datasetsFile: string, policiesFile: string) => {
      try {
        loadBackupInput({ datasetsFile, policiesFile }, scenario);
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    };
    const cross = bad('datasets2.json', { version: 1, datasets: [{ id: 'a', tenant: 't', origin: 'xian', sizeGB: 1, dailyChangeGB: 1, policy: 'nope', prefix: 'a' }] });
    expect(message(cross, POLICIES)).toMatch(/datasets2\.json: datasets\[0\]\.origin: unknown site 'xian'; sites are hami, /);
    expect(message(cross, POLICIES)).toMatch(/datasets\[0\]\.policy: unknown policy 'nope'; policies are hami-daily, /);
    const policies = bad('policies.json', { version: 1, policies: [{ id: 'p', targets: ['hami', 'mars'], replicas: 3, rpoHours: 1, retainVersions: 1, window: { from: '25:00', to: '01:00', timeZone: '+08:00' } }] });
    expect(message(DATASETS, policies)).toContain('policies.json: policies[0].replicas: 3 replicas need at least as many targets; 2 given');
    expect(message(DATASETS, policies)).toContain('policies[0].window.from: must be a local time HH:MM');
    const short = bad('policies2.json', { version: 1, policies: [{ id: 'p', targets: ['hami', 'mars'], replicas: 1, rpoHours: 1, retainVersions: 1 }] });
    expect(message(DATASETS, short)).toContain("policies[0].targets[1]: unknown site 'mars'");
    expect(message(DATASETS, short)).toContain('policies[0].rpoHours: an RPO of 1 h is under two slots of 60 min');
    const sparse = bad('policies3.json', { version: 1, policies: [{ id: 'p', targets: ['hami'], replicas: 1, rpoHours: 24, retainVersions: 1, window: { from: '01:00', to: '03:00', timeZone: '+08:00' } }] });
    expect(message(DATASETS, sparse)).toContain('policies[0].rpoHours: copy windows open 24 h apart, not less than the RPO of 24 h');
    run = kumul('backup', 'plan', '--scenario', 'hami', '--datasets', DATASETS, '--policies', POLICIES, '--objective', 'speed', '--out', join(dir, 'x.json'));
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/objective 'speed'/);
  }, 120_000);
});

describe('storage endpoints file', () => {
  it('names the field of a bad remote', () => {
    const file = join(dir, 'endpoints.json');
    writeFileSync(file, JSON.stringify({ version: 1, rcloneConfig: 'rclone.conf', sites: { hami: { remote: 'bad:name', path: 'x' }, mars: { remote: 'm', path: 'x' } } }));
    expect(() => loadEndpoints(file, ['hami'])).toThrow(/endpoints\.json: sites\.hami\.remote: must be an rclone remote name/);
    writeFileSync(file, JSON.stringify({ version: 1, rcloneConfig: 'rclone.conf', sites: { mars: { remote: 'm', path: 'x' } } }));
    expect(() => loadEndpoints(file, ['hami'])).toThrow(/endpoints\.json: sites\.mars: unknown site 'mars'/);
  });
});
