/**
 * Writes the JSON Schemas generated from the zod schemas into docs/:
 *
 *   node --import tsx scripts/write-schemas.ts
 *
 * test/scenario/schema-files.test.ts checks that the committed files equal what this generates.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ExportSchema } from '../src/scenario/export.ts';
import { schemaRegistry } from '../src/scenario/schema-parts.ts';
import { ScenarioFileSchema } from '../src/scenario/schema.ts';
import { PlanSchema } from '../src/planning/plan-schema.ts';
import { DatasetsFileSchema, EndpointsFileSchema, PoliciesFileSchema } from '../src/backup/schema.ts';
import { BackupPlanSchema } from '../src/backup/plan-document.ts';
import { DemandFileSchema, ServicesFileSchema } from '../src/services/files.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function jsonSchema(schema: z.ZodType, id: string, title: string): string {
  const generated = z.toJSONSchema(schema, { metadata: schemaRegistry, io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ $id: id, title, ...generated }, null, 2)}\n`;
}

/** The schema files of the repository, by path relative to its root. */
export function schemaDocuments(): Record<string, string> {
  return {
    'docs/scenario.schema.json': jsonSchema(ScenarioFileSchema, 'https://kumul.dev/schemas/scenario-v1.json', 'Kumul scenario file, version 1'),
    'docs/scenario-export.schema.json': jsonSchema(ExportSchema, 'https://kumul.dev/schemas/scenario-export-v1.json', 'Kumul scenario export document, version 1'),
    'docs/plan.schema.json': jsonSchema(PlanSchema, 'https://kumul.dev/schemas/plan-v1.json', 'Kumul plan document, version 1'),
    'docs/backup-datasets.schema.json': jsonSchema(DatasetsFileSchema, 'https://kumul.dev/schemas/backup-datasets-v1.json', 'Kumul backup datasets file, version 1'),
    'docs/backup-policies.schema.json': jsonSchema(PoliciesFileSchema, 'https://kumul.dev/schemas/backup-policies-v1.json', 'Kumul backup policies file, version 1'),
    'docs/backup-endpoints.schema.json': jsonSchema(EndpointsFileSchema, 'https://kumul.dev/schemas/backup-endpoints-v1.json', 'Kumul backup storage endpoints file, version 1'),
    'docs/backup-plan.schema.json': jsonSchema(BackupPlanSchema, 'https://kumul.dev/schemas/backup-plan-v1.json', 'Kumul backup plan document, version 1'),
    'docs/services.schema.json': jsonSchema(ServicesFileSchema, 'https://kumul.dev/schemas/services-v1.json', 'Kumul services file, version 1'),
    'docs/demand.schema.json': jsonSchema(DemandFileSchema, 'https://kumul.dev/schemas/demand-v1.json', 'Kumul demand file, version 1'),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [path, content] of Object.entries(schemaDocuments())) {
    writeFileSync(join(ROOT, path), content);
    console.log(`wrote ${path}`);
  }
}
