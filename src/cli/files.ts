/** Reading and writing the files CLI commands are given; failures become CliErrors naming the file. */
import { createReadStream, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Job } from '../core/model/types.ts';
import { parseJobsCsv, type ParseJobsOptions } from '../jobs/jobs-file.ts';
import { CliError } from './errors.ts';
import { userInput } from './options.ts';

export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${describeFsError(err)}`);
  }
}

/** Reads `file` as a stream through `read` (jobs files and traces can be large: never held whole); failing to read it is a CliError as in readText. */
export async function readStreamed<T>(file: string, read: (input: Readable) => Promise<T>): Promise<T> {
  try {
    return await read(createReadStream(file));
  } catch (err) {
    if (typeof (err as NodeJS.ErrnoException).syscall === 'string') throw new CliError(`cannot read ${file}: ${describeFsError(err)}`);
    throw err;
  }
}

/** The jobs of a jobs file, streamed; a bad file is a CliError listing its problems. For plan, simulate, jobs stats and jobs submit. */
export function readJobsFile(file: string, opts: ParseJobsOptions = {}): Promise<Job[]> {
  return userInput(() => readStreamed(file, (input) => parseJobsCsv(input, file, opts)));
}

/** Writes through a temporary file and a rename, so `file` is never left half-written. */
export function writeTextAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (err) {
    throw new CliError(`cannot write ${file}: ${describeFsError(err)}`);
  }
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}
