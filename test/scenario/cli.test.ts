/** `kumul scenario list | export | assumptions` as a user runs them. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TINY } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/kumul.js', import.meta.url));
const kumul = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('kumul scenario', () => {
  it('list names the built-in scenarios', () => {
    const r = kumul('scenario', 'list');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^hami\t/m);
  });

  it('export prints one JSON document on the requested grid', () => {
    const r = kumul('scenario', 'export', 'hami', '--start', '2026-06-03T00:00Z', '--slots', '8', '--slot-minutes', '30');
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ format: 'kumul-scenario-export', id: 'hami', start: '2026-06-03T00:00Z', slots: 8, slotMinutes: 30 });
    expect(doc.signals.urumqi.actual.carbonGPerKWh).toHaveLength(8);
  });

  it('export reads a scenario file by path', () => {
    const r = kumul('scenario', 'export', TINY);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).id).toBe('tiny');
  });

  it('assumptions prints what, value and why', () => {
    const r = kumul('scenario', 'assumptions', 'hami');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Host and server overhead per accelerator');
    expect(r.stdout).toContain('why:');
  });

  it.each([
    [['scenario', 'export', 'hami', '--slots', 'many'], "kumul: --slots must be a positive integer, got 'many'"],
    [['scenario', 'export', 'hami', '--slot-minutes', '0'], "kumul: --slot-minutes must be a positive integer, got '0'"],
    [['scenario', 'export', 'hami', '--start', 'tomorrow'], 'kumul: scenarios/hami/scenario.json: requested period.start: must be an ISO 8601 instant with a time zone'],
    [['scenario', 'export', 'nowhere'], "kumul: nowhere: unknown scenario 'nowhere'"],
    [['scenario', 'export', TINY, '--start', '2026-03-02T00:00Z'], 'no data covers 2026-03-02T00:00Z'],
    [['scenario', 'export'], "kumul: missing required argument 'scenario'"],
    [['scenario', 'export', 'hami', '--colour'], "kumul: unknown option '--colour'"],
    [['scenario', 'bogus'], "kumul: unknown command 'bogus'"],
  ])('bad input %j exits 2 with a message', (args, message) => {
    const r = kumul(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr.startsWith('kumul: ')).toBe(true);
  });
});
