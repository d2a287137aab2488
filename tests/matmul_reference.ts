// Float64 CPU reference for matmul tests, plus builders for strided / transposed / offset views.
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import type { Tensor } from "../src/gpu/tensor.ts";

/** Deterministic values in [-1, 1) (a small LCG), so failures reproduce. */
export function seededValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** A logical [batch?, rows, cols] operand: its values and how to lay it out on the GPU. */
export interface OperandSpec {
  batch: number | null; // null: rank 2
  rows: number;
  cols: number;
  /** Stored transposed ([cols, rows] per batch item) and viewed through transposeView(). */
  transposed?: boolean;
  /** Extra elements after each stored row (odd leading strides). */
  pad?: number;
  /** Extra elements between batch items. */
  batchPad?: number;
  /** Element offset of the view into its buffer. */
  offset?: number;
  seed: number;
}

export interface Operand {
  tensor: Tensor;
  /** Logical value at [z, r, c] (z ignored for rank 2). */
  at: (z: number, r: number, c: number) => number;
}

export function makeOperand(rt: GpuRuntime, spec: OperandSpec): Operand {
  const z = spec.batch ?? 1;
  const storedRows = spec.transposed ? spec.cols : spec.rows;
  const storedCols = spec.transposed ? spec.rows : spec.cols;
  const ld = storedCols + (spec.pad ?? 0);
  const itemStride = storedRows * ld + (spec.batchPad ?? 0);
  const offset = spec.offset ?? 0;
  const total = offset + z * itemStride;
  const values = seededValues(Math.max(total, 1), spec.seed);
  const base = rt.tensor(values, [values.length]);
  const shape = spec.batch === null ? [storedRows, storedCols] : [z, storedRows, storedCols];
  const strides = spec.batch === null ? [ld, 1] : [itemStride, ld, 1];
  let tensor = base.view(shape, strides, offset);
  if (spec.transposed) tensor = tensor.transposeView();
  const at = (b: number, r: number, c: number) => {
    const [sr, sc] = spec.transposed ? [c, r] : [r, c];
    return values[offset + (spec.batch === null ? 0 : b) * itemStride + sr * ld + sc];
  };
  return { tensor, at };
}

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
export function assertClose(
  got: Float32Array,
  want: ReferenceResult,
  K: number,
  what: string,
): void {
  if (got.length !== want.values.length) {
    throw new Error(`${what}: ${got.length} values, expected ${want.values.length}`);
  }
  const factor = (K + 3) * EPS32 * 1.01;
  for (let i = 0; i < got.length; i++) {
    const tol = factor * want.scale[i] + 1e-30;
    const err = Math.abs(got[i] - want.values[i]);
    if (!(err <= tol)) {
      throw new Error(
        `${what}: element ${i} is ${got[i]}, expected ${want.values[i]} (error ${
          err.toExponential(2)
        } > tolerance ${tol.toExponential(2)})`,
      );
    }
  }
}
