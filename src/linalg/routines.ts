// The interface every float64 linear-algebra backend implements (lapack.ts, typescript.ts);
// select.ts chooses one.
import type { EighOptions, SymmetricEigen } from "../influence/eigh.ts";
import type { LowRankFactors, Svd } from "../influence/svd.ts";

export type LinearAlgebraBackend = "openblas" | "typescript";

/** Dense float64 routines on row-major arrays. */
export interface LinearAlgebra {
  backend: LinearAlgebraBackend;
  /** eigh's contract (src/influence/eigh.ts): ascending values, one eigenvector per column. */
  symmetricEigen(a: ArrayLike<number>, n: number, options?: EighOptions): SymmetricEigen;
  /** svd's contract (src/influence/svd.ts): thin, descending s. */
  svd(m: ArrayLike<number>, rows: number, cols: number): Svd;
  /** lowRankFactors' contract (src/influence/svd.ts). */
  lowRankFactors(m: ArrayLike<number>, rows: number, cols: number, rank: number): LowRankFactors;
  /** In-place lower Cholesky factor (lower triangle read); false when not positive definite. */
  cholesky(a: Float64Array, n: number): boolean;
  /** L·Lᵀ·x = b in place for the factor from `cholesky`; b [nrhs, n], one system per row. */
  choleskySolve(l: Float64Array, n: number, b: Float64Array, nrhs?: number): void;
  /** C ← α·op(A)·op(B) + β·C, row-major; A [k, m] when transA, B [n, k] when transB. */
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
  ): void;
}
