/** Reading and writing the files CLI commands are given; failures become CliErrors naming the file. */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { CliError } from './errors.ts';

export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${describeFsError(err)}`);
  }
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
