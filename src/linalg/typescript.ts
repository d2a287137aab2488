// The project's own float64 routines behind the LinearAlgebra interface: the fallback without
// OpenBLAS and the reference its tests compare LAPACK against. dgemm has no TypeScript original:
// this is the plain triple loop (i, p, j order, so the inner loop runs along rows).
import { eigh } from "../influence/eigh.ts";
import { lowRankFactors, svd } from "../influence/svd.ts";
import { cholesky, choleskySolve } from "./cholesky.ts";
import { checkGemm } from "./lapack.ts";
import type { LinearAlgebra } from "./routines.ts";

export function typescriptDgemm(
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
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const x = transA ? a[p * m + i] : a[i * k + p];
      if (x === 0) continue;
      if (transB) { for (let j = 0; j < n; j++) row[j] += x * b[j * k + p]; }
      else for (let j = 0; j < n; j++) row[j] += x * b[p * n + j];
    }
    for (let j = 0; j < n; j++) {
      // β = 0 overwrites (C may hold garbage), as BLAS does.
      c[i * n + j] = alpha * row[j] + (beta === 0 ? 0 : beta * c[i * n + j]);
    }
  }
}

export const typescriptRoutines: LinearAlgebra = {
  backend: "typescript",
  symmetricEigen: eigh,
  svd,
  lowRankFactors,
  cholesky,
  choleskySolve: (l, n, b, nrhs = 1) => {
    if (b.length < n * nrhs) {
      throw new RangeError(`b has ${b.length} entries, expected ${n * nrhs}`);
    }
    for (let r = 0; r < nrhs; r++) choleskySolve(l, n, b.subarray(r * n, (r + 1) * n));
  },
  dgemm: typescriptDgemm,
};
