/**
 * What the API and the dispatch loop share in a running `kumul serve`: the store, the clock, the
 * metrics, the network the service runs on, a way to ask the loop for an early cycle, and live events.
 * Built by the serve command (src/cli/serve-command.ts) and by tests.
 */
import type { Network } from '../core/model/types.ts';
import type { Outage } from '../exec/port.ts';
import type { Executor } from '../exec/port.ts';
import type { Store } from '../store/port.ts';
import type { BackupLoopView } from './backup-loop.ts';
import type { Clock } from './clock.ts';
import type { LiveEvents } from './live-events.ts';
import type { LeadershipView } from './leadership.ts';
import type { Metrics } from './metrics.ts';
import type { ScenarioState } from './scenario-state.ts';
import type { PowerPolicy } from '../core/energy/idle.ts';

export interface ServiceContext {
  store: Store;
  clock: Clock;
  metrics: Metrics;
  /** The sites, pools and links jobs are validated against (origin, allowed sites, pool class). */
  network(): Network;
  /**
   * The stored scenario document the network comes from, which the operator's scenario routes change;
   * a running service has one, tests of other routes may leave it out (those routes then answer 404).
   */
  scenario?: ScenarioState;
  /** The pools out of service at the dispatch loop's last tick (docs/slurm.md, "Outages"); absent without a loop. */
  outages?(): Outage[];
  /** Asks the dispatch loop to run a cycle soon (new or cancelled jobs); a no-op without a loop. */
  wake(): void;
  /**
   * Live events: the dispatch loop publishes a `tick` after each tick, `GET /v1/events` streams them. A running
   * service has it; tests of other routes may leave it out (the loop then publishes nothing, the route answers 404).
   */
  live?: LiveEvents;
  /** The executor the dispatch loop runs work on; POST /v1/probes runs probes through it (404 without one). */
  executor?: Executor;
  /** Which instance runs the dispatch loop (src/service/leadership.ts); absent without a runtime (tests of routes). */
  leadership?(): LeadershipView;
  /** How idle nodes are powered (`kumul serve --power`); absent: always on. */
  power?: PowerPolicy;
  /** The backup loop's view of datasets (src/service/backup-loop.ts), when this instance runs one (`--backup-endpoints`). */
  backup?: BackupLoopView;
}
