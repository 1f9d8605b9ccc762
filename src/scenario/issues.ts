/**
 * Turns zod validation issues into ScenarioIssues with readable paths and reasons.
 * Used by the scenario loader and the export reader.
 */
import type { z } from 'zod';
import { formatJsonPath, type ScenarioIssue } from './errors.ts';

type Issue = z.core.$ZodIssue;

/** Readable issues from a failed zod parse. */
export function issuesFromZod(error: z.ZodError): ScenarioIssue[] {
  return error.issues.flatMap((issue) => readable(issue, []));
}

function readable(issue: Issue, prefix: PropertyKey[]): ScenarioIssue[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // Report the branch that matched the value's type and failed deeper inside, if exactly one did.
    const deeper = issue.errors.filter((branch) => !branch.some((i) => i.path.length === 0 && i.code === 'invalid_type'));
    if (deeper.length === 1) return deeper[0].flatMap((i) => readable(i, path));
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: formatJsonPath([...path, key]), reason: 'unknown field' }));
  }
  let reason = issue.message;
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) reason = 'is required';
    else if (reason.startsWith('Invalid input')) reason = `must be ${article(issue.expected)}`;
  } else if (issue.code === 'invalid_value' && reason.startsWith('Invalid input')) {
    reason = `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
  }
  return [{ path: formatJsonPath(path), reason }];
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
