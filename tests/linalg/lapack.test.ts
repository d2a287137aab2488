// Each OpenBLAS routine against the TypeScript routine it replaces, on odd sizes, with explicit
// tolerances: eigenvalues, eigenvectors up to sign (where the eigenvalue gap makes them defined),
// ‖A − VΛVᵀ‖, SVD reconstruction and singular values, low-rank factors, Cholesky factors and
// solve residuals (one and several right-hand sides), dgemm in all four transpose cases against a
// plain triple loop.
import assert from "node:assert/strict";
import { eigh } from "../../src/influence/eigh.ts";
import { expandLowRank, lowRankFactors, svd } from "../../src/influence/svd.ts";
import { cholesky, choleskySolve } from "../../src/linalg/cholesky.ts";
import { OPENBLAS_INSTALL } from "../../src/linalg/openblas.ts";
import { typescriptDgemm } from "../../src/linalg/typescript.ts";
import {
  frobenius,
  maxAbsDiff,
  naiveProduct,
  openblasPresent,
  openblasRoutines,
  openblasTest,
  randomMatrix,
  randomSpd,
  randomSymmetric,
  transposed,
} from "./helpers.ts";

// Under CI (.ci/run installs the library) a missing one fails instead of skipping.
Deno.test({
  name: "linalg: OpenBLAS is installed under CI",
  ignore: openblasPresent || Deno.env.get("CI") !== "true",
  fn: () => assert.fail(`CI=true but OpenBLAS is missing: ${OPENBLAS_INSTALL}`),
});

const EPS = Number.EPSILON;

/** ‖A − V·diag(λ)·Vᵀ‖_F / ‖A‖_F with V one eigenvector per column. */
function eigenResidual(a: Float64Array, values: Float64Array, v: Float64Array, n: number): number {
  const r = a.slice();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let l = 0; l < n; l++) s += v[i * n + l] * values[l] * v[j * n + l];
      r[i * n + j] -= s;
    }
  }
  return frobenius(r) / frobenius(a);
}

/** max |VᵀV − I| over the first `cols` columns of V [rows, ld]. */
function orthogonalityError(v: Float64Array, rows: number, ld: number, cols = ld): number {
  let m = 0;
  for (let a = 0; a < cols; a++) {
    for (let b = 0; b < cols; b++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += v[i * ld + a] * v[i * ld + b];
      m = Math.max(m, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return m;
}

for (const n of [1, 2, 7, 33, 97]) {
  openblasTest(`symmetricEigen: dsyevd matches eigh at n = ${n}`, () => {
    const la = openblasRoutines();
    const a = randomSymmetric(n, 100 + n);
    // Garbage below the diagonal: both must read only the upper triangle.
    const lowerGarbage = a.slice();
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) lowerGarbage[i * n + j] = 1e6;
    const got = la.symmetricEigen(lowerGarbage, n);
    const want = eigh(a, n);
    const scale = Math.max(...want.values.map(Math.abs));
    assert.ok(maxAbsDiff(got.values, want.values) <= 20 * n * EPS * scale);
    for (let j = 1; j < n; j++) assert.ok(got.values[j] >= got.values[j - 1], "ascending");
    assert.ok(eigenResidual(a, got.values, got.vectors, n) <= 20 * n * EPS);
    assert.ok(orthogonalityError(got.vectors, n, n) <= 20 * n * EPS);
    // Eigenvectors up to sign, each to within the perturbation bound of its eigenvalue gap.
    for (let j = 0; j < n; j++) {
      const gap = Math.min(
        j > 0 ? want.values[j] - want.values[j - 1] : Infinity,
        j < n - 1 ? want.values[j + 1] - want.values[j] : Infinity,
      );
      let dot = 0;
      for (let i = 0; i < n; i++) dot += got.vectors[i * n + j] * want.vectors[i * n + j];
      const sign = dot >= 0 ? 1 : -1;
      let diff = 0;
      for (let i = 0; i < n; i++) {
        diff = Math.max(diff, Math.abs(got.vectors[i * n + j] - sign * want.vectors[i * n + j]));
      }
      const bound = gap === Infinity
        ? 20 * n * EPS
        : Math.max(20 * n * EPS, 50 * n * EPS * scale / gap);
      assert.ok(diff <= bound, `eigenvector ${j}: ${diff} > ${bound} (gap ${gap})`);
    }
    const valuesOnly = la.symmetricEigen(a, n, { valuesOnly: true });
    assert.equal(valuesOnly.vectors.length, 0);
    assert.ok(maxAbsDiff(valuesOnly.values, want.values) <= 20 * n * EPS * scale);
  });
}

openblasTest("symmetricEigen: a degenerate PSD spectrum (rank 5 of 41) and n = 0", () => {
  const la = openblasRoutines();
  const n = 41;
  const a = randomSpd(n, 5, 0, 7);
  const got = la.symmetricEigen(a, n);
  const want = eigh(a, n);
  const scale = Math.max(...want.values.map(Math.abs));
  assert.ok(maxAbsDiff(got.values, want.values) <= 20 * n * EPS * scale);
  assert.ok(eigenResidual(a, got.values, got.vectors, n) <= 20 * n * EPS);
  assert.ok(orthogonalityError(got.vectors, n, n) <= 20 * n * EPS);
  assert.deepEqual(la.symmetricEigen(new Float64Array(0), 0).values, new Float64Array(0));
  assert.throws(() => la.symmetricEigen([1, NaN, NaN, 1], 2), RangeError);
  assert.throws(() => la.symmetricEigen([1, 2, 3], 2), RangeError);
});

for (const [rows, cols] of [[37, 23], [23, 37], [1, 5], [5, 1], [31, 31]]) {
  openblasTest(`svd: dgesdd matches svd.ts at ${rows} × ${cols}`, () => {
    const la = openblasRoutines();
    const m = randomMatrix(rows, cols, rows * 100 + cols);
    const got = la.svd(Float32Array.from(m), rows, cols); // Float32 input, as query_rank gives
    const m32 = Float64Array.from(Float32Array.from(m));
    const want = svd(m32, rows, cols);
    const k = Math.min(rows, cols);
    assert.equal(got.k, k);
    assert.ok(maxAbsDiff(got.s, want.s) <= 50 * (rows + cols) * EPS * want.s[0]);
    for (let j = 1; j < k; j++) assert.ok(got.s[j] <= got.s[j - 1], "descending");
    // M = U·diag(s)·Vᵀ.
    const us = got.u.map((x, e) => x * got.s[e % k]);
    const rebuilt = naiveProduct(us, transposed(got.v, cols, k), rows, k, cols);
    assert.ok(maxAbsDiff(rebuilt, m32) <= 50 * (rows + cols) * EPS * want.s[0]);
    assert.ok(orthogonalityError(got.u, rows, k) <= 50 * (rows + cols) * EPS);
    assert.ok(orthogonalityError(got.v, cols, k) <= 50 * (rows + cols) * EPS);
  });
}

openblasTest("lowRankFactors: the LAPACK rank-r approximation equals svd.ts's", () => {
  const la = openblasRoutines();
  for (const [rows, cols, rank] of [[29, 17, 4], [17, 29, 4], [9, 9, 9], [12, 7, 0]]) {
    const m = randomMatrix(rows, cols, rank + rows);
    const got = la.lowRankFactors(m, rows, cols, rank);
    const want = lowRankFactors(m, rows, cols, rank);
    assert.equal(got.left.length, rows * rank);
    assert.equal(got.right.length, cols * rank);
    assert.ok(orthogonalityError(got.right, cols, rank) <= 1e-12);
    const diff = maxAbsDiff(expandLowRank(got), expandLowRank(want));
    assert.ok(diff <= 1e-10 * frobenius(m), `${rows}×${cols} rank ${rank}: ${diff}`);
  }
  assert.throws(() => la.lowRankFactors(new Float64Array(6), 2, 3, 3), RangeError);
});

for (const n of [1, 6, 53]) {
  openblasTest(`cholesky: dpotrf/dpotrs match the TypeScript factor and solve at n = ${n}`, () => {
    const la = openblasRoutines();
    const a = randomSpd(n, n + 3, 0.5, n);
    const got = a.slice();
    const want = a.slice();
    assert.equal(la.cholesky(got, n), true);
    assert.equal(cholesky(want, n), true);
    let lmax = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) lmax = Math.max(lmax, Math.abs(want[i * n + j]));
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        assert.ok(Math.abs(got[i * n + j] - want[i * n + j]) <= 50 * n * EPS * lmax);
      }
    }
    // Several right-hand sides at once, one per row; residual ‖A·x − b‖ / (‖A‖·‖x‖).
    const nrhs = 5;
    const b = randomMatrix(nrhs, n, 9);
    const x = b.slice();
    la.choleskySolve(got, n, x, nrhs);
    for (let r = 0; r < nrhs; r++) {
      const xr = x.subarray(r * n, (r + 1) * n);
      const ax = naiveProduct(a, xr, n, n, 1);
      const res = frobenius(ax.map((v, i) => v - b[r * n + i]));
      assert.ok(res <= 50 * n * EPS * frobenius(a) * frobenius(xr), `rhs ${r}: ${res}`);
      const ref = b.slice(r * n, (r + 1) * n);
      choleskySolve(want, n, ref);
      assert.ok(maxAbsDiff(xr, ref) <= 1e-9 * frobenius(ref));
    }
  });
}

openblasTest("cholesky: an indefinite matrix is refused by both", () => {
  const la = openblasRoutines();
  const a = Float64Array.from([2, 3, 3, 2]); // eigenvalues 5 and −1
  assert.equal(la.cholesky(a.slice(), 2), false);
  assert.equal(cholesky(a.slice(), 2), false);
});

for (const [m, n, k] of [[13, 7, 29], [1, 17, 3], [31, 1, 1], [5, 9, 0]]) {
  openblasTest(
    `dgemm: cblas_dgemm and the TypeScript loop equal a naive product, ${m}×${n}×${k}`,
    () => {
      const la = openblasRoutines();
      const a = randomMatrix(m, k, m);
      const b = randomMatrix(k, n, n);
      const c0 = randomMatrix(m, n, 3);
      const alpha = 0.75, beta = -1.5;
      const want = naiveProduct(a, b, m, k, n).map((v, e) => alpha * v + beta * c0[e]);
      const tol = 50 * (k + 2) * EPS * (frobenius(a) * frobenius(b) + frobenius(c0) + 1);
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const aIn = transA ? transposed(a, m, k) : a;
          const bIn = transB ? transposed(b, k, n) : b;
          for (const gemm of [la.dgemm.bind(la), typescriptDgemm]) {
            const c = c0.slice();
            gemm(transA, transB, m, n, k, alpha, aIn, bIn, beta, c);
            assert.ok(maxAbsDiff(c, want) <= tol, `transA ${transA} transB ${transB}`);
          }
        }
      }
      // β = 0 ignores whatever C held (NaN included), as BLAS does.
      const c = new Float64Array(m * n).fill(NaN);
      la.dgemm(false, false, m, n, k, 1, a, b, 0, c);
      assert.ok(maxAbsDiff(c, naiveProduct(a, b, m, k, n)) <= tol);
      assert.throws(() => la.dgemm(false, false, m, n, k + 1, 1, a, b, 0, c), RangeError);
    },
  );
}
