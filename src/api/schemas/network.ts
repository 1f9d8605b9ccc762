/**
 * The network the service runs on (`ctx.network()`), as the read-only operator views show it (routes/network.ts).
 * The views are the core's own types; the schemas describe them for OpenAPI and check them on the way out.
 */
import { z } from 'zod';
import { POOL_CLASSES, PRECISIONS, type Link, type Site } from '../../core/model/types.ts';

const PerPrecision = z.object(Object.fromEntries(PRECISIONS.map((p) => [p, z.number()])) as Record<(typeof PRECISIONS)[number], z.ZodNumber>);

export const PoolSchema = z.object({
  id: z.string(),
  class: z.enum(POOL_CLASSES),
  unit: z.enum(['accelerator', 'core', 'node']),
  units: z.number().int().meta({ description: 'Capacity in units' }),
  unitsPerNode: z.number().int(),
  peakTflopsPerNode: PerPrecision.meta({ description: 'Peak compute of one node by precision, TFLOPS' }),
  powerCurve: z.array(z.object({ load: z.number(), powerW: z.number() })).meta({ description: 'Power of one unit versus load (0 idle, 1 full), IT side' }),
});

export const SiteSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    region: z.string(),
    lat: z.number(),
    lon: z.number(),
    pue: z.number().meta({ description: 'Power usage effectiveness: facility power / IT power' }),
    pools: z.array(PoolSchema),
    renewable: z.object({ priceYuanPerKWh: z.number(), carbonGPerKWh: z.number() }).meta({ description: 'Terms of the renewable power the site uses first' }),
  })
  .meta({ id: 'Site' });

export const LinkSchema = z
  .object({ from: z.string(), to: z.string(), bandwidthGbps: z.number(), latencyMs: z.number(), costYuanPerGB: z.number(), energyKWhPerGB: z.number() })
  .meta({ id: 'Link' });

// The schemas must describe every field of the core's types: these fail to typecheck when a type gains one.
const fits: [(s: Site) => z.input<typeof SiteSchema>, (l: Link) => z.input<typeof LinkSchema>] = [(s) => s, (l) => l];
void fits;
