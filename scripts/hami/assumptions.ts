/**
 * The stated assumptions of the `hami` scenario, with the figures the build computed.
 * Written into scenarios/hami/scenario.json by scripts/build-hami-data.ts.
 */
import type { PowerPoint } from '../../src/core/model/types.ts';
import { CITIES, CITY_ACCESS, LIFECYCLE_G_PER_KWH, LINK_TERMS, NETWORK, NOISE, PERIOD, SERVERS, SITES, TARIFFS, type TariffName } from './facts.ts';

type Peaks = { fp64: number; fp32: number; bf16: number };
export interface Derived {
  idleW: number;
  acceleratorCurve: PowerPoint[];
  powerCurves: Record<'ai-accelerator' | 'general-core' | 'hpc-node', PowerPoint[]>;
  peaks: { ai: Peaks; general: Peaks; hpc: Peaks };
  plantLon: Record<string, number>;
  shiftMinutes: Record<string, number>;
  carbonRest: Record<string, number>;
  lifecycle: Record<string, number>;
  windMeans: Record<string, number>;
  solarMeans: Record<string, number>;
  distancesKm: Record<string, number>;
  /** Per city: its access links (site, one-way ms). */
  access: Record<string, { site: string; latencyMs: number }[]>;
}

const pct = (x: number) => `${Math.round(x * 100)} %`;
const curveText = (c: PowerPoint[]) => c.map((p) => `${p.load}: ${p.powerW} W`).join(', ');
const peaksText = (p: Peaks) => `fp64 ${p.fp64}, fp32 ${p.fp32}, bf16 ${p.bf16} TFLOPS per node`;

export function assumptions(d: Derived): { what: string; value: string; reasoning: string }[] {
  const hami = SITES[0];
  const hamiPflops =
    (hami.aiServers * d.peaks.ai.bf16 + hami.generalServers * d.peaks.general.bf16 + hami.hpcNodes * d.peaks.hpc.bf16) / 1000;
  const tariffText = (name: TariffName) => {
    const t = TARIFFS[name];
    return `${name}: flat ${t.flat}, peak ×${t.peakRatio}, valley ×${t.valleyRatio} yuan/kWh; ${t.periods.map(([a, b, tier]) => `${a}-${b} ${tier}`).join(', ')}`;
  };
  return [
    {
      what: 'Accelerators in Hami AI servers',
      value: `${hami.aiServers} servers × ${SERVERS.acceleratorsPerAiServer} H200-class accelerators = ${hami.aiServers * SERVERS.acceleratorsPerAiServer}`,
      reasoning: 'The report gives 8 intelligent-computing servers but not their make; 8 accelerators per server is the common HGX-style layout, and the H200 is the accelerator measured in shared/data/accelerator-power.',
    },
    {
      what: 'Per-accelerator power curve of ai pools (power curve ai-accelerator)',
      value: curveText(d.powerCurves['ai-accelerator']),
      reasoning: `Measured H200 (shared/data/accelerator-power/summary.json): idle ${d.idleW.toFixed(1)} W (mean of the two idle phases), then ${curveText(d.acceleratorCurve.slice(1))} under bf16 GEMM duty cycles; multiplied by 1 + host overhead share (next assumption).`,
    },
    {
      what: 'Host and server overhead per accelerator',
      value: `${pct(SERVERS.hostOverheadShare)} of the accelerator's own power`,
      reasoning: 'CPUs, memory, NICs, NVSwitch, fans and power-supply losses of an 8-GPU server: vendor system ratings of 8-GPU H200 servers (about 10 kW for 8 × 700 W GPUs) put the rest of the server at roughly half to two thirds of GPU power. Assumed, not measured.',
    },
    {
      what: 'Peak compute of an AI server',
      value: peaksText(d.peaks.ai),
      reasoning: `${SERVERS.acceleratorsPerAiServer} × the measured dense matrix peaks of one H200 (shared/data/accelerator-power/peak.json).`,
    },
    {
      what: 'General-purpose servers',
      value: `2 sockets, ${SERVERS.coresPerGeneralServer} cores; ${peaksText(d.peaks.general)}; ${SERVERS.generalServerFullW} W at full load, per core: ${curveText(d.powerCurves['general-core'])}`,
      reasoning: 'The report gives 100 general servers without a model. A typical current 2-socket server: 2.5 GHz × 32 fp64 FLOP/cycle per core (AVX-512, two FMA units), bf16 at twice fp32. Power shape like published SPECpower_ssj2008 results: idle about 30 % of full load, rising nearly linearly.',
    },
    {
      what: 'Low-power state of servers (pools\' powerStates)',
      value: `soft-off at ${SERVERS.softOffW.ai} W (AI server), ${SERVERS.softOffW.general} W (general server), ${SERVERS.softOffW.hpc} W (HPC node); boot ${SERVERS.bootS.ai} s, ${SERVERS.bootS.general} s, ${SERVERS.bootS.hpc} s; waking costs the boot time at idle power`,
      reasoning:
        'Servers here sleep by going soft-off (ACPI S5): the operating system is down and only the management controller stays powered, so the server can be turned on remotely (as Lenovo describes for its servers: pubs.lenovo.com/x3250-m4/c_server_power_features). Accelerator servers rarely support suspend-to-RAM, hence soft-off for all. The draw in soft-off (management controller, standby rail and power-supply losses) and the boot times (firmware self-test, operating system, drivers; longer for 8-accelerator servers) are assumed, not measured; a boot is charged at the server\'s idle power (its power curve at load 0).',
    },
    {
      what: 'Supercomputing (HPC) nodes',
      value: `2 CPUs (as a general server) + ${SERVERS.acceleratorsPerHpcNode} H200-class accelerators per node; ${peaksText(d.peaks.hpc)}; node power: ${curveText(d.powerCurves['hpc-node'])}`,
      reasoning: `Chosen so that Hami's total matches the report's 'about 150 PFLOPS', read as bf16 peak: ${hamiPflops.toFixed(1)} PFLOPS over the 8 AI servers, 100 general servers and 80 HPC nodes. Node power = general server + 2 measured accelerators (the CPU host is already counted).`,
    },
    {
      what: 'Pools at the other sites',
      value: SITES.slice(1).map((s) => `${s.id}: ${s.aiServers} AI servers, ${s.generalServers} general servers, ${s.hpcNodes} HPC nodes`).join('; '),
      reasoning: 'Not in the report. Illustrative sizes of the same order as Hami so that work can move between sites: Qingyang is an AI-heavy national hub cluster, Zhengzhou hosts a national supercomputing centre, the eastern cities have mainly general and AI capacity.',
    },
    {
      what: 'PUE per site',
      value: SITES.map((s) => `${s.id} ${s.pue}`).join(', '),
      reasoning: 'Not published per site. Cold, dry north-western sites (free cooling) are given about 1.2, in line with the targets set for the national hub nodes of the East-Data-West-Computing programme; eastern and humid sites 1.3-1.35.',
    },
    {
      what: 'Grid time-of-use tariffs (Beijing time, every day alike, no critical-peak tier)',
      value: (Object.keys(TARIFFS) as TariffName[]).map(tariffText).join(' | '),
      reasoning: 'No public tariff table for these sites was found. Structure follows the NDRC 2021 time-of-use notice (peak/flat/valley; peak-to-valley ratio at least 4:1 where the daily load swing is large, 3:1 elsewhere). Flat prices are rough large-industrial (1-10 kV) levels per province. North-western provinces with much solar are modelled with the valley at midday, as recent north-western tariff reforms move valleys into solar hours; eastern ones with a night valley. Check the current provincial notice before relying on a figure.',
    },
    {
      what: 'Grid carbon intensity model',
      value: SITES.map((s) => `${s.id}: mean ${s.grid.meanGPerKWh} gCO2/kWh, wind ${pct(s.grid.windShare)}, solar ${pct(s.grid.solarShare)} of generation, non-wind-solar part ${d.carbonRest[s.id]} gCO2/kWh`).join('; '),
      reasoning: "CI(t) = CI_rest × (1 − r(t)), r(t) = windShare × w(t)/mean(w) + solarShare × s(t)/mean(s) (at most 0.8), where w and s are the site's wind and solar shapes for 2020; CI_rest is set so the annual mean equals the province's mean. Annual means are rounded assumptions around China's published national grid average emission factor (about 570 gCO2/kWh, Ministry of Ecology and Environment): coal-heavy Xinjiang and Henan above it, Gansu (hydro, wind, solar) and Chongqing (hydro) below. Wind and solar shares are rounded assumptions of provincial generation mixes. Direct (combustion) emissions of the grid, not lifecycle.",
    },
    {
      what: 'Solar shapes',
      value: SITES.filter((s) => s.solar).map((s) => `${s.id}: ${s.solar?.column} moved ${d.shiftMinutes[s.id]} min`).join(', '),
      reasoning: `Real Chinese PV plants (Chen & Xu, Scientific Data 2022; hourly, Beijing time), as fraction of nameplate, 2020. The source does not give their provinces; their energy-weighted solar noon places them at about ${Object.entries(d.plantLon).map(([k, v]) => `${k} ${v.toFixed(1)}° E`).join(', ')}. North-western sites take the two western plants (plant1 for Hami and Qingyang, plant2 for Urumqi), eastern sites plant5; each shape is moved 4 min per degree of longitude between plant and site (to whole hours in the carbon model). Capacity factors 2020: ${Object.entries(d.solarMeans).map(([k, v]) => `${k} ${pct(v)}`).join(', ')}.`,
    },
    {
      what: 'Wind shapes (foreign)',
      value: SITES.filter((s) => s.wind).map((s) => `${s.id}: ${s.wind?.column}`).join(', '),
      reasoning: `No public hourly wind output of Chinese farms was at hand, so real foreign shapes are used and marked as such: Great Britain onshore wind (ENTSO-E via Let's Wait Awhile), Germany wind and California ISO wind (EnsembleCI, EIA-930), 2020, each as a fraction of its highest hourly mean of the year (mean ${Object.entries(d.windMeans).map(([k, v]) => `${k} ${pct(v)}`).join(', ')}). Different shapes per site keep the sites' wind from being perfectly correlated.`,
    },
    {
      what: 'Renewable power contracted per site (peak, facility side)',
      value: SITES.map((s) => `${s.id}: ${[s.solar && `solar ${s.solar.peakKW} kW`, s.wind && `wind ${s.wind.peakKW} kW`, s.hydroKW && `hydro ${s.hydroKW} kW constant`].filter(Boolean).join(' + ')}`).join('; '),
      reasoning: "Sized to be comparable to each site's own load (a few hundred kW to about 1.5 MW of peak) so that where and when work runs changes how much of it is green: Hami and the other north-western sites have much cheap wind and solar, the eastern cities only small rooftop solar; Chongqing a small run-of-river hydro contract (Sichuan-Chongqing hydro), flat through the year.",
    },
    {
      what: 'Renewable terms (price, lifecycle carbon)',
      value: SITES.map((s) => `${s.id}: ${s.renewablePriceYuanPerKWh} yuan/kWh, ${d.lifecycle[s.id]} gCO2/kWh`).join('; '),
      reasoning: `Prices: north-western wind and solar sell well below the grid's flat price; eastern distributed solar and hydro contracts cost more. Carbon: energy-weighted lifecycle medians from IPCC AR5 WGIII Annex III (wind ${LIFECYCLE_G_PER_KWH.wind}, solar PV ${LIFECYCLE_G_PER_KWH.solar}, hydro ${LIFECYCLE_G_PER_KWH.hydro} gCO2/kWh).`,
    },
    {
      what: 'Link latency (one-way)',
      value: `great-circle distance × ${NETWORK.routeFactor} ÷ ${NETWORK.fibreKmPerMs} km/ms; distances: ${Object.entries(d.distancesKm).map(([k, v]) => `${k} ${v} km`).join(', ')}`,
      reasoning: 'No public latency table between these cities was found. Light in fibre covers about 200 km per ms; long-haul fibre routes follow railways and roads and run about 1.3-1.6 times the great-circle distance.',
    },
    {
      what: 'User regions (inference services)',
      value: `${CITIES.map((c) => `${c.name} ${c.populationM} M`).join(', ')}; all on Beijing time (UTC${CITY_ACCESS.utcOffset}, no daylight saving)`,
      reasoning:
        "Phase two serves large-model inference to cities in central and eastern China (2024 report). These are the largest of them plus the three cities with sites; residents from the seventh national population census (2020) city bulletins. China keeps one time zone, UTC+08:00, all year.",
    },
    {
      what: 'Access latency of user regions (one-way)',
      value: `${CITY_ACCESS.metroMs} ms metro access + great-circle distance × ${NETWORK.routeFactor} ÷ ${NETWORK.fibreKmPerMs} km/ms to each of the ${CITY_ACCESS.sites} nearest of ${CITY_ACCESS.backboneSites.join(', ')}; ${Object.entries(d.access).map(([k, v]) => `${k}: ${v.map((a) => `${a.site} ${a.latencyMs} ms`).join(', ')}`).join('; ')}`,
      reasoning:
        "The same fibre rule as the links between sites. Beijing, Zhengzhou and Chongqing are national internet backbone interconnection points (see 'Links beyond the report'), so a city's traffic enters the sites' network at the nearest of them; the metro and access network adds about 1 ms one way. A round trip to a site is twice the access latency plus the route over the scenario's links (docs/services.md).",
    },
    {
      what: 'Link bandwidth and cost',
      value: Object.entries(LINK_TERMS).map(([k, t]) => `${k}: ${t.bandwidthGbps} Gbit/s, ${t.costYuanPerGB} yuan/GB`).join('; '),
      reasoning: "The computing-power network (Hami-Zhengzhou-Qingyang) is taken as dedicated 100 Gbit/s lines whose capacity is paid up front (small marginal cost per GB); the data networks and backbone links as a leased 10 Gbit/s share at a higher per-GB cost. No public prices; these set the order of magnitude of moving data versus moving work.",
    },
    {
      what: 'Network energy',
      value: `${NETWORK.energyKWhPerGB} kWh/GB per link`,
      reasoning: 'Aslan et al. (J. Industrial Ecology 2018) estimate 0.06 kWh/GB for fixed-line transmission networks in 2015, halving about every two years; a long-haul hop of a few thousand km in 2026 is taken at 0.005 kWh/GB.',
    },
    {
      what: 'Links beyond the report',
      value: 'zhengzhou-beijing, zhengzhou-chongqing (backbone), qingyang-zhengzhou (computing-power network triangle)',
      reasoning: "The report names a computing-power network joining Hami with Zhengzhou and Qingyang (modelled as a triangle, so Qingyang and Zhengzhou are joined too) and data networks from Hami. Beijing, Zhengzhou and Chongqing are national internet backbone interconnection points, so central and eastern cities reach one another without going through Hami.",
    },
    {
      what: 'Forecasts',
      value: `renewables: actual + Gaussian noise, σ = ${NOISE.renewableSigmaPercent} % of the period mean; carbon: σ = ${NOISE.carbonSigmaPercent} %; seed ${NOISE.seed}; price forecast = actual`,
      reasoning: "Like the forecasts of Let's Wait Awhile (actual plus Gaussian noise of 5 or 10 % of the mean); renewables are less predictable than grid carbon, hence 15 %. Noise is independent per slot. Time-of-use prices are published in advance, so their forecast is exact.",
    },
    {
      what: 'Data year',
      value: `all series use ${PERIOD.dataYear}, mapped to any requested year by calendar date (repeat-year); default period ${PERIOD.start}, ${PERIOD.slots} slots of ${PERIOD.slotMinutes} min`,
      reasoning: `${PERIOD.dataYear} is the one year covered by every source (Chinese PV 2019-2020, GB mix 2020, Germany 2020-2021, California 2020). A June week has long solar days and moderate wind.`,
    },
  ];
}
