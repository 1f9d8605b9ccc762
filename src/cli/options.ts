/**
 * Reading command-line values the same way in every command: numbers and instants with a message
 * naming the option, and steps whose failures are the user's input (a bad scenario, jobs file, backup file,
 * objective or policy) turned into CliErrors; anything else is a bug and keeps its stack.
 */
import { ScenarioError } from '../scenario/index.ts';
import { JobsFileError } from '../jobs/errors.ts';
import { BackupInputError } from '../backup/load.ts';
import { parseInstantMs } from '../jobs/instant.ts';
import { CliError } from './errors.ts';
import { POWER_POLICIES, type PowerPolicy, type PowerPolicyName } from '../core/energy/idle.ts';

export function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new CliError(`${name}: '${text}' must be a positive integer`);
  return n;
}

/** A finite number ≥ `min` (or > `min` when `exclusive`). */
export function numberAtLeast(name: string, text: string, min: number, exclusive = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || (exclusive && n === min)) throw new CliError(`${name}: '${text}' must be a number ${exclusive ? '>' : '≥'} ${min}`);
  return n;
}

/**
 * `--power always-on|sleep` and `--reserve SHARE` (plan, serve): how idle nodes are powered; under sleep, plans
 * pack work so that idle nodes sleep, and the service puts them to sleep (src/core/energy/idle.ts).
 */
export function powerPolicy(policy: string, reserve: string): PowerPolicy {
  if (!(POWER_POLICIES as readonly string[]).includes(policy)) throw new CliError(`--power: '${policy}' must be one of ${POWER_POLICIES.join(', ')}`);
  const reserveShare = numberAtLeast('--reserve', reserve, 0);
  if (reserveShare > 1) throw new CliError(`--reserve: '${reserve}' must be a share of a pool's nodes, from 0 to 1`);
  return { policy: policy as PowerPolicyName, reserveShare };
}

export function instant(name: string, text: string): number {
  const ms = parseInstantMs(text);
  if (ms === null) throw new CliError(`${name}: '${text}' is not an ISO 8601 instant with Z or an offset`);
  return ms;
}

/** Runs a step that reads the user's input, at once or as a promise; its expected failures become CliErrors. */
export function userInput<T>(step: () => T): T {
  try {
    const result = step();
    return (result instanceof Promise ? result.catch(asCliError) : result) as T;
  } catch (err) {
    return asCliError(err);
  }
}

function asCliError(err: unknown): never {
  // Plain `Error`s are the planning helpers' refusals of a bad objective or policy (src/planning/plan-jobs.ts).
  if (err instanceof ScenarioError || err instanceof JobsFileError || err instanceof BackupInputError || (err instanceof Error && err.constructor === Error)) throw new CliError(err.message);
  throw err;
}
