/**
 * `kumul plan` end to end on the built-in hami scenario: the plan validates against its schema, an
 * independent program (scripts/verify-plan.mjs) recomputes every figure from the scenario export
 * and the plan, the placements match the golden summary, and bad input exits 2 naming the problem.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { PlanSchema } from '../../src/planning/plan-schema.ts';
import type { Plan } from '../../src/core/dispatch/plan.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const JOBS = join(ROOT, 'test/plan/hami-golden.jobs.csv');
const PERIOD = ['--start', '2026-06-01T00:00Z', '--slots', '120'];
const dir = mkdtempSync(join(tmpdir(), 'kumul-plan-'));

function kumul(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'bin/kumul.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
}

describe('kumul plan on hami', () => {
  const plans: Record<string, Plan> = {};
  const outputs: Record<string, string> = {};
  const exportFile = join(dir, 'hami-export.json');

  beforeAll(() => {
    const exported = kumul('scenario', 'export', 'hami', ...PERIOD);
    expect(exported.status, exported.stderr).toBe(0);
    writeFileSync(exportFile, exported.stdout);
    for (const objective of ['cost', 'carbon', 'green', 'cost=1,carbon=0.3']) {
      const out = join(dir, `plan-${objective}.json`);
      const run = kumul('plan', '--scenario', 'hami', '--jobs', JOBS, '--objective', objective, ...PERIOD, '--out', out);
      expect(run.status, run.stderr).toBe(0);
      outputs[objective] = run.stdout;
      plans[objective] = JSON.parse(readFileSync(out, 'utf8'));
    }
  }, 120_000);

  it('writes plans that follow the plan schema', () => {
    for (const plan of Object.values(plans)) expect(PlanSchema.safeParse(plan).error).toBeUndefined();
  });

  it('has every figure recomputed by an independent program from the scenario export and the plan', () => {
    for (const objective of Object.keys(plans)) {
      const check = spawnSync(process.execPath, [join(ROOT, 'scripts/verify-plan.mjs'), exportFile, join(dir, `plan-${objective}.json`), JOBS], { encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toMatch(/0 pool-slots or link-slots over capacity; 0 jobs outside their windows/);
    }
  });

  it('has the independent program catch a run outside its job’s window', () => {
    const plan = structuredClone(plans.cost);
    const job = plan.jobs.find((j) => j.id === 'infer-local')!;
    const early = (iso: string) => new Date(Date.parse(iso) - 60_000).toISOString();
    job.runs = job.runs.map((r) => ({ ...r, start: early(r.start), end: early(r.end) }));
    const moved = join(dir, 'plan-moved.json');
    writeFileSync(moved, JSON.stringify(plan));
    const check = spawnSync(process.execPath, [join(ROOT, 'scripts/verify-plan.mjs'), exportFile, moved, JOBS], { encoding: 'utf8' });
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/outside its window: infer-local: starts .*, before 2026-06-01T09:30:00.000Z/);
  });

  it('places the golden jobs where and when the golden summary says', async () => {
    const summary = Object.fromEntries(
      Object.entries(plans).map(([objective, plan]) => [
        objective,
        {
          placed: plan.jobs.map((j) => `${j.id} @ ${j.site} ${j.runs.map((r) => `${r.start.slice(5, 16)}..${r.end.slice(5, 16)}`).join(',')}`),
          unplaced: plan.unplaced.map((u) => `${u.id}: ${u.reasons[0]}`),
          totals: { energyKWh: Math.round(plan.totals.energyKWh), greenKWh: Math.round(plan.totals.greenKWh), costYuan: Math.round(plan.totals.costYuan), carbonKg: Math.round(plan.totals.carbonKg) },
        },
      ]),
    );
    await expect(JSON.stringify(summary, null, 1)).toMatchFileSnapshot('./__snapshots__/hami-golden.json');
  });

  it('reports jobs that fit nowhere with their reasons, and respects data residency', () => {
    const plan = plans.cost;
    expect(plan.unplaced.find((u) => u.id === 'too-big')?.reasons[0]).toMatch(/^0\/6 sites can run it: 6 too few units/);
    expect(plan.unplaced.find((u) => u.id === 'resident-only')?.reasons.join('\n')).toMatch(/beijing: no hpc pool/);
    expect(plan.jobs.find((j) => j.id === 'infer-local')?.site).toBe('chongqing');
  });

  it('beats the carbon-agnostic baseline on its own objective and says so', () => {
    expect(outputs.cost).toMatch(/versus asap-origin on the \d+ jobs both place: cost −\d/);
    expect(outputs.carbon).toMatch(/carbon −\d/);
    for (const plan of Object.values(plans)) {
      expect(plan.bound).not.toBeNull();
      expect(plan.bound!.gapPct).toBeGreaterThanOrEqual(-1e-6);
      expect(plan.bound!.value).toBeLessThanOrEqual(plan.bound!.planValue * (1 + 1e-9));
    }
  });
});

describe('kumul plan: windows shorter than a slot, on hourly slots', () => {
  it('places a 10-minute job inside its 30-minute window, straddling a slot boundary or not, and one with no slack at its release', () => {
    const jobs = join(dir, 'short-windows.csv');
    writeFileSync(
      jobs,
      [
        'id,tenant,class,pool_class,units,duration_s,release,deadline,origin,input_gb,interruptible,allowed_sites',
        'inside,t,inference,ai,1,600,2026-06-01T02:22:58Z,2026-06-01T02:52:58Z,hami,0,false,',
        'straddles,t,inference,ai,1,600,2026-06-01T05:45:00Z,2026-06-01T06:15:00Z,hami,0,false,',
        'split,t,batch,general,64,900,2026-06-01T07:50:00Z,2026-06-01T08:10:00Z,hami,0,true,',
        'now,t,inference,ai,2,1500,2026-06-01T09:17:00Z,2026-06-01T09:42:00Z,hami,0,false,',
      ].join('\n') + '\n',
    );
    const period = ['--start', '2026-06-01T00:00Z', '--slots', '24'];
    const exported = join(dir, 'short-export.json');
    writeFileSync(exported, kumul('scenario', 'export', 'hami', ...period).stdout);
    for (const objective of ['cost', 'carbon']) {
      const out = join(dir, `short-${objective}.json`);
      const run = kumul('plan', '--scenario', 'hami', '--jobs', jobs, '--objective', objective, ...period, '--out', out);
      expect(run.status, run.stderr).toBe(0);
      const plan = JSON.parse(readFileSync(out, 'utf8')) as Plan;
      expect(plan.unplaced).toEqual([]);
      expect(plan.jobs.find((j) => j.id === 'now')!.runs).toEqual([{ start: '2026-06-01T09:17:00.000Z', end: '2026-06-01T09:42:00.000Z', units: 2 }]);
      const check = spawnSync(process.execPath, [join(ROOT, 'scripts/verify-plan.mjs'), exported, out, jobs], { encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toMatch(/0 jobs outside their windows/);
    }
  });
});

describe('kumul plan: a pool slower than advertised', () => {
  it('runs jobs there for duration ÷ speed, and the independent program agrees', () => {
    const period = ['--start', '2026-06-01T00:00Z', '--slots', '48'];
    const exported = JSON.parse(kumul('scenario', 'export', 'hami', ...period).stdout);
    // hami's accelerators at half speed in bf16 (training and inference), as a probe could find them.
    for (const site of exported.sites) for (const pool of site.pools) if (pool.id === 'hami-ai') pool.speed = { bf16: 0.5 };
    const file = join(dir, 'slow-export.json');
    writeFileSync(file, JSON.stringify(exported));
    const jobs = join(dir, 'slow.csv');
    writeFileSync(
      jobs,
      [
        'id,tenant,class,pool_class,units,duration_s,release,deadline,origin,input_gb,interruptible,allowed_sites',
        'train,t,training,ai,8,7200,2026-06-01T00:00:00Z,2026-06-02T12:00:00Z,hami,0,false,hami',
        'infer,t,inference,ai,2,3600,2026-06-01T00:00:00Z,2026-06-02T12:00:00Z,hami,0,true,hami',
        'elsewhere,t,training,ai,8,7200,2026-06-01T00:00:00Z,2026-06-02T12:00:00Z,hami,0,false,qingyang',
      ].join('\n') + '\n',
    );
    const out = join(dir, 'slow-plan.json');
    const run = kumul('plan', '--scenario', file, '--jobs', jobs, ...period, '--out', out);
    expect(run.status, run.stderr).toBe(0);
    const plan = JSON.parse(readFileSync(out, 'utf8')) as Plan;
    const hours = (id: string) => plan.jobs.find((j) => j.id === id)!.runs.reduce((h, r) => h + (Date.parse(r.end) - Date.parse(r.start)) / 3_600_000, 0);
    expect(plan.jobs.map((j) => [j.id, j.site, j.speed])).toEqual([
      ['train', 'hami', 0.5],
      ['infer', 'hami', 0.5],
      ['elsewhere', 'qingyang', 1],
    ]);
    expect([hours('train'), hours('infer'), hours('elsewhere')]).toEqual([4, 2, 2]);
    const check = spawnSync(process.execPath, [join(ROOT, 'scripts/verify-plan.mjs'), file, out, jobs], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/0 jobs outside their windows/);
    // Against the advertised export, the same plan's runs are twice too long: the program says so.
    const advertised = join(dir, 'advertised-export.json');
    writeFileSync(advertised, kumul('scenario', 'export', 'hami', ...period).stdout);
    const wrong = spawnSync(process.execPath, [join(ROOT, 'scripts/verify-plan.mjs'), advertised, out, jobs], { encoding: 'utf8' });
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toMatch(/train: states speed 0.5, its pool runs it at 1/);
  });
});

describe('kumul plan rejects bad input', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown objective', ['--objective', 'speed'], /objective 'speed'.*neither cost, carbon, green/],
    ['unknown score in a mix', ['--objective', 'cost=1,speed=2'], /unknown score 'speed'/],
    ['unknown policy', ['--policy', 'fastest'], /unknown policy 'fastest'/],
    ['unknown scenario', ['--scenario', 'atlantis'], /atlantis/],
    ['bad slots', ['--slots', '-3'], /--slots: '-3' must be a positive integer/],
  ];
  for (const [name, args, message] of cases) {
    it(name, () => {
      const opts = ['--scenario', 'hami', '--jobs', JOBS, '--out', join(dir, 'bad.json'), ...PERIOD];
      for (let i = 0; i < args.length; i += 2) {
        const at = opts.indexOf(args[i]);
        if (at >= 0) opts.splice(at, 2);
        opts.push(args[i], args[i + 1]);
      }
      const run = kumul('plan', ...opts);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
    });
  }

  it('a jobs file with an unknown origin names the line and column', () => {
    const bad = join(dir, 'bad-origin.csv');
    writeFileSync(bad, readFileSync(JOBS, 'utf8').replace('infer-chat,city,inference,ai,2,3600,2026-06-01T08:00:00Z,2026-06-01T10:00:00Z,beijing', 'infer-chat,city,inference,ai,2,3600,2026-06-01T08:00:00Z,2026-06-01T10:00:00Z,xian'));
    const run = kumul('plan', '--scenario', 'hami', '--jobs', bad, '--out', join(dir, 'bad.json'), ...PERIOD);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/bad-origin\.csv line 4, column origin: .*xian/);
  });
});

describe('a no-slack deadline (deadline = release + duration) in a jobs file', () => {
  it('is read by kumul jobs stats and kumul plan, and planned to start at its release', () => {
    const file = join(dir, 'no-slack.csv');
    writeFileSync(
      file,
      'id,tenant,class,pool_class,units,duration_s,release,deadline,origin,input_gb,interruptible,allowed_sites\n' +
        'now-1,t1,training,ai,8,3600,2026-06-01T03:00:00Z,2026-06-01T04:00:00Z,hami,0,false,\n',
    );
    const stats = kumul('jobs', 'stats', file);
    expect(stats.status, stats.stderr).toBe(0);
    const out = join(dir, 'no-slack-plan.json');
    const run = kumul('plan', '--scenario', 'hami', '--jobs', file, '--start', '2026-06-01T00:00Z', '--slots', '24', '--out', out);
    expect(run.status, run.stderr).toBe(0);
    const plan = JSON.parse(readFileSync(out, 'utf8')) as Plan;
    expect(plan.unplaced).toEqual([]);
    expect(plan.jobs[0].runs).toEqual([{ start: '2026-06-01T03:00:00.000Z', end: '2026-06-01T04:00:00.000Z', units: 8 }]);
  });
});
