/** What the router asks of a view: build once in `root`, `refresh()` its data (on entry and on live ticks), `dispose()`. */
export interface View {
  refresh(): Promise<void>;
  dispose(): void;
}

export interface Route {
  /** `network`, `energy`, `work`, `savings`, `tenant`. */
  name: string;
  /** Path parts after the name, decoded: `#/energy/hami` → `['hami']`. */
  parts: string[];
}

/** The simulated "now" last seen from the service (network answer or live tick), epoch ms; null before. */
export const serviceClock = { nowMs: null as number | null };

/** Refreshes the visible view now, through the router (which keeps the keyboard focus and the tables' scroll, and shows a failure); set by main.ts. */
export const router = { refresh: (): void => {} };
