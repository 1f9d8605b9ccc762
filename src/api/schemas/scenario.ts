/**
 * Bodies and answers of the operator's scenario routes (routes/scenario.ts). Sites and links reuse the scenario
 * file format's own zod schemas (src/scenario), so a body is checked field by field exactly as a file would be.
 */
import { z } from 'zod';
import { parseObjective } from '../../core/dispatch/objective.ts';
import { POLICIES, builtinRegistry } from '../../core/dispatch/plugins/index.ts';
import { LinkSchema } from '../../scenario/schema-parts.ts';
import { SIGNAL_NAMES, SiteSignalsSpecSchema, SiteSpecSchema } from '../../scenario/schema.ts';

/** `PUT /v1/sites/{id}`: a site as in a scenario file, without its id (the path gives it); signals kept when left out on a replace. */
export const SiteBody = SiteSpecSchema.omit({ id: true }).extend({
  signals: SiteSignalsSpecSchema.optional().meta({ description: 'Energy signals; required for a new site, kept when left out on a replace' }),
});
export type SiteBodyValue = z.output<typeof SiteBody>;

export const LinkBody = LinkSchema;

export const SignalParams = z.strictObject({
  id: z.string(),
  signal: z.enum(SIGNAL_NAMES, { error: `must be one of ${SIGNAL_NAMES.join(', ')}` }),
});

export const SignalQuery = z.strictObject({
  series: z.enum(['actual', 'forecast']).default('actual').meta({ description: 'Which series the CSV replaces' }),
  unit: z.string().optional().meta({ description: "Unit of the values (default the signal's own: yuan/kWh, gCO2/kWh, kW)" }),
});

/** The CSV body: header `time,value`, one row per step, ISO 8601 instants. */
export const CsvBody = z.string().meta({ description: 'text/csv: header time,value; evenly spaced rows with ISO 8601 instants' });

export const DispatchBody = z.strictObject({
  policy: z.enum(POLICIES, { error: `must be one of ${POLICIES.join(', ')}` }),
  objective: z
    .string()
    .superRefine((text, ctx) => {
      const parsed = parseObjective(text, builtinRegistry().scoreNames());
      if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
    })
    .meta({ description: 'cost, carbon, green, or a mix such as cost=1,carbon=0.2' }),
});

export const ScenarioView = z.object({
  version: z.number().int(),
  scenario: z.unknown().meta({ description: 'The scenario document, format v1 (docs/scenario-format.md)' }),
  dispatch: DispatchBody,
});
