/**
 * How the OpenAPI document is made (registered by app.ts): @fastify/swagger collects the routes, and
 * fastify-type-provider-zod turns their zod schemas into JSON Schema. Named schemas (`.meta({ id })`) become
 * components; those no route refers to (zod registers an input and an output variant of each) are dropped.
 */
import type { SwaggerOptions } from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

type Document = ReturnType<typeof jsonSchemaTransformObject>;

/** Names of the components `value` refers to, followed through the components themselves. */
function referenced(value: unknown, components: Record<string, unknown>, seen = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => referenced(v, components, seen));
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
        const name = v.slice('#/components/schemas/'.length);
        if (!seen.has(name)) {
          seen.add(name);
          referenced(components[name], components, seen);
        }
      } else referenced(v, components, seen);
    }
  }
  return seen;
}

function transformObject(input: Parameters<typeof jsonSchemaTransformObject>[0]): Document {
  const doc = jsonSchemaTransformObject(input) as Document & { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
  const schemas = doc.components?.schemas;
  if (!schemas) return doc;
  const used = referenced(doc.paths, schemas);
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  return { ...doc, components: { ...doc.components, schemas: kept } } as Document;
}

export function swaggerOptions(version: string): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Kumul API',
        version,
        description: 'Submit computing jobs to a green computing-power network and see where, when and why they run, what they cost and emit.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key: kml_ and 43 characters' } } },
      tags: [
        { name: 'jobs', description: 'Tenant routes: submit and follow jobs' },
        { name: 'bills', description: 'Monthly metering per tenant' },
        { name: 'tenants', description: 'Operator routes: tenants, quotas, API keys' },
        { name: 'network', description: 'Operator routes: the sites and links jobs run on' },
        { name: 'dashboard', description: "The web dashboard's views and live events: aggregates only, no key" },
        { name: 'probes', description: 'Operator routes: computing-power testing, measured against advertised peaks' },
        { name: 'carbon-aware', description: "The Green Software Foundation Carbon Aware SDK WebAPI (v1): its paths and shapes over Kumul's sites (docs/carbon-aware-api.md); no key" },
        { name: 'operations', description: 'Health, metrics and this documentation' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject,
  };
}
