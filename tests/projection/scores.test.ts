// Scores from projected gradients against direct float64 formulas: trak against an explicit
// inverse of ΦᵀΦ + λI (Gauss–Jordan) in both regimes (M ≥ k: primal Cholesky; M < k: Woodbury).
import assert from "node:assert/strict";
import { defaultDamping, gradientScores } from "../../src/projection/scores.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";

function inverse(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[p * n + c])) p = r;
    for (let j = 0; j < n; j++) {
      [m[c * n + j], m[p * n + j]] = [m[p * n + j], m[c * n + j]];
      [inv[c * n + j], inv[p * n + j]] = [inv[p * n + j], inv[c * n + j]];
    }
    const d = m[c * n + c];
    for (let j = 0; j < n; j++) {
      m[c * n + j] /= d;
      inv[c * n + j] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c];
      for (let j = 0; j < n; j++) {
        m[r * n + j] -= f * m[c * n + j];
        inv[r * n + j] -= f * inv[c * n + j];
      }
    }
  }
  return inv;
}

function trakDirect(
  train: Float32Array,
  queries: Float32Array,
  M: number,
  Q: number,
  k: number,
  lambda: number,
) {
  const h = new Float64Array(k * k);
  for (let m = 0; m < M; m++) {
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) h[a * k + b] += train[m * k + a] * train[m * k + b];
    }
  }
  for (let a = 0; a < k; a++) h[a * k + a] += lambda;
  const inv = inverse(h, k);
  const out = new Float64Array(Q * M);
  for (let q = 0; q < Q; q++) {
    for (let m = 0; m < M; m++) {
      let s = 0;
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) s += queries[q * k + a] * inv[a * k + b] * train[m * k + b];
      }
      out[q * M + m] = s;
    }
  }
  return out;
}

Deno.test("gradient scores: dot, cosine and trak (both regimes) against direct formulas", () => {
  for (const [M, Q, k] of [[7, 3, 5], [5, 2, 11], [1, 1, 1], [13, 4, 13]]) {
    const train = randomF32(M * k, M * 100 + k);
    const queries = randomF32(Q * k, Q * 7 + k);
    const dot = gradientScores({ train, queries, M, Q, k, method: "dot" }).scores;
    const cosine = gradientScores({ train, queries, M, Q, k, method: "cosine" }).scores;
    for (let q = 0; q < Q; q++) {
      for (let m = 0; m < M; m++) {
        let d = 0, nq = 0, nm = 0;
        for (let c = 0; c < k; c++) {
          d += queries[q * k + c] * train[m * k + c];
          nq += queries[q * k + c] ** 2;
          nm += train[m * k + c] ** 2;
        }
        assert.ok(Math.abs(dot[q * M + m] - d) <= 1e-12 * (1 + Math.abs(d)));
        assert.ok(Math.abs(cosine[q * M + m] - d / Math.sqrt(nq * nm)) <= 1e-12);
        assert.ok(Math.abs(cosine[q * M + m]) <= 1 + 1e-12);
      }
    }
    for (const damping of [null, 0.37]) {
      const got = gradientScores({ train, queries, M, Q, k, method: "trak", damping });
      const lambda = damping ?? defaultDamping(train, M, k);
      assert.equal(got.damping, lambda);
      const want = trakDirect(train, queries, M, Q, k, lambda);
      assertClose(got.scores, want, { abs: 1e-10, rel: 1e-9 }, `trak ${M}x${Q}x${k} λ=${lambda}`);
    }
  }
  // λ = 0 with more columns than rows leaves ΦᵀΦ singular: a 400 naming damping.
  assert.throws(
    () =>
      gradientScores({
        train: new Float32Array(3 * 5).fill(1),
        queries: new Float32Array(5).fill(1),
        M: 3,
        Q: 1,
        k: 5,
        method: "trak",
        damping: 0,
      }),
    (e: Error & { details?: { field?: string } }) => e.details?.field === "damping",
  );
});
