/**
 * The service's clock, injected everywhere time is read (the dispatch loop, the API, metering), so
 * that tests and `--time-scale` can run simulated time. `scaled` runs `scale` simulated seconds per
 * real second from a start instant; `fixed` is moved by hand in tests.
 */
export interface Clock {
  nowMs(): number;
}

export interface ScaledClock extends Clock {
  /** The service instant of a wall-clock instant (for engines that keep real time, like Slurm). */
  atRealMs(realMs: number): number;
  /** Moves the clock forward to `ms` if it is behind (never back): an instance that does not lead follows the leader's saved instant. */
  catchUp(ms: number): void;
}

/** Real time × `scale` from `startMs` (scale 60: one simulated minute per second). */
export function scaledClock(startMs: number, scale: number, realNowMs: () => number = Date.now): ScaledClock {
  const realStart = realNowMs();
  let from = startMs;
  const atRealMs = (realMs: number) => Math.round(from + (realMs - realStart) * scale);
  return {
    nowMs: () => atRealMs(realNowMs()),
    atRealMs,
    catchUp: (ms) => {
      const behind = ms - atRealMs(realNowMs());
      if (behind > 0) from += behind;
    },
  };
}

export class FixedClock implements Clock {
  constructor(private ms: number) {}
  nowMs(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
