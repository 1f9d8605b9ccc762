/**
 * Errors in an input file (a jobs file or a trace), each naming the line and column at fault.
 * Readers collect issues with `IssueCollector` and throw one `JobsFileError` listing them all;
 * the CLI prints its message, the API will return it with `code` and `httpStatus`.
 */

/** How many issues a `JobsFileError` lists; the rest are only counted. */
export const MAX_LISTED_ISSUES = 20;

export interface FileIssue {
  /** 1-based line in the file. */
  line: number;
  /** Header name of the column at fault; absent for whole-line problems. */
  column?: string;
  reason: string;
}

export class JobsFileError extends Error {
  readonly code = 'invalid_jobs_file';
  readonly httpStatus = 400;

  /** `issues` holds at most MAX_LISTED_ISSUES; `total` counts every issue found. */
  constructor(
    readonly file: string,
    readonly issues: FileIssue[],
    readonly total: number = issues.length,
  ) {
    const lines = issues.map((issue) => formatIssue(file, issue));
    if (total > issues.length) lines.push(`… and ${total - issues.length} more errors in ${file} (${total} in all)`);
    super(lines.join('\n'));
    this.name = 'JobsFileError';
  }
}

/** `jobs.csv line 7, column deadline: reason`. */
export function formatIssue(file: string, issue: FileIssue): string {
  return `${file} line ${issue.line}${issue.column === undefined ? '' : `, column ${issue.column}`}: ${issue.reason}`;
}

/** Gathers the issues of one file while reading it all; throws them in line order, the first MAX_LISTED_ISSUES listed. */
export class IssueCollector {
  private readonly issues: FileIssue[] = [];

  constructor(readonly file: string) {}

  add(issue: FileIssue): void {
    this.issues.push(issue);
  }

  get count(): number {
    return this.issues.length;
  }

  /** Throws a JobsFileError when any issue was added. */
  throwIfAny(): void {
    if (this.issues.length === 0) return;
    const sorted = [...this.issues].sort((a, b) => a.line - b.line);
    throw new JobsFileError(this.file, sorted.slice(0, MAX_LISTED_ISSUES), sorted.length);
  }
}

/** Thrown by a field parser; the reader turns it into a FileIssue for the field's line and column. */
export class FieldError extends Error {}
