/**
 * The service's dispatch cycle shares link capacity among job input transfers (docs/energy-model.md, "Moving input
 * data"): two jobs that must move 9,000 GB each from beijing to hami (10 Gbit/s: 4,500 GB an hour) in one cycle get
 * stored plans whose transfer pieces never put more than a slot's capacity on the link. The service of
 * test/dashboard/fixtures.ts, on SQLite and, with KUMUL_TEST_PG, on PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { API_BACKENDS } from '../api/fixtures.ts';
import { HOUR, NOW, dispatchLoop, spec, useDashboard } from '../dashboard/fixtures.ts';

for (const backend of API_BACKENDS) describe(backend, () => {
  const h = useDashboard(backend);

  it('stores plans whose input transfers together fit beijing→hami in every slot; the second waits for the first', async () => {
    const { store } = h.f;
    const big = { units: 16, origin: 'beijing', allowedSites: ['hami'], inputGb: 9000, durationS: 3600, releaseMs: NOW, deadlineMs: NOW + 30 * HOUR };
    expect((await store.submitJobs('lab', [spec('a', big), spec('b', big)], NOW)).ok).toBe(true);
    await dispatchLoop(h.f).tick();
    const plans = await Promise.all(['a', 'b'].map(async (id) => (await store.getJob({ tenantId: 'lab', jobId: id }))!.plan!));
    const perSlot = new Map<number, number>();
    for (const p of plans) {
      expect(p.transfer?.route).toEqual(['beijing', 'hami']);
      const pieces = p.transfer!.segments!;
      expect(pieces.reduce((sum, x) => sum + x.gb, 0)).toBeCloseTo(9000, 6);
      for (const x of pieces) {
        const slot = Math.floor(Date.parse(x.start) / HOUR);
        expect(Math.floor((Date.parse(x.end) - 1) / HOUR)).toBe(slot);
        perSlot.set(slot, (perSlot.get(slot) ?? 0) + x.gb);
      }
      // The job runs after its input has arrived.
      expect(Date.parse(p.runs[0].start)).toBeGreaterThanOrEqual(Date.parse(p.transfer!.end));
    }
    for (const gb of perSlot.values()) expect(gb).toBeLessThanOrEqual(4500 * (1 + 1e-9));
    // 18,000 GB need at least four slots of the link: the later transfer ends 3.5 h or more after now (10:30).
    const ends = plans.map((p) => Date.parse(p.transfer!.end) - NOW).sort((x, y) => x - y);
    expect(ends[1]).toBeGreaterThanOrEqual(3.5 * HOUR);
  });
});
