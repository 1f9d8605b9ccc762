/** Routes over the link graph: lowest latency, bottleneck bandwidth, transfer time, unreachable sites. */
import { describe, expect, it } from 'vitest';
import { computeRoutes, transferDurationS } from '../../src/core/network/routes.ts';
import type { Link } from '../../src/core/model/types.ts';
import { makeLink, makeSite, snapshotOf } from '../fixtures/scenario-builder.ts';
import { makeJob } from '../fixtures/job-builder.ts';
import { planWith } from '../fixtures/plan-checks.ts';

const network = (ids: string[], links: Link[]) => ({ sites: ids.map((id) => makeSite(id).ai(8).site()), links });

describe('computeRoutes', () => {
  //   a --10ms-- b --10ms-- c        a --50ms-- c (direct but slower)
  //                         c --5ms-- d
  const diamond = network(
    ['a', 'b', 'c', 'd', 'e'],
    [
      makeLink('a', 'b', { latencyMs: 10, bandwidthGbps: 40, costYuanPerGB: 0.01, energyKWhPerGB: 0.002 }),
      makeLink('b', 'c', { latencyMs: 10, bandwidthGbps: 10, costYuanPerGB: 0.02, energyKWhPerGB: 0.003 }),
      makeLink('a', 'c', { latencyMs: 50, bandwidthGbps: 100, costYuanPerGB: 0.001, energyKWhPerGB: 0.001 }),
      makeLink('d', 'c', { latencyMs: 5, bandwidthGbps: 100, costYuanPerGB: 0.04, energyKWhPerGB: 0.004 }),
    ],
  );
  const routes = computeRoutes(diamond);

  it.each([
    // from, to, path, latency, bottleneck, cost/GB, kWh/GB
    ['a', 'a', ['a'], 0, Infinity, 0, 0],
    ['a', 'b', ['a', 'b'], 10, 40, 0.01, 0.002],
    ['a', 'c', ['a', 'b', 'c'], 20, 10, 0.03, 0.005],
    ['c', 'a', ['c', 'b', 'a'], 20, 10, 0.03, 0.005],
    ['a', 'd', ['a', 'b', 'c', 'd'], 25, 10, 0.07, 0.009],
    ['d', 'b', ['d', 'c', 'b'], 15, 10, 0.06, 0.007],
  ] as const)('%s → %s takes %j (lowest latency, links used both ways)', (from, to, path, latencyMs, bottleneckGbps, cost, energy) => {
    const route = routes.get(from)!.get(to)!;
    expect(route.path).toEqual(path);
    expect(route.links).toHaveLength(path.length - 1);
    expect(route.latencyMs).toBeCloseTo(latencyMs, 9);
    expect(route.bottleneckGbps).toBe(bottleneckGbps);
    expect(route.costYuanPerGB).toBeCloseTo(cost, 12);
    expect(route.energyKWhPerGB).toBeCloseTo(energy, 12);
  });

  it('has no route to a site without links', () => {
    expect(routes.get('a')!.has('e')).toBe(false);
    expect(routes.get('e')!.get('e')!.path).toEqual(['e']);
    expect([...routes.get('e')!.keys()]).toEqual(['e']);
  });

  it('breaks a latency tie by fewer hops', () => {
    const net = network(['a', 'b', 'c'], [makeLink('a', 'b', { latencyMs: 10 }), makeLink('b', 'c', { latencyMs: 10 }), makeLink('a', 'c', { latencyMs: 20 })]);
    expect(computeRoutes(net).get('a')!.get('c')!.path).toEqual(['a', 'c']);
  });

  it.each([
    [['a', 'b', 'c', 'd'], ['a', 'b', 'd']],
    [['a', 'c', 'b', 'd'], ['a', 'c', 'd']],
  ])('breaks a tie of latency and hops by site order (%j)', (order, path) => {
    const links = [makeLink('a', 'b', { latencyMs: 5 }), makeLink('a', 'c', { latencyMs: 5 }), makeLink('b', 'd', { latencyMs: 5 }), makeLink('c', 'd', { latencyMs: 5 })];
    expect(computeRoutes(network(order, links)).get('a')!.get('d')!.path).toEqual(path);
  });

  it('takes a slower-bandwidth route when its latency is lower (routes minimise latency, not transfer time)', () => {
    const net = network(['a', 'b', 'c'], [makeLink('a', 'b', { latencyMs: 1, bandwidthGbps: 1 }), makeLink('b', 'c', { latencyMs: 1, bandwidthGbps: 100 }), makeLink('a', 'c', { latencyMs: 3, bandwidthGbps: 100 })]);
    const route = computeRoutes(net).get('a')!.get('c')!;
    expect(route.path).toEqual(['a', 'b', 'c']);
    expect(route.bottleneckGbps).toBe(1);
  });
});

describe('transferDurationS', () => {
  const routes = computeRoutes(network(['a', 'b', 'c'], [makeLink('a', 'b', { latencyMs: 30, bandwidthGbps: 40 }), makeLink('b', 'c', { latencyMs: 20, bandwidthGbps: 10 })]));

  it.each([
    // GB, from, to, seconds = GB × 8 / bottleneck Gbps + latency
    [100, 'a', 'b', (100 * 8) / 40 + 0.03],
    [100, 'a', 'c', (100 * 8) / 10 + 0.05],
    [1000, 'c', 'a', (1000 * 8) / 10 + 0.05],
    [0.5, 'a', 'c', (0.5 * 8) / 10 + 0.05],
    [0, 'a', 'c', 0],
    [100, 'b', 'b', 0],
  ])('%d GB from %s to %s takes %d s', (gb, from, to, seconds) => {
    expect(transferDurationS(routes.get(from)!.get(to)!, gb)).toBeCloseTo(seconds, 9);
  });
});

describe('routes in a plan', () => {
  it('the job waits for its input to arrive over the multi-hop route, and the plan lists that route', () => {
    // a is expensive; c is cheap from the start. 3600 GB over a 10 Gbit/s bottleneck take 48 min + 50 ms:
    // the job can start at c as soon as it has arrived.
    const a = makeSite('a').ai(8).prices(2);
    const b = makeSite('b');
    const c = makeSite('c').ai(8).prices(0.1);
    const links = [makeLink('a', 'b', { latencyMs: 30, bandwidthGbps: 40, costYuanPerGB: 0 }), makeLink('b', 'c', { latencyMs: 20, bandwidthGbps: 10, costYuanPerGB: 0 })];
    const job = makeJob('big').units(1).duration('1h').deadline('6h').at('a').input(3600).build();
    const plan = planWith(snapshotOf([a, b, c], links, [job]), 'optimize');
    expect(plan.jobs[0].site).toBe('c');
    // It moves in one piece at the route's 10 Gbit/s (48 min), then the route's latency.
    expect(plan.jobs[0].transfer).toEqual({
      route: ['a', 'b', 'c'],
      gb: 3600,
      start: '2026-06-01T00:00:00.000Z',
      end: new Date(Date.parse('2026-06-01T00:00Z') + ((3600 * 8) / 10 + 0.05) * 1000).toISOString(),
      segments: [{ start: '2026-06-01T00:00:00.000Z', end: '2026-06-01T00:48:00.000Z', gb: 3600 }],
    });
    expect(plan.jobs[0].runs[0].start).toBe(plan.jobs[0].transfer!.end);
  });
});
