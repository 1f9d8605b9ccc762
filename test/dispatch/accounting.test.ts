/** Energy accounting by hand: energy, green share, cost and carbon of tiny cases, renewables shared, a transfer. */
import { describe, expect, it } from 'vitest';
import { accountUses, clampSlot, marginalCarbonGPerKWh, MARGINAL_PROBE_KWH, sumFigures, type SlotUse } from '../../src/core/energy/accounting.ts';
import { computeRoutes } from '../../src/core/network/routes.ts';
import { makeLink, makeSite, snapshotOf } from '../fixtures/scenario-builder.ts';
import { makeJob } from '../fixtures/job-builder.ts';
import { planViolations, planWith } from '../fixtures/plan-checks.ts';

// One busy accelerator at 690 W and PUE 1.2 draws 0.828 kW at the facility.
const UNIT_KW = 0.828;

describe('accountUses', () => {
  // Site a: price 0.5 then 0.8 yuan/kWh, carbon 500 then 600 g/kWh, 1.242 kW renewable in slot 0 only,
  // renewable at 0.2 yuan/kWh and 20 g/kWh. Site b: flat 0.3 yuan, 400 g, no renewables.
  const a = makeSite('a').ai(8).prices([0.5, 0.8]).carbonG([500, 600]).renewableKW([1.242, 0], 0.2, 20);
  const b = makeSite('b').ai(8).prices(0.3).carbonG(400);
  const snapshot = snapshotOf([a, b], [makeLink('a', 'b', { costYuanPerGB: 0.05, energyKWhPerGB: 0.01 })], [], { slots: 2 });
  const route = computeRoutes(snapshot.network).get('a')!.get('b')!;
  const account = (uses: SlotUse[]) => accountUses(snapshot.grid, snapshot.network.sites, snapshot.signals, uses);

  it('one job alone: renewables first, the rest from the grid at the slot price and carbon', () => {
    // 2 units in slot 0: 1.656 kWh, 1.242 green, 0.414 grid.
    const [f] = account([{ siteId: 'a', slots: [0], energyKWh: [2 * UNIT_KW], transfer: null }]);
    expect(f.energyKWh).toBeCloseTo(1.656, 12);
    expect(f.greenKWh).toBeCloseTo(1.242, 12);
    expect(f.costYuan).toBeCloseTo(1.242 * 0.2 + 0.414 * 0.5, 12);
    expect(f.carbonKg).toBeCloseTo((1.242 * 20 + 0.414 * 500) / 1000, 12);
    expect(f.transferKWh).toBe(0);
  });

  it('renewables cover all of a small load, and the surplus is not credited', () => {
    const [f] = account([{ siteId: 'a', slots: [0], energyKWh: [0.5], transfer: null }]);
    expect(f.greenKWh).toBeCloseTo(0.5, 12);
    expect(f.costYuan).toBeCloseTo(0.5 * 0.2, 12);
    expect(f.carbonKg).toBeCloseTo((0.5 * 20) / 1000, 12);
  });

  it('two jobs in a slot share limited renewables in proportion to their energy', () => {
    // Slot 0 load: 1.656 + 0.828 = 2.484 kWh; renewables 1.242 kWh cover half of each job's energy there.
    const [big, small] = account([
      { siteId: 'a', slots: [0], energyKWh: [2 * UNIT_KW], transfer: null },
      { siteId: 'a', slots: [0, 1], energyKWh: [UNIT_KW, UNIT_KW], transfer: null },
    ]);
    expect(big.greenKWh).toBeCloseTo(0.828, 12);
    expect(big.costYuan).toBeCloseTo(0.828 * 0.2 + 0.828 * 0.5, 12);
    expect(big.carbonKg).toBeCloseTo((0.828 * 20 + 0.828 * 500) / 1000, 12);
    expect(small.energyKWh).toBeCloseTo(1.656, 12);
    expect(small.greenKWh).toBeCloseTo(0.414, 12);
    expect(small.costYuan).toBeCloseTo(0.414 * 0.2 + 0.414 * 0.5 + 0.828 * 0.8, 12);
    expect(small.carbonKg).toBeCloseTo((0.414 * 20 + 0.414 * 500 + 0.828 * 600) / 1000, 12);
    // The shares add up to the renewables available, and nothing is double counted.
    expect(big.greenKWh + small.greenKWh).toBeCloseTo(1.242, 12);
  });

  it('the order of the uses does not change anyone\'s figures', () => {
    const x: SlotUse = { siteId: 'a', slots: [0], energyKWh: [2 * UNIT_KW], transfer: null };
    const y: SlotUse = { siteId: 'a', slots: [0, 1], energyKWh: [UNIT_KW, UNIT_KW], transfer: null };
    const [fx, fy] = account([x, y]);
    const [gy, gx] = account([y, x]);
    expect(gx).toEqual(fx);
    expect(gy).toEqual(fy);
  });

  it('uses at different sites do not share renewables', () => {
    const [atA, atB] = account([
      { siteId: 'a', slots: [0], energyKWh: [1], transfer: null },
      { siteId: 'b', slots: [0], energyKWh: [1], transfer: null },
    ]);
    expect(atA.greenKWh).toBeCloseTo(1, 12);
    expect(atB.greenKWh).toBe(0);
    expect(atB.costYuan).toBeCloseTo(0.3, 12);
  });

  it('a moved input adds network energy (grid, at the origin\'s carbon when it starts), and per-GB cost', () => {
    // 100 GB a → b: 1 kWh, 5 yuan, at a's slot-1 carbon (600 g/kWh) = 0.6 kg; then 1 unit in slot 1 at b.
    const [f] = account([{ siteId: 'b', slots: [1], energyKWh: [UNIT_KW], transfer: { route, gb: 100, startSlot: 1 } }]);
    expect(f.transferKWh).toBeCloseTo(1, 12);
    expect(f.energyKWh).toBeCloseTo(UNIT_KW + 1, 12);
    expect(f.greenKWh).toBe(0);
    expect(f.costYuan).toBeCloseTo(UNIT_KW * 0.3 + 100 * 0.05, 12);
    expect(f.carbonKg).toBeCloseTo((UNIT_KW * 400 + 1 * 600) / 1000, 12);
  });

  it('a transfer starting before the grid is priced at the first slot', () => {
    expect(clampSlot(-3, snapshot.grid)).toBe(0);
    expect(clampSlot(7, snapshot.grid)).toBe(1);
    const [f] = account([{ siteId: 'b', slots: [1], energyKWh: [0], transfer: { route, gb: 100, startSlot: -3 } }]);
    expect(f.carbonKg).toBeCloseTo(0.5, 12);
  });

  it('negative renewable readings count as none', () => {
    const c = makeSite('c').ai(1).renewableKW([-5]);
    const snap = snapshotOf([c], [], [], { slots: 1 });
    const [f] = accountUses(snap.grid, snap.network.sites, snap.signals, [{ siteId: 'c', slots: [0], energyKWh: [1], transfer: null }]);
    expect(f.greenKWh).toBe(0);
    expect(f.costYuan).toBeCloseTo(0.5, 12);
  });

  it('sumFigures adds the jobs up', () => {
    const figures = account([
      { siteId: 'a', slots: [0], energyKWh: [2 * UNIT_KW], transfer: null },
      { siteId: 'b', slots: [1], energyKWh: [UNIT_KW], transfer: { route, gb: 100, startSlot: 1 } },
    ]);
    const totals = sumFigures(figures);
    expect(totals.energyKWh).toBeCloseTo(figures[0].energyKWh + figures[1].energyKWh, 12);
    expect(totals.greenKWh).toBeCloseTo(figures[0].greenKWh + figures[1].greenKWh, 12);
    expect(totals.costYuan).toBeCloseTo(figures[0].costYuan + figures[1].costYuan, 12);
    expect(totals.carbonKg).toBeCloseTo(figures[0].carbonKg + figures[1].carbonKg, 12);
  });
});

describe('marginalCarbonGPerKWh', () => {
  // Three hourly slots: renewables 10 kW in each (10 kWh), grid 500, 600, 700 g/kWh, renewables at 20 g/kWh.
  const a = makeSite('a').ai(8).carbonG([500, 600, 700]).renewableKW([10, 10, 10], 0.2, 20);
  const snapshot = snapshotOf([a], [], [], { slots: 3 });
  const site = snapshot.network.sites[0];

  it("is the renewables' carbon where renewables exceed the load, the grid's where they do not, a blend where they run out within the probe", () => {
    const ratings = marginalCarbonGPerKWh(snapshot.grid, site, snapshot.signals.a, [4, 10, 10 - MARGINAL_PROBE_KWH / 4]);
    expect(ratings[0]).toBeCloseTo(20, 9);
    expect(ratings[1]).toBeCloseTo(600, 9);
    expect(ratings[2]).toBeCloseTo(0.25 * 20 + 0.75 * 700, 9);
  });

  it('with no load and no renewables is the grid carbon intensity; NaN signals give NaN', () => {
    const b = makeSite('b').ai(8).carbonG([450, NaN]);
    const s = snapshotOf([b], [], [], { slots: 2 });
    const ratings = marginalCarbonGPerKWh(s.grid, s.network.sites[0], s.signals.b, [0, 0]);
    expect(ratings[0]).toBeCloseTo(450, 9);
    expect(ratings[1]).toBeNaN();
  });
});

describe('a plan\'s figures', () => {
  it('are accounted on 30-minute slots with renewables in kW × slot hours', () => {
    // 1 unit for 1 h on 30-min slots at a site with 0.414 kW renewables: 0.207 kWh green per slot out of 0.414.
    const a = makeSite('a').ai(1).renewableKW(0.414, 0.2, 20);
    const snapshot = snapshotOf([a], [], [makeJob('j').units(1).duration('1h').deadline('1h').at('a').build()], { slotMinutes: 30, slots: 4 });
    const plan = planWith(snapshot, 'optimize');
    const [j] = plan.jobs;
    expect(j.energyKWh).toBeCloseTo(0.828, 12);
    expect(j.greenKWh).toBeCloseTo(0.414, 12);
    expect(j.costYuan).toBeCloseTo(0.414 * 0.2 + 0.414 * 0.5, 12);
    expect(planViolations(snapshot, plan)).toEqual([]);
  });

  it('with a transfer, match the hand-computed figures', () => {
    // b is cheap (0.1 yuan) and the link costs 0.01 yuan/GB: moving 10 GB (0.1 yuan) for 1 unit-hour saves 0.331 yuan.
    const a = makeSite('a').ai(8).prices(0.5).carbonG(500);
    const b = makeSite('b').ai(8).prices(0.1).carbonG(300);
    const link = makeLink('a', 'b', { costYuanPerGB: 0.01, energyKWhPerGB: 0.02, bandwidthGbps: 100, latencyMs: 10 });
    const snapshot = snapshotOf([a, b], [link], [makeJob('j').units(1).duration('1h').deadline('4h').input(10).at('a').build()]);
    const plan = planWith(snapshot, 'optimize');
    const [j] = plan.jobs;
    expect(j.site).toBe('b');
    expect(j.transferKWh).toBeCloseTo(0.2, 12);
    expect(j.energyKWh).toBeCloseTo(UNIT_KW + 0.2, 12);
    expect(j.costYuan).toBeCloseTo(UNIT_KW * 0.1 + 0.1, 12);
    expect(j.carbonKg).toBeCloseTo((UNIT_KW * 300 + 0.2 * 500) / 1000, 12);
    expect(plan.totals).toMatchObject({ energyKWh: j.energyKWh, costYuan: j.costYuan, carbonKg: j.carbonKg, greenKWh: 0, jobsPlaced: 1, jobsUnplaced: 0 });
    expect(planViolations(snapshot, plan)).toEqual([]);
  });
});
