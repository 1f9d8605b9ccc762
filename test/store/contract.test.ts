/**
 * The store contract: every behaviour of the port (src/store/port.ts) on every backend, each test on a fresh
 * database (harness.ts). A new backend passes this file unchanged.
 */
import { describe } from 'vitest';
import { BACKENDS, useBackend } from './harness.ts';
import { backupContract } from './contract/backups.ts';
import { concurrencyContract } from './contract/concurrency.ts';
import { deploymentContract } from './contract/deployment.ts';
import { jobContract } from './contract/jobs.ts';
import { leaseContract, runtimeStateContract } from './contract/leases.ts';
import { meteringContract } from './contract/metering.ts';
import { migrationContract } from './contract/migrations.ts';
import { probeContract } from './contract/probes.ts';
import { scenarioContract } from './contract/scenarios.ts';
import { serviceContract } from './contract/services.ts';
import { signalContract } from './contract/signals.ts';
import { tenantContract } from './contract/tenants.ts';
import { transitionContract } from './contract/transitions.ts';

for (const backend of BACKENDS) {
  describe(backend, () => {
    const h = useBackend(backend);
    describe('migrations', () => migrationContract(h));
    describe('tenants and API keys', () => tenantContract(h));
    describe('jobs', () => jobContract(h));
    describe('transitions', () => transitionContract(h));
    describe('races', () => concurrencyContract(h));
    describe('metering', () => meteringContract(h));
    describe('scenario', () => scenarioContract(h));
    describe('probes', () => probeContract(h));
    describe('pushed signals', () => signalContract(h));
    describe('leases and fencing', () => leaseContract(h));
    describe('shared runtime state', () => runtimeStateContract(h));
    describe('deployment id', () => deploymentContract(h));
    describe('inference services', () => serviceContract(h));
    describe('backup', () => backupContract(h));
  });
}
