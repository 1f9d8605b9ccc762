/**
 * Turns a signal CSV (`time,value`, one row per step, ISO instants) into an inline `series` source, so
 * the signal lives inside the scenario document. Called by the operator API's signal upload
 * (`PUT /v1/sites/{id}/signals/{signal}`); errors are ScenarioErrors naming the CSV line.
 */
import { parseCsvSeries } from './csv.ts';
import { fail } from './errors.ts';
import type { SeriesSourceSpec } from './schema.ts';
import { MINUTE_MS, formatIsoMinute } from './time.ts';

/** `name` is what errors call the upload (e.g. `CSV`). Rows must be evenly spaced by whole minutes. */
export function seriesFromCsv(text: string, unit: string, name = 'CSV'): SeriesSourceSpec {
  const where = { scenarioFile: name, jsonPath: '', csvName: name };
  const data = parseCsvSeries(text, 'time', 'value', 0, where);
  const stepMs = data.timesMs[1] - data.timesMs[0];
  if (stepMs % MINUTE_MS !== 0) fail(name, '', `${name} line ${data.lines[1]}: rows must be whole minutes apart`);
  for (let r = 2; r < data.timesMs.length; r++) {
    if (data.timesMs[r] - data.timesMs[r - 1] !== stepMs)
      fail(name, '', `${name} line ${data.lines[r]}: rows must be evenly spaced (${stepMs / MINUTE_MS} min, as between the first two rows)`);
  }
  return {
    source: 'series',
    start: formatIsoMinute(data.timesMs[0]),
    stepMinutes: stepMs / MINUTE_MS,
    values: Array.from(data.values, (v) => (Number.isNaN(v) ? null : v)),
    unit: unit as SeriesSourceSpec['unit'],
  };
}
