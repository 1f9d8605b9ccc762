// Writes web/src/china.geo.json, the outline the dashboard's network view draws: Natural Earth's 1:50m
// admin-0 polygon named "China" (public domain), from the world-atlas package's TopoJSON (ISC), converted
// with topojson-client and rounded to 0.01° (about 1 km). Not an authoritative boundary.
// Run: node scripts/build-china-outline.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { feature } from 'topojson-client';

const require = createRequire(import.meta.url);
const topology = JSON.parse(readFileSync(require.resolve('world-atlas/countries-50m.json'), 'utf8'));
const countries = feature(topology, topology.objects.countries);
const china = countries.features.filter((f) => f.properties.name === 'China');
if (china.length !== 1) throw new Error(`expected one feature named China, found ${china.length}`);

const round = (value) => (Array.isArray(value) ? value.map(round) : Math.round(value * 100) / 100);
const out = {
  type: 'FeatureCollection',
  features: china.map((f) => ({ type: 'Feature', id: 'china', properties: { name: 'China' }, geometry: { type: f.geometry.type, coordinates: round(f.geometry.coordinates) } })),
};
const file = new URL('../web/src/china.geo.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(out)}\n`);
console.log(`wrote ${file.pathname}: ${JSON.stringify(out).length} bytes`);
