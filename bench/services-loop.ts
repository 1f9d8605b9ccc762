/**
 * Figures of inference services in the dispatch loop (docs/services.md, "The service"): the three example services
 * (datasets/services/hami-services.json) with the example week's demand (hami-demand-week.json) on `hami`, the loop's
 * look-ahead of `kumul serve` (48 hourly slots, every 15 minutes), the simulated executor, SQLite. Prints the wall-clock
 * time of a tick with a cycle (services placed first, then batch; replicas started), of a tick without one, and the
 * placement's gap. `node --import tsx bench/services-loop.ts`.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/kysely-store.ts';
import { FixedClock } from '../src/service/clock.ts';
import { Metrics } from '../src/service/metrics.ts';
import { DispatchLoop } from '../src/service/loop.ts';
import { ScenarioState } from '../src/service/scenario-state.ts';
import { SimulatedExecutor } from '../src/exec/simulated.ts';
import { loadHighsSolver } from '../src/solver/highs.ts';
import { readServicesFile, type DemandFile } from '../src/services/files.ts';
import { loadScenario } from '../src/scenario/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const T0 = Date.parse('2026-06-01T00:00:00Z');
const store = await openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'kumul-bench-services-')), 'kumul.db')}`);
const clock = new FixedClock(T0);
const metrics = new Metrics();
const scenario = await ScenarioState.open(store, { scenario: 'hami', dispatch: { policy: 'optimize', objective: 'carbon' }, horizonHours: 48 }, T0);
await store.createTenant({ id: 'lab', name: 'lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
const specs = readServicesFile(`${ROOT}datasets/services/hami-services.json`, loadScenario('hami', { start: '2026-06-01T00:00Z', slots: 1 }));
const demand = JSON.parse(readFileSync(`${ROOT}datasets/services/hami-demand-week.json`, 'utf8')) as DemandFile;
for (const spec of specs) {
  await store.createService('lab', spec, T0);
  const series = demand.series.filter((s) => s.service === spec.id).map((s) => ({ region: s.region, startMs: Date.parse(demand.start), requestsPerS: s.requestsPerS }));
  await store.putServiceDemand({ ref: { tenantId: 'lab', serviceId: spec.id }, slotMinutes: 60, series }, T0);
}
let loop: DispatchLoop | null = null;
loop = new DispatchLoop({
  ctx: { store, clock, metrics, network: () => scenario.network(), scenario, wake: () => loop?.wake() },
  executor: new SimulatedExecutor(store),
  deploymentId: (await store.deployment(T0)).id,
  scenarioWindow: (startMs, slots) => scenario.window(startMs, slots),
  slotMinutes: 60,
  dispatch: () => scenario.dispatch(),
  replanMinutes: 15,
  horizonHours: 48,
  solver: await loadHighsSolver(),
});
const timed = async (label: string) => {
  const began = performance.now();
  const report = await loop!.tick();
  console.log(`${label}: ${((performance.now() - began) / 1000).toFixed(2)} s (cycle: ${report.replanned})`);
};
await timed('first tick (cycle: 3 services × 6 sites × 10 regions × 48 slots placed, replicas started)');
const live = await store.replicaRuns({ live: true });
console.log(`replicas started: ${live.length}; gap ${/^kumul_services_gap_percent (\S+)$/m.exec(metrics.render())?.[1]} %`);
clock.set(T0 + 5 * 60_000);
await timed('tick without a cycle (replicas followed, metering)');
clock.set(T0 + 15 * 60_000);
await timed('tick with a cycle');
clock.set(T0 + 75 * 60_000);
await timed('tick with a cycle an hour on (replicas moved, first slot metered)');
await store.close();
