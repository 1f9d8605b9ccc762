/**
 * The capability the service meters and shows: advertised (the network as the scenario states it) or measured
 * (the latest probe of each pool, src/core/model/capability.ts). `kumul serve --capability measured` makes one
 * (src/service/runtime.ts), refreshes it from the store every loop tick, and applies it to the dispatch loop's
 * scenario windows (so metering counts PFLOP·h at measured peaks) and to the network the API's views show; and
 * the dispatch loop gives no new work to a pool its latest probe flagged, as to a pool out of service.
 */
import { withMeasuredCapability, type MeasuredPeak } from '../core/model/capability.ts';
import type { Network, Precision, Scenario } from '../core/model/types.ts';
import type { ProbeRecord, Store } from '../store/port.ts';
import type { Outage } from '../exec/port.ts';

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

/** Pools whose latest probe is flagged (it delivered less than its threshold, or found fewer devices), with why. */
export function flaggedPools(probes: readonly ProbeRecord[]): Outage[] {
  return probes
    .filter((p) => p.flagged)
    .map((p) => ({ siteId: p.siteId, poolId: p.poolId, reason: `flagged by probe ${p.id}${p.note ? `: ${p.note}` : ''}` }));
}

/** The latest measured peaks and flags, kept in memory between refreshes so that applying them stays synchronous. */
export class MeasuredCapability {
  private peaks: MeasuredPeak[] = [];
  private flagged: Outage[] = [];

  constructor(private readonly store: Store) {}

  /** Reads the latest probe of each pool (the runtime calls it at start and every tick). */
  async refresh(): Promise<void> {
    const latest = await this.store.latestProbes();
    this.peaks = measuredPeaks(latest);
    this.flagged = flaggedPools(latest);
  }

  /** Pools withheld from new work until a later probe passes (the dispatch loop treats them as out of service). */
  withheld(): Outage[] {
    return this.flagged;
  }

  network(network: Network): Network {
    return withMeasuredCapability(network, this.peaks);
  }

  scenario(scenario: Scenario): Scenario {
    return this.peaks.length === 0 ? scenario : { ...scenario, network: this.network(scenario.network) };
  }
}
