/** Probes: stored over time, listed by site and pool, the latest measured one of each pool, bad ones refused. */
import { expect, it } from 'vitest';
import type { ProbeInput } from '../../../src/store/port.ts';
import type { Harness } from '../harness.ts';

/** A CPU probe of `pool` at `site`, measured at `atMs`, delivering `ratio` of the advertised 5.12 / 10.24 TFLOPS per node. */
export function probe(id: string, site: string, pool: string, atMs: number, ratio = 0.5): ProbeInput {
  return {
    id,
    siteId: site,
    poolId: pool,
    measuredMs: atMs,
    kind: 'cpu',
    node: `${site}-1`,
    cores: 64,
    perCoreGflops: { fp64: 40, fp32: 80 },
    perNodeGflops: { fp64: 5120 * ratio, fp32: 10240 * ratio, bf16: null },
    advertisedPerNodeTflops: { fp64: 5.12, fp32: 10.24, bf16: 20.48 },
    ratio: { fp64: ratio, fp32: ratio, bf16: null },
    threshold: 0.8,
    flagged: ratio < 0.8,
    note: ratio < 0.8 ? `fp64 at ${ratio} of advertised` : null,
    inventory: { gres: null, devices: [] },
    error: null,
  };
}

export function probeContract(h: Harness): void {
  it('stores probes and lists them over time, by site and pool, the latest `limit` oldest first', async () => {
    const rows = [probe('p3', 'hami', 'hami-general', 3000), probe('p1', 'hami', 'hami-general', 1000, 0.9), probe('p2', 'hami', 'hami-ai', 2000), probe('p4', 'zhengzhou', 'zhengzhou-general', 4000)];
    for (const row of rows) {
      const stored = await h.store.recordProbe(row, 10);
      expect(stored).toEqual({ ok: true, probe: { ...row, recordedMs: 10 } });
    }
    const all = await h.store.listProbes();
    expect(all.ok && all.probes.map((p) => p.id)).toEqual(['p1', 'p2', 'p3', 'p4']);
    const pool = await h.store.listProbes({ siteId: 'hami', poolId: 'hami-general' });
    expect(pool.ok && pool.probes).toEqual([
      { ...rows[1], recordedMs: 10 },
      { ...rows[0], recordedMs: 10 },
    ]);
    const site = await h.store.listProbes({ siteId: 'hami', sinceMs: 2000 });
    expect(site.ok && site.probes.map((p) => p.id)).toEqual(['p2', 'p3']);
    const latestTwo = await h.store.listProbes({ limit: 2 });
    expect(latestTwo.ok && latestTwo.probes.map((p) => p.id)).toEqual(['p3', 'p4']);
  });

  it('the latest probe of each pool that measured something', async () => {
    await h.store.recordProbe(probe('old', 'hami', 'hami-general', 1000, 0.9), 1);
    await h.store.recordProbe(probe('new', 'hami', 'hami-general', 2000, 0.3), 2);
    await h.store.recordProbe({ ...probe('failed', 'hami', 'hami-general', 3000), perNodeGflops: { fp64: null, fp32: null, bf16: null }, ratio: { fp64: null, fp32: null, bf16: null }, flagged: true, error: 'no C compiler on the node' }, 3);
    await h.store.recordProbe(probe('zz', 'zhengzhou', 'zhengzhou-general', 500, 1), 4);
    const latest = await h.store.latestProbes();
    expect(latest.map((p) => [p.id, p.siteId, p.poolId, p.ratio.fp64])).toEqual([
      ['new', 'hami', 'hami-general', 0.3],
      ['zz', 'zhengzhou', 'zhengzhou-general', 1],
    ]);
  });

  it('refuses a duplicate id and bad probes, storing nothing for them', async () => {
    const good = probe('p1', 'hami', 'hami-general', 1000);
    expect(await h.store.recordProbe(good, 1)).toMatchObject({ ok: true });
    expect(await h.store.recordProbe({ ...good, measuredMs: 2000 }, 2)).toMatchObject({ ok: false, code: 'duplicate' });
    const bad: [Partial<ProbeInput>, RegExp][] = [
      [{ id: '' }, /probe id/],
      [{ measuredMs: 1.5 }, /measuredMs/],
      [{ kind: 'gpu' as never }, /kind/],
      [{ threshold: 0 }, /threshold/],
      [{ threshold: 1.5 }, /threshold/],
      [{ perNodeGflops: { fp64: -1, fp32: 1, bf16: null } }, /perNodeGflops.fp64/],
      [{ ratio: { fp64: Number.NaN, fp32: 1, bf16: null } }, /ratio.fp64/],
      [{ advertisedPerNodeTflops: { fp64: 1, fp32: 1 } as never }, /advertisedPerNodeTflops.bf16/],
      [{ cores: 0 }, /cores/],
      [{ inventory: [] as never }, /inventory/],
    ];
    for (const [patch, message] of bad) {
      const result = await h.store.recordProbe({ ...good, id: 'p2', ...patch }, 3);
      expect(result).toMatchObject({ ok: false, code: 'invalid' });
      expect(!result.ok && result.reason).toMatch(message);
    }
    expect((await h.raw('probes')).map((r) => r.id)).toEqual(['p1']);
    expect(await h.store.listProbes({ limit: 0 })).toMatchObject({ ok: false, code: 'invalid' });
  });
}
