/**
 * Operator routes that change the network the service runs on: sites, links, signals (CSV uploads stored as inline
 * series) and the dispatch policy, all kept in the stored scenario document (src/service/scenario-state.ts). Each
 * change is applied to a copy of the latest version, validated whole by the scenario loader, then stored as the next
 * version; a bad change is a 400 naming the field (or CSV line) and stores nothing. The loop is woken to re-plan.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { seriesFromCsv } from '../../scenario/series-csv.ts';
import { SIGNAL_UNITS } from '../../scenario/schema.ts';
import { ownUnit } from '../schemas/signals.ts';
import type { ScenarioState, ServiceDocument } from '../../service/scenario-state.ts';
import { allJobs } from '../../store/all-jobs.ts';
import type { ApiDeps } from '../deps.ts';
import { ApiError, validationError } from '../errors.ts';
import { deleteLink, deleteSite, fieldsOf, putLink, putSignal, putSite, type Edit, type ScenarioJson } from '../scenario-edits.ts';
import { AUTH_ERRORS, SECURITY, errorResponses } from '../schemas/common.ts';
import { CsvBody, DispatchBody, LinkBody, ScenarioView, SignalParams, SignalQuery, SiteBody } from '../schemas/scenario.ts';

const TAGS = ['network'];
const Version = z.object({ version: z.number().int().meta({ description: 'The scenario version now in force' }) });
const SiteParams = z.strictObject({ id: z.string() });
const EDIT_ERRORS = errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND');
/** Jobs that hold a place at a site: a site with any of them cannot be deleted. */
const HOLDING = ['planned', 'transferring', 'running', 'paused'] as const;

export const scenarioRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, { ctx, auth }) => {
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  function state(): ScenarioState {
    if (!ctx.scenario) throw new ApiError('KUMUL_NOT_FOUND', 'this service keeps no scenario document');
    return ctx.scenario;
  }

  /** Applies a change to the latest document, validated and stored as the next version; wakes the loop. */
  async function apply(change: (document: ServiceDocument) => { document: ServiceDocument; at: string }): Promise<{ version: number }> {
    let at = '';
    try {
      const version = await state().update((document) => {
        const changed = change(document);
        at = changed.at;
        return changed.document;
      }, ctx.clock.nowMs());
      ctx.wake();
      return { version };
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw validationError(fieldsOf(err, at));
    }
  }
  const editScenario = (edit: (doc: ScenarioJson) => Edit) =>
    apply((document) => {
      const { doc, at } = edit(document.scenario as ScenarioJson);
      return { document: { ...document, scenario: doc }, at };
    });

  /** Options of a route that changes the document: operator key, the request's schemas, `{ version }` answers. */
  function operatorRoute<S extends object>(summary: string, parts: S, errors = EDIT_ERRORS) {
    return { onRequest: auth.operator, schema: { summary, tags: TAGS, security: SECURITY, ...parts, response: { 200: Version, ...errors } } };
  }

  app.get(
    '/v1/scenario',
    { onRequest: auth.operator, schema: { summary: 'The scenario document the service runs on, with its version and dispatch settings', tags: TAGS, security: SECURITY, response: { 200: ScenarioView, ...EDIT_ERRORS } } },
    async () => ({ version: state().version, scenario: state().document.scenario, dispatch: state().document.dispatch }),
  );

  app.put('/v1/sites/:id', operatorRoute('Add or replace a site: location, PUE, renewable terms, pools (and signals)', { params: SiteParams, body: SiteBody }), async (request) =>
    editScenario((doc) => putSite(doc, request.params.id, request.body)),
  );

  app.delete(
    '/v1/sites/:id',
    operatorRoute('Delete a site and its links (409 while jobs are planned or running there)', { params: SiteParams }, errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND', 'KUMUL_CONFLICT')),
    async (request) => {
      const { id } = request.params;
      const holding = (await allJobs(ctx.store, { statuses: HOLDING })).filter((s) => s.plan?.site === id);
      if (holding.length > 0)
        throw new ApiError('KUMUL_CONFLICT', `site ${id} has ${holding.length} planned or running job(s) (e.g. ${holding[0].job.tenant}/${holding[0].job.id}); cancel or let them finish first`);
      return editScenario((doc) => deleteSite(doc, id));
    },
  );

  app.put('/v1/links', operatorRoute('Add or replace the link between two sites', { body: LinkBody }), async (request) => editScenario((doc) => putLink(doc, request.body)));

  app.delete('/v1/links/:from/:to', operatorRoute('Delete the link between two sites', { params: z.strictObject({ from: z.string(), to: z.string() }) }), async (request) =>
    editScenario((doc) => deleteLink(doc, request.params.from, request.params.to)),
  );

  app.put(
    '/v1/sites/:id/signals/:signal',
    operatorRoute("Replace a site's signal (actual or forecast) with a CSV (text/csv: time,value), stored inline", { params: SignalParams, querystring: SignalQuery, body: CsvBody, consumes: ['text/csv'] }),
    async (request) => {
      const { id, signal } = request.params;
      const { series, unit = ownUnit(signal) } = request.query;
      const units = Object.keys(SIGNAL_UNITS[signal]);
      if (!units.includes(unit)) throw validationError([{ field: 'unit', message: `must be one of ${units.join(', ')} for ${signal}` }]);
      let source;
      try {
        source = seriesFromCsv(request.body, unit);
      } catch (err) {
        throw validationError(fieldsOf(err, '').map((f) => ({ ...f, field: 'body' })));
      }
      return editScenario((doc) => putSignal(doc, id, signal, series, source));
    },
  );

  app.get(
    '/v1/policies',
    { onRequest: auth.operator, schema: { summary: 'The policy and objective dispatch cycles use', tags: TAGS, security: SECURITY, response: { 200: DispatchBody, ...errorResponses(...AUTH_ERRORS, 'KUMUL_NOT_FOUND') } } },
    async () => state().document.dispatch,
  );

  app.put('/v1/policies', operatorRoute('Change the policy and objective of the next dispatch cycles', { body: DispatchBody }), async (request) =>
    apply((document) => ({ document: { ...document, dispatch: request.body }, at: 'dispatch' })),
  );
};

