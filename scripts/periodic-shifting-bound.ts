/**
 * The most a temporal shift can save on the periodic experiment of Wiesner et al. ("Let's Wait
 * Awhile", Middleware 2021): one 30-min job a day at 01:00 UTC on the 365 days 2020-01-01 to
 * 2020-12-30 (as in their simulate.py), each moved to the start with the lowest *actual* carbon
 * within ± H hours (a perfect forecast). A reference for `kumul simulate --shift-hours H`
 * (docs/temporal-shifting.md): with exact forecasts, `optimize` should reach it.
 *
 *   node --import tsx scripts/periodic-shifting-bound.ts [--at HH:MM] [--duration 30m] [--hours 0,1,2,4,8] [--digits 1]
 */
import { recurringJobs, durationMs, timeOfDayMinutes } from '../src/jobs/recurring.ts';
import { loadScenario } from '../src/scenario/load.ts';

const argument = (flag: string, fallback: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : fallback);
const atMinutes = timeOfDayMinutes(argument('--at', '01:00'));
const durationS = durationMs(argument('--duration', '30m')) / 1000;
const hours = argument('--hours', '0,1,2,4,8').split(',').map(Number);
const digits = Number(argument('--digits', '1'));

console.log(`scenario  ${hours.map((h) => `±${h} h`.padStart(7)).join(' ')}   (% of emissions avoided vs the requested time; ${argument('--at', '01:00')} UTC, ${durationS / 60} min)`);
for (const name of ['de-2020', 'gb-2020', 'fr-2020']) {
  const scenario = loadScenario(name);
  const carbon = scenario.signals[scenario.network.sites[0].id].actual.carbonGPerKWh;
  const { startMs, slots, slotMinutes } = scenario.grid;
  const slotMs = slotMinutes * 60_000;
  const length = Math.ceil((durationS * 1000) / slotMs);
  /** Mean carbon of a run starting in slot `s`. */
  const runMean = (s: number) => carbon.slice(s, s + length).reduce((a, b) => a + b, 0) / length;
  const jobs = recurringJobs({
    site: scenario.network.sites[0].id,
    atMinutes,
    offsetMinutes: 0,
    fromMs: Date.UTC(2020, 0, 1),
    toMs: Date.UTC(2020, 11, 31),
    everyMs: 86_400_000,
    durationS,
    units: 1,
    poolClass: 'general',
    jobClass: 'batch',
    interruptible: false,
    inputGb: 0,
    tenant: 'bound',
  });
  const savings = hours.map((h) => {
    let atRequested = 0;
    let best = 0;
    for (const job of jobs) {
      const requested = Math.floor((job.releaseMs - startMs) / slotMs);
      const shift = Math.floor((h * 3_600_000) / slotMs);
      let lowest = Infinity;
      for (let s = Math.max(0, requested - shift); s <= Math.min(slots - length, requested + shift); s++) lowest = Math.min(lowest, runMean(s));
      atRequested += runMean(requested);
      best += lowest;
    }
    return (100 * (atRequested - best)) / atRequested;
  });
  console.log(`${name.padEnd(9)} ${savings.map((p) => `${p.toFixed(digits)} %`.padStart(7)).join(' ')}`);
}
