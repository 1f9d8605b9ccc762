/** parseObjective: named objectives, weighted mixes, and errors that name the bad part. */
import { describe, expect, it } from 'vitest';
import { parseObjective } from '../../src/core/dispatch/objective.ts';
import { builtinRegistry } from '../../src/core/dispatch/plugins/index.ts';

const known = builtinRegistry().scoreNames();
const parse = (text: string) => parseObjective(text, known);

describe('parseObjective: valid objectives', () => {
  it('knows every built-in score plugin', () => {
    expect([...known].sort()).toEqual(['carbon', 'cost', 'green']);
  });

  it.each([
    ['cost', { cost: 1 }],
    ['carbon', { carbon: 1 }],
    ['green', { green: 1 }],
    ['cost=1,carbon=0.2', { cost: 1, carbon: 0.2 }],
    ['carbon=2', { carbon: 2 }],
    ['green=1,cost=0', { green: 1, cost: 0 }],
    ['cost=0.5,carbon=0.1,green=3', { cost: 0.5, carbon: 0.1, green: 3 }],
    [' cost = 1 , carbon = 0.25 ', { cost: 1, carbon: 0.25 }],
    ['cost=1e-3', { cost: 0.001 }],
  ])('%j → %j', (text, weights) => {
    const parsed = parse(text);
    expect(parsed).toEqual({ name: text, weights });
  });

  it('returns weights a profile can use: every key is a registered score with a finite weight ≥ 0', () => {
    for (const text of ['cost', 'carbon', 'green', 'cost=1,carbon=0.2']) {
      const parsed = parse(text);
      if ('error' in parsed) throw new Error(parsed.error);
      for (const [name, weight] of Object.entries(parsed.weights)) {
        expect(known).toContain(name);
        expect(Number.isFinite(weight) && weight >= 0).toBe(true);
      }
      expect(Object.values(parsed.weights).some((w) => w > 0)).toBe(true);
    }
  });
});

describe('parseObjective: bad input is an error value naming the bad part', () => {
  it.each([
    // text, fragments the message must contain
    ['', ["''"]],
    ['price', ["'price'", 'cost', 'name=weight']],
    ['Cost', ["'Cost'"]],
    ['cost,carbon', ["'cost'", 'name=weight']],
    ['cost=1,', ["''"]],
    ['speed=1', ["unknown score 'speed'", 'known: cost, carbon, green']],
    ['=1', ['unknown score']],
    ['cost=abc', ["weight of 'cost'", '≥ 0']],
    ['cost=-1', ["weight of 'cost'", '≥ 0']],
    ['cost=1e400', ["weight of 'cost'"]],
    ['cost=NaN', ["weight of 'cost'"]],
    ['carbon=Infinity', ["weight of 'carbon'"]],
    ['cost=0', ['at least one weight must be > 0']],
    ['cost=0,carbon=0', ['at least one weight must be > 0']],
  ])('%j', (text, fragments) => {
    const parsed = parse(text);
    expect(parsed).toHaveProperty('error');
    const { error } = parsed as { error: string };
    expect(error).toContain(`objective '${text}'`);
    for (const f of fragments) expect(error).toContain(f);
  });

  it('never throws, whatever the text', () => {
    for (const text of [',', '==', 'cost==1', ',,,', '=', 'cost=1,,carbon=1', '\u0000', 'cost=1;carbon=2']) expect(() => parse(text)).not.toThrow();
  });
});

/**
 * Malformed inputs the parser once accepted, so that the mistaken objective was planned silently
 * instead of being refused.
 */
describe('parseObjective: malformed input that must not be accepted', () => {
  it.each([
    // An empty weight reads as Number('') = 0: 'cost=,carbon=1' silently drops cost.
    ['cost=,carbon=1'],
    // Text after a second '=' is ignored: 'cost=1=2' reads as cost=1.
    ['cost=1=2'],
    // The same score twice: the last silently wins.
    ['cost=1,cost=2'],
  ])('%j is an error', (text) => {
    expect(parse(text)).toHaveProperty('error');
  });

  it.each(['constructor', '__proto__'])('%j (a property of every object) is not a named objective', (text) => {
    // NAMED_OBJECTIVES[text] finds Object.prototype members, so these parse to an objective with no weights at all.
    const parsed = parse(text);
    expect(parsed).toHaveProperty('error');
  });
});
