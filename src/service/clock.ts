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
}

/** Real time × `scale` from `startMs` (scale 60: one simulated minute per second). */
export function scaledClock(startMs: number, scale: number, realNowMs: () => number = Date.now): ScaledClock {
  const realStart = realNowMs();
  const atRealMs = (realMs: number) => Math.round(startMs + (realMs - realStart) * scale);
  return { nowMs: () => atRealMs(realNowMs()), atRealMs };
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
