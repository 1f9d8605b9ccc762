import { readFileSync } from 'node:fs';
import { relative, isAbsolute } from 'node:path';

/** One problem found in a scenario: where (a JSON path such as `sites[2].pools[0].units`, may be empty) and why. */
export interface ScenarioIssue {
  path: string;
  reason: string;
}

const MAX_LISTED_ISSUES = 20;

/**
 * A scenario file (or a CSV file it reads) is invalid. Thrown by `loadScenario` and
 * `scenarioFromExportJson`; the CLI prints its message as `kumul: <message>`.
 * Every line of the message reads `<file>: <JSON path>: <reason>`.
 */
export class ScenarioError extends Error {
  readonly file: string;
  readonly issues: ScenarioIssue[];

  constructor(file: string, issues: ScenarioIssue[]) {
    const shown = displayPath(file);
    const lines = issues.slice(0, MAX_LISTED_ISSUES).map((i) => [shown, i.path, i.reason].filter((s) => s !== '').join(': '));
    if (issues.length > MAX_LISTED_ISSUES) lines.push(`${shown}: … and ${issues.length - MAX_LISTED_ISSUES} more problems`);
    super(lines.join('\n'));
    this.name = 'ScenarioError';
    this.file = shown;
    this.issues = issues;
  }
}

/** Throws a ScenarioError with a single issue; used by the loader and resolvers. */
export function fail(file: string, path: string, reason: string): never {
  throw new ScenarioError(file, [{ path, reason }]);
}

/** A file path as users see it: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** Formats a JSON path (`['sites', 2, 'pools', 0, 'units']`) as `sites[2].pools[0].units`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$-]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** Reads a text file; a missing or unreadable file calls `onError` with the reason. Used for scenario and CSV files. */
export function readTextFile(path: string, onError: (reason: string) => never): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    return onError((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`);
  }
}
