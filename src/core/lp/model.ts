/**
 * A linear program in the sparse column form HiGHS takes (CSC), built by the pure core and solved
 * by an injected `LpSolver` (src/solver/highs.ts in production), so core stays free of I/O.
 * minimize colCost·x + offset  subject to  rowLower ≤ A x ≤ rowUpper,  colLower ≤ x ≤ colUpper.
 */
export interface LpModel {
  numCols: number;
  numRows: number;
  colCost: Float64Array;
  colLower: Float64Array;
  colUpper: Float64Array;
  rowLower: Float64Array;
  rowUpper: Float64Array;
  /** CSC: column j's entries are aIndex/aValue[aStart[j] .. aStart[j+1]). */
  aStart: Int32Array;
  aIndex: Int32Array;
  aValue: Float64Array;
  offset: number;
  /** When set, these columns must take integer values (a MIP). */
  integerCols?: Int32Array;
}

export type LpStatus = 'optimal' | 'infeasible' | 'unbounded' | 'limit' | 'error';

export interface LpResult {
  status: LpStatus;
  /** Objective of the solution found (for a MIP stopped at a limit, its best incumbent). */
  objective: number;
  /** Proven lower bound on the optimum (the objective for a solved LP; HiGHS's dual bound for a MIP). */
  dualBound: number;
  colValue: Float64Array | null;
  message: string;
}

/** Solves an LP (or MIP); must not throw for an infeasible or failed solve: it returns the status. */
export type LpSolver = (model: LpModel, options?: { timeLimitS?: number }) => LpResult;

/**
 * Incremental builder of an `LpModel`, column by column (CSC is natural for the
 * dispatcher's relaxation: each variable touches a few rows).
 */
export class LpBuilder {
  private readonly cost: number[] = [];
  private readonly lower: number[] = [];
  private readonly upper: number[] = [];
  private readonly starts: number[] = [0];
  private readonly index: number[] = [];
  private readonly value: number[] = [];
  private readonly rowLo: number[] = [];
  private readonly rowHi: number[] = [];
  private readonly integers: number[] = [];
  offset = 0;

  /** Adds a row with bounds; returns its index. */
  addRow(lower: number, upper: number): number {
    this.rowLo.push(lower);
    this.rowHi.push(upper);
    return this.rowLo.length - 1;
  }

  /** Adds a column with its cost, bounds and (row, coefficient) entries; returns its index. */
  addCol(cost: number, lower: number, upper: number, rows: number[], coefs: number[], integer = false): number {
    const col = this.cost.length;
    this.cost.push(cost);
    this.lower.push(lower);
    this.upper.push(upper);
    for (let k = 0; k < rows.length; k++) {
      this.index.push(rows[k]);
      this.value.push(coefs[k]);
    }
    this.starts.push(this.index.length);
    if (integer) this.integers.push(col);
    return col;
  }

  get numCols(): number {
    return this.cost.length;
  }

  build(): LpModel {
    return {
      numCols: this.cost.length,
      numRows: this.rowLo.length,
      colCost: Float64Array.from(this.cost),
      colLower: Float64Array.from(this.lower),
      colUpper: Float64Array.from(this.upper),
      rowLower: Float64Array.from(this.rowLo),
      rowUpper: Float64Array.from(this.rowHi),
      aStart: Int32Array.from(this.starts),
      aIndex: Int32Array.from(this.index),
      aValue: Float64Array.from(this.value),
      offset: this.offset,
      integerCols: this.integers.length > 0 ? Int32Array.from(this.integers) : undefined,
    };
  }
}
