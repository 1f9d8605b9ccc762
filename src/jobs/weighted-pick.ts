/**
 * Deterministic weighted choice by a stable hash of a name: the same name always gets the same choice,
 * on every machine and run, independent of the other names. The trace importers use it to give
 * pods an origin site and a tenant without randomness.
 */
import { FieldError } from './errors.ts';
import { quoted } from './fields.ts';

export interface WeightedSite {
  site: string;
  weight: number;
}

/** 32-bit FNV-1a of the UTF-8 bytes, finished with MurmurHash3's fmix32 so near-identical names spread evenly. */
export function stableHash32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The entry `name` falls on when [0, 1) is cut in proportion to the weights. */
export function pickWeighted<T extends { weight: number }>(name: string, entries: readonly T[]): T {
  const total = entries.reduce((sum, e) => sum + e.weight, 0);
  const point = (stableHash32(name) / 2 ** 32) * total;
  let cumulative = 0;
  for (const entry of entries) {
    cumulative += entry.weight;
    if (point < cumulative) return entry;
  }
  return entries[entries.length - 1];
}

/** `hami:0.3|beijing:0.2|chongqing` (a missing weight is 1) as weighted sites; a FieldError says what is wrong. */
export function parseWeightedSites(text: string): WeightedSite[] {
  const entries = text.split('|').map((part) => {
    const [site, weightText, ...rest] = part.trim().split(':');
    if (site === '' || /\s/.test(site) || rest.length > 0) throw new FieldError(`${quoted(part)} is not a site id with an optional :weight`);
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (weightText === '' || !Number.isFinite(weight) || weight <= 0) throw new FieldError(`weight of ${site} (${quoted(weightText ?? '')}) is not a positive number`);
    return { site, weight };
  });
  const repeated = entries.find((e, i) => entries.findIndex((o) => o.site === e.site) !== i);
  if (repeated !== undefined) throw new FieldError(`${repeated.site} is listed twice`);
  return entries;
}
