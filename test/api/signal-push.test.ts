/**
 * The operator's live signal routes (POST/GET /v1/sites/{id}/signals/{signal}/points) on a service with a stored
 * scenario document: pushes in JSON or CSV are stored apart from the document (no new version), idempotent, overwrite
 * actuals by time stamp and keep forecast issues; the service's windows use them at once; bad pushes are 400s naming
 * the field (or the CSV line) and store nothing.
 */
import { describe, expect, it } from 'vitest';
import { API_BACKENDS } from './fixtures.ts';
import { HOUR, NOW, useDashboard } from '../dashboard/fixtures.ts';
import { formatInstant as iso } from '../../src/jobs/instant.ts';

/** The series of the dashboard fixture end here (six days from 2026-05-31). */
const SERIES_END = Date.parse('2026-06-06T00:00:00Z');

for (const backend of API_BACKENDS) describe(backend, () => {
  const h = useDashboard(backend);
  let operator = '';
  let wakes = 0;

  async function setUp(): Promise<void> {
    wakes = 0;
    h.f.ctx.wake = () => void wakes++;
    await h.f.store.createTenant({ id: 'ops', name: 'Operator', role: 'operator', maxConcurrentUnits: { ai: null, general: null, hpc: null } }, NOW);
    const key = await h.f.store.createApiKey('ops', 'test', NOW);
    if (!key.ok) throw new Error(key.reason);
    operator = key.plaintext;
  }

  function call(method: 'GET' | 'POST', url: string, body?: unknown, contentType = 'application/json', key = operator) {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (body !== undefined) headers['content-type'] = contentType;
    return h.f.app.inject({ method, url, headers, payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  }
  const hourly = (fromMs: number, values: number[]) => values.map((value, i) => ({ time: iso(fromMs + i * HOUR), value }));
  const csv = (fromMs: number, values: (number | string)[]) => ['time,value', ...values.map((v, i) => `${iso(fromMs + i * HOUR)},${v}`)].join('\n');

  it('stores a forecast push once: the same push again changes nothing; no new scenario version; the next window plans on it', async () => {
    await setUp();
    // Past the end of the document's series the forecast is the fallback's; pushed points take its place.
    h.f.clock.set(SERIES_END + 10 * HOUR + HOUR / 2);
    const url = '/v1/sites/hami/signals/renewableKW/points?series=forecast';
    const before = (await h.f.app.inject({ method: 'GET', url: '/v1/dashboard/energy/hami?hoursBack=0&hoursAhead=3' })).json();
    expect(before.renewableKW.forecastFallback).toEqual(['seasonal-mean', 'seasonal-mean', 'seasonal-mean', 'seasonal-mean']);
    const push = { points: hourly(SERIES_END + 10 * HOUR, [111, 222, 333]) };
    const first = await call('POST', url, push);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ site: 'hami', signal: 'renewableKW', series: 'forecast', unit: 'kW', issuedAt: iso(h.f.clock.nowMs()), inserted: 3, updated: 0, unchanged: 0 });
    expect(wakes).toBe(1);
    h.f.clock.advance(60_000);
    const again = await call('POST', url, push);
    expect(again.json()).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 });
    expect(wakes).toBe(1);
    expect((await h.f.store.currentScenario())!.version).toBe(1);
    const after = (await h.f.app.inject({ method: 'GET', url: '/v1/dashboard/energy/hami?hoursBack=0&hoursAhead=3' })).json();
    expect(after.renewableKW.forecast.slice(0, 3)).toEqual([111, 222, 333]);
    expect(after.renewableKW.forecastFallback).toEqual([null, null, null, 'seasonal-mean']);
    // The actual of the current slot, missing, is now the slot's pushed forecast.
    expect(after.renewableKW.actual[0]).toBe(111);
    expect(after.renewableKW.actualFallback[0]).toBe('forecast');
    const window = h.f.scenario.window(SERIES_END + 10 * HOUR, 2);
    expect(window.signals.hami.forecast.renewableKW).toEqual([111, 222]);
  });

  it('overwrites actuals by time stamp, converts units, and reads them back over a range', async () => {
    await setUp();
    const url = '/v1/sites/hami/signals/carbonGPerKWh/points';
    expect((await call('POST', url, { points: hourly(NOW, [500, 510, 520]), unit: 'kgCO2/MWh' })).json()).toMatchObject({ series: 'actual', issuedAt: null, inserted: 3 });
    expect((await call('POST', `${url}?unit=kgCO2/kWh`, csv(NOW + HOUR, [0.6, 0.52]), 'text/csv')).json()).toMatchObject({ inserted: 0, updated: 1, unchanged: 1 });
    expect((await call('POST', url, csv(NOW + 2 * HOUR, [520]), 'text/csv')).json()).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
    const read = await call('GET', `${url}?from=${iso(NOW)}&to=${iso(NOW + 3 * HOUR)}`);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({ site: 'hami', signal: 'carbonGPerKWh', series: 'actual', unit: 'gCO2/kWh', truncated: false });
    expect(read.json().points.map((p: { time: string; value: number; issuedAt: string | null }) => [p.time, p.value, p.issuedAt])).toEqual([
      [iso(NOW), 500, null],
      [iso(NOW + HOUR), 600, null],
      [iso(NOW + 2 * HOUR), 520, null],
    ]);
    const renewable = await call('POST', '/v1/sites/beijing/signals/renewableKW/points', { points: hourly(NOW, [0.25]), unit: 'MW' });
    expect(renewable.json()).toMatchObject({ unit: 'kW', inserted: 1 });
    expect((await call('GET', `/v1/sites/beijing/signals/renewableKW/points?from=${iso(NOW)}`)).json().points[0].value).toBe(250);
    expect((await call('GET', `${url}?from=${iso(NOW)}&limit=2`)).json()).toMatchObject({ truncated: true, points: [{ value: 500 }, { value: 600 }] });
  });

  it('keeps the forecast history: the latest issue is current, an earlier one is read as stored at its time', async () => {
    await setUp();
    const url = '/v1/sites/hami/signals/priceYuanPerKWh/points?series=forecast';
    const t1 = h.f.clock.nowMs();
    await call('POST', url, { points: hourly(NOW + 5 * HOUR, [0.5, 0.6]) });
    h.f.clock.advance(HOUR);
    expect((await call('POST', url, { points: hourly(NOW + 5 * HOUR, [0.5, 0.9]) })).json()).toMatchObject({ inserted: 1, unchanged: 1 });
    // An issue given explicitly (a forecast made earlier, pushed late) is kept under its own instant.
    expect((await call('POST', url, { points: hourly(NOW + 5 * HOUR, [-0.1]), issuedAt: iso(t1 - HOUR) })).json()).toMatchObject({ issuedAt: iso(t1 - HOUR), inserted: 1 });
    const values = async (query: string) => (await call('GET', `${url}&from=${iso(NOW)}${query}`)).json().points.map((p: { value: number; issuedAt: string }) => [p.value, p.issuedAt]);
    expect(await values('')).toEqual([
      [0.5, iso(t1)],
      [0.9, iso(t1 + HOUR)],
    ]);
    expect(await values(`&asOf=${iso(t1 + HOUR / 2)}`)).toEqual([
      [0.5, iso(t1)],
      [0.6, iso(t1)],
    ]);
    expect(await values('&history=true')).toEqual([
      [-0.1, iso(t1 - HOUR)],
      [0.5, iso(t1)],
      [0.6, iso(t1)],
      [0.9, iso(t1 + HOUR)],
    ]);
    expect(h.f.scenario.window(NOW + 4.5 * HOUR, 2).signals.hami.forecast.priceYuanPerKWh).toEqual([0.5, 0.9]);
  });

  it('refuses bad pushes with a 400 naming the field or CSV line, and stores nothing', async () => {
    await setUp();
    const base = '/v1/sites/hami/signals/carbonGPerKWh/points';
    const good = hourly(NOW, [500, 510]);
    const cases: [string, string, unknown, string, { field: string; message: RegExp }][] = [
      ['negative carbon', base, { points: hourly(NOW, [500, -3]) }, 'application/json', { field: 'points[1].value', message: /-3 gCO2\/kWh is negative; carbonGPerKWh cannot be/ }],
      ['not a number', base, { points: [good[0], { time: good[1].time, value: 'high' }] }, 'application/json', { field: 'points[1].value', message: /must be a number/ }],
      ['bad time', base, { points: [{ time: '2026-06-31T00:00Z', value: 1 }] }, 'application/json', { field: 'points[0].time', message: /not an ISO 8601 instant/ }],
      ['time twice', base, { points: [good[0], { ...good[0], value: 3 }] }, 'application/json', { field: 'points[1].time', message: /repeats the time of points\[0\]/ }],
      ['unknown field', base, { points: [{ ...good[0], when: 'now' }] }, 'application/json', { field: 'points[0].when', message: /unknown field/ }],
      ['no points', base, { points: [] }, 'application/json', { field: 'points', message: /at least one point/ }],
      ['unit of another signal', base, { points: good, unit: 'yuan/kWh' }, 'application/json', { field: 'unit', message: /must be one of gCO2\/kWh, kgCO2\/MWh, kgCO2\/kWh for carbonGPerKWh/ }],
      ['fraction-of-peak', '/v1/sites/hami/signals/renewableKW/points', { points: good, unit: 'fraction-of-peak' }, 'application/json', { field: 'unit', message: /must be one of W, kW, MW, GW/ }],
      ['unit twice', `${base}?unit=gCO2/kWh`, { points: good, unit: 'gCO2/kWh' }, 'application/json', { field: 'unit', message: /give it once/ }],
      ['issue of an actual', base, { points: good, issuedAt: iso(NOW) }, 'application/json', { field: 'issuedAt', message: /forecasts only/ }],
      ['unknown series', `${base}?series=guess`, { points: good }, 'application/json', { field: 'series', message: /actual or forecast/ }],
      ['unknown signal', '/v1/sites/hami/signals/windSpeed/points', { points: good }, 'application/json', { field: 'signal', message: /must be one of priceYuanPerKWh/ }],
      ['CSV value not a number', base, csv(NOW, [500, 'lots', 520]), 'text/csv', { field: 'body', message: /^CSV line 3: value 'lots' in column 'value' is not a number/ }],
      ['CSV value missing', base, csv(NOW, [500, '']), 'text/csv', { field: 'body', message: /^CSV line 3: no value/ }],
      ['CSV negative value', base, csv(NOW, [500, 510, -1]), 'text/csv', { field: 'body', message: /^CSV line 4: value -1 gCO2\/kWh is negative/ }],
      ['CSV without the value column', base, 'time,carbon\n2026-06-01T00:00Z,5', 'text/csv', { field: 'body', message: /column 'value' not found/ }],
      ['CSV without rows', base, 'time,value\n', 'text/csv', { field: 'body', message: /needs a header and at least one row/ }],
    ];
    for (const [name, url, body, type, expected] of cases) {
      const res = await call('POST', url, body, type);
      expect(res.statusCode, `${name}: ${res.body}`).toBe(400);
      const fields: { field: string; message: string }[] = res.json().error.fields;
      expect(fields[0].field, name).toBe(expected.field);
      expect(fields[0].message, name).toMatch(expected.message);
    }
    expect((await call('POST', '/v1/sites/atlantis/signals/carbonGPerKWh/points', { points: good })).statusCode).toBe(404);
    const lab = await h.f.store.createApiKey('lab', 'tenant', NOW);
    if (!lab.ok) throw new Error(lab.reason);
    expect((await call('POST', base, { points: good }, 'application/json', lab.plaintext)).statusCode).toBe(403);
    expect((await call('GET', base, undefined, 'application/json', lab.plaintext)).statusCode).toBe(403);
    const stored = await h.f.store.signalPoints();
    expect(stored.ok && stored.points).toEqual([]);
    expect(wakes).toBe(0);
  });
});
