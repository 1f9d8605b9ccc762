/**
 * `kumul --version` prints the package's version; `kumul completion bash` prints a script that bash accepts and that
 * completes subcommands and options from the program's own command tree (run in a real bash), and names the field
 * of an unsupported shell.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const kumul = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/kumul.js'), ...args], { cwd: ROOT, encoding: 'utf8' });

describe('kumul --version and completion', () => {
  it('prints the version of package.json', () => {
    const run = kumul('--version');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('completes subcommands, their subcommands and options in bash, and file names after an option that takes one', () => {
    const run = kumul('completion', 'bash');
    expect(run.status, run.stderr).toBe(0);
    const script = join(mkdtempSync(join(tmpdir(), 'kumul-completion-')), 'kumul.bash');
    writeFileSync(script, run.stdout);
    expect(spawnSync('bash', ['-n', script]).status).toBe(0);
    const complete = (...words: string[]) => {
      const line = words.map((w) => `'${w}'`).join(' ');
      const out = spawnSync('bash', ['-c', `source ${script}; COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _kumul; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
      return out.stdout.split('\n').filter(Boolean);
    };
    expect(complete('kumul', 'sim')).toEqual(['simulate']);
    expect(complete('kumul', 'scenario', '')).toEqual(expect.arrayContaining(['list', 'assumptions', 'export']));
    expect(complete('kumul', 'plan', '--obj')).toEqual(['--objective']);
    expect(complete('kumul', 'serve', '--db', 'x', '--new-dep')).toEqual(['--new-deployment-id']);
    expect(complete('kumul', 'plan', '--jobs', '')).toEqual([]);
  });

  it('refuses a shell it does not support, naming it', () => {
    const run = kumul('completion', 'fish');
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('kumul: completion: shell "fish" is not supported (bash is)\n');
  });
});
