// Eigenvalues and eigenvectors of a symmetric tridiagonal matrix T (diagonal d, off-diagonal e),
// in float64 (production code, behind eigh):
// - implicit QL with Wilkinson shifts: eigenvalues only, and the eigenvectors of small blocks;
// - Cuppen's divide and conquer for eigenvectors: T is split in two halves plus a rank-one
//   correction, the halves are solved recursively, and each merge solves the secular equation of
//   D + ρ·z·zᵀ, deflating negligible components and near-equal pairs, with the Gu–Eisenstat
//   recomputation of z (Löwner's formula) that keeps the merged eigenvectors orthogonal. A merge's
//   eigenvectors are a matrix product, O(n³) with a small constant, instead of QL's ~6n³ rotations.
//
// Eigenvector layout here: ROWS, [m, m] row-major, row j = eigenvector j (unit norm).

export class EighConvergenceError extends Error {
  override name = "EighConvergenceError";
}

const EPS = Number.EPSILON;

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
 * Implicit QL with Wilkinson shifts on (d, e) of size n, e[i] coupling i and i + 1 (e[n-1] unused);
 * d ends as the eigenvalues (unsorted), e is destroyed. Each plane rotation of (i, i+1) is also
 * applied to rows i, i+1 of the row-major [n, width] matrix `rows` when given.
 */
export function tridiagonalQL(
  d: Float64Array,
  e: Float64Array,
  n: number,
  rows: Float64Array | null = null,
  width = n,
): void {
  const buffered = rows ? ROTATION_BUFFER : 0;
  const at = new Int32Array(buffered);
  const cs = new Float64Array(buffered);
  const sn = new Float64Array(buffered);
  let count = 0;
  const flush = () => {
    if (rows && count > 0) applyRotations(rows, width, at, cs, sn, count);
    count = 0;
  };
  if (n > 0) e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= EPS * dd) break;
      }
      if (m === l) break;
      if (++iterations > 60) {
        throw new EighConvergenceError(`QL iteration did not converge for eigenvalue ${l}`);
      }
      if (rows && count + (m - l) > ROTATION_BUFFER) flush();
      // Wilkinson shift from the leading 2 × 2 block.
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = hypot2(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let underflow = false;
      for (let i = m - 1; i >= l; i--) {
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
        if (rows) {
          at[count] = i;
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
 * Applies rotations k = 0..count-1 in order to the row pairs (at[k], at[k]+1) of the row-major
 * [*, width] `rows`: new row i = c·row i − s·row i+1, new row i+1 = s·row i + c·row i+1.
 */
function applyRotations(
  rows: Float64Array,
  width: number,
  at: Int32Array,
  cs: Float64Array,
  sn: Float64Array,
  count: number,
): void {
  for (let j0 = 0; j0 < width; j0 += COLUMN_BLOCK) {
    const j1 = Math.min(width, j0 + COLUMN_BLOCK);
    for (let k = 0; k < count; k++) {
      const c = cs[k], s = sn[k];
      const a = at[k] * width, b = a + width;
      for (let j = j0; j < j1; j++) {
        const x = rows[a + j], y = rows[b + j];
        rows[a + j] = c * x - s * y;
        rows[b + j] = s * x + c * y;
      }
    }
  }
}

export interface TridiagonalEigen {
  /** Ascending, [n]. */
  values: Float64Array;
  /** [n, n] row-major, row j = unit eigenvector of values[j]. */
  rows: Float64Array;
}

/** Blocks up to this size are solved by QL directly. */
const LEAF = 32;

/** Eigenvalues (ascending) and eigenvector rows of T = tridiag(e, d, e) (inputs are not changed). */
export function tridiagonalEigen(d: ArrayLike<number>, e: ArrayLike<number>, n: number) {
  const dd = Float64Array.from({ length: n }, (_, i) => d[i]);
  const ee = Float64Array.from({ length: n }, (_, i) => (i + 1 < n ? e[i] : 0));
  return solveBlock(dd, ee, 0, n);
}

function sortedByValue(values: Float64Array, rows: Float64Array, m: number): TridiagonalEigen {
  const order = Array.from({ length: m }, (_, i) => i).sort((x, y) =>
    values[x] - values[y] || x - y
  );
  const v = new Float64Array(m);
  const r = new Float64Array(m * m);
  order.forEach((from, to) => {
    v[to] = values[from];
    r.set(rows.subarray(from * m, from * m + m), to * m);
  });
  return { values: v, rows: r };
}

/** Solves the block [lo, lo + m) of (d, e); d at the split points is modified (rank-one tear). */
function solveBlock(d: Float64Array, e: Float64Array, lo: number, m: number): TridiagonalEigen {
  if (m <= LEAF) {
    const dl = d.slice(lo, lo + m);
    const el = new Float64Array(m);
    for (let i = 0; i + 1 < m; i++) el[i] = e[lo + i];
    const rows = new Float64Array(m * m);
    for (let i = 0; i < m; i++) rows[i * m + i] = 1;
    tridiagonalQL(dl, el, m, rows, m);
    return sortedByValue(dl, rows, m);
  }
  // T = diag(T1 − ρ·e_last·e_lastᵀ, T2 − ρ·e_1·e_1ᵀ) + ρ·v·vᵀ, v = [e_last; σ·e_1], β = σ·ρ.
  const m1 = m >> 1;
  const split = lo + m1;
  const beta = e[split - 1];
  const rho = Math.abs(beta);
  const sigma = beta >= 0 ? 1 : -1;
  d[split - 1] -= rho;
  d[split] -= rho;
  const top = solveBlock(d, e, lo, m1);
  const bottom = solveBlock(d, e, split, m - m1);
  return merge(top, bottom, m1, m - m1, rho, sigma);
}

/**
 * The eigen-decomposition of diag(Q1, Q2)·(D + ρ·z·zᵀ)·diag(Q1, Q2)ᵀ from the halves' (Q1 D1 Q1ᵀ,
 * Q2 D2 Q2ᵀ), with z = [Q1ᵀ e_last; σ·Q2ᵀ e_1].
 */
function merge(
  top: TridiagonalEigen,
  bottom: TridiagonalEigen,
  m1: number,
  m2: number,
  rhoIn: number,
  sigma: number,
): TridiagonalEigen {
  const m = m1 + m2;
  // Basis rows: row i of the block-diagonal eigenvector matrix, as dense rows of width m.
  const basis = new Float64Array(m * m);
  const hasTop = new Uint8Array(m);
  const hasBottom = new Uint8Array(m);
  const dvals = new Float64Array(m);
  const z = new Float64Array(m);
  for (let i = 0; i < m1; i++) {
    basis.set(top.rows.subarray(i * m1, i * m1 + m1), i * m);
    dvals[i] = top.values[i];
    z[i] = top.rows[i * m1 + m1 - 1];
    hasTop[i] = 1;
  }
  for (let i = 0; i < m2; i++) {
    basis.set(bottom.rows.subarray(i * m2, i * m2 + m2), (m1 + i) * m + m1);
    dvals[m1 + i] = bottom.values[i];
    z[m1 + i] = sigma * bottom.rows[i * m2];
    hasBottom[m1 + i] = 1;
  }
  // ‖z‖² = 2: make it a unit vector and fold the 2 into ρ.
  for (let i = 0; i < m; i++) z[i] *= Math.SQRT1_2;
  const rho = 2 * rhoIn;
  let dmax = 0;
  for (let i = 0; i < m; i++) dmax = Math.max(dmax, Math.abs(dvals[i]));
  const tol = 8 * EPS * Math.max(dmax, rho);

  // Deflation, in ascending order of D.
  const order = Array.from({ length: m }, (_, i) => i).sort((x, y) => dvals[x] - dvals[y] || x - y);
  const deflated: number[] = [];
  const kept: number[] = [];
  for (const i of order) {
    if (rho * Math.abs(z[i]) <= tol) {
      deflated.push(i);
      continue;
    }
    if (kept.length > 0) {
      const p = kept[kept.length - 1];
      const r = hypot2(z[p], z[i]);
      const c = z[i] / r, s = -z[p] / r;
      if (Math.abs((dvals[i] - dvals[p]) * c * s) <= tol) {
        // Rotate the pair so that z[p] = 0: p is deflated, i carries the whole component.
        const pr = p * m, ir = i * m;
        for (let col = 0; col < m; col++) {
          const x = basis[pr + col], y = basis[ir + col];
          basis[pr + col] = c * x + s * y;
          basis[ir + col] = -s * x + c * y;
        }
        const dp = dvals[p] * c * c + dvals[i] * s * s;
        dvals[i] = dvals[p] * s * s + dvals[i] * c * c;
        dvals[p] = dp;
        z[p] = 0;
        z[i] = r;
        hasTop[p] = hasTop[i] = hasTop[p] | hasTop[i];
        hasBottom[p] = hasBottom[i] = hasBottom[p] | hasBottom[i];
        kept.pop();
        deflated.push(p);
      }
    }
    kept.push(i);
  }

  const K = kept.length;
  const values = new Float64Array(m);
  const rows = new Float64Array(m * m);
  let next = 0;
  for (const i of deflated) {
    values[next] = dvals[i];
    rows.set(basis.subarray(i * m, i * m + m), next * m);
    next++;
  }
  if (K > 0) {
    const dk = Float64Array.from(kept, (i) => dvals[i]);
    const zk = Float64Array.from(kept, (i) => z[i]);
    const { origin, tau } = secularRoots(dk, zk, rho);
    const u = secularVectors(dk, zk, rho, origin, tau);
    // New rows: Σ_i u[j, i]·basis[kept_i], split into the top and bottom column ranges so that
    // rows known to be zero there are skipped.
    const topRows = kept.map((b, i) => (hasTop[b] ? i : -1)).filter((i) => i >= 0);
    const bottomRows = kept.map((b, i) => (hasBottom[b] ? i : -1)).filter((i) => i >= 0);
    const out = rows.subarray(next * m, m * m);
    combineRows(out, m, u, K, topRows, kept, basis, m, 0, m1);
    combineRows(out, m, u, K, bottomRows, kept, basis, m, m1, m);
    for (let j = 0; j < K; j++) values[next + j] = dk[origin[j]] + tau[j];
  }
  return sortedByValue(values, rows, m);
}

/**
 * Roots λ_j = dk[origin[j]] + tau[j] of 1 + ρ·Σ z_i²/(d_i − λ) = 0 (d strictly ascending, ρ > 0):
 * λ_j ∈ (d_j, d_{j+1}) and λ_{K-1} ∈ (d_{K-1}, d_{K-1} + ρ‖z‖²). Each root is found relative to
 * its nearer pole, so that d_i − λ_j = (d_i − d_origin) − τ_j keeps full relative accuracy.
 */
function secularRoots(d: Float64Array, z: Float64Array, rho: number) {
  const K = d.length;
  const origin = new Int32Array(K);
  const tau = new Float64Array(K);
  const delta = new Float64Array(K);
  let zz = 0;
  for (let i = 0; i < K; i++) zz += z[i] * z[i];
  // f(τ) = 1 + ρ Σ z_i²/(δ_i − τ) with δ_i = d_i − d_o, and f' = ρ Σ z_i²/(δ_i − τ)².
  const evaluate = (t: number, o: number) => {
    let f = 1, fp = 0, pole = 0, poleP = 0;
    for (let i = 0; i < K; i++) {
      const inv = 1 / (delta[i] - t);
      const w = rho * z[i] * z[i] * inv;
      if (i === o) {
        pole = w;
        poleP = w * inv;
      } else {
        f += w;
        fp += w * inv;
      }
    }
    return { rest: f, restP: fp, pole, poleP };
  };
  for (let j = 0; j < K; j++) {
    let o = j;
    let lo: number, hi: number;
    if (j < K - 1) {
      const gap = d[j + 1] - d[j];
      for (let i = 0; i < K; i++) delta[i] = d[i] - d[j];
      const mid = evaluate(gap / 2, j);
      if (mid.rest + mid.pole >= 0) {
        lo = 0;
        hi = gap / 2;
      } else {
        o = j + 1;
        for (let i = 0; i < K; i++) delta[i] = d[i] - d[o];
        lo = -gap / 2;
        hi = 0;
      }
    } else {
      for (let i = 0; i < K; i++) delta[i] = d[i] - d[j];
      lo = 0;
      hi = rho * zz;
    }
    const w0 = rho * z[o] * z[o];
    let t = (lo + hi) / 2;
    for (let iteration = 0; iteration < 200; iteration++) {
      const { rest, restP, pole, poleP } = evaluate(t, o);
      const f = rest + pole;
      if (f === 0) break;
      if (f < 0) lo = t;
      else hi = t;
      // Model f(x) ≈ rest + restP·(x − t) − w0/x (the origin pole kept exact): a quadratic in x
      // with one root on each side of the pole; take the one on the bracket's side.
      const a = restP, b = rest - restP * t, c = -w0;
      let x: number;
      const disc = Math.sqrt(Math.max(0, b * b - 4 * a * c));
      if (lo >= 0) x = b <= 0 ? (-b + disc) / (2 * a) : (-2 * c) / (b + disc);
      else x = b >= 0 ? (-b - disc) / (2 * a) : (2 * c) / (disc - b);
      if (!(x > lo && x < hi)) {
        // Outside the bracket (or undefined): a Newton step, else bisection.
        x = t - f / (restP + poleP);
        if (!(x > lo && x < hi)) x = (lo + hi) / 2;
      }
      const done = Math.abs(x - t) <= 2 * EPS * Math.abs(x) ||
        hi - lo <= 2 * EPS * Math.max(Math.abs(lo), Math.abs(hi));
      t = x;
      if (done) break;
    }
    origin[j] = o;
    tau[j] = t;
  }
  return { origin, tau };
}

/**
 * Unit eigenvectors of D + ρ·ẑ·ẑᵀ, [K, K] row-major (row j ↔ root j), with ẑ recomputed from the
 * roots by Löwner's formula so that the computed roots are exact eigenvalues of the perturbed
 * problem (Gu & Eisenstat), which keeps the vectors numerically orthogonal.
 */
function secularVectors(
  d: Float64Array,
  z: Float64Array,
  rho: number,
  origin: Int32Array,
  tau: Float64Array,
): Float64Array {
  const K = d.length;
  const w = new Float64Array(K).fill(1 / rho);
  const diff = new Float64Array(K);
  const column = (j: number) => {
    const dOrigin = d[origin[j]], t = tau[j];
    for (let i = 0; i < K; i++) diff[i] = (d[i] - dOrigin) - t;
  };
  // ẑ_i² = (λ_{K-1} − d_i)/ρ · Π_{j<i} (λ_j − d_i)/(d_j − d_i) · Π_{i≤j<K-1} (λ_j − d_i)/(d_{j+1} − d_i)
  for (let j = 0; j < K; j++) {
    column(j);
    for (let i = 0; i < K; i++) {
      const num = -diff[i];
      if (j === K - 1) w[i] *= num;
      else if (j < i) w[i] *= num / (d[j] - d[i]);
      else w[i] *= num / (d[j + 1] - d[i]);
    }
  }
  const zhat = Float64Array.from(w, (v, i) => (z[i] >= 0 ? 1 : -1) * Math.sqrt(Math.max(0, v)));
  const u = new Float64Array(K * K);
  for (let j = 0; j < K; j++) {
    column(j);
    let norm = 0;
    const row = j * K;
    for (let i = 0; i < K; i++) {
      const v = zhat[i] / diff[i];
      u[row + i] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < K; i++) u[row + i] *= inv;
  }
  return u;
}

/**
 * out[j, c0..c1) = Σ_{i ∈ pick} coef[j, i]·src[rowsOf[i], c0..c1) for j < K (out and src have row
 * stride `stride`; coef is [K, K]). Four output rows at a time share each source row's loads.
 */
function combineRows(
  out: Float64Array,
  stride: number,
  coef: Float64Array,
  K: number,
  pick: number[],
  rowsOf: number[],
  src: Float64Array,
  srcStride: number,
  c0: number,
  c1: number,
): void {
  let j = 0;
  for (; j + 4 <= K; j += 4) {
    const o0 = j * stride, o1 = o0 + stride, o2 = o1 + stride, o3 = o2 + stride;
    for (const i of pick) {
      const a0 = coef[j * K + i], a1 = coef[(j + 1) * K + i];
      const a2 = coef[(j + 2) * K + i], a3 = coef[(j + 3) * K + i];
      const s = rowsOf[i] * srcStride;
      for (let c = c0; c < c1; c++) {
        const x = src[s + c];
        out[o0 + c] += a0 * x;
        out[o1 + c] += a1 * x;
        out[o2 + c] += a2 * x;
        out[o3 + c] += a3 * x;
      }
    }
  }
  for (; j < K; j++) {
    const o = j * stride;
    for (const i of pick) {
      const a = coef[j * K + i];
      const s = rowsOf[i] * srcStride;
      for (let c = c0; c < c1; c++) out[o + c] += a * src[s + c];
    }
  }
}
