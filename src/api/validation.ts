/**
 * Request validation with the routes' zod schemas (fastify's validator compiler, set in app.ts): a request part
 * that fails becomes one `KUMUL_VALIDATION` error naming every bad field as a path (`jobs[2].deadline`),
 * so a client can point at the exact value. Routes that check more than the schema can (sites of the network,
 * quotas) name fields with the same `fieldPath`.
 */
import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { validationError, type FieldError } from './errors.ts';

type Path = readonly PropertyKey[];

/** `['jobs', 2, 'deadline']` → `jobs[2].deadline`; the empty path is the request part itself (`body`, `query`). */
export function fieldPath(path: Path, part = 'body'): string {
  let text = '';
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : text === '' ? String(key) : `.${String(key)}`;
  return text === '' ? part : text;
}

function valueAt(data: unknown, path: Path): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Fields of zod issues, with messages a client can act on ("required", "unknown field"). */
export function fieldsOfIssues(issues: readonly z.core.$ZodIssue[], data: unknown, part: string): FieldError[] {
  const fields: FieldError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) fields.push({ field: fieldPath([...issue.path, key], part), message: 'unknown field' });
    } else if (issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(data, issue.path) === undefined) {
      fields.push({ field: fieldPath(issue.path, part), message: `required (${issue.expected})` });
    } else {
      fields.push({ field: fieldPath(issue.path, part), message: issue.message });
    }
  }
  return fields;
}

/** The object schema under transforms (`z.strictObject(...).transform(...)`), or null. */
function objectOf(schema: z.ZodType): z.ZodObject | null {
  if (schema instanceof z.ZodObject) return schema;
  if (schema instanceof z.ZodPipe) return objectOf(schema.in as z.ZodType);
  return null;
}

/**
 * For a union of objects (`POST /v1/jobs` takes one job or `{ jobs: [...] }`) the option whose fields the data
 * uses most: its own errors are the useful ones, not zod's "Invalid input" over all options.
 */
function closestOption(schema: z.ZodType, data: unknown): z.ZodType {
  if (!(schema instanceof z.ZodUnion) || data === null || typeof data !== 'object' || Array.isArray(data)) return schema;
  const keys = Object.keys(data);
  let best: z.ZodType = schema;
  let bestShared = -1;
  for (const option of schema.options as readonly z.ZodType[]) {
    const object = objectOf(option);
    if (!object) return schema;
    const shape = object.shape as Record<string, unknown>;
    const shared = keys.filter((k) => k in shape).length;
    if (shared > bestShared) [best, bestShared] = [option, shared];
  }
  return best;
}

const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'headers' };

/** Fastify's validator compiler for zod schemas: the parsed (and transformed) value, or a `KUMUL_VALIDATION` error. */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const part = PART_NAMES[httpPart ?? 'body'] ?? 'body';
  return (data: unknown) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    const issues = closestOption(schema, data).safeParse(data).error?.issues ?? result.error.issues;
    return { error: validationError(fieldsOfIssues(issues, data, part)) };
  };
};
