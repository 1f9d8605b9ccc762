/**
 * Starts the real `kumul serve` as a child process for integration tests (port 0, the caller's store and
 * data directory) and reads the URL and, on a first start, the operator key it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Null on a restart (the key is printed on the first start only). */
  operatorKey: string | null;
  /** The store's deployment id, as the serving line prints it: the first part of every run's name. */
  deploymentId: string;
  /** What the process wrote to stderr so far (for failure messages). */
  stderr(): string;
}

/** How to run kumul: the command and its first arguments, the working folder and the environment. */
export interface KumulLaunch {
  command: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/** This checkout's bin/kumul.js from the repository's root. */
export const CHECKOUT: KumulLaunch = { command: [process.execPath, join(ROOT, 'bin/kumul.js')], cwd: ROOT };

/** Spawns `kumul serve --port 0 …args` (this checkout's, or another install's: test/cli/package.test.ts) and resolves once it listens. */
export function startServe(args: string[], timeoutMs = 90_000, launch: KumulLaunch = CHECKOUT): Promise<ServeProcess> {
  const [command, ...first] = launch.command;
  const child = spawn(command, [...first, 'serve', '--port', '0', ...args], { cwd: launch.cwd, env: launch.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (b) => (err += String(b)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}${err}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}): ${out}${err}`));
    });
    child.stdout!.on('data', (b) => {
      out += String(b);
      const url = /serving at (http:\/\/\S+)/.exec(out);
      if (!url || !out.includes('\n', url.index)) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ child, url: url[1], operatorKey: /Operator API key[^:]*: (kml_\S+)/.exec(out)?.[1] ?? null, deploymentId: /\(deployment ([a-z2-7]+),/.exec(out)?.[1] ?? '', stderr: () => err });
    });
  });
}

/** Resolves when the process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port of 127.0.0.1 free now (for servers a test starts that cannot listen on port 0: haproxy, PostgreSQL). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
