/**
 * The capability the service meters and shows: advertised (the network as the scenario states it) or measured
 * (the latest probe of each pool, src/core/model/capability.ts). `kumul serve --capability measured` makes one
 * (src/service/runtime.ts), refreshes it from the store every loop tick, and applies it to the dispatch loop's
 * scenario windows (so metering counts PFLOP·h at measured peaks) and to the network the API's views show.
 */
import { withMeasuredCapability, type MeasuredPeak } from '../core/model/capability.ts';
import type { Network, Precision, Scenario } from '../core/model/types.ts';
import type { ProbeRecord, Store } from '../store/port.ts';

export const CAPABILITIES = ['advertised', 'measured'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Measured peaks from probes: per node GFLOP/s ÷ 1000 in each measured precision; failed probes give nothing. */
export function measuredPeaks(probes: readonly ProbeRecord[]): MeasuredPeak[] {
  const peaks: MeasuredPeak[] = [];
  for (const probe of probes) {
    if (probe.error !== null) continue;
    const peak: Partial<Record<Precision, number>> = {};
    for (const [precision, gflops] of Object.entries(probe.perNodeGflops) as [Precision, number | null][]) if (gflops !== null) peak[precision] = gflops / 1000;
    if (Object.keys(peak).length > 0) peaks.push({ siteId: probe.siteId, poolId: probe.poolId, peakTflopsPerNode: peak });
  }
  return peaks;
}

/** The latest measured peaks, kept in memory between refreshes so that applying them stays synchronous. */
export class MeasuredCapability {
  private peaks: MeasuredPeak[] = [];

  constructor(private readonly store: Store) {}

  /** Reads the latest probe of each pool (the runtime calls it at start and every tick). */
  async refresh(): Promise<void> {
    this.peaks = measuredPeaks(await this.store.latestProbes());
  }

  network(network: Network): Network {
    return withMeasuredCapability(network, this.peaks);
  }

  scenario(scenario: Scenario): Scenario {
    return this.peaks.length === 0 ? scenario : { ...scenario, network: this.network(scenario.network) };
  }
}
