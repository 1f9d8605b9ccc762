/**
 * `--capability measured` in the dispatch loop (src/service/runtime.ts wires it the same way): a run on a probed
 * pool lasts its duration ÷ the measured speed (in the job class's precision) and is metered at the probe's measured
 * peak per node (PFLOP·h), precision by precision; precisions the probe did not measure, and pools never probed, keep
 * the advertised figures. A pool its latest probe flagged gets no new work.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimulatedExecutor } from '../../src/exec/simulated.ts';
import { objectiveFrom } from '../../src/planning/plan-jobs.ts';
import { MeasuredCapability } from '../../src/probe/capability.ts';
import { loadScenario } from '../../src/scenario/index.ts';
import { FixedClock } from '../../src/service/clock.ts';
import type { ServiceContext } from '../../src/service/context.ts';
import { DispatchLoop } from '../../src/service/loop.ts';
import { Metrics } from '../../src/service/metrics.ts';
import { openStore } from '../../src/store/kysely-store.ts';
import type { JobSpec } from '../../src/store/port.ts';
import { probe } from '../store/contract/probes.ts';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;

/** One node (64 cores) of a general pool for an hour, at zhengzhou or at beijing. */
const job = (id: string, site: string): JobSpec => ({ id, class: 'batch', poolClass: 'general', units: 64, durationS: 3600, releaseMs: T0, deadlineMs: T0 + 24 * HOUR, origin: site, inputGb: 0, interruptible: false, allowedSites: [site] });

describe('metering with measured capability', () => {
  it('counts PFLOP·h at the measured peak of probed pools and at the advertised peak elsewhere', async () => {
    const store = await openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'kumul-probe-meter-')), 'k.db')}`);
    try {
      // zhengzhou's general pool advertises 5.12 / 10.24 / 20.48 TFLOPS per node; the probe measured 1 % of FP64 and half
      // of FP32, the precision batch jobs compute in: the hour-long job runs two hours there.
      const measured = { ...probe('p1', 'zhengzhou', 'zhengzhou-general', T0 - HOUR, 0.5), perNodeGflops: { fp64: 51.2, fp32: 5120, bf16: null }, ratio: { fp64: 0.01, fp32: 0.5, bf16: null } };
      expect((await store.recordProbe(measured, T0)).ok).toBe(true);
      const capability = new MeasuredCapability(store);
      await capability.refresh();

      const clock = new FixedClock(T0);
      const network = loadScenario('hami', { start: '2026-06-01T00:00Z', slots: 1 }).network;
      let loop: DispatchLoop | null = null;
      const ctx: ServiceContext = { store, clock, metrics: new Metrics(), network: () => capability.network(network), wake: () => loop?.wake() };
      loop = new DispatchLoop({
        ctx,
        executor: new SimulatedExecutor(),
        deploymentId: 'testdepa',
        scenarioWindow: (startMs, slots) => capability.scenario(loadScenario('hami', { start: new Date(startMs).toISOString(), slots })),
        slotMinutes: 60,
        dispatch: () => ({ policy: 'optimize', objective: objectiveFrom('cost') }),
        replanMinutes: 60,
        horizonHours: 24,
      });
      await store.createTenant({ id: 'lab', name: 'lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
      expect((await store.submitJobs('lab', [job('probed', 'zhengzhou'), job('unprobed', 'beijing')], T0)).ok).toBe(true);
      while (clock.nowMs() < T0 + 24 * HOUR) {
        await loop.tick();
        clock.advance(15 * 60_000);
      }

      const [probed] = await store.jobMetering({ tenantId: 'lab', jobId: 'probed' });
      const [unprobed] = await store.jobMetering({ tenantId: 'lab', jobId: 'unprobed' });
      expect(probed.site).toBe('zhengzhou');
      expect(probed.endMs - probed.startMs).toBe(2 * HOUR);
      // 1 node × 2 h × 0.0512 TFLOPS = 0.0001024 PFLOP·h FP64 (advertised would be 0.01024); BF16 was not measured.
      expect(probed.pflopHours.fp64).toBeCloseTo(0.0001024, 12);
      expect(probed.pflopHours.fp32).toBeCloseTo(0.01024, 12);
      expect(probed.pflopHours.bf16).toBeCloseTo(0.04096, 12);
      expect(unprobed.site).toBe('beijing');
      expect(unprobed.endMs - unprobed.startMs).toBe(HOUR);
      expect(unprobed.pflopHours.fp64).toBeCloseTo(0.00512, 12);
    } finally {
      await store.close();
    }
  });

  it('gives no new work to a pool its latest probe flagged, and takes it back once a probe passes', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      expect((await store.recordProbe(probe('low', 'zhengzhou', 'zhengzhou-general', T0 - HOUR, 0.3), T0)).ok).toBe(true);
      const capability = new MeasuredCapability(store);
      await capability.refresh();
      expect(capability.withheld()).toEqual([{ siteId: 'zhengzhou', poolId: 'zhengzhou-general', reason: 'flagged by probe low: fp64 at 0.3 of advertised' }]);
      const clock = new FixedClock(T0);
      const network = loadScenario('hami', { start: '2026-06-01T00:00Z', slots: 1 }).network;
      let loop: DispatchLoop | null = null;
      const ctx: ServiceContext = { store, clock, metrics: new Metrics(), network: () => network, wake: () => loop?.wake() };
      loop = new DispatchLoop({
        ctx,
        executor: new SimulatedExecutor(),
        deploymentId: 'testdepa',
        scenarioWindow: (startMs, slots) => loadScenario('hami', { start: new Date(startMs).toISOString(), slots }),
        slotMinutes: 60,
        dispatch: () => ({ policy: 'optimize', objective: objectiveFrom('cost') }),
        replanMinutes: 60,
        horizonHours: 24,
        withheld: () => capability.withheld(),
      });
      await store.createTenant({ id: 'lab', name: 'lab', role: 'tenant', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, T0);
      // zhengzhou is the only site the first job may use: it waits; the second goes to beijing.
      expect((await store.submitJobs('lab', [job('only-zz', 'zhengzhou'), { ...job('either', 'zhengzhou'), allowedSites: ['zhengzhou', 'beijing'] }], T0)).ok).toBe(true);
      await loop.tick();
      expect((await store.getJob({ tenantId: 'lab', jobId: 'only-zz' }))!.status).toBe('submitted');
      expect((await store.getJob({ tenantId: 'lab', jobId: 'either' }))!.plan!.site).toBe('beijing');
      // A later probe passes: the pool takes work again at the next tick.
      expect((await store.recordProbe(probe('ok', 'zhengzhou', 'zhengzhou-general', T0, 0.9), T0)).ok).toBe(true);
      await capability.refresh();
      expect(capability.withheld()).toEqual([]);
      clock.advance(60_000);
      await loop.tick();
      expect((await store.getJob({ tenantId: 'lab', jobId: 'only-zz' }))!.plan!.site).toBe('zhengzhou');
    } finally {
      await store.close();
    }
  });
});
