// Float64 linear algebra through OpenBLAS (openblas.ts), with the row-major layouts and the
// semantics of the TypeScript routines it stands in for (src/influence/eigh.ts, svd.ts, the
// Cholesky of src/projection/scores.ts). A row-major matrix is the column-major transpose, so most
// calls need no copy: see each routine for how the triangle or the factors map.
import { EighConvergenceError, type EighOptions, type SymmetricEigen } from "../influence/eigh.ts";
import type { LowRankFactors, Svd } from "../influence/svd.ts";
import type { OpenBlas } from "./openblas.ts";
import { checkShape, checkSquare } from "./shapes.ts";

const CHAR = (c: string) => new Uint8Array([c.charCodeAt(0)]);
const INT = (v: number) => new Int32Array([v]);

/** CBLAS enum values. */
const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

export class LapackError extends Error {
  override name = "LapackError";
}

function asFloat64(a: ArrayLike<number>): Float64Array {
  return a instanceof Float64Array ? a : Float64Array.from(a);
}

/** Row-major dense float64 routines on one opened library. */
export class LapackRoutines {
  constructor(private readonly lib: OpenBlas) {}

  /**
   * eigh: only the upper triangle (row-major) is read, which is the lower triangle of the same
   * memory read column-major (uplo "L"). LAPACK's eigenvectors come one per column-major column,
   * i.e. one per row-major row: transposed into eigh's one-per-column layout.
   */
  symmetricEigen(a: ArrayLike<number>, n: number, options: EighOptions = {}): SymmetricEigen {
    checkSquare(a, n);
    if (n === 0) return { n, values: new Float64Array(0), vectors: new Float64Array(0) };
    const work64 = Float64Array.from(a);
    const values = new Float64Array(n);
    const jobz = CHAR(options.valuesOnly ? "N" : "V");
    const info = INT(0);
    const call = (work: Float64Array, lwork: number, iwork: Int32Array, liwork: number) =>
      this.lib.symbols.dsyevd_(
        jobz,
        CHAR("L"),
        INT(n),
        work64,
        INT(n),
        values,
        work,
        INT(lwork),
        iwork,
        INT(liwork),
        info,
      );
    const wq = new Float64Array(1), iq = new Int32Array(1);
    call(wq, -1, iq, -1);
    if (info[0] !== 0) throw new LapackError(`dsyevd workspace query: info ${info[0]}`);
    call(new Float64Array(Math.ceil(wq[0])), Math.ceil(wq[0]), new Int32Array(iq[0]), iq[0]);
    if (info[0] > 0) {
      throw new EighConvergenceError(`dsyevd did not converge (info ${info[0]})`);
    }
    if (info[0] < 0) throw new LapackError(`dsyevd: argument ${-info[0]} is illegal`);
    if (options.valuesOnly) return { n, values, vectors: new Float64Array(0) };
    return { n, values, vectors: transpose(work64, n, n) };
  }

  /**
   * The thin SVD M = U·diag(s)·Vᵀ. Row-major M is column-major Mᵀ = U'·S·V'ᵀ (dgesdd), so U = V'
   * (dgesdd's row-major-ready VT) and V = U' (transposed here). Unlike svd.ts, the vectors of a
   * zero singular value are an orthonormal completion rather than zeros.
   */
  svd(m: ArrayLike<number>, rows: number, cols: number): Svd {
    checkShape(m, rows, cols);
    const k = Math.min(rows, cols);
    if (k === 0) {
      return {
        rows,
        cols,
        k,
        s: new Float64Array(0),
        u: new Float64Array(0),
        v: new Float64Array(0),
      };
    }
    const a = Float64Array.from(m);
    // LAPACK's iterations are not guaranteed to stop on NaN: refuse it here.
    for (let e = 0; e < a.length; e++) {
      if (!Number.isFinite(a[e])) throw new RangeError(`matrix entry ${e} is ${a[e]}`);
    }
    const s = new Float64Array(k);
    const uPrime = new Float64Array(cols * k); // column-major [cols, k]
    const vtPrime = new Float64Array(k * rows); // column-major [k, rows] = row-major [rows, k]
    const iwork = new Int32Array(8 * k);
    const info = INT(0);
    const call = (work: Float64Array, lwork: number) =>
      this.lib.symbols.dgesdd_(
        CHAR("S"),
        INT(cols),
        INT(rows),
        a,
        INT(cols),
        s,
        uPrime,
        INT(cols),
        vtPrime,
        INT(k),
        work,
        INT(lwork),
        iwork,
        info,
      );
    const wq = new Float64Array(1);
    call(wq, -1);
    if (info[0] !== 0) throw new LapackError(`dgesdd workspace query: info ${info[0]}`);
    call(new Float64Array(Math.ceil(wq[0])), Math.ceil(wq[0]));
    if (info[0] !== 0) throw new LapackError(`dgesdd failed (info ${info[0]})`);
    return { rows, cols, k, s, u: vtPrime, v: transpose(uPrime, k, cols) };
  }

  /** The best rank-`rank` approximation as left = U_k·diag(s_k) [rows, rank], right = V_k. */
  lowRankFactors(
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
    const f = this.svd(m, rows, cols);
    const left = new Float64Array(rows * rank);
    const right = new Float64Array(cols * rank);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < rank; j++) left[i * rank + j] = f.u[i * k + j] * f.s[j];
    }
    for (let i = 0; i < cols; i++) {
      for (let j = 0; j < rank; j++) right[i * rank + j] = f.v[i * k + j];
    }
    return { rows, cols, rank, left, right };
  }

  /**
   * In-place lower Cholesky factor of row-major SPD `a` (lower triangle read), false if not SPD.
   * Row-major lower L is column-major upper U = Lᵀ, so dpotrf "U" writes exactly L where the
   * TypeScript code does; the other triangle is left as it was, as there.
   */
  cholesky(a: Float64Array, n: number): boolean {
    if (n === 0) return true;
    const info = INT(0);
    this.lib.symbols.dpotrf_(CHAR("U"), INT(n), a, INT(n), info);
    if (info[0] < 0) throw new LapackError(`dpotrf: argument ${-info[0]} is illegal`);
    return info[0] === 0;
  }

  /**
   * Solves L·Lᵀ·x = b in place for `nrhs` right-hand sides, b [nrhs, n] row-major (one system
   * per row: column-major [n, nrhs]).
   */
  choleskySolve(l: Float64Array, n: number, b: Float64Array, nrhs = 1): void {
    if (n === 0 || nrhs === 0) return;
    if (b.length < n * nrhs) {
      throw new RangeError(`b has ${b.length} entries, expected ${n * nrhs}`);
    }
    const info = INT(0);
    this.lib.symbols.dpotrs_(CHAR("U"), INT(n), INT(nrhs), l, INT(n), b, INT(n), info);
    if (info[0] !== 0) throw new LapackError(`dpotrs: info ${info[0]}`);
  }

  /**
   * C ← α·op(A)·op(B) + β·C, row-major: op(A) [m, k], op(B) [k, n], C [m, n]; A is stored
   * [k, m] when transA, B [n, k] when transB.
   */
  dgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: ArrayLike<number>,
    b: ArrayLike<number>,
    beta: number,
    c: Float64Array,
  ): void {
    checkGemm(m, n, k, a, b, c);
    if (m === 0 || n === 0) return;
    this.lib.symbols.cblas_dgemm(
      ROW_MAJOR,
      transA ? TRANS : NO_TRANS,
      transB ? TRANS : NO_TRANS,
      m,
      n,
      k,
      alpha,
      asFloat64(a),
      Math.max(1, transA ? m : k),
      asFloat64(b),
      Math.max(1, transB ? k : n),
      beta,
      c,
      Math.max(1, n),
    );
  }
}

/** The sizes of a row-major dgemm, checked before any pointer reaches BLAS. */
export function checkGemm(
  m: number,
  n: number,
  k: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  c: ArrayLike<number>,
): void {
  for (const [name, v] of [["m", m], ["n", n], ["k", k]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} = ${v} is not a size`);
  }
  if (a.length !== m * k) throw new RangeError(`A has ${a.length} entries, expected ${m * k}`);
  if (b.length !== k * n) throw new RangeError(`B has ${b.length} entries, expected ${k * n}`);
  if (c.length !== m * n) throw new RangeError(`C has ${c.length} entries, expected ${m * n}`);
}

/** out[c·r + i] … the [cols, rows] transpose of the [rows, cols] row-major x. */
function transpose(x: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  const B = 64;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) {
        for (let j = j0; j < j1; j++) out[j * rows + i] = x[i * cols + j];
      }
    }
  }
  return out;
}
