/**
 * The Carbon Aware SDK WebAPI (v1) on `kumul serve` (src/api/routes/carbon-aware.ts), on a service with a stored
 * scenario document (test/dashboard/fixtures.ts: hourly series, actual carbon 600 − hour of day, forecast carbon 450;
 * zhengzhou has no renewables, so its marginal rating is its grid carbon; beijing has a little, which a job there
 * outweighs). Each endpoint is checked against the SDK's documented request and response examples field by field:
 * the documented request forms are accepted, and the answers carry the documented fields, in the order and types of
 * the SDK's DTOs. Forecast history: two forecasts pushed at different issue times, read back as stored in between.
 * Errors come in the SDK's shape; Kumul's own /v1 API answers as before.
 *
 * Where the examples come from (Green-Software-Foundation/carbon-aware-sdk): casdk-docs/docs/tutorial-basics/
 * carbon-aware-webapi.md and docs/carbon-aware-webapi.md (requests and responses); src/CarbonAware.WebApi/src/Models/
 * EmissionsForecastDTO.cs, EmissionsDataDTO.cs, CarbonIntensityDTO.cs (field names and order); the WebAPI's generated
 * swagger.yaml (EmissionsData, Location, ValidationProblemDetails).
 */
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.ts';
import { formatInstant as iso } from '../../src/jobs/instant.ts';
import { HOUR, NOW, hourIndex, jobIn, plan, signal, spec, useDashboard } from '../dashboard/fixtures.ts';
import { API_BACKENDS } from './fixtures.ts';

/** `2026-06-01T08:00:00+00:00`, as System.Text.Json writes a DateTimeOffset in UTC. */
const net = (ms: number) => iso(ms).replace('Z', '+00:00');
const at = (hhmm: string, day = '2026-06-01') => Date.parse(`${day}T${hhmm}:00Z`);
const actualCarbon = (ms: number) => signal.carbonGPerKWh.actual(hourIndex(ms));

// ---- the SDK's documented examples (docs/carbon-aware-webapi.md), as data ----

/** GET emissions/bylocation, bylocations, bylocations/best: "an array of EmissionsData objects". */
const DOC_EMISSIONS = [{ location: 'eastus', time: '2022-05-17T20:45:11.5092741+00:00', rating: 70 }];
/** GET emissions/forecasts/current; the DTO and the generated swagger name the optimal points `optimalDataPoints` (an array). */
const DOC_FORECAST = {
  requestedAt: '2022-07-19T13:37:49+00:00',
  generatedAt: '2022-07-19T13:35:00+00:00',
  location: 'northeurope',
  dataStartAt: '2022-07-19T14:00:00Z',
  dataEndAt: '2022-07-20T04:38:00Z',
  windowSize: 10,
  optimalDataPoint: { location: 'IE', timestamp: '2022-07-19T18:45:00+00:00', duration: 10, value: 448.4451043375 },
  forecastData: [{ location: 'IE', timestamp: '2022-07-19T14:00:00+00:00', duration: 10, value: 532.02293146 }],
};
/** POST emissions/forecasts/batch: the request body. */
const DOC_BATCH_REQUEST = [
  { location: 'eastus', dataStartAt: '2022-06-01T14:00:00Z', dataEndAt: '2022-06-01T18:00:00Z', windowSize: 30, requestedAt: '2022-06-01T12:01:00Z' },
  { location: 'westus', dataStartAt: '2022-06-13T08:00:00Z', dataEndAt: '2022-06-13T10:00:00Z', windowSize: 30, requestedAt: '2022-06-13T6:05:00Z' },
];
/** GET emissions/average-carbon-intensity. */
const DOC_AVERAGE = { location: 'eastus', startTime: '2022-07-19T14:00:00Z', endTime: '2022-07-19T18:00:00Z', carbonIntensity: 345.434 };
/** POST emissions/average-carbon-intensity/batch: the request body (instants without a zone). */
const DOC_AVERAGE_BATCH_REQUEST = [
  { location: 'eastus', startTime: '2022-05-01T14:00:00', endTime: '2022-05-01T18:00:00' },
  { location: 'eastus', startTime: '2022-06-01T14:00:00', endTime: '2022-06-01T18:00:00' },
];
/** GET /locations: name → coordinates (the docs show the location files' PascalCase; the API writes camelCase, as the swagger's Location). */
const SWAGGER_LOCATION_FIELDS = ['latitude', 'longitude', 'name'];
/** The generated swagger's field lists, in order. */
const SWAGGER_EMISSIONS_DATA_FIELDS = ['location', 'time', 'rating', 'duration'];
const DTO_FORECAST_FIELDS = ['generatedAt', 'requestedAt', 'location', 'dataStartAt', 'dataEndAt', 'windowSize', 'optimalDataPoints', 'forecastData'];
const DTO_DATA_FIELDS = ['location', 'timestamp', 'duration', 'value'];
const DTO_AVERAGE_FIELDS = ['location', 'startTime', 'endTime', 'carbonIntensity'];
const SWAGGER_PROBLEM_FIELDS = ['type', 'title', 'status', 'detail', 'instance', 'errors'];

/** Same field names as the documented object, with values of the same JSON types. */
function sameShape(actual: Record<string, unknown>, documented: Record<string, unknown>, renamed: Record<string, string> = {}): void {
  for (const [field, value] of Object.entries(documented)) {
    const ours = renamed[field] ?? field;
    expect(actual, `field ${ours}`).toHaveProperty(ours);
    if (renamed[field]) continue;
    expect(typeof actual[ours], `type of ${ours}`).toBe(typeof value);
  }
}

for (const backend of API_BACKENDS) describe(backend, () => {
  const h = useDashboard(backend);

  const get = (url: string) => h.f.app.inject({ method: 'GET', url });
  const post = (url: string, body: unknown, contentType = 'application/json') =>
    h.f.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload: typeof body === 'string' ? body : JSON.stringify(body) });

  /** An operator key, for pushing forecasts through Kumul's own API. */
  async function operatorKey(): Promise<string> {
    const created = await h.f.store.createTenant({ id: 'ops', name: 'Operator', role: 'operator', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, NOW);
    if (!created.ok) throw new Error(created.reason);
    const key = await h.f.store.createApiKey('ops', 'test', NOW);
    if (!key.ok) throw new Error(key.reason);
    return key.plaintext;
  }
  /** Pushes hourly carbon forecast values for zhengzhou from `fromMs`, issued now on the service clock. */
  async function pushForecast(key: string, fromMs: number, values: number[]): Promise<void> {
    const points = values.map((value, i) => ({ time: iso(fromMs + i * HOUR), value }));
    const res = await h.f.app.inject({
      method: 'POST',
      url: '/v1/sites/zhengzhou/signals/carbonGPerKWh/points?series=forecast',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ points }),
    });
    expect(res.statusCode, res.body).toBe(200);
  }
  /** An SDK error body: ValidationProblemDetails' fields (with the traceId extension), and nothing of Kumul's. */
  function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): Record<string, unknown> }, status: number, problem: { title: string; detail?: string | null; errors?: Record<string, string[]> }): void {
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = res.json();
    expect(Object.keys(body)).toEqual(['title', 'status', 'detail', 'errors', 'traceId']);
    for (const field of Object.keys(body)) if (field !== 'traceId') expect(SWAGGER_PROBLEM_FIELDS).toContain(field);
    expect(body).toMatchObject({ title: problem.title, status, ...(problem.detail !== undefined ? { detail: problem.detail } : {}), ...(problem.errors ? { errors: problem.errors } : {}) });
    expect(typeof body.traceId).toBe('string');
  }

  describe('GET /locations', () => {
    it("answers the SDK's dictionary of location name → { latitude, longitude, name }: Kumul's sites by id", async () => {
      const res = await get('/locations');
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toEqual({
        hami: { latitude: 42, longitude: 93, name: 'HAMI' },
        beijing: { latitude: 42, longitude: 93, name: 'BEIJING' },
        zhengzhou: { latitude: 42, longitude: 93, name: 'ZHENGZHOU' },
      });
      for (const location of Object.values(body)) expect(Object.keys(location as object)).toEqual(SWAGGER_LOCATION_FIELDS);
    });
  });

  describe('GET /emissions/bylocation, /bylocations, /bylocations/best', () => {
    it("bylocation in the documented form (a date alone for time): the observed ratings per slot, as the documented EmissionsData with the SDK's duration", async () => {
      // Documented: /emissions/bylocation?location=useast&time=2022-01-01&toTime=2022-05-17
      const res = await get('/emissions/bylocation?location=ZhengZhou&time=2026-06-01&toTime=2026-06-01T03:00:00Z');
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body).toEqual([0, 1, 2].map((k) => ({ location: 'zhengzhou', time: net(at('00:00') + k * HOUR), rating: actualCarbon(at('00:00') + k * HOUR), duration: '01:00:00' })));
      for (const item of body) {
        sameShape(item, DOC_EMISSIONS[0]);
        expect(Object.keys(item)).toEqual(SWAGGER_EMISSIONS_DATA_FIELDS);
      }
      // time alone: the slot holding it; neither: the current slot.
      expect((await get('/emissions/bylocation?location=zhengzhou&time=2026-06-01T08:20:00Z')).json()).toEqual([{ location: 'zhengzhou', time: net(at('08:00')), rating: 592, duration: '01:00:00' }]);
      expect((await get('/emissions/bylocation?location=zhengzhou')).json()).toEqual([{ location: 'zhengzhou', time: net(at('10:00')), rating: 590, duration: '01:00:00' }]);
      // ASP.NET's query binding also takes one-digit fields (the SDK's own integration tests send 2022-1-1T04:05:06Z).
      expect((await get('/emissions/bylocation?location=zhengzhou&time=2026-6-1T8:00:00Z')).json()[0].rating).toBe(592);
    });

    it('rates the margin: renewables left over after the load give their carbon; a job that outweighs them gives the grid carbon', async () => {
      // beijing has 0.1 kW of renewables per hour of day: more than nothing, far less than 8 accelerators (8 kW).
      const url = `/emissions/bylocations?location=beijing&location=zhengzhou&time=${iso(at('04:00'))}&toTime=${iso(at('08:00'))}`;
      const before = (await get(url)).json();
      expect(before.filter((p: { location: string }) => p.location === 'beijing').map((p: { rating: number }) => p.rating)).toEqual([20, 20, 20, 20]);
      await jobIn(h.f.store, 'running', spec('j', { units: 8, origin: 'beijing', releaseMs: at('04:00') }), plan('j', 'beijing', 'beijing-ai', 8, [[at('05:00'), at('07:00')]]));
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual([
        ...[['04:00', 20], ['05:00', actualCarbon(at('05:00'))], ['06:00', actualCarbon(at('06:00'))], ['07:00', 20]].map(([t, rating]) => ({ location: 'beijing', time: net(at(t as string)), rating, duration: '01:00:00' })),
        ...[4, 5, 6, 7].map((hh) => ({ location: 'zhengzhou', time: net(at(`0${hh}:00`)), rating: 600 - hh, duration: '01:00:00' })),
      ]);
    });

    it('best: every point with the lowest rating among the locations', async () => {
      const res = await get(`/emissions/bylocations/best?location=beijing&location=zhengzhou&time=${iso(at('04:00'))}&toTime=${iso(at('06:00'))}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual([
        { location: 'beijing', time: net(at('04:00')), rating: 20, duration: '01:00:00' },
        { location: 'beijing', time: net(at('05:00')), rating: 20, duration: '01:00:00' },
      ]);
      for (const item of res.json()) sameShape(item, DOC_EMISSIONS[0]);
    });

    it('204 No Content where nothing was observed yet (slots after now)', async () => {
      for (const url of ['/emissions/bylocation?location=hami&time=2026-06-02T00:00:00Z', '/emissions/bylocations?location=hami&location=beijing&time=2026-06-02T00:00:00Z&toTime=2026-06-02T06:00:00Z', '/emissions/bylocations/best?location=hami&time=2026-06-03']) {
        const res = await get(url);
        expect(res.statusCode, url).toBe(204);
        expect(res.body).toBe('');
      }
    });

    it("errors in the SDK's shape, with the SDK's messages", async () => {
      expectProblem(await get('/emissions/bylocations'), 400, { title: 'ArgumentException', detail: 'Invalid parameters', errors: { location: ['location is not set'] } });
      // The docs' `locations=` is not the controller's parameter (`location`): the SDK answers the same.
      expectProblem(await get('/emissions/bylocations?locations=hami'), 400, { title: 'ArgumentException', errors: { location: ['location is not set'] } });
      expectProblem(await get('/emissions/bylocation'), 400, { title: 'One or more validation errors occurred.', errors: { location: ['The location field is required.'] } });
      expectProblem(await get('/emissions/bylocations?location=hami&time=2026-06-01T05:00:00Z&toTime=2026-06-01T04:00:00Z'), 400, { title: 'ArgumentException', detail: 'Invalid parameters', errors: { time: ['time must be before toTime'] } });
      expectProblem(await get('/emissions/bylocations/best?location=hami&toTime=2026-06-01T04:00:00Z'), 400, { title: 'ArgumentException', errors: { time: ['time must be defined if toTime is defined'] } });
      expectProblem(await get('/emissions/bylocation?location=lyon'), 400, { title: 'ArgumentException', detail: "Unknown Location: 'lyon' not found", errors: {} });
      expectProblem(await get('/emissions/bylocation?location=hami&time=yesterday'), 400, { title: 'One or more validation errors occurred.', errors: { time: ["The value 'yesterday' is not valid for time."] } });
    });
  });

  describe('GET /emissions/forecasts/current', () => {
    it('in the documented form (dataStartAt, dataEndAt, windowSize): windows of the stored forecast and the optimal one, as EmissionsForecastDTO', async () => {
      const key = await operatorKey();
      await pushForecast(key, at('11:00'), [500, 400, 300, 350, 450, 200, 600, 500]);
      const res = await get(`/emissions/forecasts/current?location=zhengzhou&dataStartAt=${iso(at('12:00'))}&dataEndAt=${iso(at('16:00'))}&windowSize=120`);
      expect(res.statusCode, res.body).toBe(200);
      const [forecast] = res.json();
      const window = (t: string, value: number) => ({ location: 'zhengzhou', timestamp: net(at(t)), duration: 120, value });
      expect(forecast).toEqual({
        generatedAt: net(NOW),
        requestedAt: net(NOW),
        location: 'zhengzhou',
        dataStartAt: net(at('12:00')),
        dataEndAt: net(at('16:00')),
        windowSize: 120,
        // Two-hour windows every hour from 12:00 that end by 16:00: (400+300)/2, (300+350)/2, (350+450)/2.
        optimalDataPoints: [window('13:00', 325)],
        forecastData: [window('12:00', 350), window('13:00', 325), window('14:00', 400)],
      });
      expect(Object.keys(forecast)).toEqual(DTO_FORECAST_FIELDS);
      sameShape(forecast, DOC_FORECAST, { optimalDataPoint: 'optimalDataPoints' });
      for (const p of [...forecast.forecastData, ...forecast.optimalDataPoints]) {
        expect(Object.keys(p)).toEqual(DTO_DATA_FIELDS);
        sameShape(p, DOC_FORECAST.forecastData[0]);
      }
    });

    it("without a scope: the whole forecast from the current slot over the dispatch horizon, one point per slot; several locations in order", async () => {
      const key = await operatorKey();
      await pushForecast(key, at('11:00'), [500, 400, 300, 350, 450, 200, 600, 500]);
      const res = await get('/emissions/forecasts/current?location=zhengzhou&location=HAMI');
      expect(res.statusCode, res.body).toBe(200);
      const [zhengzhou, hami] = res.json();
      // The fixture's dispatch horizon is 24 hours; the document's forecast (450) where nothing was pushed.
      expect(zhengzhou.forecastData).toHaveLength(24);
      expect(zhengzhou.forecastData.slice(0, 10).map((p: { value: number }) => p.value)).toEqual([450, 500, 400, 300, 350, 450, 200, 600, 500, 450]);
      expect(zhengzhou).toMatchObject({ location: 'zhengzhou', windowSize: 60, dataStartAt: net(at('10:00')), dataEndAt: net(at('09:00', '2026-06-02')) });
      expect(zhengzhou.optimalDataPoints).toEqual([{ location: 'zhengzhou', timestamp: net(at('16:00')), duration: 60, value: 200 }]);
      // hami's renewables (forecast 100 × hour + 7 kW) exceed its empty load: the renewables' 20 g at the margin.
      expect(hami.location).toBe('HAMI');
      expect(new Set(hami.forecastData.map((p: { value: number }) => p.value))).toEqual(new Set([20]));
    });

    it('errors: a scope outside the forecast, a missing location, a bad windowSize', async () => {
      const range = `'${net(at('10:00'))}' through '${net(at('10:00', '2026-06-02'))}'`;
      expectProblem(await get(`/emissions/forecasts/current?location=zhengzhou&dataStartAt=${iso(at('04:00'))}`), 400, {
        title: 'ArgumentException',
        detail: 'Invalid EmissionsForecast',
        errors: { dataStartAt: [`dataStartAt must be within time range of the forecasted data, ${range}`] },
      });
      expectProblem(await get(`/emissions/forecasts/current?location=zhengzhou&dataStartAt=${iso(at('14:00'))}&dataEndAt=${iso(at('12:00'))}`), 400, { title: 'ArgumentException', errors: { dataStartAt: ['dataStartAt must be before dataEndAt'] } });
      expectProblem(await get('/emissions/forecasts/current'), 400, { title: 'ArgumentException', errors: { location: ['location is not set'] } });
      expectProblem(await get('/emissions/forecasts/current?location=hami&windowSize=ten'), 400, { title: 'One or more validation errors occurred.', errors: { windowSize: ["The value 'ten' is not valid for windowSize."] } });
    });
  });

  describe('POST /emissions/forecasts/batch', () => {
    it('answers each item from the forecast as it was stored at its requestedAt: two issues, read before and after the second', async () => {
      const key = await operatorKey();
      await pushForecast(key, at('12:00'), [300, 200, 400, 500]); // issued at NOW, 10:30
      h.f.clock.set(NOW + HOUR);
      await pushForecast(key, at('12:00'), [100, 500, 500, 500]); // issued at 11:30
      const item = (requestedAt: string) => ({ location: 'zhengzhou', dataStartAt: '2026-06-01T12:00:00Z', dataEndAt: '2026-06-01T16:00:00Z', windowSize: 60, requestedAt });
      const res = await post('/emissions/forecasts/batch', [item('2026-06-01T11:00:00Z'), item('2026-06-01T11:45:00Z')]);
      expect(res.statusCode, res.body).toBe(200);
      const [first, second] = res.json();
      const points = (values: number[]) => values.map((value, k) => ({ location: 'zhengzhou', timestamp: net(at('12:00') + k * HOUR), duration: 60, value }));
      expect(first).toEqual({
        generatedAt: net(NOW),
        requestedAt: net(at('11:00')),
        location: 'zhengzhou',
        dataStartAt: net(at('12:00')),
        dataEndAt: net(at('16:00')),
        windowSize: 60,
        optimalDataPoints: [points([300, 200])[1]],
        forecastData: points([300, 200, 400, 500]),
      });
      expect(second).toMatchObject({ generatedAt: net(NOW + HOUR), requestedAt: net(at('11:45')), optimalDataPoints: points([100]), forecastData: points([100, 500, 500, 500]) });
      for (const forecast of [first, second]) {
        expect(Object.keys(forecast)).toEqual(DTO_FORECAST_FIELDS);
        sameShape(forecast, DOC_FORECAST, { optimalDataPoint: 'optimalDataPoints' });
      }
      // The current forecast is the second issue. Without windowSize, the points touching the scope are kept, as the
      // SDK's FilterByDuration keeps them: 11:00's (the document's 450) ends at dataStartAt, 13:00's starts at dataEndAt.
      const current = (await get(`/emissions/forecasts/current?location=zhengzhou&dataStartAt=${iso(at('12:00'))}&dataEndAt=${iso(at('13:00'))}`)).json()[0];
      expect(current.forecastData.map((p: { value: number }) => p.value)).toEqual([450, 100, 500]);
      expect(current.generatedAt).toBe(net(NOW + HOUR));
      // Before the scenario document was stored, nothing was.
      expectProblem(await post('/emissions/forecasts/batch', [item('2026-06-01T08:00:00Z')]), 404, { title: 'NotFound', detail: `no forecast of location 'zhengzhou' was stored as of ${net(at('08:00'))} (pushed, or in the scenario document)` });
    });

    it("reads the scenario document's forecast of the version in force at requestedAt: its series count as issued when that version was stored", async () => {
      const key = await operatorKey();
      h.f.clock.set(NOW + HOUR);
      // Version 2 replaces zhengzhou's carbon forecast (450) by 300 over the same six days.
      const csv = ['time,value', ...Array.from({ length: 24 * 6 }, (_, k) => `${iso(at('00:00', '2026-05-31') + k * HOUR)},300`)].join('\n');
      const put = await h.f.app.inject({
        method: 'PUT',
        url: '/v1/sites/zhengzhou/signals/carbonGPerKWh?series=forecast',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
        payload: csv,
      });
      expect(put.statusCode, put.body).toBe(200);
      const item = (requestedAt: string) => ({ location: 'zhengzhou', requestedAt, dataStartAt: '2026-06-01T13:00:00Z', dataEndAt: '2026-06-01T14:00:00Z', windowSize: 60 });
      const [before, after] = (await post('/emissions/forecasts/batch', [item('2026-06-01T11:00:00Z'), item('2026-06-01T11:45:00Z')])).json();
      expect([before.generatedAt, before.forecastData.map((p: { value: number }) => p.value)]).toEqual([net(NOW), [450]]);
      expect([after.generatedAt, after.forecastData.map((p: { value: number }) => p.value)]).toEqual([net(NOW + HOUR), [300]]);
    });

    it("the documented request: every field read; its second requestedAt (`6:05`) is refused as the SDK's JSON reader refuses it; text/json accepted", async () => {
      const documented = DOC_BATCH_REQUEST.map((r, k) => ({ ...r, location: k === 0 ? 'zhengzhou' : 'hami', dataStartAt: r.dataStartAt.replace('2022-06-01T14', '2026-06-01T12').replace('2022-06-13T08', '2026-06-01T13'), dataEndAt: r.dataEndAt.replace('2022-06-01T18', '2026-06-01T16').replace('2022-06-13T10', '2026-06-01T15'), requestedAt: r.requestedAt.replace('2022-06-01T12:01', '2026-06-01T11:01').replace('2022-06-13T6:05', '2026-06-01T6:05') }));
      expectProblem(await post('/emissions/forecasts/batch', documented), 400, { title: 'One or more validation errors occurred.' });
      expect(Object.keys((await post('/emissions/forecasts/batch', documented)).json().errors)).toEqual(['[1].requestedAt']);
      documented[1].requestedAt = '2026-06-01T11:05:00Z';
      const res = await post('/emissions/forecasts/batch', JSON.stringify(documented), 'text/json');
      expect(res.statusCode, res.body).toBe(200);
      const answers = res.json();
      expect(answers.map((a: { location: string; requestedAt: string; windowSize: number; dataStartAt: string; dataEndAt: string }) => [a.location, a.requestedAt, a.windowSize, a.dataStartAt, a.dataEndAt])).toEqual([
        ['zhengzhou', net(at('11:01')), 30, net(at('12:00')), net(at('16:00'))],
        ['hami', net(at('11:05')), 30, net(at('13:00')), net(at('15:00'))],
      ]);
      // 30-minute windows every hour (the forecast's points are hourly) over the document's constant 450.
      expect(answers[0].forecastData.map((p: { timestamp: string; duration: number; value: number }) => [p.timestamp, p.duration, p.value])).toEqual(
        ['12:00', '13:00', '14:00', '15:00'].map((t) => [net(at(t)), 30, 450]),
      );
    });

    it('errors: missing location or requestedAt name each, as CarbonAwareParameters does', async () => {
      expectProblem(await post('/emissions/forecasts/batch', [{}]), 400, { title: 'ArgumentException', detail: 'Invalid parameters', errors: { location: ['location is not set'], requestedAt: ['requestedAt is not set'] } });
      expectProblem(await post('/emissions/forecasts/batch', [{ location: 'hami' }]), 400, { title: 'ArgumentException', errors: { requestedAt: ['requestedAt is not set'] } });
      expectProblem(await post('/emissions/forecasts/batch', { location: 'hami' }), 400, { title: 'One or more validation errors occurred.' });
      expectProblem(await post('/emissions/forecasts/batch', '[{"location": '), 400, { title: 'One or more validation errors occurred.' });
    });
  });

  describe('GET /emissions/average-carbon-intensity and its batch form', () => {
    it('in the documented form: the time-weighted mean of the observed ratings, as CarbonIntensityDTO', async () => {
      const res = await get(`/emissions/average-carbon-intensity?location=zhengzhou&startTime=${iso(at('08:00'))}&endTime=${iso(at('10:00'))}`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ location: 'zhengzhou', startTime: net(at('08:00')), endTime: net(at('10:00')), carbonIntensity: (592 + 591) / 2 });
      expect(Object.keys(res.json())).toEqual(DTO_AVERAGE_FIELDS);
      sameShape(res.json(), DOC_AVERAGE);
      // Half of 08:00's slot and all of 09:00's.
      expect((await get(`/emissions/average-carbon-intensity?location=zhengzhou&startTime=${iso(at('08:30'))}&endTime=${iso(at('10:00'))}`)).json().carbonIntensity).toBe(Number(((592 * 0.5 + 591) / 1.5).toPrecision(10)));
    });

    it('the documented batch request (instants without a zone, read as UTC): one answer per item, in order', async () => {
      const body = DOC_AVERAGE_BATCH_REQUEST.map((r, k) => ({ location: 'zhengzhou', startTime: r.startTime.replace(/^2022-0\d-01/, k === 0 ? '2026-05-31' : '2026-06-01').replace('T14', k === 0 ? 'T14' : 'T04'), endTime: r.endTime.replace(/^2022-0\d-01/, k === 0 ? '2026-05-31' : '2026-06-01').replace('T18', k === 0 ? 'T18' : 'T08') }));
      expect(body.map((b) => [b.startTime, b.endTime])).toEqual([['2026-05-31T14:00:00', '2026-05-31T18:00:00'], ['2026-06-01T04:00:00', '2026-06-01T08:00:00']]);
      const res = await post('/emissions/average-carbon-intensity/batch', body);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual([
        { location: 'zhengzhou', startTime: net(at('14:00', '2026-05-31')), endTime: net(at('18:00', '2026-05-31')), carbonIntensity: (586 + 585 + 584 + 583) / 4 },
        { location: 'zhengzhou', startTime: net(at('04:00')), endTime: net(at('08:00')), carbonIntensity: (596 + 595 + 594 + 593) / 4 },
      ]);
      for (const item of res.json()) expect(Object.keys(item)).toEqual(DTO_AVERAGE_FIELDS);
    });

    it('errors: a period not observed yet is out of range; missing parameters are named', async () => {
      expectProblem(await get(`/emissions/average-carbon-intensity?location=zhengzhou&startTime=${iso(at('08:00'))}&endTime=${iso(at('11:30'))}`), 400, {
        title: 'ArgumentException',
        detail: `Period out of range. Data points did not cover the requested average period: ${net(at('08:00'))} through ${net(at('11:30'))}`,
      });
      expectProblem(await get('/emissions/average-carbon-intensity?location=zhengzhou'), 400, { title: 'ArgumentException', errors: { startTime: ['startTime is not set'], endTime: ['endTime is not set'] } });
      expectProblem(await post('/emissions/average-carbon-intensity/batch', [{ location: 'zhengzhou', startTime: '2026-06-01T09:00:00Z', endTime: '2026-06-01T08:00:00Z' }]), 400, { title: 'ArgumentException', errors: { startTime: ['startTime must be before endTime'] } });
    });
  });

  describe("alongside Kumul's own API", () => {
    it('/v1 answers as before, in its own error shape; unknown routes too', async () => {
      const sites = await get('/v1/sites');
      expect(sites.statusCode).toBe(401);
      expect(sites.json()).toMatchObject({ error: { code: 'KUMUL_UNAUTHORIZED', status: 401 } });
      const energy = await get('/v1/dashboard/energy/lyon');
      expect(energy.json()).toEqual({ error: { code: 'KUMUL_NOT_FOUND', message: 'no site lyon', status: 404 } });
      expect((await get('/v1/dashboard/energy/zhengzhou?hoursBack=1&hoursAhead=1')).statusCode).toBe(200);
      expect((await get('/emissions/nothing')).json()).toMatchObject({ error: { code: 'KUMUL_NOT_FOUND' } });
    });

    it('the routes are in the OpenAPI document, keyless, with the SDK shapes as components', async () => {
      const doc = (await get('/openapi.json')).json();
      const routes = ['get /emissions/bylocation', 'get /emissions/bylocations', 'get /emissions/bylocations/best', 'get /emissions/forecasts/current', 'post /emissions/forecasts/batch', 'get /emissions/average-carbon-intensity', 'post /emissions/average-carbon-intensity/batch', 'get /locations'];
      for (const route of routes) {
        const [method, path] = route.split(' ');
        const op = doc.paths[path]?.[method];
        expect(op, route).toBeDefined();
        expect(op.tags).toEqual(['carbon-aware']);
        expect(op.security).toBeUndefined();
      }
      expect(Object.keys(doc.components.schemas.EmissionsForecastDTO.properties)).toEqual(DTO_FORECAST_FIELDS);
      expect(Object.keys(doc.components.schemas.EmissionsData.properties)).toEqual(SWAGGER_EMISSIONS_DATA_FIELDS);
      expect(doc.paths['/emissions/bylocations'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['location', 'time', 'toTime']);
      expect(doc.paths['/emissions/forecasts/current'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['location', 'dataStartAt', 'dataEndAt', 'windowSize']);
    });

    it("the rate limit answers 429 in the SDK's shape, with Retry-After", async () => {
      const app = buildApp(h.f.ctx, { rateLimitPerMinute: 2 });
      try {
        const codes = [];
        let last;
        for (let i = 0; i < 3; i++) codes.push((last = await app.inject({ method: 'GET', url: '/locations' })).statusCode);
        expect(codes).toEqual([200, 200, 429]);
        expectProblem(last!, 429, { title: 'TooManyRequests', errors: {} });
        expect(last!.headers['retry-after']).toBeDefined();
      } finally {
        await app.close();
      }
    });
  });
});
