/** The Azure LLM trace reader behind `kumul demand token-mix` and the simulator's bursts (src/services/demand-import.ts). */
import { describe, expect, it } from 'vitest';
import { tokenMixOf } from '../../src/services/demand-import.ts';

const HEAD = 'TIMESTAMP,ContextTokens,GeneratedTokens\n';

describe('tokenMixOf', () => {
  it('averages input and output tokens per request and counts requests per minute', () => {
    const text = HEAD + '2023-11-16 18:15:46.6805900,100,10\n2023-11-16 18:16:46.6805900,300,30\n2023-11-16 18:17:46.6805900,200,20\n';
    expect(tokenMixOf(text, 't.csv')).toEqual({ inputTokens: 200, outputTokens: 20, requests: 3, requestsPerMinute: 1.5 });
  });

  it('names the file and line of a value it cannot read, and a missing column', () => {
    expect(() => tokenMixOf(HEAD + '2023-11-16 18:15:46.68,100,10\n2023-11-16 18:16:46.68,lots,10\n', 't.csv')).toThrow('t.csv line 3: cannot read TIMESTAMP, ContextTokens and GeneratedTokens');
    expect(() => tokenMixOf('TIMESTAMP,ContextTokens\n', 't.csv')).toThrow('t.csv: needs column GeneratedTokens; found TIMESTAMP, ContextTokens');
  });
});
