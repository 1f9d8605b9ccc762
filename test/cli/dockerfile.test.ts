/**
 * The Dockerfile, checked without Docker (no daemon here; no Dockerfile linter is packaged in Debian, and no parser is
 * among the project's dependencies): every instruction is one Docker knows and its JSON forms parse; the base is the
 * Node of package.json's engines; every COPY source exists and is not left out by .dockerignore, every COPY --from
 * names an earlier stage; the image runs as a user other than root; and what it runs is real — the command is
 * `kumul serve` with options `kumul serve --help` lists, started here with the image's environment (its store URL
 * moved to a temporary folder), and the HEALTHCHECK command itself answers 0 against it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKOUT, ROOT, exited, startServe, type ServeProcess } from '../support/serve-process.ts';

/** Every instruction of the Dockerfile reference. */
const INSTRUCTIONS = ['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL'];

interface Instruction {
  line: number;
  name: string;
  args: string;
}

/** The instructions of a Dockerfile: comments dropped, lines continued with a backslash joined. */
function parse(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: Instruction | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === null)) return;
    const continued = line.endsWith('\\');
    const body = continued ? line.slice(0, -1).trim() : line;
    if (pending) pending.args = `${pending.args} ${body}`.trim();
    else {
      const match = /^(\S+)\s*(.*)$/.exec(body)!;
      pending = { line: i + 1, name: match[1], args: match[2] };
    }
    if (!continued) {
      out.push(pending);
      pending = null;
    }
  });
  expect(pending, 'a continued line at the end').toBeNull();
  return out;
}

/** A JSON-form argument list (exec form); fails the test when it is not an array of strings. */
function execForm(args: string): string[] {
  const value: unknown = JSON.parse(args);
  expect(Array.isArray(value) && value.every((v) => typeof v === 'string'), args).toBe(true);
  return value as string[];
}

/** Whether a path of the build context, or a folder above it, is left out by .dockerignore (patterns of names and `*`). */
function ignored(path: string, patterns: string[]): boolean {
  const parts = path.replace(/\/$/, '').split('/');
  const matchers = patterns.map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`));
  return parts.some((_, i) => matchers.some((m) => m.test(parts.slice(0, i + 1).join('/'))));
}

const dockerfile = parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
/** The last stage's instructions: what the image is. */
const lastFrom = dockerfile.map((d) => d.name).lastIndexOf('FROM');
const image = dockerfile.slice(lastFrom);
const one = (name: string) => {
  const found = image.filter((d) => d.name === name);
  expect(found, name).toHaveLength(1);
  return found[0];
};
let server: ServeProcess | null = null;

afterAll(async () => {
  if (!server) return;
  server.child.kill('SIGTERM');
  await exited(server.child);
});

describe('Dockerfile', () => {
  it('has only instructions Docker knows, exec forms that parse, and a base with the Node of package.json', () => {
    for (const d of dockerfile) expect(INSTRUCTIONS, `line ${d.line}: ${d.name}`).toContain(d.name);
    expect(dockerfile[0].name).toBe('FROM');
    const { engines } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const major = /\d+/.exec(engines.node)![0];
    for (const from of dockerfile.filter((d) => d.name === 'FROM')) expect(from.args).toMatch(new RegExp(`^node:${major}-bookworm-slim( AS \\w+)?$`));
    for (const d of dockerfile.filter((x) => ['CMD', 'ENTRYPOINT'].includes(x.name) || (x.name === 'RUN' && x.args.startsWith('[')))) execForm(d.args);
  });

  it('copies only what exists in the build context and .dockerignore keeps, and from earlier stages', () => {
    const stages: string[] = [];
    for (const d of dockerfile) {
      if (d.name === 'FROM') stages.push(/ AS (\w+)$/.exec(d.args)?.[1] ?? '');
      if (d.name !== 'COPY' && d.name !== 'ADD') continue;
      const words = d.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='));
      const paths = words.filter((w) => !w.startsWith('--'));
      expect(paths.length, `line ${d.line}`).toBeGreaterThanOrEqual(2);
      if (from) {
        expect(stages.slice(0, -1), `line ${d.line}`).toContain(from.slice('--from='.length));
        continue;
      }
      for (const source of paths.slice(0, -1)) {
        expect(existsSync(join(ROOT, source)), `line ${d.line}: ${source}`).toBe(true);
        expect(ignored(source, dockerignore), `line ${d.line}: ${source} is in .dockerignore`).toBe(false);
      }
    }
    for (const heavy of ['node_modules', '.git', 'dist']) expect(ignored(heavy, dockerignore), heavy).toBe(true);
  });

  it('runs kumul serve as a user other than root, on the port it exposes, with its store on the volume', () => {
    const user = one('USER').args;
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(image.findIndex((d) => d.name === 'USER')).toBeLessThan(image.findIndex((d) => d.name === 'ENTRYPOINT'));
    const command = [...execForm(one('ENTRYPOINT').args), ...execForm(one('CMD').args)];
    expect(command.slice(0, 2)).toEqual(['kumul', 'serve']);
    const port = command[command.indexOf('--port') + 1];
    expect(one('EXPOSE').args).toBe(port);
    expect(command[command.indexOf('--host') + 1]).toBe('0.0.0.0');
    const db = /KUMUL_DB=(\S+)/.exec(one('ENV').args)?.[1];
    expect(db).toMatch(/^sqlite:/);
    expect(posix.dirname(db!.slice('sqlite:'.length))).toBe(one('VOLUME').args);
    // Every option of the command is one `kumul serve` has.
    const help = spawnSync(process.execPath, [join(ROOT, 'bin/kumul.js'), 'serve', '--help'], { encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    for (const option of command.filter((w) => w.startsWith('--'))) expect(help.stdout, option).toContain(`${option} `);
    expect(help.stdout).toContain('KUMUL_DB');
  });

  it('its command serves with its environment, and its HEALTHCHECK command answers 0 against it', async () => {
    const command = execForm(one('CMD').args);
    const store = join(mkdtempSync(join(tmpdir(), 'kumul-docker-')), 'kumul.db');
    // The image's command and environment, on port 0 and the loopback here, the store in a temporary folder.
    const args = command.slice(1).filter((w, i, all) => !['--port', '--host'].includes(w) && !['--port', '--host'].includes(all[i - 1]));
    server = await startServe([...args, '--no-demo'], 60_000, { ...CHECKOUT, env: { ...process.env, KUMUL_DB: `sqlite:${store}` } });
    expect(existsSync(store)).toBe(true);
    const healthcheck = one('HEALTHCHECK').args;
    expect(healthcheck).toMatch(/^(--\w[\w-]*=\S+\s+)*CMD \[/);
    const probe = execForm(healthcheck.slice(healthcheck.indexOf('CMD ') + 4));
    const port = one('EXPOSE').args;
    expect(probe.join(' ')).toContain(`http://127.0.0.1:${port}/healthz`);
    const here = probe.map((w) => w.replace(`http://127.0.0.1:${port}`, server!.url));
    expect(spawnSync(here[0] === 'node' ? process.execPath : here[0], here.slice(1)).status).toBe(0);
    server.child.kill('SIGTERM');
    await exited(server.child);
    // Once the service is gone, the same command fails.
    expect(spawnSync(process.execPath, here.slice(1)).status).toBe(1);
  });
});
