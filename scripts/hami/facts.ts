/**
 * Facts and stated assumptions behind the built-in `hami` scenario, in one place.
 * scripts/build-hami-data.ts turns them (with the shared data sets) into scenarios/hami/.
 * Sources: the 2024 Hami report summarised in ../shared/DESIGN.md; everything else is an
 * assumption and is written into the scenario's `assumptions` with its reasoning.
 */

export type SolarColumn = 'plant1_50mw' | 'plant2_130mw' | 'plant5_110mw';
export type WindColumn = 'gb_onshore' | 'de_wind' | 'caiso_wind';
export type TariffName = 'xinjiang' | 'gansu' | 'henan' | 'beijing' | 'chongqing';

export interface SiteFacts {
  id: string;
  name: string;
  region: string;
  lat: number;
  lon: number;
  pue: number;
  tariff: TariffName;
  /** Grid carbon model: annual mean gCO2/kWh and shares of annual generation from wind and solar. */
  grid: { meanGPerKWh: number; windShare: number; solarShare: number; windShape: WindColumn };
  /** Contracted renewables, peak kW (facility side). */
  solar?: { column: SolarColumn; peakKW: number };
  wind?: { column: WindColumn; peakKW: number };
  hydroKW?: number;
  renewablePriceYuanPerKWh: number;
  /** Pool sizes: AI servers (8 accelerators each), general servers (64 cores each), HPC nodes. */
  aiServers: number;
  generalServers: number;
  hpcNodes: number;
}

export const SITES: SiteFacts[] = [
  {
    id: 'hami', name: 'Hami integrated computing centre (Yiwu county)', region: 'Xinjiang', lat: 43.25, lon: 94.7, pue: 1.2, tariff: 'xinjiang',
    grid: { meanGPerKWh: 600, windShare: 0.15, solarShare: 0.07, windShape: 'gb_onshore' },
    solar: { column: 'plant1_50mw', peakKW: 600 }, wind: { column: 'gb_onshore', peakKW: 900 }, renewablePriceYuanPerKWh: 0.15,
    aiServers: 8, generalServers: 100, hpcNodes: 80,
  },
  {
    id: 'qingyang', name: 'Qingyang data centre cluster', region: 'Gansu', lat: 35.71, lon: 107.64, pue: 1.2, tariff: 'gansu',
    grid: { meanGPerKWh: 450, windShare: 0.2, solarShare: 0.1, windShape: 'caiso_wind' },
    solar: { column: 'plant1_50mw', peakKW: 400 }, wind: { column: 'caiso_wind', peakKW: 500 }, renewablePriceYuanPerKWh: 0.2,
    aiServers: 24, generalServers: 150, hpcNodes: 0,
  },
  {
    id: 'zhengzhou', name: 'Zhengzhou computing centre', region: 'Henan', lat: 34.75, lon: 113.63, pue: 1.3, tariff: 'henan',
    grid: { meanGPerKWh: 620, windShare: 0.08, solarShare: 0.06, windShape: 'de_wind' },
    solar: { column: 'plant5_110mw', peakKW: 150 }, renewablePriceYuanPerKWh: 0.35,
    aiServers: 8, generalServers: 200, hpcNodes: 120,
  },
  {
    id: 'urumqi', name: 'Urumqi data centre', region: 'Xinjiang', lat: 43.83, lon: 87.62, pue: 1.25, tariff: 'xinjiang',
    grid: { meanGPerKWh: 600, windShare: 0.15, solarShare: 0.07, windShape: 'de_wind' },
    solar: { column: 'plant2_130mw', peakKW: 200 }, wind: { column: 'de_wind', peakKW: 250 }, renewablePriceYuanPerKWh: 0.17,
    aiServers: 4, generalServers: 120, hpcNodes: 0,
  },
  {
    id: 'beijing', name: 'Beijing data centre', region: 'Beijing', lat: 39.9, lon: 116.41, pue: 1.3, tariff: 'beijing',
    grid: { meanGPerKWh: 560, windShare: 0.03, solarShare: 0.02, windShape: 'gb_onshore' },
    solar: { column: 'plant5_110mw', peakKW: 60 }, renewablePriceYuanPerKWh: 0.4,
    aiServers: 16, generalServers: 300, hpcNodes: 0,
  },
  {
    id: 'chongqing', name: 'Chongqing data centre', region: 'Chongqing', lat: 29.56, lon: 106.55, pue: 1.35, tariff: 'chongqing',
    grid: { meanGPerKWh: 500, windShare: 0.02, solarShare: 0.01, windShape: 'caiso_wind' },
    solar: { column: 'plant5_110mw', peakKW: 40 }, hydroKW: 100, renewablePriceYuanPerKWh: 0.3,
    aiServers: 8, generalServers: 200, hpcNodes: 0,
  },
];

/** Time-of-use tariffs (Beijing time): flat price, peak and valley as multiples of flat, and the daily periods. */
export const TARIFFS: Record<TariffName, { flat: number; peakRatio: number; valleyRatio: number; periods: [string, string, 'peak' | 'flat' | 'valley'][] }> = {
  xinjiang: { flat: 0.4, peakRatio: 1.5, valleyRatio: 0.5, periods: [['00:00', '11:00', 'flat'], ['11:00', '17:00', 'valley'], ['17:00', '19:00', 'flat'], ['19:00', '24:00', 'peak']] },
  gansu: { flat: 0.45, peakRatio: 1.5, valleyRatio: 0.5, periods: [['00:00', '10:00', 'flat'], ['10:00', '16:00', 'valley'], ['16:00', '18:00', 'flat'], ['18:00', '23:00', 'peak'], ['23:00', '24:00', 'flat']] },
  henan: { flat: 0.62, peakRatio: 1.6, valleyRatio: 0.4, periods: [['00:00', '07:00', 'valley'], ['07:00', '10:00', 'flat'], ['10:00', '14:00', 'peak'], ['14:00', '17:00', 'flat'], ['17:00', '21:00', 'peak'], ['21:00', '23:00', 'flat'], ['23:00', '24:00', 'valley']] },
  beijing: { flat: 0.72, peakRatio: 1.6, valleyRatio: 0.4, periods: [['00:00', '07:00', 'valley'], ['07:00', '10:00', 'flat'], ['10:00', '15:00', 'peak'], ['15:00', '18:00', 'flat'], ['18:00', '21:00', 'peak'], ['21:00', '23:00', 'flat'], ['23:00', '24:00', 'valley']] },
  chongqing: { flat: 0.6, peakRatio: 1.6, valleyRatio: 0.4, periods: [['00:00', '08:00', 'valley'], ['08:00', '11:00', 'flat'], ['11:00', '14:00', 'peak'], ['14:00', '17:00', 'flat'], ['17:00', '22:00', 'peak'], ['22:00', '24:00', 'flat']] },
};

/** Links: [from, to, kind]. Computing-power network and data networks from the report; backbone links added. */
export const LINKS: [string, string, 'computing-power' | 'data' | 'backbone'][] = [
  ['hami', 'zhengzhou', 'computing-power'],
  ['hami', 'qingyang', 'computing-power'],
  ['qingyang', 'zhengzhou', 'computing-power'],
  ['hami', 'urumqi', 'data'],
  ['hami', 'beijing', 'data'],
  ['hami', 'chongqing', 'data'],
  ['zhengzhou', 'beijing', 'backbone'],
  ['zhengzhou', 'chongqing', 'backbone'],
];

export const LINK_TERMS = {
  'computing-power': { bandwidthGbps: 100, costYuanPerGB: 0.02 },
  data: { bandwidthGbps: 10, costYuanPerGB: 0.1 },
  backbone: { bandwidthGbps: 10, costYuanPerGB: 0.1 },
} as const;

export const NETWORK = { routeFactor: 1.5, fibreKmPerMs: 200, energyKWhPerGB: 0.005 };

/** A city whose users call inference services (a user region of the scenario). Population: residents, millions. */
export interface CityFacts {
  id: string;
  name: string;
  lat: number;
  lon: number;
  populationM: number;
}

/**
 * The eastern and central cities that use phase two's inference services. Residents from the bulletins of China's
 * seventh national population census (2020), resident population of each city (municipalities: whole municipality).
 */
export const CITIES: CityFacts[] = [
  { id: 'beijing', name: 'Beijing', lat: 39.9, lon: 116.41, populationM: 21.89 },
  { id: 'shanghai', name: 'Shanghai', lat: 31.23, lon: 121.47, populationM: 24.87 },
  { id: 'guangzhou', name: 'Guangzhou', lat: 23.13, lon: 113.26, populationM: 18.68 },
  { id: 'shenzhen', name: 'Shenzhen', lat: 22.54, lon: 114.06, populationM: 17.56 },
  { id: 'hangzhou', name: 'Hangzhou', lat: 30.27, lon: 120.16, populationM: 11.94 },
  { id: 'zhengzhou', name: 'Zhengzhou', lat: 34.75, lon: 113.63, populationM: 12.6 },
  { id: 'chongqing', name: 'Chongqing', lat: 29.56, lon: 106.55, populationM: 32.05 },
  { id: 'wuhan', name: 'Wuhan', lat: 30.59, lon: 114.31, populationM: 12.32 },
  { id: 'xian', name: "Xi'an", lat: 34.34, lon: 108.94, populationM: 12.95 },
  { id: 'chengdu', name: 'Chengdu', lat: 30.57, lon: 104.07, populationM: 20.94 },
];

/**
 * How a city's traffic enters the sites' network: at its `sites` nearest backbone sites, after a metro access
 * latency, then over fibre at the links' route factor and speed (NETWORK).
 */
export const CITY_ACCESS = { backboneSites: ['beijing', 'zhengzhou', 'chongqing'], sites: 2, metroMs: 1, utcOffset: '+08:00' };

/** Server models. */
export const SERVERS = {
  acceleratorsPerAiServer: 8,
  hostOverheadShare: 0.6,
  coresPerGeneralServer: 64,
  /** General server: full-load power and power at each load as a share of it (SPECpower-like shape). */
  generalServerFullW: 560,
  generalServerShape: [[0, 0.3], [0.1, 0.4], [0.25, 0.52], [0.5, 0.68], [0.75, 0.84], [1, 1]] as [number, number][],
  /** CPU peak of a 2-socket, 64-core server: 2.5 GHz × 32 fp64 FLOP/cycle per core (AVX-512, 2 FMA units). */
  generalServerPeakTflops: { fp64: 5.12, fp32: 10.24, bf16: 20.48 },
  acceleratorsPerHpcNode: 2,
  /** Soft-off (ACPI S5, only the management controller powered) per server, W, and the time to boot one, s. */
  softOffW: { ai: 30, general: 15, hpc: 20 },
  bootS: { ai: 300, general: 180, hpc: 240 },
};

export const PERIOD = { start: '2026-06-01T00:00Z', slots: 168, slotMinutes: 60, dataYear: 2020 };
export const NOISE = { renewableSigmaPercent: 15, carbonSigmaPercent: 5, seed: 2026 };
/** Lifecycle carbon of renewable generation, gCO2/kWh (IPCC AR5 WGIII Annex III medians). */
export const LIFECYCLE_G_PER_KWH = { wind: 11, solar: 48, hydro: 24 };
