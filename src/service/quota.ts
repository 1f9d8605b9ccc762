/**
 * A tenant's quota (`maxConcurrentUnits` per pool class): its units in use at once — running batch runs and service
 * replicas together — stay within it. The dispatch loop's start of due work (loop.ts), the services placement of each
 * cycle and the burst rule (services-loop.ts) ask it.
 */
import type { PoolClass } from '../core/model/types.ts';
import type { Tenant } from '../store/port.ts';

/** Units the tenant may still take in the pool class with `busyUnits` in use (Infinity without a limit). */
export function quotaLeft(tenant: Tenant | null, poolClass: PoolClass | string, busyUnits: number): number {
  const limit = tenant?.maxConcurrentUnits[poolClass as PoolClass] ?? null;
  return limit === null ? Infinity : Math.max(0, limit - busyUnits);
}
