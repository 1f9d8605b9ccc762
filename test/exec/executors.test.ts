/**
 * The executor contract (contract.ts) on every executor: the simulated one on a virtual clock, and the Slurm
 * one on the real local Slurm that scripts/slurm-up.sh starts (scripts/test.sh runs it first; its env file
 * says where slurmrestd is). The Slurm variant fails, not skips, when that cluster cannot be reached.
 */
import { describe } from 'vitest';
import { SimulatedExecutor, memoryRunBook } from '../../src/exec/simulated.ts';
import { SlurmExecutor } from '../../src/exec/slurm.ts';
import { executorContract, type ExecutorHarness } from './contract.ts';
import { localSlurm, scontrol, slurmJobs } from './slurm-env.ts';

const SITES: ExecutorHarness['sites'] = [{ siteId: 'hami', poolId: 'ai' }, { siteId: 'zhengzhou', poolId: 'ai' }];
/** The local Slurm keeps partition beijing for this outage test only (scripts/slurm-up.sh). */
const OUTAGE_SITE = { siteId: 'beijing', poolId: 'ai' };

function simulated(): ExecutorHarness {
  // One run book for every executor made: a restarted one finds the runs (as the store keeps them for kumul serve).
  const book = memoryRunBook();
  let clock = 1_800_000_000_000;
  return {
    make: () => new SimulatedExecutor(book),
    now: () => clock,
    tick: async () => void (clock += 250),
    countRuns: async (ref) => (await book.simulatedRunRefs()).filter((r) => r === ref).length,
    sites: SITES,
    maxPolls: 20,
    outageSite: OUTAGE_SITE,
    takeDown: async (executor) => (executor as SimulatedExecutor).setOutage(OUTAGE_SITE.siteId, OUTAGE_SITE.poolId, 'site maintenance'),
    bringUp: async (executor) => (executor as SimulatedExecutor).setOutage(OUTAGE_SITE.siteId, OUTAGE_SITE.poolId, null),
  };
}

function slurm(): ExecutorHarness {
  const options = localSlurm();
  return {
    make: () => new SlurmExecutor(options),
    now: () => Date.now(),
    tick: () => new Promise((resolve) => setTimeout(resolve, 250)),
    countRuns: async (ref) => (await slurmJobs(options)).filter((j) => j.name === ref).length,
    sites: SITES,
    maxPolls: 60,
    outageSite: OUTAGE_SITE,
    takeDown: async () => scontrol('update', 'nodename=beijing-1', 'state=drain', 'reason=site maintenance'),
    bringUp: async () => scontrol('update', 'nodename=beijing-1', 'state=resume'),
  };
}

const EXECUTORS: [string, () => ExecutorHarness][] = [['simulated', simulated], ['slurm', slurm]];

for (const [name, make] of EXECUTORS) {
  describe(name, () => executorContract(make()));
}
