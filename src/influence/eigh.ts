// Symmetric eigendecomposition in float64: Householder reduction to tridiagonal form, the
// tridiagonal problem solved by divide and conquer (eigenvectors) or implicit QL (values only; see
// tridiagonal.ts), and the Householder reflectors applied to the tridiagonal eigenvectors.
// Production code: the EK-FAC covariance factors (up to 3073 × 3073 for GPT-2-124M's MLP) are
// decomposed here on the CPU.
//
// Layouts: matrices are dense row-major Float64Arrays, a[i·n + j] = A[i][j]. Only the upper
// triangle (j ≥ i) of the input is read: symmetrise first when it may not be exact.
//
// Performance notes (all inner loops run along rows of row-major arrays):
// - The reduction keeps the upper triangle, so the column below each diagonal entry is the row to
//   its right (contiguous), and step k's rank-two update and step k+1's symmetric mat-vec are fused
//   into one pass over the trailing rows.
// - Eigenvectors are handled as rows (row j = eigenvector j) until the end: the back-transform
//   x ← x·H_{n-3}⋯H_0 acts on each row independently, so rows are processed in cache-sized blocks
//   against all reflectors, four rows sharing each reflector load.
import { tridiagonalEigen, tridiagonalQL } from "./tridiagonal.ts";

export { EighConvergenceError } from "./tridiagonal.ts";

export interface SymmetricEigen {
  /** Matrix size. */
  n: number;
  /** Eigenvalues in ascending order, [n]. */
  values: Float64Array;
  /**
   * Orthonormal eigenvectors, [n, n] row-major, one eigenvector per COLUMN (as torch.linalg.eigh
   * and numpy return them): vectors[i·n + j] is component i of the eigenvector of values[j], so
   * A = Q·diag(values)·Qᵀ with Q = vectors. Empty when only values were asked for.
   */
  vectors: Float64Array;
}

export interface EighOptions {
  /** Skip the eigenvectors (values only, O(n²) after the reduction). Default false. */
  valuesOnly?: boolean;
}

/** Eigenvalues (ascending) and eigenvectors of the symmetric n × n matrix `a` (upper triangle). */
export function eigh(a: ArrayLike<number>, n: number, options: EighOptions = {}): SymmetricEigen {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`matrix size ${n} is not a size`);
  if (a.length !== n * n) {
    throw new RangeError(`matrix has ${a.length} entries, expected ${n}·${n} = ${n * n}`);
  }
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      if (!Number.isFinite(a[i * n + j])) {
        throw new RangeError(`matrix entry (${i}, ${j}) is ${a[i * n + j]}`);
      }
    }
  }
  const { d, e, work, beta } = tridiagonalize(a, n);
  if (options.valuesOnly) {
    tridiagonalQL(d, e, n);
    return { n, values: d.sort(), vectors: new Float64Array(0) };
  }
  const { values, rows } = tridiagonalEigen(d, e, n);
  backTransformRows(rows, n, work, beta);
  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) vectors[i * n + j] = rows[j * n + i];
  }
  return { n, values, vectors };
}

interface Tridiagonal {
  /** Diagonal [n]. */
  d: Float64Array;
  /** Off-diagonal: e[i] couples i and i + 1 (e[n-1] = 0). */
  e: Float64Array;
  /** Row k, columns k+1..n-1, holds Householder vector k (for k ≤ n-3). */
  work: Float64Array;
  /** Householder scale factors: H_k = I − beta[k]·v_k·v_kᵀ (0: no reflection). */
  beta: Float64Array;
}

/**
 * Qᵀ A Q = T with Q = H_0 H_1 ⋯ H_{n-3}: step k reflects indices k+1..n-1 so that row k of the
 * trailing matrix becomes (d_k, e_k, 0, …, 0).
 */
function tridiagonalize(a: ArrayLike<number>, n: number): Tridiagonal {
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) w[i * n + j] = a[i * n + j];
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const beta = new Float64Array(n);
  let v = new Float64Array(n), vNext = new Float64Array(n);
  let p = new Float64Array(n), pNext = new Float64Array(n);
  const q = new Float64Array(n);

  /** Reflector of step k from row k (already updated): sets d[k], e[k], beta[k], v; stores v. */
  const reflector = (k: number, out: Float64Array): number => {
    const row = k * n;
    d[k] = w[row + k];
    let scale = 0;
    for (let j = k + 1; j < n; j++) scale = Math.max(scale, Math.abs(w[row + j]));
    let tail = 0;
    if (scale > 0) {
      for (let j = k + 2; j < n; j++) {
        const t = w[row + j] / scale;
        tail += t * t;
      }
    }
    if (tail === 0) {
      // Already tridiagonal in this row: no reflection.
      e[k] = w[row + k + 1];
      beta[k] = 0;
      return 0;
    }
    const x0 = w[row + k + 1] / scale;
    const norm = Math.sqrt(x0 * x0 + tail);
    const alpha = x0 >= 0 ? -norm : norm;
    // v = x − α·e1 (x scaled by 1/scale), β = 2 / vᵀv = 1 / (‖x‖(‖x‖ + |x0|)).
    for (let j = k + 1; j < n; j++) out[j] = w[row + j] / scale;
    out[k + 1] = x0 - alpha;
    for (let j = k + 1; j < n; j++) w[row + j] = out[j];
    const b = 1 / (norm * (norm + Math.abs(x0)));
    beta[k] = b;
    e[k] = alpha * scale;
    return b;
  };

  /** acc[i] += Σ_j A[i, j]·vec[j] over the upper triangle of row i (i, j ≥ i). */
  const rowMatVec = (i: number, vec: Float64Array, acc: Float64Array) => {
    const ri = i * n;
    const vi = vec[i];
    let s = w[ri + i] * vi;
    for (let j = i + 1; j < n; j++) {
      const wij = w[ri + j];
      s += wij * vec[j];
      acc[j] += wij * vi;
    }
    acc[i] += s;
  };

  // p holds A22·v of the current step when `ready` (accumulated during the previous step's pass).
  let b = n > 2 ? reflector(0, v) : 0;
  let ready = false;
  for (let k = 0; k + 2 < n; k++) {
    const hasNext = k + 3 < n;
    if (b === 0) {
      if (hasNext) b = reflector(k + 1, v);
      ready = false;
      continue;
    }
    if (!ready) {
      for (let j = k + 1; j < n; j++) p[j] = 0;
      for (let i = k + 1; i < n; i++) rowMatVec(i, v, p);
    }
    let pv = 0;
    for (let j = k + 1; j < n; j++) {
      p[j] *= b;
      pv += p[j] * v[j];
    }
    // q = p − (β/2)(pᵀv)·v; A22 ← A22 − v qᵀ − q vᵀ, row by row; once row k+1 is updated, the
    // next reflector is known and each later row also feeds the next step's mat-vec.
    const half = 0.5 * b * pv;
    for (let j = k + 1; j < n; j++) q[j] = p[j] - half * v[j];
    let bNext = 0;
    {
      const ri = (k + 1) * n;
      const vi = v[k + 1], qi = q[k + 1];
      for (let j = k + 1; j < n; j++) w[ri + j] -= vi * q[j] + qi * v[j];
      if (hasNext) bNext = reflector(k + 1, vNext);
    }
    if (bNext !== 0) {
      for (let j = k + 2; j < n; j++) pNext[j] = 0;
      for (let i = k + 2; i < n; i++) {
        // Update row i and feed it to the next mat-vec in the same pass.
        const ri = i * n;
        const vi = v[i], qi = q[i], ui = vNext[i];
        const wii = w[ri + i] - (vi * q[i] + qi * v[i]);
        w[ri + i] = wii;
        let acc = wii * ui;
        for (let j = i + 1; j < n; j++) {
          const wij = w[ri + j] - (vi * q[j] + qi * v[j]);
          w[ri + j] = wij;
          acc += wij * vNext[j];
          pNext[j] += wij * ui;
        }
        pNext[i] += acc;
      }
    } else {
      for (let i = k + 2; i < n; i++) {
        const ri = i * n;
        const vi = v[i], qi = q[i];
        for (let j = i; j < n; j++) w[ri + j] -= vi * q[j] + qi * v[j];
      }
    }
    [v, vNext] = [vNext, v];
    [p, pNext] = [pNext, p];
    b = bNext;
    ready = bNext !== 0;
  }
  if (n >= 2) {
    d[n - 2] = w[(n - 2) * n + n - 2];
    e[n - 2] = w[(n - 2) * n + n - 1];
  }
  if (n >= 1) d[n - 1] = w[(n - 1) * n + n - 1];
  return { d, e, work: w, beta };
}

/** Rows of eigenvectors processed together against every reflector (a block kept in cache). */
const ROW_BLOCK = 32;

/**
 * x ← x·H_{n-3}⋯H_0 for every row x of the [n, n] row-major `rows`: eigenvectors of T become
 * eigenvectors of A = Q T Qᵀ (Q = H_0⋯H_{n-3}, H symmetric, so (Q z)ᵀ = zᵀ H_{n-3}⋯H_0).
 */
function backTransformRows(
  rows: Float64Array,
  n: number,
  work: Float64Array,
  beta: Float64Array,
): void {
  for (let r0 = 0; r0 < n; r0 += ROW_BLOCK) {
    const r1 = Math.min(n, r0 + ROW_BLOCK);
    for (let k = n - 3; k >= 0; k--) {
      const b = beta[k];
      if (b === 0) continue;
      const v = k * n;
      const from = k + 1;
      let r = r0;
      for (; r + 8 <= r1; r += 8) {
        const x0 = r * n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        const x4 = x3 + n, x5 = x4 + n, x6 = x5 + n, x7 = x6 + n;
        let t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5 = 0, t6 = 0, t7 = 0;
        for (let j = from; j < n; j++) {
          const vj = work[v + j];
          t0 += rows[x0 + j] * vj;
          t1 += rows[x1 + j] * vj;
          t2 += rows[x2 + j] * vj;
          t3 += rows[x3 + j] * vj;
          t4 += rows[x4 + j] * vj;
          t5 += rows[x5 + j] * vj;
          t6 += rows[x6 + j] * vj;
          t7 += rows[x7 + j] * vj;
        }
        t0 *= b, t1 *= b, t2 *= b, t3 *= b, t4 *= b, t5 *= b, t6 *= b, t7 *= b;
        for (let j = from; j < n; j++) {
          const vj = work[v + j];
          rows[x0 + j] -= t0 * vj;
          rows[x1 + j] -= t1 * vj;
          rows[x2 + j] -= t2 * vj;
          rows[x3 + j] -= t3 * vj;
          rows[x4 + j] -= t4 * vj;
          rows[x5 + j] -= t5 * vj;
          rows[x6 + j] -= t6 * vj;
          rows[x7 + j] -= t7 * vj;
        }
      }
      for (; r < r1; r++) {
        const x = r * n;
        let t = 0;
        for (let j = from; j < n; j++) t += rows[x + j] * work[v + j];
        t *= b;
        for (let j = from; j < n; j++) rows[x + j] -= t * work[v + j];
      }
    }
  }
}
