/**
 * Plans a jobs file on a scenario under a policy and an objective, and compares the plan with a
 * baseline policy on the jobs both place. Called by `kumul plan` and the benchmarks.
 */
import type { Job, Scenario } from '../core/model/types.ts';
import type { LpSolver } from '../core/lp/model.ts';
import type { CommittedUse, Snapshot } from '../core/dispatch/cycle.ts';
import { dispatch, type Plan } from '../core/dispatch/plan.ts';
import { builtinRegistry, policyProfile, POLICIES, type PolicyName } from '../core/dispatch/plugins/index.ts';
import { parseObjective, type Objective } from '../core/dispatch/objective.ts';
import type { PowerPolicy } from '../core/energy/idle.ts';
import type { LinkReserveGB } from '../core/network/routes.ts';

/** The snapshot a plan reads; `committed`: work placed before the jobs (a services plan's replicas) that keeps its units and energy. */
export function snapshotFor(scenario: Scenario, jobs: readonly Job[], committed?: readonly CommittedUse[]): Snapshot {
  const signals = Object.fromEntries(Object.entries(scenario.signals).map(([id, pair]) => [id, pair.forecast]));
  return { network: scenario.network, grid: scenario.grid, signals, jobs, nowMs: scenario.grid.startMs, ...(committed?.length ? { committed } : {}) };
}

/** Reads `--objective`; throws a plain Error with the reason for the CLI to print. */
export function objectiveFrom(text: string): Objective {
  const parsed = parseObjective(text, builtinRegistry().scoreNames());
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
}

export function policyFrom(text: string): PolicyName {
  if (!(POLICIES as readonly string[]).includes(text)) throw new Error(`unknown policy '${text}' (known: ${POLICIES.join(', ')})`);
  return text as PolicyName;
}

export interface PlanRequest {
  scenario: Scenario;
  jobs: readonly Job[];
  objective: Objective;
  policy: PolicyName;
  solver?: LpSolver;
  /** How idle nodes are powered (default: always on); under `sleep` the plan packs work so that idle nodes sleep. */
  power?: PowerPolicy;
  onProgress?: (done: number, total: number) => void;
  /** Units and energy already committed (a services plan, `kumul plan --services-plan`). */
  committed?: readonly CommittedUse[];
  /** Link capacity backups hold (`kumul backup plan --jobs`: core/backup/planner.ts `backupReservation`); job input moves on what it leaves. */
  linkReserveGB?: LinkReserveGB;
}

export function planJobs(request: PlanRequest): Plan {
  const registry = builtinRegistry();
  const snapshot: Snapshot = { ...snapshotFor(request.scenario, request.jobs, request.committed), ...(request.power ? { power: request.power } : {}), ...(request.linkReserveGB ? { linkReserveGB: request.linkReserveGB } : {}) };
  return dispatch(snapshot, {
    registry,
    profile: policyProfile(request.policy, request.objective),
    objectiveName: request.objective.name,
    solver: request.solver,
    onProgress: request.onProgress,
  });
}

export interface Comparison {
  /** Jobs placed by both plans: the figures below are over these. */
  jobs: number;
  plan: Figures;
  baseline: Figures;
}

interface Figures {
  energyKWh: number;
  greenKWh: number;
  costYuan: number;
  carbonKg: number;
}

/** Totals of both plans over the jobs both placed, so that a saving is not an artefact of placing fewer jobs. */
export function compareOnCommonJobs(plan: Plan, baseline: Plan): Comparison {
  const inBaseline = new Map(baseline.jobs.map((j) => [j.id, j]));
  const sum = (): Figures => ({ energyKWh: 0, greenKWh: 0, costYuan: 0, carbonKg: 0 });
  const a = sum();
  const b = sum();
  let jobs = 0;
  for (const job of plan.jobs) {
    const other = inBaseline.get(job.id);
    if (!other) continue;
    jobs++;
    for (const key of ['energyKWh', 'greenKWh', 'costYuan', 'carbonKg'] as const) {
      a[key] += job[key];
      b[key] += other[key];
    }
  }
  return { jobs, plan: a, baseline: b };
}
