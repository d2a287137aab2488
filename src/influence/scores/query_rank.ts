// Query batching: the best rank-k approximation Σ_j u_j v_jᵀ of every query's preconditioned
// gradient matrix P̃_q [dOut, cols] in one module (kronfluence keeps rank k where
// min(dOut, cols) > k).
//
// Small modules: an exact float64 SVD on the CPU (LAPACK's dgesdd, or svd.ts without OpenBLAS). Large ones (GPT-2-124M's MLP is
// 3072 × 769): a randomized range finder on the GPU, all queries at once. Y = P̃·Ω with a seeded
// Gaussian Ω [cols, r] (r = k + oversampling), a few power iterations Y ← P̃·(P̃ᵀ·Y) with the
// columns re-orthonormalised on the CPU in float64 (QR of tall-thin [dOut, r] blocks), then
// B = Qᵀ·P̃ [r, cols] and an exact SVD of the small B. The products are the tuned matmul; with
// power iterations the leading k singular pairs come out as the exact SVD's to float tolerance
// whenever the spectrum is not flat at position k.
import { matmul } from "../../gpu/kernels/matmul.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { linearAlgebra } from "../../linalg/select.ts";
import { seededNormal } from "../../random.ts";
import type { TrackedModule } from "../modules.ts";

export interface QueryRankOptions {
  /** Extra columns of the range finder. Default 10. */
  oversample?: number;
  /** Power iterations. Default 3. */
  powerIterations?: number;
  seed?: number;
  /** Below this many columns on the small side, the exact CPU SVD. Default 256. */
  exactBelow?: number;
}

export interface QueryFactors {
  k: number;
  /** [dOut, Q·k]: column q·k + j is σ_j·u_j of query q. */
  u: Float32Array;
  /** [cols, Q·k]: column q·k + j is v_j of query q. */
  v: Float32Array;
}

/** Orthonormalises the columns of each [rows, r] block of `m` in place (modified Gram–Schmidt, twice). */
export function orthonormalizeColumns(m: Float32Array, blocks: number, rows: number, r: number) {
  const col = new Float64Array(rows);
  for (let q = 0; q < blocks; q++) {
    const base = q * rows * r;
    const done: Float64Array[] = [];
    for (let j = 0; j < r; j++) {
      for (let i = 0; i < rows; i++) col[i] = m[base + i * r + j];
      for (let pass = 0; pass < 2; pass++) {
        for (const prev of done) {
          let dot = 0;
          for (let i = 0; i < rows; i++) dot += prev[i] * col[i];
          for (let i = 0; i < rows; i++) col[i] -= dot * prev[i];
        }
      }
      let norm = 0;
      for (let i = 0; i < rows; i++) norm += col[i] * col[i];
      norm = Math.sqrt(norm);
      // A column in the span of the previous ones (rank below r) is left zero.
      const inv = norm > 1e-30 ? 1 / norm : 0;
      const unit = Float64Array.from(col, (x) => x * inv);
      done.push(unit);
      for (let i = 0; i < rows; i++) m[base + i * r + j] = unit[i];
    }
  }
}

function place(
  out: QueryFactors,
  q: number,
  Q: number,
  left: ArrayLike<number>,
  right: ArrayLike<number>,
  dOut: number,
  cols: number,
  k: number,
  stride: number,
) {
  for (let j = 0; j < k; j++) {
    for (let r = 0; r < dOut; r++) out.u[r * Q * k + q * k + j] = left[r * stride + j];
    for (let c = 0; c < cols; c++) out.v[c * Q * k + q * k + j] = right[c * stride + j];
  }
}

/** Rank-k factors of P [Q, dOut·cols] (each row a query's P̃, [dOut, cols] row-major). */
export async function queryRankFactors(
  rt: GpuRuntime,
  P: Tensor,
  module: TrackedModule,
  Q: number,
  k: number,
  options: QueryRankOptions = {},
): Promise<QueryFactors> {
  const { dOut, cols } = module;
  const D = dOut * cols;
  const out: QueryFactors = {
    k,
    u: new Float32Array(dOut * Q * k),
    v: new Float32Array(cols * Q * k),
  };
  const small = Math.min(dOut, cols);
  const r = Math.min(k + (options.oversample ?? 10), small);
  if (small < (options.exactBelow ?? 256) || 2 * r >= small) {
    const [p] = await rt.read([P]);
    const { lowRankFactors } = linearAlgebra();
    for (let q = 0; q < Q; q++) {
      const f = lowRankFactors(p.subarray(q * D, (q + 1) * D), dOut, cols, k);
      place(out, q, Q, f.left, f.right, dOut, cols, k, k);
    }
    return out;
  }
  const normal = seededNormal(options.seed ?? 0);
  const omega = rt.tensor(Float32Array.from({ length: cols * r }, normal), [1, cols, r]);
  const Pv = P.view([Q, dOut, cols]);
  const Y = rt.zeros([Q, dOut, r]);
  const Z = rt.zeros([Q, cols, r]);
  const B = rt.zeros([Q, r, cols]);
  try {
    const orthonormal = async (t: Tensor, rows: number) => {
      const [values] = await rt.read([t]);
      orthonormalizeColumns(values, Q, rows, r);
      rt.write(t, new Float32Array(values));
    };
    await matmul(rt, Pv, omega, Y);
    for (let it = 0; it < (options.powerIterations ?? 3); it++) {
      await orthonormal(Y, dOut);
      await matmul(rt, Pv.transposeView(), Y, Z);
      await orthonormal(Z, cols);
      await matmul(rt, Pv, Z, Y);
    }
    await orthonormal(Y, dOut);
    await matmul(rt, Y.transposeView(), Pv, B);
    const [basis, small] = await rt.read([Y, B]);
    const { svd } = linearAlgebra();
    for (let q = 0; q < Q; q++) {
      // P̃ ≈ Qy·B with B = U_B·S·V_Bᵀ: left = Qy·U_B·S, right = V_B.
      const f = svd(small.subarray(q * r * cols, (q + 1) * r * cols), r, cols);
      const left = new Float64Array(dOut * k);
      const qy = basis.subarray(q * dOut * r, (q + 1) * dOut * r);
      for (let i = 0; i < dOut; i++) {
        for (let j = 0; j < k; j++) {
          let acc = 0;
          for (let l = 0; l < r; l++) acc += qy[i * r + l] * f.u[l * f.k + j];
          left[i * k + j] = acc * f.s[j];
        }
      }
      const right = new Float64Array(cols * k);
      for (let c = 0; c < cols; c++) {
        for (let j = 0; j < k; j++) right[c * k + j] = f.v[c * f.k + j];
      }
      place(out, q, Q, left, right, dOut, cols, k, k);
    }
    return out;
  } finally {
    for (const t of [omega, Y, Z, B]) t.dispose();
  }
}
