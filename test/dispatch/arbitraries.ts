/**
 * fast-check generators of small dispatch instances for the property tests: a grid of 6–16 slots of
 * 15, 30 or 60 minutes; 1–4 sites with random pools, PUE and signals (some with renewables); random
 * links (a site may be cut off); 1–12 jobs of every shape (units, partial-slot durations, windows
 * from impossible to loose, releases before the grid or after now, moved inputs, residency,
 * interruptible or not, an unknown origin now and then). Optionally committed work.
 */
import fc from 'fast-check';
import type { CommittedUse, Snapshot } from '../../src/core/dispatch/cycle.ts';
import type { Job, Link, PoolClass } from '../../src/core/model/types.ts';
import { makeLink, makeSite, snapshotOf, T0 } from '../fixtures/scenario-builder.ts';

const CLASSES: PoolClass[] = ['ai', 'general', 'hpc'];
const POWER_W: Record<PoolClass, number> = { ai: 690, general: 8, hpc: 450 };

/** `arb` with probability `p`, else null. */
const maybe = <T>(arb: fc.Arbitrary<T>, p: number) => fc.oneof({ weight: Math.round(p * 100), arbitrary: arb }, { weight: Math.round((1 - p) * 100), arbitrary: fc.constant(null) });

const money = (min: number, max: number) => fc.integer({ min: Math.round(min * 100), max: Math.round(max * 100) }).map((x) => x / 100);

export interface InstanceOptions {
  maxSites?: number;
  maxJobs?: number;
  committed?: boolean;
  /** Share of jobs that are interruptible: 'any' draws each job's flag. */
  interruptible?: 'any' | 'all' | 'none';
  /** Keep renewables priced below the grid (the exact reference needs it). */
  greenCheapest?: boolean;
  /** Small pools, short grids and more jobs: capacity is contended. */
  busy?: boolean;
}

export function instanceArb(options: InstanceOptions = {}): fc.Arbitrary<Snapshot> {
  const maxSites = options.maxSites ?? 4;
  const maxJobs = options.maxJobs ?? (options.busy ? 16 : 12);
  const poolMax = options.busy ? [4, 8, 3] : [8, 24, 6];
  return fc
    .record({
      slotMinutes: fc.constantFrom(15, 30, 60),
      slots: options.busy ? fc.integer({ min: 6, max: 10 }) : fc.integer({ min: 6, max: 16 }),
      nSites: fc.integer({ min: 1, max: maxSites }),
    })
    .chain(({ slotMinutes, slots, nSites }) => {
      const series = (min: number, max: number) => fc.array(money(min, max), { minLength: slots, maxLength: slots });
      const site = fc.record({
        pools: fc.tuple(maybe(fc.integer({ min: 1, max: poolMax[0] }), options.busy ? 1 : 0.85), maybe(fc.integer({ min: 2, max: poolMax[1] }), options.busy ? 0.9 : 0.6), maybe(fc.integer({ min: 1, max: poolMax[2] }), options.busy ? 0.8 : 0.4)),
        pue: money(1, 1.6),
        price: series(0.3, 1.2),
        carbon: fc.array(fc.integer({ min: 100, max: 900 }), { minLength: slots, maxLength: slots }),
        renewable: fc.oneof(fc.constant(null), fc.array(fc.oneof(fc.constant(0), money(0, 6)), { minLength: slots, maxLength: slots })),
        renewablePrice: options.greenCheapest ? money(0.05, 0.29) : money(0.05, 0.6),
        renewableCarbon: fc.integer({ min: 0, max: 90 }),
        // Pools at their advertised speed, mostly; some slower or faster (jobs here compute in fp32).
        speeds: fc.tuple(...[0, 1, 2].map(() => fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(0.5, 0.8, 1.25) }))),
      });
      const pair = fc.tuple(fc.integer({ min: 0, max: nSites - 1 }), fc.integer({ min: 0, max: nSites - 1 }));
      // A spanning tree (each site joined to an earlier one), a link of it sometimes missing, plus extra links.
      const link = fc.record({ ends: pair, bandwidthGbps: fc.constantFrom(1, 10, 100), latencyMs: fc.integer({ min: 1, max: 80 }), cost: money(0, 0.1), energy: fc.integer({ min: 0, max: 30 }).map((x) => x / 1000) });
      // A spanning tree (each site joined to an earlier one; one in eight of its links missing), plus extra links.
      const tree = fc.tuple(...Array.from({ length: nSites - 1 }, (_, i) => fc.record({ link, to: fc.integer({ min: 0, max: i }), missing: fc.integer({ min: 0, max: 7 }).map((x) => x === 0) }).map(({ link: l, to, missing }) => ({ ...l, ends: [i + 1, to] as [number, number], missing }))));
      const job = fc.record({
        poolClass: fc.oneof({ weight: 3, arbitrary: fc.constant<PoolClass>('ai') }, { weight: 2, arbitrary: fc.constant<PoolClass>('general') }, { weight: 1, arbitrary: fc.constant<PoolClass>('hpc') }),
        units: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: options.busy ? 2 : 4 }) }, { weight: 1, arbitrary: fc.integer({ min: 3, max: 10 }) }),
        // Whole minutes, up to 4 slots: most are not a whole number of slots.
        durationMin: fc.integer({ min: 1, max: 4 * slotMinutes }),
        releaseMin: fc.integer({ min: -slotMinutes, max: Math.floor(slots * slotMinutes * 0.7) }),
        slackMin: fc.oneof({ weight: 1, arbitrary: fc.integer({ min: -30, max: slotMinutes }) }, { weight: 4, arbitrary: fc.integer({ min: 0, max: slots * slotMinutes }) }),
        origin: fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: nSites - 1 }).map((i) => `s${i}`) }, { weight: 1, arbitrary: fc.constant('elsewhere') }),
        inputGb: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 50 }) }, { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }) }),
        interruptible: options.interruptible === 'all' ? fc.constant(true) : options.interruptible === 'none' ? fc.constant(false) : fc.boolean(),
        allowed: maybe(fc.uniqueArray(fc.integer({ min: 0, max: nSites - 1 }), { minLength: 1, maxLength: nSites }), 0.15),
      });
      return fc.record({
        sites: fc.array(site, { minLength: nSites, maxLength: nSites }),
        tree,
        links: fc.array(link, { maxLength: nSites }),
        jobs: fc.array(job, { minLength: 1, maxLength: maxJobs }),
        nowMin: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 * slotMinutes })),
        committed: options.committed ? fc.array(fc.record({ site: fc.integer({ min: 0, max: nSites - 1 }), cls: fc.constantFrom(...CLASSES), units: fc.integer({ min: 1, max: 4 }), from: fc.integer({ min: 0, max: slots - 1 }), length: fc.integer({ min: 1, max: 4 }) }), { maxLength: 3 }) : fc.constant([]),
      }).map(({ sites, tree, links, jobs, nowMin, committed }) => {
        const builders = sites.map((s, i) => {
          const b = makeSite(`s${i}`).pue(s.pue).prices(s.price).carbonG(s.carbon);
          if (s.renewable) b.renewableKW(s.renewable, s.renewablePrice, s.renewableCarbon);
          s.pools.forEach((units, c) => units !== null && b.pool(CLASSES[c], units, POWER_W[CLASSES[c]], s.speeds[c] === 1 ? undefined : { fp32: s.speeds[c] }));
          return b;
        });
        const linkList: Link[] = [...tree.filter((t) => !t.missing), ...links]
          .filter((l) => l.ends[0] !== l.ends[1])
          .map((l) => makeLink(`s${l.ends[0]}`, `s${l.ends[1]}`, { bandwidthGbps: l.bandwidthGbps, latencyMs: l.latencyMs, costYuanPerGB: l.cost, energyKWhPerGB: l.energy }));
        const jobList: Job[] = jobs.map((j, i) => {
          const releaseMs = T0 + j.releaseMin * 60_000;
          const durationS = j.durationMin * 60;
          return {
            id: `j${String(i).padStart(2, '0')}`,
            tenant: 't',
            class: 'batch',
            poolClass: j.poolClass,
            units: j.units,
            durationS,
            releaseMs,
            deadlineMs: releaseMs + durationS * 1000 + j.slackMin * 60_000,
            origin: j.origin,
            inputGb: j.inputGb,
            interruptible: j.interruptible,
            allowedSites: j.allowed && j.allowed.map((k) => `s${k}`),
          };
        });
        const snapshot = snapshotOf(builders, linkList, jobList, { slotMinutes, slots });
        const committedUses: CommittedUse[] = [];
        for (const c of committed) {
          const site = snapshot.network.sites[c.site];
          const pool = site.pools.find((p) => p.class === c.cls);
          if (!pool) continue;
          const used = committedUses.filter((u) => u.siteId === site.id && u.poolId === pool.id);
          const range = Array.from({ length: Math.min(c.length, slots - c.from) }, (_, k) => c.from + k);
          // Committed work never exceeds a pool by itself.
          const units = Math.min(c.units, ...range.map((t) => pool.units - used.reduce((s, u) => s + (u.slots.includes(t) ? u.units : 0), 0)));
          if (units <= 0) continue;
          const kWh = (units * POWER_W[c.cls] * site.pue * (slotMinutes / 60)) / 1000;
          committedUses.push({ siteId: site.id, poolId: pool.id, units, slots: range, energyKWh: range.map(() => kWh) });
        }
        return { ...snapshot, nowMs: T0 + nowMin * 60_000, ...(options.committed ? { committed: committedUses } : {}) } satisfies Snapshot;
      });
    });
}

export const objectiveArb = fc.constantFrom('cost', 'carbon', 'green', 'cost=1,carbon=0.3', 'carbon=1,green=0.1');
