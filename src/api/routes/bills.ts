/**
 * Bills: a tenant's metering for one UTC month, per job and in total, as JSON or CSV (`Accept: text/csv` or
 * `?format=csv`). A tenant key sees its own bill only (403 for another's); an operator key sees any.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { buildBill, formatBillCsv } from '../bill.ts';
import { principalOf } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { BillSchema, Month } from '../schemas/bill.ts';
import { AUTH_ERRORS, Id, SECURITY, errorResponses } from '../schemas/common.ts';

/** Whether an Accept header ranks text/csv above JSON (q-values honoured; absent q is 1). */
export function prefersCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const quality = new Map<string, number>();
  for (const range of accept.split(',')) {
    const [type, ...params] = range.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find((m) => m !== null);
    quality.set(type.trim(), q ? Number(q[1]) : 1);
  }
  const csv = quality.get('text/csv') ?? 0;
  return csv > 0 && csv > (quality.get('application/json') ?? quality.get('*/*') ?? 0);
}

export const billRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { ctx, auth }) => {
  app.get(
    '/v1/tenants/:id/bill',
    {
      onRequest: auth.tenant,
      schema: {
        summary: "A tenant's bill for a month: line items per job, totals, green share, carbon (JSON or CSV)",
        description: 'Metering rows count in the UTC month their run segment starts; `backup` prices the GB-months kept at replica sites and the GB backup copies moved (docs/backup.md). CSV: the jobs only, a header, one `line` row per item, one `total` row.',
        tags: ['bills'],
        security: SECURITY,
        params: z.strictObject({ id: Id }),
        querystring: z.strictObject({ month: Month.optional(), format: z.enum(['json', 'csv']).optional().meta({ description: 'csv, or Accept: text/csv' }) }),
        response: {
          200: { description: 'The bill', content: { 'application/json': { schema: BillSchema }, 'text/csv': { schema: z.string() } } },
          ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND'),
        },
      },
    },
    async (request, reply) => {
      const { tenant } = principalOf(request);
      const { id } = request.params;
      if (tenant.role !== 'operator' && tenant.id !== id) throw new ApiError('KUMUL_FORBIDDEN', 'a tenant key may read its own bill only');
      if (tenant.id !== id && !(await ctx.store.getTenant(id))) throw new ApiError('KUMUL_NOT_FOUND', `no tenant ${id}`);
      const month = request.query.month ?? new Date(ctx.clock.nowMs()).toISOString().slice(0, 7);
      const bill = await buildBill(ctx.store, id, month, ctx.clock.nowMs());
      const csv = request.query.format === 'csv' || (request.query.format === undefined && prefersCsv(request.headers.accept));
      if (csv) return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="kumul-bill-${id}-${month}.csv"`).send(formatBillCsv(bill));
      return reply.type('application/json; charset=utf-8').send(bill);
    },
  );
};
