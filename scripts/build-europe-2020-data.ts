/**
 * Builds `europe-2020` (scenarios/europe-2020/scenario.json): the sites of de-2020, gb-2020 and fr-2020 on one
 * network, for experiments that shift work in space and time together (docs/space-and-time.md). The sites read
 * the one-site scenarios' carbon files (../<id>-2020/data/carbon-2020-utc.csv, written by
 * scripts/build-de-2020-data.ts), so the series are the same bytes; links join every pair with half the measured
 * round trip between Google Cloud regions in Frankfurt, London and Paris (Sukprasert et al., EuroSys 2024,
 * shared/data/network/gcp_inter_region_latency_pairs_ms.csv):
 *
 *   node --import tsx scripts/build-europe-2020-data.ts [--data DIR] [--out DIR] [--quiet]
 *
 * --data defaults to ../shared/data, --out to scenarios/ (the one-site scenarios must be in the same folder:
 * run scripts/build-de-2020-data.ts with the same --out first). test/scenario/europe-2020.test.ts rebuilds both
 * into a temp folder and compares with the committed file.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatJson } from '../src/scenario/format-json.ts';
import { loadScenario } from '../src/scenario/load.ts';
import { buildArguments, CARBON_FILE, carbonCsv, carbonFigures, COUNTRIES, countrySite, mean, PAPER_SERIES_REASONING, PERIOD, powerCurves, sharedAssumptions } from './de-2020/countries.ts';

const { data: DATA, out: OUT, log } = buildArguments();
const LATENCY_SOURCE = 'network/gcp_inter_region_latency_pairs_ms.csv';
/** The Google Cloud region standing for each site: the country's largest cloud hub. */
const REGIONS: Record<string, { region: string; city: string }> = {
  de: { region: 'europe-west3', city: 'Frankfurt' },
  gb: { region: 'europe-west2', city: 'London' },
  fr: { region: 'europe-west9', city: 'Paris' },
};
/** Stated, not measured: a 10 Gbit/s share per link (see the assumption below). */
const BANDWIDTH_GBPS = 10;
/** Aslan et al. (J. Industrial Ecology 2018): 0.06 kWh/GB in 2015, halving every two years; 2020: 0.06 / 2^2.5 ≈ 0.011. */
const ENERGY_KWH_PER_GB = 0.01;
/** The network energy at the placeholder price (1 yuan/kWh), so a cost figure still reads as kWh. */
const COST_YUAN_PER_GB = 0.01;

/** Measured round trip (ms) between two GCP regions; both directions must be in the file and agree. */
function roundTripMs(pairs: Map<string, number>, a: string, b: string): number {
  const there = pairs.get(`${a},${b}`);
  const back = pairs.get(`${b},${a}`);
  if (there === undefined || back === undefined) throw new Error(`${LATENCY_SOURCE}: no round trip between ${a} and ${b} (both directions needed)`);
  if (there !== back) throw new Error(`${LATENCY_SOURCE}: ${a} → ${b} is ${there} ms but ${b} → ${a} is ${back} ms`);
  return there;
}

const [header, ...rows] = readFileSync(join(DATA, LATENCY_SOURCE), 'utf8').trim().split('\n');
if (header.trim() !== 'sending_region,receiving_region,milliseconds') throw new Error(`${LATENCY_SOURCE}: unexpected header '${header}'`);
const pairs = new Map(rows.map((line) => line.trim().split(',')).map(([from, to, ms]) => [`${from},${to}`, Number(ms)]));

const ids = COUNTRIES.map((c) => c.id);
const links = ids.flatMap((from, i) =>
  ids.slice(i + 1).map((to) => ({
    from,
    to,
    bandwidthGbps: BANDWIDTH_GBPS,
    latencyMs: roundTripMs(pairs, REGIONS[from].region, REGIONS[to].region) / 2,
    costYuanPerGB: COST_YUAN_PER_GB,
    energyKWhPerGB: ENERGY_KWH_PER_GB,
  })),
);
const carbonFile = (id: string) => `../${id}-2020/${CARBON_FILE}`;
const regionOf = (id: string) => `${id} ${REGIONS[id].region} (${REGIONS[id].city})`;

const assumptions = [
  {
    what: 'Grid carbon intensity',
    value: `${COUNTRIES.map((c) => `${c.name}: ${carbonFigures(carbonCsv(DATA, c).values)}`).join('; ')}; every 30 min, source values unchanged, read from the files of de-2020, gb-2020 and fr-2020 (${carbonFile('<id>')})`,
    reasoning: `${PAPER_SERIES_REASONING} The same files as the one-site scenarios, so a site's series (and, for a seed, its forecast noise) is the same here and there.`,
  },
  ...sharedAssumptions({
    value: COUNTRIES.map((c) => `${c.id}: ${c.lat}° N, ${c.lon}° E`).join('; '),
    reasoning: 'Approximate centre of each country, for maps only (as in the one-site scenarios); the grid series are national, and the links stand for the cloud regions named below.',
  }),
  {
    what: 'Link latency',
    value: `${links.map((l) => `${l.from}-${l.to} ${2 * l.latencyMs} ms round trip`).join(', ')}; latencyMs = half the round trip (one-way); regions ${ids.map(regionOf).join(', ')}`,
    reasoning: `Measured round trips between Google Cloud regions (Sukprasert et al., "On the Limitations of Carbon-Aware Temporal and Spatial Workload Shifting in the Cloud", EuroSys 2024; shared/data/${LATENCY_SOURCE}, Apache-2.0). Each country's largest cloud hub stands for its site; all three regions are in the file, in both directions, with equal values.`,
  },
  {
    what: 'Link bandwidth',
    value: `${BANDWIDTH_GBPS} Gbit/s on every link (an assumption, not a measurement)`,
    reasoning:
      'No public figure gives the bandwidth a tenant gets between these regions. 10 Gbit/s is the smallest circuit of a cloud interconnect (Google Cloud Dedicated Interconnect sells 10 Gbit/s circuits and larger ones). Moving 1 GB then takes 0.8 s plus the latency; only jobs with tens of GB of input feel it.',
  },
  {
    what: 'Network energy and cost',
    value: `${ENERGY_KWH_PER_GB} kWh/GB and ${COST_YUAN_PER_GB} yuan/GB per link`,
    reasoning:
      "Aslan et al. (J. Industrial Ecology 2018): 0.06 kWh/GB for fixed-line transmission networks in 2015, halving about every two years, which gives about 0.011 kWh/GB in 2020 (Hami's scenario takes 0.005 for 2026). The cost is that energy at the placeholder price of 1 yuan/kWh, so cost figures still read as kWh. A transfer's emissions are its energy at the origin's carbon intensity (docs/energy-model.md).",
  },
  {
    what: 'Links',
    value: `${links.map((l) => `${l.from}-${l.to}`).join(', ')}: every pair joined directly`,
    reasoning: 'The three regions are joined by the cloud provider\'s own backbone; no route goes through a third site.',
  },
];

const dir = join(OUT, 'europe-2020');
mkdirSync(dir, { recursive: true });
const scenario = {
  $schema: '../../docs/scenario.schema.json',
  $comment:
    'Generated by scripts/build-europe-2020-data.ts from ../shared/data/network/gcp_inter_region_latency_pairs_ms.csv, ../shared/data/carbon/ci_2020_30min_de_gb_fr.csv (through scenarios/<id>-2020) and scenarios/hami; edit those and rerun.',
  version: 1,
  id: 'europe-2020',
  name: 'Germany, Great Britain and France 2020, three sites (space and time)',
  description:
    "The sites of de-2020, gb-2020 and fr-2020 on one network: each on its country's 2020 grid, with the 30-min grid carbon intensity of Wiesner et al., \"Let's Wait Awhile\" (Middleware 2021), joined by links with measured round trips between Google Cloud regions (Frankfurt, London, Paris), for experiments that shift work in space and time (docs/space-and-time.md). Constant price, no on-site renewables.",
  period: PERIOD,
  powerCurves,
  sites: COUNTRIES.map((c) => countrySite(c, carbonFile(c.id))),
  links,
  assumptions,
};
writeFileSync(join(dir, 'scenario.json'), formatJson(scenario));

const loaded = loadScenario(join(dir, 'scenario.json'));
for (const site of loaded.network.sites) {
  log(`europe-2020 ${site.id}: ${loaded.grid.slots} slots of ${loaded.grid.slotMinutes} min; carbon mean ${mean(loaded.signals[site.id].actual.carbonGPerKWh).toFixed(1)} gCO2/kWh`);
}
for (const l of loaded.network.links) log(`europe-2020 link ${l.from}-${l.to}: ${l.latencyMs} ms one-way, ${l.bandwidthGbps} Gbit/s, ${l.energyKWhPerGB} kWh/GB`);
