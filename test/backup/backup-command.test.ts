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
  // A process start and a scenario export: seconds on a busy machine, not a figure under test.
}, 120_000);
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

  it('plans batch and backups together (--jobs): reservation, jobs on what it leaves, copies on what the jobs leave; both verified on the links', () => {
    // Five training jobs at beijing that must run at hami (data residency), each with 9,000 GB of input: 2 h of
    // beijing→hami (10 Gbit/s, 4,500 GB an hour) alone.
    const header = 'id,tenant,class,pool_class,units,duration_s,release,deadline,origin,input_gb,interruptible,allowed_sites';
    const rows = Array.from({ length: 5 }, (_, k) => `big-${k},lab,training,ai,8,14400,2026-06-01T00:00:00Z,2026-06-04T00:00:00Z,beijing,9000,false,hami`);
    writeFileSync(join(dir, 'jobs.csv'), [header, ...rows].join('\n') + '\n');
    const out = join(dir, 'joint-backups.json');
    const jobsOut = join(dir, 'joint-jobs.json');
    const run = kumul('backup', 'plan', '--scenario', 'hami', '--datasets', DATASETS, '--policies', POLICIES, '--jobs', join(dir, 'jobs.csv'), '--jobs-out', jobsOut, '--out', out);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/planned 5 jobs \(0 unplaced\) on what the backups' reservation leaves/);
    expect(run.stdout).toMatch(/RPO met for 5/);
    const jobsPlan = JSON.parse(readFileSync(jobsOut, 'utf8')) as { jobs: { id: string; site: string; transfer: { route: string[]; gb: number; segments: { start: string; end: string; gb: number }[] } | null }[] };
    // Job input on each direction and slot, from the pieces the batch plan states: never above a slot's capacity.
    const perSlot = new Map<string, number>();
    for (const j of jobsPlan.jobs) {
      for (const seg of j.transfer?.segments ?? []) {
        const hops = j.transfer!.route.slice(1).map((to, h) => `${j.transfer!.route[h]}>${to}`);
        for (const hop of hops) {
          const key = `${hop}@${Math.floor((Date.parse(seg.start) - Date.parse('2026-06-01T00:00Z')) / 3_600_000)}`;
          perSlot.set(key, (perSlot.get(key) ?? 0) + seg.gb);
        }
      }
    }
    const moved = jobsPlan.jobs.filter((j) => j.transfer);
    expect(moved.length).toBe(5);
    // They cannot all move at once: the later ones wait for the link (a piece starting 2 h or more after the release).
    expect(moved.some((j) => j.transfer!.segments.some((seg) => Date.parse(seg.start) >= Date.parse("2026-06-01T02:00Z")))).toBe(true);
    for (const [key, gb] of perSlot) expect(gb, key).toBeLessThanOrEqual(4500 * (1 + 1e-9) + 1e-6);
    const backups = BackupPlanSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(backups.totals.jobGB).toBeGreaterThan(0);
    // The independent check, given both plans: backups + job input within capacity everywhere, job input as the batch plan moves it.
    const verify = spawnSync('node', ['scripts/verify-backup-plan.mjs', join(dir, 'hami.json'), out, jobsOut], { encoding: 'utf8' });
    expect(verify.stdout + verify.stderr).not.toMatch(/problem/);
    expect(verify.status).toBe(0);
    const plainVerify = spawnSync('node', ['scripts/verify-plan.mjs', join(dir, 'hami.json'), jobsOut, join(dir, 'jobs.csv')], { encoding: 'utf8' });
    expect(plainVerify.status, plainVerify.stdout + plainVerify.stderr).toBe(0);
    // Both checks catch the old rule (every job's input at the whole bandwidth from its release, all at once).
    const raw = JSON.parse(readFileSync(jobsOut, 'utf8'));
    for (const j of raw.jobs) if (j.transfer) j.transfer.segments = [{ start: '2026-06-01T00:00:00Z', end: '2026-06-01T02:00:00Z', gb: j.transfer.gb }];
    writeFileSync(join(dir, 'joint-jobs-all-at-once.json'), JSON.stringify(raw));
    const caught = spawnSync('node', ['scripts/verify-backup-plan.mjs', join(dir, 'hami.json'), out, join(dir, 'joint-jobs-all-at-once.json')], { encoding: 'utf8' });
    expect(caught.status).toBe(1);
    expect(caught.stdout).toMatch(/problem: link beijing>hami slot 0: backups .* job input 22500 GB over its capacity of 4500 GB/);
    const caughtToo = spawnSync('node', ['scripts/verify-plan.mjs', join(dir, 'hami.json'), join(dir, 'joint-jobs-all-at-once.json')], { encoding: 'utf8' });
    expect(caughtToo.status).toBe(1);
    expect(caughtToo.stdout).toMatch(/over capacity: link beijing>hami slot 0: 22500 GB of job input, capacity 4500 GB/);
    // One way or the other, and --jobs-out goes with --jobs.
    let bad = kumul('backup', 'plan', '--scenario', 'hami', '--datasets', DATASETS, '--policies', POLICIES, '--jobs', join(dir, 'jobs.csv'), '--jobs-plan', jobsOut, '--jobs-out', jobsOut, '--out', out);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--jobs and --jobs-plan: give one/);
    bad = kumul('backup', 'plan', '--scenario', 'hami', '--datasets', DATASETS, '--policies', POLICIES, '--jobs', join(dir, 'jobs.csv'), '--out', out);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--jobs-out: required with --jobs/);
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
