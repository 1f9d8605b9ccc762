/**
 * The production `LpSolver`: HiGHS compiled to WebAssembly (npm `highs`).
 * The CLI, simulator and benchmarks load it once and pass it to the dispatcher.
 * After a WebAssembly abort (heap exhausted near 2 GB) the instance is unusable, so the next
 * solve loads a fresh one.
 */
import loadHighsModule, { type Highs } from 'highs';
import type { LpModel, LpResult, LpSolver } from '../core/lp/model.ts';

type HighsInstance = Highs;
// Under module NodeNext the CommonJS default export types as the module namespace.
const load = loadHighsModule as unknown as () => Promise<HighsInstance>;

export async function loadHighsSolver(): Promise<LpSolver> {
  let highs: HighsInstance | null = await load();
  let reloading: Promise<void> | null = null;

  return (model: LpModel, options = {}): LpResult => {
    if (highs === null) {
      return failure('error', 'HiGHS is reloading after an abort; retry');
    }
    const h = highs;
    const integrality = model.integerCols ? new Int32Array(model.numCols) : undefined;
    if (integrality && model.integerCols) for (const c of model.integerCols) integrality[c] = 1;
    let m: ReturnType<HighsInstance['createModel']> | null = null;
    try {
      m = h.createModel({
        numCols: model.numCols,
        numRows: model.numRows,
        colCost: model.colCost,
        colLower: model.colLower,
        colUpper: model.colUpper,
        rowLower: model.rowLower,
        rowUpper: model.rowUpper,
        offset: model.offset,
        matrix: { format: 'csc', numRows: model.numRows, numCols: model.numCols, starts: model.aStart, indices: model.aIndex, values: model.aValue },
        ...(integrality ? { integrality } : {}),
      } as Parameters<HighsInstance['createModel']>[0]);
      // Presolve costs more than it saves on the dispatcher's relaxations (measured: 1.7 s against 0.09 s
      // for a 27k-column LP), so LPs skip it; MIPs keep it for their cuts and probing.
      m.options.set({ output_flag: false, ...(integrality ? {} : { presolve: 'off' }), ...(options.timeLimitS ? { time_limit: options.timeLimitS } : {}) });
      m.run();
      const status = m.getModelStatus();
      const codes = h.constants.modelStatus;
      const dualBound = () => (integrality ? Number(m!.info.get('mip_dual_bound')) : m!.getObjectiveValue());
      // A model without columns (nothing to decide: a backup cycle with no copy pending) is solved by its offset; HiGHS
      // leaves it unsolved and would throw on reading its objective.
      if (status === codes.empty) return { status: 'optimal', objective: model.offset, dualBound: model.offset, colValue: new Float64Array(model.numCols), message: 'optimal (empty model)' };
      if (status === codes.optimal) {
        return { status: 'optimal', objective: m.getObjectiveValue(), dualBound: dualBound(), colValue: m.getSolution().colValue, message: 'optimal' };
      }
      if (status === codes.infeasible) return failure('infeasible', 'infeasible');
      if (status === codes.unbounded || status === codes.unboundedOrInfeasible) return failure('unbounded', 'unbounded');
      if (status === codes.timeLimit && integrality) {
        return { status: 'limit', objective: m.getObjectiveValue(), dualBound: dualBound(), colValue: m.getSolution().colValue, message: 'time limit' };
      }
      return failure('limit', `HiGHS model status ${status}`);
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) {
        highs = null;
        reloading ??= load().then((fresh) => {
          highs = fresh;
          reloading = null;
        });
      }
      return failure('error', String(err));
    } finally {
      try {
        m?.dispose();
      } catch {
        // an aborted instance cannot free its model; it is being replaced
      }
    }
  };
}

function failure(status: LpResult['status'], message: string): LpResult {
  return { status, objective: NaN, dualBound: NaN, colValue: null, message };
}
