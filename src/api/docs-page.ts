/**
 * `GET /docs`: a small, self-contained HTML page listing every route of the OpenAPI document (method, path,
 * summary, auth, parameters, body fields). No scripts, styles or fonts from elsewhere: it works offline.
 */
import type { OpenAPIV3 } from 'openapi-types';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

type Schema = OpenAPIV3.SchemaObject | OpenAPIV3.ReferenceObject;

function typeOf(schema: Schema | undefined, doc: OpenAPIV3.Document): string {
  if (!schema) return '';
  if ('$ref' in schema) return schema.$ref.split('/').pop() ?? '';
  if (schema.enum) return schema.enum.map(String).join(' | ');
  const nullable = schema.nullable ? ' | null' : '';
  if (schema.type === 'array') return `${typeOf(schema.items, doc)}[]${nullable}`;
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return alternatives.map((s) => typeOf(s, doc)).join(' | ');
  return `${schema.type ?? 'any'}${schema.format ? ` (${schema.format})` : ''}${nullable}`;
}

/** A schema with a `$ref` to a component followed. */
function resolve(schema: Schema | undefined, doc: OpenAPIV3.Document): OpenAPIV3.SchemaObject | undefined {
  if (!schema || !('$ref' in schema)) return schema;
  const target = doc.components?.schemas?.[schema.$ref.split('/').pop() ?? ''];
  return target && !('$ref' in target) ? target : undefined;
}

function describeOf(schema: Schema | undefined): string {
  return schema && !('$ref' in schema) ? (schema.description ?? '') : '';
}

function row(cells: string[]): string {
  return `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
}

function parametersTable(op: OpenAPIV3.OperationObject, doc: OpenAPIV3.Document): string {
  const rows: string[] = [];
  for (const p of (op.parameters ?? []) as OpenAPIV3.ParameterObject[]) {
    rows.push(row([p.name, p.in, p.required ? 'yes' : 'no', typeOf(p.schema, doc), p.description ?? describeOf(p.schema)]));
  }
  const body = (op.requestBody as OpenAPIV3.RequestBodyObject | undefined)?.content?.['application/json']?.schema;
  const top = resolve(body, doc);
  for (const option of top ? (top.anyOf ?? top.oneOf ?? [top]) : []) {
    const object = resolve(option, doc);
    if (!object) continue;
    const required = new Set(object.required ?? []);
    for (const [name, schema] of Object.entries(object.properties ?? {})) {
      rows.push(row([name, 'body', required.has(name) ? 'yes' : 'no', typeOf(schema, doc), describeOf(schema)]));
    }
  }
  if (rows.length === 0) return '';
  return `<table><thead><tr><th>name</th><th>in</th><th>required</th><th>type</th><th>description</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderDocsPage(doc: OpenAPIV3.Document): string {
  const sections: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item?.[method];
      if (!op) continue;
      const auth = op.security && op.security.length > 0 ? 'API key' : 'none';
      sections.push(
        `<section id="${escapeHtml(`${method}-${path}`)}"><h2><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h2>` +
          `<p>${escapeHtml(op.summary ?? '')}</p>${op.description ? `<p class="d">${escapeHtml(op.description)}</p>` : ''}` +
          `<p class="a">auth: ${escapeHtml(auth)} · responses: ${escapeHtml(Object.keys(op.responses ?? {}).join(', '))}</p>${parametersTable(op, doc)}</section>`,
      );
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.info.title)} ${escapeHtml(doc.info.version)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2327}
h2{font-size:1.05rem;margin:1.6rem 0 .3rem}code{font-size:.95rem}
.m{display:inline-block;min-width:4.2rem;font-size:.8rem;padding:.1rem .4rem;border-radius:3px;color:#fff;text-align:center;background:#555}
.get{background:#1f6feb}.post{background:#2da44e}.patch{background:#bf8700}.delete{background:#cf222e}
.a,.d{color:#57606a;font-size:.9rem;margin:.2rem 0}table{border-collapse:collapse;font-size:.88rem;margin:.4rem 0}
td,th{border:1px solid #d0d7de;padding:.2rem .5rem;text-align:left;vertical-align:top}
</style></head><body>
<h1>${escapeHtml(doc.info.title)} <small>${escapeHtml(doc.info.version)}</small></h1>
<p>${escapeHtml(doc.info.description ?? '')}</p>
<p>The OpenAPI document: <a href="openapi.json">/openapi.json</a>. Authenticated routes take <code>Authorization: Bearer &lt;key&gt;</code>.</p>
${sections.join('\n')}
</body></html>
`;
}
