// Symmetric eigendecomposition in float64: Householder reduction to tridiagonal form, then the
// implicit QL algorithm with Wilkinson shifts on the tridiagonal matrix, accumulating the plane
// rotations into the Householder transform. Production code: the EK-FAC covariance factors
// (up to 3073 × 3073 for GPT-2-124M's MLP) are decomposed here on the CPU.
//
// Layouts: matrices are dense row-major Float64Arrays, a[i·n + j] = A[i][j]. Only the upper
// triangle (j ≥ i) of the input is read: symmetrise first when it may not be exact.
//
// Performance notes (all loops run along rows of row-major arrays):
// - The reduction keeps the upper triangle, so the column below each diagonal entry is the row to
//   its right (contiguous).
// - The eigenvectors are accumulated transposed (row j = eigenvector j), so every QL rotation
//   combines two contiguous rows; the rotations of several QL sweeps are recorded and then applied
//   block of columns by block of columns, so each block stays in cache across the sweeps.

export interface SymmetricEigen {
  /** Matrix size. */
  n: number;
  /** Eigenvalues in ascending order, [n]. */
  values: Float64Array;
  /**
   * Orthonormal eigenvectors, [n, n] row-major, one eigenvector per COLUMN (as torch.linalg.eigh
   * and numpy return them): vectors[i·n + j] is component i of the eigenvector of values[j], so
   * A = Q·diag(values)·Qᵀ with Q = vectors.
   */
  vectors: Float64Array;
}

export interface EighOptions {
  /** Skip the eigenvectors (values only, O(n²) after the reduction). Default false. */
  valuesOnly?: boolean;
}

export class EighConvergenceError extends Error {
  override name = "EighConvergenceError";
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
  const wantVectors = !options.valuesOnly;
  const { d, e, work, beta } = tridiagonalize(a, n);
  // qt = Qᵀ of the reduction A = Q T Qᵀ; after the QL rotations its row j is eigenvector j.
  const qt = wantVectors ? householderTransposed(work, beta, n) : null;
  tridiagonalQL(d, e, qt, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x] - d[y] || x - y);
  const values = Float64Array.from(order, (i) => d[i]);
  const vectors = new Float64Array(wantVectors ? n * n : 0);
  if (qt) {
    for (let j = 0; j < n; j++) {
      const row = order[j] * n;
      for (let i = 0; i < n; i++) vectors[i * n + j] = qt[row + i];
    }
  }
  return { n, values, vectors };
}

interface Tridiagonal {
  /** Diagonal [n]. */
  d: Float64Array;
  /** Off-diagonal: e[i] couples i and i + 1, e[n-1] = 0. */
  e: Float64Array;
  /** Row k, columns k+1..n-1, holds Householder vector k (for k ≤ n-3). */
  work: Float64Array;
  /** Householder scale factors: H_k = I − beta[k]·v_k·v_kᵀ (0: no reflection). */
  beta: Float64Array;
}

/**
 * Q_ᵀ A Q = T with Q = H_0 H_1 ⋯ H_{n-3}: step k reflects indices k+1..n-1 so that row k of the
 * trailing matrix becomes (d_k, e_k, 0, …, 0).
 */
function tridiagonalize(a: ArrayLike<number>, n: number): Tridiagonal {
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) w[i * n + j] = a[i * n + j];
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const beta = new Float64Array(n);
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  for (let k = 0; k + 2 < n; k++) {
    const row = k * n;
    d[k] = w[row + k];
    // x = w[k, k+1..n-1] (= column k below the diagonal).
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
      continue;
    }
    const x0 = w[row + k + 1] / scale;
    const norm = Math.sqrt(x0 * x0 + tail);
    const alpha = x0 >= 0 ? -norm : norm;
    // v = x − α·e1 (scaled by 1/scale), β = 2 / vᵀv.
    for (let j = k + 1; j < n; j++) v[j] = w[row + j] / scale;
    v[k + 1] = x0 - alpha;
    const b = 1 / (norm * (norm + Math.abs(x0)));
    beta[k] = b;
    e[k] = alpha * scale;
    for (let j = k + 1; j < n; j++) w[row + j] = v[j];
    // p = β·A22·v over the upper triangle of rows k+1..n-1.
    for (let j = k + 1; j < n; j++) p[j] = 0;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const vi = v[i];
      let s = w[ri + i] * vi;
      for (let j = i + 1; j < n; j++) {
        const wij = w[ri + j];
        s += wij * v[j];
        p[j] += wij * vi;
      }
      p[i] += s;
    }
    let pv = 0;
    for (let j = k + 1; j < n; j++) {
      p[j] *= b;
      pv += p[j] * v[j];
    }
    // q = p − (β/2)(pᵀv)·v; A22 ← A22 − v qᵀ − q vᵀ.
    const half = 0.5 * b * pv;
    for (let j = k + 1; j < n; j++) q[j] = p[j] - half * v[j];
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const vi = v[i], qi = q[i];
      for (let j = i; j < n; j++) w[ri + j] -= vi * q[j] + qi * v[j];
    }
  }
  if (n >= 2) {
    d[n - 2] = w[(n - 2) * n + n - 2];
    e[n - 2] = w[(n - 2) * n + n - 1];
  }
  if (n >= 1) d[n - 1] = w[(n - 1) * n + n - 1];
  return { d, e, work: w, beta };
}

/** Qᵀ = H_{n-3} ⋯ H_0, built as I·H_{n-3}·…·H_0 one row at a time (overwrites `work`). */
function householderTransposed(work: Float64Array, beta: Float64Array, n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  for (let k = n - 3; k >= 0; k--) {
    const b = beta[k];
    if (b === 0) continue;
    const vrow = k * n;
    // Before H_k, rows and columns ≤ k of the product are still the identity's.
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      let t = 0;
      for (let j = k + 1; j < n; j++) t += m[ri + j] * work[vrow + j];
      t *= b;
      if (t === 0) continue;
      for (let j = k + 1; j < n; j++) m[ri + j] -= t * work[vrow + j];
    }
  }
  return m;
}

function hypot2(a: number, b: number): number {
  const x = Math.abs(a), y = Math.abs(b);
  if (x < y) {
    const r = x / y;
    return y * Math.sqrt(1 + r * r);
  }
  if (x === 0) return 0;
  const r = y / x;
  return x * Math.sqrt(1 + r * r);
}

// Rotations recorded before being applied to the vectors: up to ROTATION_BUFFER of them, then the
// buffered rotations are applied to column blocks of COLUMN_BLOCK columns.
const ROTATION_BUFFER = 1 << 16;
const COLUMN_BLOCK = 64;

/**
 * Implicit QL with Wilkinson shifts on (d, e); d ends as the eigenvalues (unsorted). Each plane
 * rotation of rows (i, i+1) is also applied to rows i, i+1 of `qt` when given.
 */
function tridiagonalQL(d: Float64Array, e: Float64Array, qt: Float64Array | null, n: number) {
  const eps = Number.EPSILON;
  const rows = new Int32Array(qt ? ROTATION_BUFFER : 0);
  const cs = new Float64Array(qt ? ROTATION_BUFFER : 0);
  const sn = new Float64Array(qt ? ROTATION_BUFFER : 0);
  let count = 0;
  const flush = () => {
    if (qt && count > 0) applyRotations(qt, n, rows, cs, sn, count);
    count = 0;
  };
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= eps * dd) break;
      }
      if (m === l) break;
      if (++iterations > 60) {
        throw new EighConvergenceError(`QL iteration did not converge for eigenvalue ${l}`);
      }
      if (qt && count + (m - l) > ROTATION_BUFFER) flush();
      // Wilkinson shift from the leading 2 × 2 block.
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = hypot2(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = hypot2(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // The rotation would divide by zero: the matrix splits here; restart the sweep.
          d[i + 1] -= p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (qt) {
          rows[count] = i;
          cs[count] = c;
          sn[count] = s;
          count++;
        }
      }
      if (underflow) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  flush();
}

/**
 * Applies rotations k = 0..count-1 in order to the row pairs (rows[k], rows[k]+1) of the n × n
 * row-major `qt`: new row i = c·row i − s·row i+1, new row i+1 = s·row i + c·row i+1.
 */
function applyRotations(
  qt: Float64Array,
  n: number,
  rows: Int32Array,
  cs: Float64Array,
  sn: Float64Array,
  count: number,
): void {
  for (let j0 = 0; j0 < n; j0 += COLUMN_BLOCK) {
    const j1 = Math.min(n, j0 + COLUMN_BLOCK);
    for (let k = 0; k < count; k++) {
      const c = cs[k], s = sn[k];
      const a = rows[k] * n, b = a + n;
      for (let j = j0; j < j1; j++) {
        const x = qt[a + j], y = qt[b + j];
        qt[a + j] = c * x - s * y;
        qt[b + j] = s * x + c * y;
      }
    }
  }
}
