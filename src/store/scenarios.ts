/**
 * The network scenario document the service runs on, versioned: the operator routes store a new version,
 * the dispatch loop reads the latest at the start of each cycle. Versions are 1, 2, … without gaps.
 */
import type { ScenarioVersion, Store } from './port.ts';
import type { ScenariosTable } from './schema.ts';
import { count, inTransaction, type Db } from './support.ts';

type ScenarioMethods = Pick<Store, 'putScenario' | 'currentScenario' | 'getScenario'>;

/** Attempts when other instances take the next version number first (each round one writer wins). */
const PUT_ATTEMPTS = 50;

function toScenarioVersion(row: ScenariosTable): ScenarioVersion {
  return { version: row.version, document: JSON.parse(row.document), createdMs: row.created_ms };
}

export function scenarioMethods(db: Db): ScenarioMethods {
  return {
    async putScenario(document, nowMs) {
      const text = JSON.stringify(document);
      if (text === undefined) throw new TypeError('a scenario document must be JSON-serializable');
      for (let i = 0; i < PUT_ATTEMPTS; i++) {
        const put = await inTransaction(db, async (trx) => {
          const last = await trx.selectFrom('scenarios').select((eb) => eb.fn.max('version').as('version')).executeTakeFirst();
          const row = { version: Number(last?.version ?? 0) + 1, document: text, created_ms: nowMs };
          const result = await trx.insertInto('scenarios').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
          return { ok: count(result.numInsertedOrUpdatedRows) === 1, row };
        });
        if (put.ok) return toScenarioVersion(put.row);
      }
      throw new Error(`could not store a scenario version in ${PUT_ATTEMPTS} attempts: too many concurrent writers`);
    },

    async currentScenario() {
      const row = await db.selectFrom('scenarios').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
      return row ? toScenarioVersion(row) : null;
    },

    async getScenario(version) {
      const row = await db.selectFrom('scenarios').selectAll().where('version', '=', version).executeTakeFirst();
      return row ? toScenarioVersion(row) : null;
    },
  };
}
