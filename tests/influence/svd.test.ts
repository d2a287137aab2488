// SVD through the Gram matrix's eigendecomposition: known singular values and vectors of matrices
// built as U·diag(σ)·Vᵀ from random orthogonal factors (tall, wide, square, rank-deficient), the
// reconstruction, and the rank-k truncation's Eckart–Young error.
import assert from "node:assert/strict";
import { expandLowRank, lowRankFactors, svd } from "../../src/influence/svd.ts";
import { seededNormal } from "../../src/random.ts";

/** The first k columns of a random orthogonal n × n matrix (Gram–Schmidt, twice), [n, k]. */
function orthonormalColumns(n: number, k: number, seed: number): Float64Array {
  const r = seededNormal(seed);
  const q = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    const v = Float64Array.from({ length: n }, () => r());
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += v[i] * q[i * k + p];
        for (let i = 0; i < n; i++) v[i] -= d * q[i * k + p];
      }
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) q[i * k + j] = v[i] / norm;
  }
  return q;
}

function build(rows: number, cols: number, sigma: number[], seed: number) {
  const k = sigma.length;
  const u = orthonormalColumns(rows, k, seed);
  const v = orthonormalColumns(cols, k, seed + 1);
  const m = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += u[i * k + p] * sigma[p] * v[j * k + p];
      m[i * cols + j] = s;
    }
  }
  return { m, u, v };
}

const frob = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0));

Deno.test("svd: singular values and vectors of U·diag(σ)·Vᵀ (tall, wide, square)", () => {
  for (const [rows, cols] of [[7, 5], [5, 7], [33, 33], [40, 9], [1, 4], [4, 1]]) {
    const k = Math.min(rows, cols);
    const sigma = Array.from({ length: k }, (_, i) => 10 / (i + 1));
    const { m, u, v } = build(rows, cols, sigma, rows * 100 + cols);
    const d = svd(m, rows, cols);
    assert.equal(d.k, k);
    sigma.forEach((s, i) =>
      assert.ok(Math.abs(d.s[i] - s) <= 1e-13 * 10, `[${rows},${cols}] σ${i}`)
    );
    // Vectors agree up to sign.
    for (let j = 0; j < k; j++) {
      let du = 0, dv = 0;
      for (let i = 0; i < rows; i++) du += d.u[i * k + j] * u[i * k + j];
      for (let i = 0; i < cols; i++) dv += d.v[i * k + j] * v[i * k + j];
      assert.ok(Math.abs(Math.abs(du) - 1) < 1e-12 && Math.abs(du - dv) < 1e-12, `vector ${j}`);
    }
    const back = expandLowRank({
      rows,
      cols,
      rank: k,
      left: d.u.map((x, i) => x * d.s[i % k]),
      right: d.v,
    });
    assert.ok(
      frob(back.map((x, i) => x - m[i])) <= 1e-13 * frob(m),
      `[${rows},${cols}] reconstruction`,
    );
  }
});

Deno.test("svd: rank-k truncation is Eckart–Young's best approximation; rank deficiency", () => {
  const rows = 33, cols = 20;
  const sigma = [9, 7, 5, 4, 3, 2.5, 2, 1, 0.5, 0.25, 0, 0, 0];
  const { m, u, v } = build(rows, cols, sigma, 5);
  const d = svd(m, rows, cols);
  for (let i = 0; i < 20; i++) {
    assert.ok(Math.abs(d.s[i] - (sigma[i] ?? 0)) < 1e-13 * 9, `σ${i} = ${d.s[i]}`);
  }
  for (const k of [0, 1, 4, 10, 20]) {
    for (const [r, c, mat] of [[rows, cols, m], [cols, rows, transpose(m, rows, cols)]] as const) {
      const low = lowRankFactors(mat, r, c, k);
      assert.equal(low.left.length, r * k);
      assert.equal(low.right.length, c * k);
      const approx = expandLowRank(low);
      const err = frob(approx.map((x, i) => x - mat[i]));
      const best = Math.sqrt(sigma.slice(k).reduce((s, x) => s + x * x, 0));
      assert.ok(Math.abs(err - best) < 1e-12 * 9, `k=${k} [${r},${c}]: ${err} vs ${best}`);
    }
  }
  // With distinct leading values the rank-4 truncation equals U_4 Σ_4 V_4ᵀ exactly (to rounding).
  const approx = expandLowRank(lowRankFactors(m, rows, cols, 4));
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let p = 0; p < 4; p++) s += u[i * 13 + p] * sigma[p] * v[j * 13 + p];
      assert.ok(Math.abs(approx[i * cols + j] - s) < 1e-12 * 9);
    }
  }
  assert.throws(() => lowRankFactors(m, rows, cols, 21), RangeError);
  assert.throws(() => svd(m, rows, cols + 1), RangeError);
});

function transpose(m: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
  return t;
}
