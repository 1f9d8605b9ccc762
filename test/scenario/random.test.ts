/** The seeded generator behind forecast noise. */
import { describe, expect, it } from 'vitest';
import { gaussian, hashSeed, mulberry32 } from '../../src/scenario/random.ts';

describe('seeded random numbers', () => {
  it('repeat for the same seed and differ for another', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('hash seeds from their parts', () => {
    expect(hashSeed(1, 'hami', 'renewableKW', 0)).toBe(hashSeed(1, 'hami', 'renewableKW', 0));
    expect(hashSeed(1, 'hami', 'renewableKW', 0)).not.toBe(hashSeed(1, 'hami', 'carbonGPerKWh', 0));
    expect(hashSeed('ab', 'c')).not.toBe(hashSeed('a', 'bc'));
  });

  it('give standard normal samples', () => {
    const uniform = mulberry32(7);
    const zs = Array.from({ length: 20_000 }, () => gaussian(uniform));
    const mean = zs.reduce((a, b) => a + b, 0) / zs.length;
    const variance = zs.reduce((a, z) => a + (z - mean) ** 2, 0) / zs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(variance).toBeGreaterThan(0.95);
    expect(variance).toBeLessThan(1.05);
  });
});
