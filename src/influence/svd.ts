// Singular value decomposition of a dense float64 matrix through the symmetric eigensolver on the
// smaller Gram matrix (MᵀM or MMᵀ), and the best rank-k approximation (Eckart–Young) that
// kronfluence's query low rank keeps.
//
// Accuracy: the singular vectors of the Gram side are as accurate as their gap in σ² allows (the
// Gram matrix squares the condition), and σ_i is then measured as ‖M·v_i‖ (or ‖Mᵀ·u_i‖), which
// keeps small and zero singular values at an error of ~ε·σ_max rather than the √ε·σ_max of
// √λ(Gram). The rank-k factors below never divide by a singular value, so they stay well defined
// whatever the small singular values are.
//
// Layouts: M is [rows, cols] row-major; u [rows, k], v [cols, k] row-major with one singular
// vector per COLUMN; s [k] descending; k = min(rows, cols).
import { eigh } from "./eigh.ts";

export interface Svd {
  rows: number;
  cols: number;
  /** min(rows, cols). */
  k: number;
  /** Singular values, descending (ties to rounding), [k]. */
  s: Float64Array;
  /** Left singular vectors, [rows, k]; column i is 0 where s[i] is 0. */
  u: Float64Array;
  /** Right singular vectors, [cols, k]; column i is 0 where s[i] is 0 and rows < cols. */
  v: Float64Array;
}

function checkShape(m: ArrayLike<number>, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`shape [${rows}, ${cols}] is not a shape`);
  }
  if (m.length !== rows * cols) {
    throw new RangeError(`matrix has ${m.length} entries, expected ${rows}·${cols}`);
  }
}

/**
 * The eigenvectors of the smaller Gram matrix, largest eigenvalue (σ²) first: [side, side] with one
 * vector per column. `side` is cols when cols ≤ rows (right vectors), else rows (left).
 */
function gramEigen(m: ArrayLike<number>, rows: number, cols: number) {
  const right = cols <= rows;
  const side = right ? cols : rows;
  const gram = new Float64Array(side * side);
  if (right) {
    // MᵀM: Σ_r m[r, :]ᵀ m[r, :] over the upper triangle.
    for (let r = 0; r < rows; r++) {
      const row = r * cols;
      for (let i = 0; i < cols; i++) {
        const x = m[row + i];
        if (x === 0) continue;
        for (let j = i; j < cols; j++) gram[i * side + j] += x * m[row + j];
      }
    }
  } else {
    for (let i = 0; i < rows; i++) {
      for (let j = i; j < rows; j++) {
        let acc = 0;
        for (let c = 0; c < cols; c++) acc += m[i * cols + c] * m[j * cols + c];
        gram[i * side + j] = acc;
      }
    }
  }
  const { vectors } = eigh(gram, side);
  // Descending order: column side−1−j of the ascending decomposition.
  const w = new Float64Array(side * side);
  for (let j = 0; j < side; j++) {
    const from = side - 1 - j;
    for (let i = 0; i < side; i++) w[i * side + j] = vectors[i * side + from];
  }
  return { right, side, w };
}

/** out[rows, k] = M·W[:, :k] (W [cols, ldw]) or, transposed, out[cols, k] = Mᵀ·W[:, :k]. */
function project(
  m: ArrayLike<number>,
  rows: number,
  cols: number,
  w: Float64Array,
  ldw: number,
  k: number,
  transposeM: boolean,
): Float64Array {
  const outRows = transposeM ? cols : rows;
  const out = new Float64Array(outRows * k);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x = m[r * cols + c];
      if (x === 0) continue;
      // Non-transposed: out[r, j] += M[r, c]·W[c, j]; transposed: out[c, j] += M[r, c]·W[r, j].
      const o = transposeM ? c * k : r * k;
      const wr = transposeM ? r * ldw : c * ldw;
      for (let j = 0; j < k; j++) out[o + j] += x * w[wr + j];
    }
  }
  return out;
}

/** The thin SVD M = U·diag(s)·Vᵀ. */
export function svd(m: ArrayLike<number>, rows: number, cols: number): Svd {
  checkShape(m, rows, cols);
  const k = Math.min(rows, cols);
  const { right, side, w } = gramEigen(m, rows, cols);
  // The other side: M·v_i = σ_i·u_i (or Mᵀ·u_i = σ_i·v_i); σ_i is its norm.
  const other = project(m, rows, cols, w, side, k, !right);
  const otherRows = right ? rows : cols;
  const s = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let sq = 0;
    for (let i = 0; i < otherRows; i++) sq += other[i * k + j] ** 2;
    s[j] = Math.sqrt(sq);
    const inv = s[j] > 0 ? 1 / s[j] : 0;
    for (let i = 0; i < otherRows; i++) other[i * k + j] *= inv;
  }
  const known = new Float64Array(side * k);
  for (let i = 0; i < side; i++) {
    for (let j = 0; j < k; j++) known[i * k + j] = w[i * side + j];
  }
  return right
    ? { rows, cols, k, s, u: other, v: known }
    : { rows, cols, k, s, u: known, v: other };
}

export interface LowRankFactors {
  rows: number;
  cols: number;
  rank: number;
  /** [rows, rank] = U_k·diag(s_k). */
  left: Float64Array;
  /** [cols, rank] = V_k. */
  right: Float64Array;
}

/**
 * The best rank-`rank` approximation M_k = left·rightᵀ (rank ≤ min(rows, cols)), computed as
 * M·V_k·V_kᵀ (or U_k·U_kᵀ·M): no division by singular values.
 */
export function lowRankFactors(
  m: ArrayLike<number>,
  rows: number,
  cols: number,
  rank: number,
): LowRankFactors {
  checkShape(m, rows, cols);
  const k = Math.min(rows, cols);
  if (!Number.isInteger(rank) || rank < 0 || rank > k) {
    throw new RangeError(`rank ${rank} must be an integer in [0, ${k}]`);
  }
  const { right, side, w } = gramEigen(m, rows, cols);
  const basis = new Float64Array(side * rank);
  for (let i = 0; i < side; i++) {
    for (let j = 0; j < rank; j++) basis[i * rank + j] = w[i * side + j];
  }
  // Right side known (V_k): left = M·V_k. Left side known (U_k): right = Mᵀ·U_k, and then
  // U_k·(Mᵀ U_k)ᵀ = U_k U_kᵀ M; the factors are returned as left = U_k·diag(s), right = V_k by
  // normalising the columns of Mᵀ·U_k (their norms are s).
  const projected = project(m, rows, cols, basis, rank, rank, !right);
  if (right) return { rows, cols, rank, left: projected, right: basis };
  for (let j = 0; j < rank; j++) {
    let norm = 0;
    for (let i = 0; i < cols; i++) norm += projected[i * rank + j] ** 2;
    norm = Math.sqrt(norm);
    const inv = norm > 0 ? 1 / norm : 0;
    for (let i = 0; i < cols; i++) projected[i * rank + j] *= inv;
    for (let i = 0; i < rows; i++) basis[i * rank + j] *= norm;
  }
  return { rows, cols, rank, left: basis, right: projected };
}

/** left·rightᵀ, [rows, cols] row-major. */
export function expandLowRank(f: LowRankFactors): Float64Array {
  const { rows, cols, rank, left, right } = f;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < rank; j++) {
      const x = left[r * rank + j];
      if (x === 0) continue;
      for (let c = 0; c < cols; c++) out[r * cols + c] += x * right[c * rank + j];
    }
  }
  return out;
}
