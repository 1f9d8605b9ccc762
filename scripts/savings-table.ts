/**
 * Carbon avoided by `optimize` against `asap-origin`, from the report.json of `kumul simulate` runs, as a Markdown
 * table: one row per experiment, its seeds averaged. The tables of docs/temporal-shifting.md and docs/space-and-time.md
 * come from it:
 *
 *   node --import tsx scripts/savings-table.ts DIR…
 *
 * Each DIR is a --report folder; folders whose names differ only in a final `-s<seed>` are one experiment. Per
 * experiment: runs, the baseline's emissions (kg), what optimize avoided (kg, and % of the baseline on the jobs both
 * completed, as `savings[].carbonPct`), mean ± standard deviation over the runs, and the input moved (GB, mean).
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { SimReport } from '../src/sim/report.ts';

const dirs = process.argv.slice(2);
if (dirs.length === 0) throw new Error('give the --report folders of kumul simulate runs');

interface Row {
  baselineKg: number;
  avoidedKg: number;
  avoidedPct: number;
  movedGb: number;
}

const experiments = new Map<string, Row[]>();
for (const dir of dirs) {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as SimReport;
  const of = (policy: string) => report.policies.find((p) => p.policy === policy);
  const optimize = of('optimize');
  const baseline = of('asap-origin');
  const saving = report.savings.find((s) => s.policy === 'optimize' && s.versus === 'asap-origin');
  if (!optimize || !baseline || !saving) throw new Error(`${dir}: run optimize with --compare asap-origin`);
  if (optimize.jobs.completed !== baseline.jobs.completed) process.stderr.write(`${dir}: optimize completed ${optimize.jobs.completed} jobs, asap-origin ${baseline.jobs.completed}\n`);
  const name = basename(dir).replace(/-s\d+$/, '');
  const rows = experiments.get(name) ?? [];
  rows.push({ baselineKg: baseline.totals.carbonKg, avoidedKg: baseline.totals.carbonKg - optimize.totals.carbonKg, avoidedPct: -saving.carbonPct, movedGb: optimize.totals.transferGB });
  experiments.set(name, rows);
}

/** Mean, and ± the standard deviation when the runs differ at this precision. */
function spread(values: number[], digits: number): string {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length === 1 ? 0 : Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
  return Number(sd.toFixed(digits)) === 0 ? mean.toFixed(digits) : `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}`;
}

console.log('| experiment | runs | asap-origin, kg | avoided, kg | avoided, % | input moved, GB |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [name, rows] of experiments) {
  const column = (pick: (r: Row) => number, digits: number) => spread(rows.map(pick), digits);
  console.log(`| ${name} | ${rows.length} | ${column((r) => r.baselineKg, 2)} | ${column((r) => r.avoidedKg, 2)} | ${column((r) => r.avoidedPct, 2)} | ${Math.round(rows.reduce((s, r) => s + r.movedGb, 0) / rows.length)} |`);
}
