/** The built-in plugins and policies. Called by the planner's callers (CLI, simulator, service) to get a registry and profiles. */
import { Registry, type Profile } from '../framework.ts';
import type { Objective } from '../objective.ts';
import { capacityFilter } from './capacity/index.ts';
import { allowedSitesFilter } from './allowed-sites/index.ts';
import { deadlineReachableFilter } from './deadline-reachable/index.ts';
import { costScore } from './cost/index.ts';
import { carbonScore } from './carbon/index.ts';
import { greenScore } from './green/index.ts';

export function builtinRegistry(): Registry {
  return new Registry()
    .addFilter(capacityFilter)
    .addFilter(allowedSitesFilter)
    .addFilter(deadlineReachableFilter)
    .addScore(costScore)
    .addScore(carbonScore)
    .addScore(greenScore);
}

const FILTERS = ['allowed-sites', 'capacity', 'deadline-reachable'] as const;

/** Policies: `optimize` (the objective's cheapest site and slots), and the baselines `asap-origin` and `asap-any`. */
export const POLICIES = ['optimize', 'asap-origin', 'asap-any'] as const;
export type PolicyName = (typeof POLICIES)[number];

/** The profile of a policy under an objective (baselines ignore the objective when choosing, but are priced by it). */
export function policyProfile(policy: PolicyName, objective: Objective): Profile {
  switch (policy) {
    case 'optimize':
      return { name: policy, filters: FILTERS, scores: objective.weights, strategy: 'optimize', sites: 'any' };
    case 'asap-origin':
      return { name: policy, filters: FILTERS, scores: objective.weights, strategy: 'asap', sites: 'origin' };
    case 'asap-any':
      return { name: policy, filters: FILTERS, scores: objective.weights, strategy: 'asap', sites: 'any' };
  }
}
