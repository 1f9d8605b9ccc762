/**
 * `node --import tsx bench/report-html.ts [policies] [sites] [days]` (default 2 6 365): how long
 * `renderReportHtml` takes on a synthetic report of that many policies × sites × daily buckets, and
 * the size of the page. Prints the first (cold) render and the median of 5 warm ones.
 * `--out FILE` also writes the page.
 */
import { writeFileSync } from 'node:fs';
import { renderReportHtml } from '../src/sim/report-html.ts';
import type { SimReport } from '../src/sim/report.ts';
import { policyResult, savingOf, type SiteInput } from '../test/sim/fixtures/small-report.ts';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : undefined;
const [policies = 2, sites = 6, days = 365] = args.map(Number);

/** Deterministic seasonal shapes (no randomness): sites differ by phase and size. */
function syntheticReport(nPolicies: number, nSites: number, nDays: number): SimReport {
  const start = Date.UTC(2026, 0, 1);
  const starts = Array.from({ length: nDays }, (_, d) => new Date(start + d * 86_400_000).toISOString());
  const wave = (d: number, phase: number, period = 365) => 0.5 + 0.5 * Math.sin((2 * Math.PI * d) / period + phase);
  const results = Array.from({ length: nPolicies }, (_, p) => {
    const siteInputs: SiteInput[] = Array.from({ length: nSites }, (_, s) => {
      const renewableKWh = starts.map((_, d) => 20_000 * (1 + s) * wave(d, s, 30 + 7 * s));
      const demand = starts.map((_, d) => 15_000 * (1 + s) * (0.6 + 0.4 * wave(d, p + s, 7)));
      const greenKWh = demand.map((x, d) => Math.min(x, renewableKWh[d] * (0.7 + 0.1 * p)));
      const gridKWh = demand.map((x, d) => x - greenKWh[d]);
      const energy = demand.reduce((a, b) => a + b, 0);
      return {
        site: `site-${s + 1}`,
        greenKWh,
        gridKWh,
        renewableKWh,
        utilisation: demand.map((x) => x / (25_000 * (1 + s))),
        carbonGPerKWh: starts.map((_, d) => 500 + 50 * s + 100 * wave(d, s)),
        costYuan: energy * (0.3 + 0.02 * s),
        carbonKg: (gridKWh.reduce((a, b) => a + b, 0) * (500 + 50 * s)) / 1000,
      };
    });
    return policyResult({
      policy: `policy-${p + 1}`,
      objective: p === 0 ? 'carbon' : 'cost',
      bucketHours: 24,
      starts,
      sites: siteInputs,
      links: siteInputs.slice(1).map((s, i) => ({ from: siteInputs[0].site, to: s.site, gb: 1000 * (i + 1) * (p + 1) })),
      jobs: { completed: 100_000 - 100 * p, missed: 50 * p, unfinished: 50, meanWaitS: 3600 * (p + 1), resumed: 1_000 * p },
      cycles: nDays * 24,
      events: nDays * 2_400,
    });
  });
  return {
    format: 'kumul-sim-report',
    version: 1,
    scenario: 'synthetic',
    from: starts[0],
    to: new Date(start + nDays * 86_400_000).toISOString(),
    slotMinutes: 60,
    replanMinutes: 60,
    forecastErrorPct: null,
    seed: 1,
    jobs: 100_100,
    shiftHours: 0,
    optimizeSites: 'any',
    forecastSmoothingMinutes: 0,
    policies: results,
    savings: results.flatMap((a) => results.filter((b) => b !== a).map((b) => savingOf(a, b))),
  };
}

const report = syntheticReport(policies, sites, days);
const time = () => {
  const t0 = performance.now();
  const html = renderReportHtml(report);
  return { ms: performance.now() - t0, html };
};
const cold = time();
const warm = Array.from({ length: 5 }, () => time().ms).sort((a, b) => a - b);
const charts = (cold.html.match(/<svg/g) ?? []).length;
console.log(`report.html for ${policies} policies × ${sites} sites × ${days} daily buckets: ${charts} charts`);
console.log(`render: first ${cold.ms.toFixed(0)} ms, median of 5 after it ${warm[2].toFixed(0)} ms`);
console.log(`size: ${(Buffer.byteLength(cold.html) / 1024).toFixed(0)} KiB (${Buffer.byteLength(cold.html).toLocaleString('en-US')} bytes)`);
if (out) writeFileSync(out, cold.html);
