/**
 * Computing-power probes over time (migration 0003): `kumul probe` and POST /v1/probes record them, GET /v1/probes
 * lists a pool's history, and the measured capability (src/probe/capability.ts) reads the latest of each pool.
 */
import type { Selectable } from 'kysely';
import { PRECISIONS } from '../core/model/types.ts';
import type { ProbeInput, ProbeRecord, Store } from './port.ts';
import type { ProbesTable } from './schema.ts';
import { refuse, type Db } from './support.ts';
import { checkId } from './validate.ts';

type ProbeMethods = Pick<Store, 'recordProbe' | 'listProbes' | 'latestProbes'>;

const MAX_LIMIT = 1000;

export function probeMethods(db: Db): ProbeMethods {
  return {
    async recordProbe(input, nowMs) {
      const bad = checkProbe(input);
      if (bad) return refuse('invalid', bad);
      const row = probeRow(input, nowMs);
      const result = await db.insertInto('probes').values(row).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) !== 1) return refuse('duplicate', `probe ${input.id} is already stored`);
      return { ok: true, probe: toProbe(row) };
    },

    async listProbes(filter = {}) {
      const limit = filter.limit ?? MAX_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return refuse('invalid', `limit ${limit} must be an integer from 1 to ${MAX_LIMIT}`);
      if (filter.sinceMs !== undefined && !Number.isSafeInteger(filter.sinceMs)) return refuse('invalid', `sinceMs ${filter.sinceMs} must be integer milliseconds`);
      let query = db.selectFrom('probes').selectAll();
      if (filter.siteId !== undefined) query = query.where('site', '=', filter.siteId);
      if (filter.poolId !== undefined) query = query.where('pool', '=', filter.poolId);
      if (filter.sinceMs !== undefined) query = query.where('measured_ms', '>=', filter.sinceMs);
      const rows = await query.orderBy('measured_ms', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return { ok: true, probes: rows.reverse().map(toProbe) };
    },

    async latestProbes() {
      const latest = db
        .selectFrom('probes')
        .select((eb) => ['site', 'pool', eb.fn.max('measured_ms').as('measured_ms')])
        .where('error', 'is', null)
        .groupBy(['site', 'pool'])
        .as('latest');
      const rows = await db
        .selectFrom('probes')
        .innerJoin(latest, (join) => join.onRef('probes.site', '=', 'latest.site').onRef('probes.pool', '=', 'latest.pool').onRef('probes.measured_ms', '=', 'latest.measured_ms'))
        .selectAll('probes')
        .where('probes.error', 'is', null)
        .orderBy('probes.site')
        .orderBy('probes.pool')
        .orderBy('probes.id')
        .execute();
      // Two probes of a pool at the same instant: the last id wins, one per pool.
      const byPool = new Map<string, ProbeRecord>();
      for (const row of rows) byPool.set(`${row.site}\u0000${row.pool}`, toProbe(row));
      return [...byPool.values()];
    },
  };
}

/** Why a probe cannot be stored, or null. */
export function checkProbe(p: ProbeInput): string | null {
  const bad = checkId('probe id', p.id);
  if (bad) return bad;
  const of = `probe ${p.id}:`;
  if (typeof p.siteId !== 'string' || p.siteId === '' || typeof p.poolId !== 'string' || p.poolId === '') return `${of} siteId and poolId must be ids`;
  if (!Number.isSafeInteger(p.measuredMs)) return `${of} measuredMs must be integer milliseconds`;
  if (p.kind !== 'cpu' && p.kind !== 'accelerator') return `${of} kind must be cpu or accelerator`;
  if (p.node !== null && (typeof p.node !== 'string' || p.node === '')) return `${of} node must be a name or null`;
  if (p.cores !== null && !(Number.isInteger(p.cores) && p.cores > 0)) return `${of} cores must be a positive integer or null`;
  const optional = (value: unknown) => value === null || (typeof value === 'number' && Number.isFinite(value) && value >= 0);
  for (const precision of ['fp64', 'fp32'] as const) if (!optional(p.perCoreGflops?.[precision])) return `${of} perCoreGflops.${precision} must be a non-negative number or null`;
  for (const precision of PRECISIONS) {
    if (!optional(p.perNodeGflops?.[precision])) return `${of} perNodeGflops.${precision} must be a non-negative number or null`;
    if (!optional(p.ratio?.[precision])) return `${of} ratio.${precision} must be a non-negative number or null`;
    const advertised = p.advertisedPerNodeTflops?.[precision];
    if (typeof advertised !== 'number' || !Number.isFinite(advertised) || advertised < 0) return `${of} advertisedPerNodeTflops.${precision} must be a non-negative number`;
  }
  if (!(typeof p.threshold === 'number' && p.threshold > 0 && p.threshold <= 1)) return `${of} threshold must be a number in (0, 1]`;
  if (typeof p.flagged !== 'boolean') return `${of} flagged must be a boolean`;
  if (p.note !== null && typeof p.note !== 'string') return `${of} note must be text or null`;
  if (p.error !== null && typeof p.error !== 'string') return `${of} error must be text or null`;
  if (typeof p.inventory !== 'object' || p.inventory === null || Array.isArray(p.inventory)) return `${of} inventory must be a JSON object`;
  return null;
}

function probeRow(p: ProbeInput, nowMs: number): ProbesTable {
  return {
    id: p.id,
    site: p.siteId,
    pool: p.poolId,
    measured_ms: p.measuredMs,
    kind: p.kind,
    node: p.node,
    cores: p.cores,
    fp64_gflops_per_core: p.perCoreGflops.fp64,
    fp32_gflops_per_core: p.perCoreGflops.fp32,
    fp64_gflops_per_node: p.perNodeGflops.fp64,
    fp32_gflops_per_node: p.perNodeGflops.fp32,
    bf16_gflops_per_node: p.perNodeGflops.bf16,
    advertised_fp64_tflops_per_node: p.advertisedPerNodeTflops.fp64,
    advertised_fp32_tflops_per_node: p.advertisedPerNodeTflops.fp32,
    advertised_bf16_tflops_per_node: p.advertisedPerNodeTflops.bf16,
    ratio_fp64: p.ratio.fp64,
    ratio_fp32: p.ratio.fp32,
    ratio_bf16: p.ratio.bf16,
    threshold: p.threshold,
    flagged: p.flagged ? 1 : 0,
    note: p.note,
    inventory: JSON.stringify(p.inventory),
    error: p.error,
    recorded_ms: nowMs,
  };
}

/** PostgreSQL returns bigint as text and double precision as number; SQLite numbers: Number() for both. */
const num = (v: unknown): number => Number(v);
const optNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toProbe(row: Selectable<ProbesTable>): ProbeRecord {
  return {
    id: row.id,
    siteId: row.site,
    poolId: row.pool,
    measuredMs: num(row.measured_ms),
    kind: row.kind as ProbeRecord['kind'],
    node: row.node,
    cores: optNum(row.cores),
    perCoreGflops: { fp64: optNum(row.fp64_gflops_per_core), fp32: optNum(row.fp32_gflops_per_core) },
    perNodeGflops: { fp64: optNum(row.fp64_gflops_per_node), fp32: optNum(row.fp32_gflops_per_node), bf16: optNum(row.bf16_gflops_per_node) },
    advertisedPerNodeTflops: { fp64: num(row.advertised_fp64_tflops_per_node), fp32: num(row.advertised_fp32_tflops_per_node), bf16: num(row.advertised_bf16_tflops_per_node) },
    ratio: { fp64: optNum(row.ratio_fp64), fp32: optNum(row.ratio_fp32), bf16: optNum(row.ratio_bf16) },
    threshold: num(row.threshold),
    flagged: Number(row.flagged) === 1,
    note: row.note,
    inventory: JSON.parse(row.inventory) as Record<string, unknown>,
    error: row.error,
    recordedMs: num(row.recorded_ms),
  };
}
