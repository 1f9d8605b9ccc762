/**
 * Energy signal points operators push as they arrive (migration 0007; POST /v1/sites/{id}/signals/{signal}/points):
 * actuals overwritten by time stamp, forecasts kept per issue. `kumul serve` overlays them on the scenario document's
 * series (src/service/live-signals.ts) and the GET route reads them back.
 */
import type { Selectable } from 'kysely';
import { SIGNAL_POINT_NAMES, type SignalPoint, type SignalPointName, type SignalPointQuery, type SignalPointsInput, type SignalSeries, type Store } from './port.ts';
import type { SignalPointsTable } from './schema.ts';
import { chunks, inTransaction, refuse, type Db } from './support.ts';
import { checkId } from './validate.ts';

type SignalMethods = Pick<Store, 'putSignalPoints' | 'signalPoints'>;

/** Points one push may carry (a year of 5-minute values is 105,120). */
export const MAX_POINTS_PER_PUSH = 200_000;
const MAX_QUERY_LIMIT = 1_000_000;
/** `issued_ms` of actuals, which have no issue. */
const ACTUAL_ISSUE = 0;

export function signalMethods(db: Db): SignalMethods {
  return {
    async putSignalPoints(input, nowMs) {
      const bad = checkPush(input, nowMs);
      if (bad) return refuse('invalid', bad);
      const forecast = input.series === 'forecast';
      const givenIssue = forecast && input.issuedMs !== undefined;
      const issued = forecast ? (input.issuedMs ?? nowMs) : ACTUAL_ISSUE;
      let fromMs = Infinity;
      let toMs = -Infinity;
      for (const p of input.points) {
        fromMs = Math.min(fromMs, p.timeMs);
        toMs = Math.max(toMs, p.timeMs);
      }
      return inTransaction(db, async (trx) => {
        const stored = await trx
          .selectFrom('signal_points')
          .select(['time_ms', 'issued_ms', 'value'])
          .where('site', '=', input.siteId)
          .where('signal', '=', input.signal)
          .where('series', '=', input.series)
          .where('time_ms', '>=', fromMs)
          .where('time_ms', '<=', toMs)
          .execute();
        // What a point is compared with: the row of its own issue (actuals, or a forecast with a given issue), or the
        // current forecast of its time stamp (a forecast issued now adds an issue only where the value changes).
        const same = new Map<number, number>();
        const latest = new Map<number, { issued: number; value: number }>();
        for (const row of stored) {
          const time = Number(row.time_ms);
          const rowIssued = Number(row.issued_ms);
          if (rowIssued === issued) same.set(time, Number(row.value));
          const l = latest.get(time);
          if (!l || rowIssued > l.issued) latest.set(time, { issued: rowIssued, value: Number(row.value) });
        }
        let inserted = 0;
        let updated = 0;
        let unchanged = 0;
        const rows: SignalPointsTable[] = [];
        for (const p of input.points) {
          const mine = same.get(p.timeMs);
          const current = forecast && !givenIssue ? latest.get(p.timeMs)?.value : mine;
          if (current === p.value) {
            unchanged++;
            continue;
          }
          if (mine === undefined) inserted++;
          else updated++;
          rows.push({ site: input.siteId, signal: input.signal, series: input.series, time_ms: p.timeMs, issued_ms: issued, value: p.value, recorded_ms: nowMs });
        }
        for (const part of chunks(rows)) {
          await trx
            .insertInto('signal_points')
            .values(part)
            .onConflict((oc) => oc.columns(['site', 'signal', 'series', 'time_ms', 'issued_ms']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), recorded_ms: eb.ref('excluded.recorded_ms') })))
            .execute();
        }
        return { ok: true as const, inserted, updated, unchanged };
      });
    },

    async signalPoints(query = {}) {
      const bad = checkQuery(query);
      if (bad) return refuse('invalid', bad);
      let q = db.selectFrom('signal_points').selectAll();
      if (query.siteId !== undefined) q = q.where('site', '=', query.siteId);
      if (query.signal !== undefined) q = q.where('signal', '=', query.signal);
      if (query.series !== undefined) q = q.where('series', '=', query.series);
      if (query.fromMs !== undefined) q = q.where('time_ms', '>=', query.fromMs);
      if (query.toMs !== undefined) q = q.where('time_ms', '<', query.toMs);
      if (query.recordedSinceMs !== undefined) q = q.where('recorded_ms', '>=', query.recordedSinceMs);
      const asOfMs = query.asOfMs;
      // Forecast issues issued and recorded by then; actuals keep no history and are read as they are.
      if (asOfMs !== undefined) q = q.where((eb) => eb.or([eb('series', '=', 'actual'), eb.and([eb('recorded_ms', '<=', asOfMs), eb('issued_ms', '<=', asOfMs)])]));
      const rows = await q.orderBy('site').orderBy('signal').orderBy('series').orderBy('time_ms').orderBy('issued_ms').execute();
      let points = rows.map(toPoint);
      // The latest issue of each forecast time stamp: rows are ordered by issue within a time stamp.
      if (!query.history) points = points.filter((p, i) => !(i + 1 < points.length && sameStamp(p, points[i + 1])));
      if (query.limit !== undefined) points = [...points].sort((a, b) => a.timeMs - b.timeMs).slice(0, query.limit);
      return { ok: true, points };
    },
  };
}

function sameStamp(a: SignalPoint, b: SignalPoint): boolean {
  return a.siteId === b.siteId && a.signal === b.signal && a.series === b.series && a.timeMs === b.timeMs;
}

/** Why a push cannot be stored, or null; names the point (`points[3].value`). */
export function checkPush(input: SignalPointsInput, nowMs: number): string | null {
  const bad = checkId('site id', input.siteId);
  if (bad) return bad;
  if (!(SIGNAL_POINT_NAMES as readonly string[]).includes(input.signal)) return `signal must be one of ${SIGNAL_POINT_NAMES.join(', ')}`;
  if (input.series !== 'actual' && input.series !== 'forecast') return 'series must be actual or forecast';
  if (input.issuedMs !== undefined) {
    if (input.series !== 'forecast') return 'issuedMs is for forecasts only (actuals are overwritten, with no issue)';
    if (!Number.isSafeInteger(input.issuedMs) || input.issuedMs <= ACTUAL_ISSUE) return 'issuedMs must be positive integer epoch milliseconds';
  }
  if (!Number.isSafeInteger(nowMs) || nowMs <= ACTUAL_ISSUE) return 'nowMs must be positive integer epoch milliseconds';
  if (!Array.isArray(input.points) || input.points.length === 0) return 'points must be a non-empty list';
  if (input.points.length > MAX_POINTS_PER_PUSH) return `points: at most ${MAX_POINTS_PER_PUSH} a push (got ${input.points.length})`;
  const seen = new Map<number, number>();
  for (let i = 0; i < input.points.length; i++) {
    const p = input.points[i];
    if (!Number.isSafeInteger(p?.timeMs)) return `points[${i}].timeMs must be integer epoch milliseconds`;
    if (typeof p.value !== 'number' || !Number.isFinite(p.value)) return `points[${i}].value must be a finite number`;
    const earlier = seen.get(p.timeMs);
    if (earlier !== undefined) return `points[${i}].timeMs repeats the time stamp of points[${earlier}]`;
    seen.set(p.timeMs, i);
  }
  return null;
}

function checkQuery(q: SignalPointQuery): string | null {
  for (const field of ['fromMs', 'toMs', 'asOfMs', 'recordedSinceMs'] as const) {
    if (q[field] !== undefined && !Number.isSafeInteger(q[field])) return `${field} must be integer epoch milliseconds`;
  }
  if (q.fromMs !== undefined && q.toMs !== undefined && q.toMs < q.fromMs) return 'toMs is before fromMs';
  if (q.limit !== undefined && !(Number.isInteger(q.limit) && q.limit >= 1 && q.limit <= MAX_QUERY_LIMIT)) return `limit must be an integer from 1 to ${MAX_QUERY_LIMIT}`;
  if (q.signal !== undefined && !(SIGNAL_POINT_NAMES as readonly string[]).includes(q.signal)) return `signal must be one of ${SIGNAL_POINT_NAMES.join(', ')}`;
  if (q.series !== undefined && q.series !== 'actual' && q.series !== 'forecast') return 'series must be actual or forecast';
  return null;
}

function toPoint(row: Selectable<SignalPointsTable>): SignalPoint {
  const series = row.series as SignalSeries;
  return {
    siteId: row.site,
    signal: row.signal as SignalPointName,
    series,
    timeMs: Number(row.time_ms),
    value: Number(row.value),
    issuedMs: series === 'forecast' ? Number(row.issued_ms) : null,
    recordedMs: Number(row.recorded_ms),
  };
}
