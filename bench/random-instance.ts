/**
 * Seeded random dispatch instances for benchmarks and property tests: sites with solar-shaped
 * renewables, time-of-use prices and day-shaped carbon, and jobs with random size, window and origin.
 */
import type { Job, PoolClass } from '../src/core/model/types.ts';
import type { Snapshot } from '../src/core/dispatch/cycle.ts';
import { makeLink, makeSite, snapshotOf, T0, type SiteBuilder } from '../test/fixtures/scenario-builder.ts';
import { mulberry32 } from '../src/scenario/random.ts';

export interface InstanceShape {
  sites: number;
  slots: number;
  jobs: number;
  /** Share of jobs that may be interrupted (1 = all). */
  interruptibleShare: number;
  seed: number;
}

export function randomInstance(shape: InstanceShape): Snapshot {
  const rand = mulberry32(shape.seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const classes: PoolClass[] = ['ai', 'general', 'hpc'];
  const sites: SiteBuilder[] = [];
  for (let s = 0; s < shape.sites; s++) {
    const solarPeakKW = rand() < 0.5 ? 50 + rand() * 400 : rand() * 40;
    const offsetH = Math.floor(rand() * 3);
    const solar = Array.from({ length: 24 }, (_, h) => Math.max(0, Math.sin(((h - 6 - offsetH) / 12) * Math.PI)) * solarPeakKW);
    const price = Array.from({ length: 24 }, (_, h) => (h >= 8 && h < 11) || (h >= 17 && h < 22) ? 0.9 : h >= 23 || h < 7 ? 0.3 : 0.6).map((p) => p * (0.8 + rand() * 0.4));
    const base = 300 + rand() * 500;
    const carbon = Array.from({ length: 24 }, (_, h) => base * (1 - 0.2 * Math.max(0, Math.sin(((h - 6) / 12) * Math.PI))));
    // Pools and renewables grow with the number of jobs so that a site stays about as busy.
    const scale = Math.max(1, shape.jobs / 200);
    const site = makeSite(`s${s}`).prices(price).carbonG(carbon).renewableKW(solar.map((kw) => kw * scale), 0.25, 30).pue(1.1 + rand() * 0.4);
    site.pool('ai', Math.round((32 + Math.floor(rand() * 64)) * scale), 690 + 120);
    site.pool('general', Math.round((256 + Math.floor(rand() * 512)) * scale), 6);
    if (rand() < 0.6) site.pool('hpc', Math.round((16 + Math.floor(rand() * 48)) * scale), 450);
    sites.push(site);
  }
  const links = sites.slice(1).map((s, i) => makeLink(sites[Math.floor(rand() * (i + 1))].id, s.id, { bandwidthGbps: pick([10, 40, 100]), latencyMs: 5 + rand() * 30 }));
  const jobs: Job[] = [];
  const slotMs = 3_600_000;
  for (let j = 0; j < shape.jobs; j++) {
    const poolClass = pick(classes.slice(0, 2).concat(sites.some((s) => s.site().pools.some((p) => p.class === 'hpc')) ? ['hpc'] : []));
    const units = poolClass === 'ai' ? pick([1, 1, 2, 4, 8]) : poolClass === 'general' ? pick([4, 8, 16, 32]) : pick([1, 2, 4]);
    const durationS = Math.round((0.25 + rand() * 8) * 3600);
    const releaseMs = T0 + Math.floor(rand() * shape.slots * 0.6) * slotMs + Math.floor(rand() * 4) * 900_000;
    const slackMs = durationS * 1000 * (1 + rand() * 4) + 3_600_000 * (2 + rand() * 24);
    jobs.push({
      id: `j${String(j).padStart(5, '0')}`,
      tenant: `t${j % 7}`,
      class: poolClass === 'ai' ? 'training' : poolClass === 'hpc' ? 'hpc' : 'batch',
      poolClass,
      units,
      durationS,
      releaseMs,
      deadlineMs: releaseMs + slackMs,
      origin: pick(sites).id,
      inputGb: rand() < 0.3 ? 0 : Math.round(rand() * 500),
      interruptible: rand() < shape.interruptibleShare,
      allowedSites: rand() < 0.1 ? [pick(sites).id] : null,
    });
  }
  return snapshotOf(sites, links, jobs, { slots: shape.slots });
}
