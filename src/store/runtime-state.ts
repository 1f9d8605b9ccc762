/**
 * The state instances share besides jobs (Store.putSimulatedRun, simulatedRun, simulatedRunRefs, saveServiceInstant,
 * serviceInstant): the simulated executor's runs and the service's simulated instant. The leader writes them; any
 * instance that takes over reads them.
 */
import type { SimulatedRunRecord, Store } from './port.ts';
import type { Db } from './support.ts';

type RuntimeStateMethods = Pick<Store, 'putSimulatedRun' | 'simulatedRun' | 'simulatedRunRefs' | 'saveServiceInstant' | 'serviceInstant'>;

const INSTANT = 'instant';

export function runtimeStateMethods(db: Db): RuntimeStateMethods {
  return {
    async putSimulatedRun(run) {
      const row = { ref: run.ref, request: JSON.stringify(run.request), started_ms: run.startedMs, cancelled_ms: run.cancelledMs };
      await db
        .insertInto('simulated_runs')
        .values(row)
        .onConflict((oc) => oc.column('ref').doUpdateSet({ started_ms: row.started_ms, cancelled_ms: row.cancelled_ms }))
        .execute();
    },

    async simulatedRun(ref) {
      const row = await db.selectFrom('simulated_runs').selectAll().where('ref', '=', ref).executeTakeFirst();
      if (!row) return null;
      const run: SimulatedRunRecord = {
        ref: row.ref,
        request: JSON.parse(row.request) as unknown,
        startedMs: row.started_ms === null ? null : Number(row.started_ms),
        cancelledMs: row.cancelled_ms === null ? null : Number(row.cancelled_ms),
      };
      return run;
    },

    async simulatedRunRefs() {
      return (await db.selectFrom('simulated_runs').select('ref').orderBy('ref').execute()).map((r) => r.ref);
    },

    async saveServiceInstant(nowMs) {
      // Never back: of two instances saving at once, the later instant stays.
      await db
        .insertInto('service_state')
        .values({ name: INSTANT, value_ms: nowMs })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value_ms: nowMs }).where('service_state.value_ms', '<', nowMs))
        .execute();
    },

    async serviceInstant() {
      const row = await db.selectFrom('service_state').select('value_ms').where('name', '=', INSTANT).executeTakeFirst();
      return row ? Number(row.value_ms) : null;
    },
  };
}
