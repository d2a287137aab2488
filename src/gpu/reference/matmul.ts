// Float64 CPU reference for matmul: any batch, layout, bias, accumulate and alpha, with the
// per-element magnitude that bounds f32 rounding.
import type { Tolerance } from "./compare.ts";

export interface ReferenceResult {
  values: Float64Array;
  /** Σ_k |alpha·a·b| + |bias| + |out before|, per element: the scale of the rounding error. */
  scale: Float64Array;
}

export function referenceMatmul(
  batch: number,
  M: number,
  N: number,
  K: number,
  a: (z: number, m: number, k: number) => number,
  b: (z: number, k: number, n: number) => number,
  alpha = 1,
  bias?: Float32Array,
  before?: Float32Array,
): ReferenceResult {
  const values = new Float64Array(batch * M * N);
  const scale = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let sum = 0, abs = 0;
        for (let k = 0; k < K; k++) {
          const t = a(z, m, k) * b(z, k, n);
          sum += t;
          abs += Math.abs(t);
        }
        const i = (z * M + m) * N + n;
        values[i] = alpha * sum + (bias ? bias[n] : 0) + (before ? before[i] : 0);
        scale[i] = Math.abs(alpha) * abs + (bias ? Math.abs(bias[n]) : 0) +
          (before ? Math.abs(before[i]) : 0);
      }
    }
  }
  return { values, scale };
}

const EPS32 = 2 ** -24;

/**
 * Asserts |got - want| ≤ (K + 3)·u·scale elementwise: the classical worst-case bound for an f32
 * dot product of length K plus the alpha, bias and accumulate steps (u = 2⁻²⁴). An indexing bug
 * gives O(1) relative errors, far above it.
 */
/**
 * The tolerance for a matmul result: f32 rounding of a K-term dot product is bounded by
 * (K + 3)·ε·Σ|a·b| per element (`want.scale`).
 */
export function matmulTolerance(want: ReferenceResult, K: number): Tolerance {
  return { abs: 1e-30, rel: (K + 3) * EPS32 * 1.01, scale: want.scale };
}
