/** The table main.ts loads commands by (src/cli/registrars.ts) names exactly the top-level commands each file adds. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { REGISTRARS } from '../../src/cli/registrars.ts';

describe('the registrars table', () => {
  it.each(REGISTRARS.map((r) => [r.commands.join(', '), r] as const))('lists what its file adds: %s', async (_, r) => {
    const program = new Command();
    (await r.load())(program);
    expect(program.commands.map((c) => c.name()).sort()).toEqual([...r.commands].sort());
  });

  it('covers every command once per file that adds to it, and help lists them all', async () => {
    const program = new Command();
    for (const r of REGISTRARS) (await r.load())(program);
    const names = program.commands.map((c) => c.name());
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual([...new Set(REGISTRARS.flatMap((r) => r.commands))].sort());
  });
});
