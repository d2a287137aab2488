// The teacher-forced regression design shared by every test example (MATH.md §2, "Fitting").
//
// Each observed transition (run r, step t) is one row. Its sparsity pattern, the batch c_t with
// counts, is the same for every test example; only the weights L_{t-1}(z) and targets
// y = L_t(z) - L_{t-1}(z) differ. The pattern is kept once, as CSR (row -> training indices) for
// X·v and as its transpose CSC (training index -> rows) for Xᵀ·u.
import { checkRun, curriculumSteps, SimfluenceInputError } from "./curriculum.ts";
import { runCooperatively, runToEnd, type TimeSlice, YIELD_EVERY } from "./time_slice.ts";
import type { Run, SimulatorKind } from "./types.ts";

export interface Design {
  n: number;
  m: number;
  rows: number;
  /** CSR over rows: entries rowPtr[r] .. rowPtr[r+1]-1 of rowIdx (training index) and rowCnt. */
  rowPtr: Uint32Array;
  rowIdx: Uint32Array;
  rowCnt: Uint32Array;
  /** CSC over training indices: entries colPtr[i] .. colPtr[i+1]-1 of colRow and colCnt. */
  colPtr: Uint32Array;
  colRow: Uint32Array;
  colCnt: Uint32Array;
  /** rows x m, row-major: L_{t-1}(z) of each row. */
  lPrev: Float32Array;
  /** rows x m, row-major: y = L_t(z) - L_{t-1}(z). */
  dy: Float32Array;
  /** Training indices that occur in no fitting run (A = B = 0 for them). */
  unseen: number[];
  /** Mean of L_{t-1}(z) over the rows. */
  meanLoss: Float32Array;
}

export function buildDesign(runs: readonly Run[], n: number, m: number): Design {
  return runToEnd(designSteps(runs, n, m));
}

/**
 * `buildDesign` giving the event loop turns: its loops run over every batch entry and training
 * index, which a large study makes seconds of work.
 */
export function buildDesignCooperative(
  runs: readonly Run[],
  n: number,
  m: number,
  slice: TimeSlice,
): Promise<Design> {
  return runCooperatively(designSteps(runs, n, m), slice);
}

/** `buildDesign` as steps: yields every few thousand entries or rows. */
export function* designSteps(
  runs: readonly Run[],
  n: number,
  m: number,
): Generator<void, Design, void> {
  if (runs.length === 0) throw new SimfluenceInputError("fitting needs at least one run");
  const curricula = [];
  for (const [r, run] of runs.entries()) {
    checkRun(run, m, `run ${run.id ?? r}`);
    curricula.push(yield* curriculumSteps(run.batches, n, false));
  }
  const rows = curricula.reduce((s, c) => s + c.steps, 0);
  const nnz = curricula.reduce((s, c) => s + c.indices.length, 0);
  const rowPtr = new Uint32Array(rows + 1);
  const rowIdx = new Uint32Array(nnz);
  const rowCnt = new Uint32Array(nnz);
  const lPrev = new Float32Array(rows * m);
  const dy = new Float32Array(rows * m);
  let row = 0;
  let e = 0;
  for (const [r, run] of runs.entries()) {
    const c = curricula[r];
    for (let t = 0; t < c.steps; t++) {
      for (let k = c.stepPtr[t]; k < c.stepPtr[t + 1]; k++, e++) {
        if (e % YIELD_EVERY === 0) yield;
        rowIdx[e] = c.indices[k];
        rowCnt[e] = c.counts[k];
      }
      rowPtr[row + 1] = e;
      const before = run.losses.subarray(t * m, (t + 1) * m);
      const after = run.losses.subarray((t + 1) * m, (t + 2) * m);
      lPrev.set(before, row * m);
      for (let z = 0; z < m; z++) dy[row * m + z] = after[z] - before[z];
      row++;
      yield;
    }
  }

  // Transpose by counting sort: rows stay in increasing order within each column.
  const colPtr = new Uint32Array(n + 1);
  for (let k = 0; k < nnz; k++) colPtr[rowIdx[k] + 1]++;
  for (let i = 0; i < n; i++) colPtr[i + 1] += colPtr[i];
  yield;
  const fillAt = colPtr.slice(0, n);
  const colRow = new Uint32Array(nnz);
  const colCnt = new Uint32Array(nnz);
  for (let r = 0; r < rows; r++) {
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) {
      if (k % YIELD_EVERY === 0) yield;
      const at = fillAt[rowIdx[k]]++;
      colRow[at] = r;
      colCnt[at] = rowCnt[k];
    }
  }
  const unseen: number[] = [];
  for (let i = 0; i < n; i++) if (colPtr[i + 1] === colPtr[i]) unseen.push(i);
  yield;

  const sum = new Float64Array(m);
  for (let r = 0; r < rows; r++) {
    for (let z = 0; z < m; z++) sum[z] += lPrev[r * m + z];
    yield;
  }
  const meanLoss = Float32Array.from(sum, (s) => s / rows);
  return {
    n,
    m,
    rows,
    rowPtr,
    rowIdx,
    rowCnt,
    colPtr,
    colRow,
    colCnt,
    lPrev,
    dy,
    unseen,
    meanLoss,
  };
}

/** Which parameter blocks a kind fits: [A, B]. */
export function fittedBlocks(kind: SimulatorKind): [boolean, boolean] {
  switch (kind) {
    case "linear":
      return [true, true];
    case "additive":
      return [false, true];
    case "multiplicative":
      return [true, false];
    default:
      throw new SimfluenceInputError(`kind "${kind}" is not fitted by ridge regression`);
  }
}

/**
 * Mean over rows of ||x_row(z)||² per test example, the scale ridge factors are relative to.
 * x_row = [L_{t-1}·c_t, c_t] restricted to the kind's blocks.
 */
export function meanRowNormSq(design: Design, kind: SimulatorKind): Float64Array {
  return runToEnd(meanRowNormSqSteps(design, kind));
}

/** `meanRowNormSq` as steps: yields after each row (a row holds a whole batch). */
export function* meanRowNormSqSteps(
  design: Design,
  kind: SimulatorKind,
): Generator<void, Float64Array, void> {
  const [useA, useB] = fittedBlocks(kind);
  const { m, rows } = design;
  const out = new Float64Array(m);
  for (let r = 0; r < rows; r++) {
    let c2 = 0;
    for (let k = design.rowPtr[r]; k < design.rowPtr[r + 1]; k++) c2 += design.rowCnt[k] ** 2;
    for (let z = 0; z < m; z++) {
      const l = design.lPrev[r * m + z];
      out[z] += c2 * ((useA ? l * l : 0) + (useB ? 1 : 0));
    }
    yield;
  }
  for (let z = 0; z < m; z++) out[z] = rows > 0 ? out[z] / rows : 0;
  return out;
}
