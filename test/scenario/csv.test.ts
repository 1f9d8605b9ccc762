/** The CSV reader's number fast path parses exactly like Number(). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDecimal } from '../../src/scenario/csv.ts';

describe('parseDecimal', () => {
  it('equals Number() on plain decimals', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.integer({ min: 0, max: 6 }), (x, digits) => {
        const text = x.toFixed(digits);
        const parsed = parseDecimal(`,${text},`, 1, text.length + 1);
        return Number.isNaN(parsed) || Object.is(parsed, Number(text)) || (parsed === 0 && Number(text) === 0);
      }),
      { numRuns: 5000 },
    );
  });

  it.each(['0.1', '-0.05', '12', '690.3', '0.0001', '.5', '5.'])('parses %s', (text) => {
    expect(parseDecimal(text, 0, text.length)).toBe(Number(text));
  });

  it.each(['', '-', '1e3', ' 1', 'abc', '1.2.3', 'NaN', '1234567890123456'])('leaves %j to the general parser', (text) => {
    expect(parseDecimal(text, 0, text.length)).toBeNaN();
  });
});
