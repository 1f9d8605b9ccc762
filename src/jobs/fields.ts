/**
 * Parsers of single CSV fields: each returns the value or throws a FieldError whose message is the reason
 * (the table reader adds file, line and column). Shared by the jobs file and the trace importers.
 */
import { FieldError } from './errors.ts';
import { parseInstantMs } from './instant.ts';

/** Plain decimal notation, optionally with an exponent; no hex, no Infinity, no blanks. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** `text` in single quotes for an error message, control characters escaped so the message stays on one line. */
export function quoted(text: string): string {
  return `'${text.replace(/\p{Cc}/gu, (c) => JSON.stringify(c).slice(1, -1))}'`;
}

/** A name such as an id or tenant: not empty, no control characters. */
export function name(text: string): string {
  if (text === '') throw new FieldError('is empty');
  if (/\p{Cc}/u.test(text)) throw new FieldError(`${quoted(text)} contains a control character`);
  return text;
}

/** The finite number written in `text` when it is one and passes `ok`; otherwise a FieldError "'text' is not <what>". */
function checkedNumber(text: string, what: string, ok: (value: number) => boolean, pattern = DECIMAL): number {
  const value = Number(text);
  if (!pattern.test(text) || !Number.isFinite(value) || !ok(value)) throw new FieldError(`${quoted(text)} is not ${what}`);
  return value + 0; // turns -0 into 0
}

const INTEGER = /^\+?\d+$/;

export function positiveNumber(text: string): number {
  return checkedNumber(text, 'a positive number', (v) => v > 0);
}

export function nonNegativeNumber(text: string): number {
  return checkedNumber(text, 'a number ≥ 0', (v) => v >= 0);
}

export function positiveInteger(text: string): number {
  return checkedNumber(text, 'a positive integer', (v) => v > 0 && Number.isSafeInteger(v), INTEGER);
}

export function nonNegativeInteger(text: string): number {
  return checkedNumber(text, 'an integer ≥ 0', Number.isSafeInteger, INTEGER);
}

export function boolean(text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new FieldError(`${quoted(text)} is not true or false`);
}

/** A parser accepting exactly one of `values`. */
export function oneOf<T extends string>(values: readonly T[]): (text: string) => T {
  return (text) => {
    if ((values as readonly string[]).includes(text)) return text as T;
    throw new FieldError(`${quoted(text)} is not one of ${values.join('|')}`);
  };
}

/** Epoch ms of an ISO 8601 instant with `Z` or an offset. */
export function instantMs(text: string): number {
  const ms = parseInstantMs(text);
  if (ms === null) throw new FieldError(`${quoted(text)} is not an ISO 8601 UTC instant (e.g. 2026-06-01T03:00Z; a Z or offset is required)`);
  return ms;
}

/** A site id; when `siteIds` is given it must be one of them. */
export function siteId(text: string, siteIds?: readonly string[]): string {
  name(text);
  if (/[|\s]/.test(text)) throw new FieldError(`${quoted(text)} is not a site id (no spaces or |)`);
  if (siteIds !== undefined && !siteIds.includes(text)) throw new FieldError(`${quoted(text)} is not a known site (${siteIds.join(', ')})`);
  return text;
}

/** `|`-separated site ids, distinct; empty means any site (null). */
export function siteList(text: string, siteIds?: readonly string[]): string[] | null {
  if (text === '') return null;
  const ids = text.split('|').map((part) => part.trim());
  if (ids.includes('')) throw new FieldError(`${quoted(text)} has an empty site id between |`);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated !== undefined) throw new FieldError(`${quoted(text)} lists ${repeated} twice`);
  return ids.map((id) => siteId(id, siteIds));
}
