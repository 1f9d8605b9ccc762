/**
 * Objectives the dispatcher minimises: a weighted sum of score plugins' values.
 * `cost` (yuan), `carbon` (kg CO2), `green` (grid, i.e. non-renewable, kWh — minimising it maximises
 * the green share), or a mix such as `cost=1,carbon=0.2` (0.2 yuan per kg: a carbon price).
 * Called by the CLI to read `--objective` and by the planner and bound to price work.
 */
export type ObjectiveWeights = Readonly<Record<string, number>>;

export interface Objective {
  /** As the user wrote it: `cost`, `carbon`, `green` or `name=weight,…`. */
  name: string;
  weights: ObjectiveWeights;
}

export const NAMED_OBJECTIVES: Record<string, ObjectiveWeights> = {
  cost: { cost: 1 },
  carbon: { carbon: 1 },
  green: { green: 1 },
};

/** Parses an objective; returns an error message naming the bad part instead of throwing. */
export function parseObjective(text: string, knownScores: readonly string[]): Objective | { error: string } {
  if (Object.hasOwn(NAMED_OBJECTIVES, text)) return { name: text, weights: NAMED_OBJECTIVES[text] };
  const weights: Record<string, number> = {};
  for (const part of text.split(',')) {
    const pieces = part.split('=');
    if (pieces.length !== 2) return { error: `objective '${text}': '${part}' is neither ${Object.keys(NAMED_OBJECTIVES).join(', ')} nor name=weight` };
    const name = pieces[0].trim();
    const raw = pieces[1].trim();
    if (!knownScores.includes(name)) return { error: `objective '${text}': unknown score '${name}'; known: ${knownScores.join(', ')}` };
    if (Object.hasOwn(weights, name)) return { error: `objective '${text}': score '${name}' is given twice` };
    const weight = raw === '' ? NaN : Number(raw);
    if (!Number.isFinite(weight) || weight < 0) return { error: `objective '${text}': weight of '${name}' must be a number ≥ 0` };
    weights[name] = weight;
  }
  if (Object.values(weights).every((w) => w === 0)) return { error: `objective '${text}': at least one weight must be > 0` };
  return { name: text, weights };
}
