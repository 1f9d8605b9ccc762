/**
 * The deployment's id (migration 0008). The service reads it at every start (`deployment`, which makes it on the
 * first) and names its runs with it; the operator replaces it for a copied or restored store (`renewDeployment`).
 */
import type { Deployment, Store } from './port.ts';
import type { DeploymentsTable } from './schema.ts';
import type { RandomBytes } from './tenants.ts';
import { count, inTransaction, refuse, type Db } from './support.ts';

type DeploymentMethods = Pick<Store, 'deployment' | 'renewDeployment'>;

/**
 * Characters of a deployment id: 40 random bits in lowercase base32. Short, because it goes into every Slurm job name
 * (at most 1024 characters in Slurm 22.05: the id, a tenant id and a job id of up to 128 each stay far below), and
 * readable in `squeue`; 2^40 ids make two deployments on one cluster drawing the same one negligible.
 */
export const DEPLOYMENT_ID_LENGTH = 8;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const DEPLOYMENT_ID = new RegExp(`^[${BASE32}]{${DEPLOYMENT_ID_LENGTH}}$`);

/** Whether `text` is a deployment id as `newDeploymentId` makes them (the loop tells refs apart by it). */
export function isDeploymentId(text: string): boolean {
  return DEPLOYMENT_ID.test(text);
}

/** A fresh id: DEPLOYMENT_ID_LENGTH base32 characters of 5 random bytes. */
export function newDeploymentId(randomBytes: RandomBytes): string {
  const bytes = randomBytes(5);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let id = '';
  for (let i = DEPLOYMENT_ID_LENGTH - 1; i >= 0; i--) id += BASE32[Number((bits >> BigInt(5 * i)) & 31n)];
  return id;
}

function toDeployment(row: DeploymentsTable): Deployment {
  return { id: row.id, createdMs: row.created_ms };
}

export function deploymentMethods(db: Db, randomBytes: RandomBytes): DeploymentMethods {
  const current = async (from: Db) => (await from.selectFrom('deployments').selectAll().where('current', '=', 1).executeTakeFirst()) ?? null;

  return {
    async deployment(nowMs) {
      const found = await current(db);
      if (found) return toDeployment(found);
      // Instances starting at once on a new store: the unique `current` lets one insert win; all read the winner.
      await db
        .insertInto('deployments')
        .values({ id: newDeploymentId(randomBytes), created_ms: nowMs, replaced_ms: null, current: 1 })
        .onConflict((oc) => oc.doNothing())
        .execute();
      const made = await current(db);
      if (!made) throw new Error('the deployment id was neither found nor made');
      return toDeployment(made);
    },

    async renewDeployment(nowMs) {
      return inTransaction(db, async (trx) => {
        const old = await current(trx);
        const running = await trx.selectFrom('jobs').select(['tenant_id', 'job_id', 'executor_ref']).where('status', '=', 'running').orderBy('tenant_id').orderBy('job_id').execute();
        if (running.length > 0) {
          const first = running[0];
          return refuse(
            'illegal-transition',
            `${running.length} job${running.length === 1 ? ' is' : 's are'} running under deployment ${old?.id ?? '(none)'} (first: ${first.tenant_id}/${first.job_id}, run ${first.executor_ref}); ` +
              'a new deployment id would leave their runs unowned',
          );
        }
        if (old) {
          // `current = 1` again: of two renewals at once, the second finds the row already replaced and changes nothing.
          const replaced = await trx.updateTable('deployments').set({ current: null, replaced_ms: nowMs }).where('id', '=', old.id).where('current', '=', 1).executeTakeFirst();
          if (count(replaced.numUpdatedRows) !== 1) return refuse('version-mismatch', `deployment id ${old.id} was replaced at the same time by another caller`);
        }
        const row: DeploymentsTable = { id: newDeploymentId(randomBytes), created_ms: nowMs, replaced_ms: null, current: 1 };
        await trx.insertInto('deployments').values(row).execute();
        return { ok: true as const, deployment: toDeployment(row), previousId: old?.id ?? null };
      });
    },
  };
}
