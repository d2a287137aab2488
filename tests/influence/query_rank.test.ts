// Query batching's rank-k factors: the randomized GPU range finder against the exact float64 SVD
// on a matrix large enough to take it, with a decaying spectrum like a preconditioned gradient's;
// and the exact path on small modules.
import assert from "node:assert/strict";
import { orthonormalizeColumns, queryRankFactors } from "../../src/influence/scores/query_rank.ts";
import { expandLowRank, lowRankFactors } from "../../src/influence/svd.ts";
import { seededNormal } from "../../src/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

/** Q matrices [rows, cols] = Σ_i σ_i x_i y_iᵀ with σ_i = decay^i and random x, y. */
function decaying(Q: number, rows: number, cols: number, decay: number, seed: number) {
  const normal = seededNormal(seed);
  const out = new Float32Array(Q * rows * cols);
  for (let q = 0; q < Q; q++) {
    for (let i = 0; i < 40; i++) {
      const x = Array.from({ length: rows }, normal), y = Array.from({ length: cols }, normal);
      const s = decay ** i / Math.sqrt(rows * cols);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) out[q * rows * cols + r * cols + c] += s * x[r] * y[c];
      }
    }
  }
  return out;
}

/** The approximation of query q from packed factors. */
function expand(
  f: { u: Float32Array; v: Float32Array; k: number },
  Q: number,
  q: number,
  rows: number,
  cols: number,
) {
  const { k } = f;
  const left = new Float64Array(rows * k), right = new Float64Array(cols * k);
  for (let j = 0; j < k; j++) {
    for (let r = 0; r < rows; r++) left[r * k + j] = f.u[r * Q * k + q * k + j];
    for (let c = 0; c < cols; c++) right[c * k + j] = f.v[c * Q * k + q * k + j];
  }
  return expandLowRank({ rows, cols, rank: k, left, right });
}

function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) (num += (a[i] - b[i]) ** 2), (den += b[i] ** 2);
  return Math.sqrt(num / den);
}

Deno.test(
  "query rank: the GPU range finder gives the exact SVD's rank-k approximation",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const [Q, rows, cols, k] = [3, 301, 263, 8];
    const data = decaying(Q, rows, cols, 0.7, 1);
    const P = rt.tensor(data, [Q, rows * cols]);
    const module = { name: "m", dIn: cols - 1, dOut: rows, cols };
    try {
      const got = await queryRankFactors(rt, P, module, Q, k);
      for (let q = 0; q < Q; q++) {
        const m = data.subarray(q * rows * cols, (q + 1) * rows * cols);
        const exact = expandLowRank(lowRankFactors(m, rows, cols, k));
        const diff = relativeDifference(expand(got, Q, q, rows, cols), exact);
        if (Deno.env.get("QUERY_RANK_REPORT")) console.log(`query ${q}: ${diff.toExponential(2)}`);
        // f32 products on a spectrum decaying 0.7× per direction: measured 3.3e-7 to 3.7e-7.
        assert.ok(diff < 1e-4, `query ${q}: ${diff} from the exact rank-${k} approximation`);
      }
      // The exact path (small side below the threshold) is the float64 SVD itself.
      const exactPath = await queryRankFactors(rt, P, module, Q, k, { exactBelow: 1000 });
      const m0 = data.subarray(0, rows * cols);
      const d0 = relativeDifference(
        expand(exactPath, Q, 0, rows, cols),
        expandLowRank(lowRankFactors(m0, rows, cols, k)),
      );
      assert.ok(d0 < 1e-6, `exact path: ${d0}`);
    } finally {
      P.dispose();
    }
  },
);

Deno.test("query rank: columns are orthonormalised per block, rank deficiency left zero", () => {
  const m = Float32Array.from([1, 2, 1, 2, 0, 1, 0, 3, 0, 0, 0, 1]); // 2 blocks of [3, 2]
  orthonormalizeColumns(m, 2, 3, 2);
  const col = (b: number, j: number) => [0, 1, 2].map((i) => m[b * 6 + i * 2 + j]);
  const dot = (x: number[], y: number[]) => x.reduce((a, v, i) => a + v * y[i], 0);
  assert.ok(Math.abs(dot(col(0, 0), col(0, 0)) - 1) < 1e-6);
  assert.ok(Math.abs(dot(col(0, 0), col(0, 1))) < 1e-6);
  assert.ok(Math.abs(dot(col(0, 1), col(0, 1)) - 1) < 1e-6);
  // Block 1: a zero first column stays zero; the second is normalised.
  assert.deepEqual(col(1, 0), [0, 0, 0]);
  assert.ok(Math.abs(dot(col(1, 1), col(1, 1)) - 1) < 1e-6);
  const dependent = Float32Array.from([1, 2, 1, 2, 1, 2]); // [3, 2], column 2 = 2 × column 1
  orthonormalizeColumns(dependent, 1, 3, 2);
  assert.deepEqual([dependent[1], dependent[3], dependent[5]], [0, 0, 0]);
});
