// Kronecker-factor covariance accumulation (shaders/influence_covariance.wgsl): per-token rows
// masked to real tokens, with the bias's constant 1 appended for layer inputs, then C += rowsᵀ·rows
// on the tuned matmul. The same masked rows feed the eigenvalue correction and the scores.
import { matmul } from "../../gpu/kernels/matmul.ts";
import { requireContiguous, shapeText } from "../../gpu/kernels/checks.ts";
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";

const WG = 64;

/**
 * out [rows, cols (+1)] = mask[r]·x[r, c], with a last column equal to mask[r] when `appendOne`.
 * x [rows, cols] and mask [rows], contiguous.
 */
export async function maskRows(
  rt: GpuRuntime,
  x: Tensor,
  mask: Tensor,
  out: Tensor,
  appendOne: boolean,
): Promise<void> {
  requireContiguous("maskRows", { x, mask, out });
  const [rows, cols] = x.shape;
  const outCols = cols + (appendOne ? 1 : 0);
  if (x.rank !== 2 || mask.size !== rows || out.rank !== 2 || out.shape[0] !== rows) {
    throw new RangeError(
      `maskRows: x ${shapeText(x)}, mask ${shapeText(mask)}, out ${shapeText(out)} disagree`,
    );
  }
  if (out.shape[1] !== outCols) {
    throw new RangeError(`maskRows: out ${shapeText(out)} must have ${outCols} columns`);
  }
  await rt.dispatch({
    pipeline: { shader: "influence_covariance", entryPoint: "augment", defines: { WG } },
    params: { u: [rows, cols, outCols, x.offset, mask.offset, out.offset] },
    bindings: [x, mask, out],
    workgroups: grid1d(rows * outCols, WG),
  });
}

/** cov [D, D] += rowsᵀ·rows for masked rows [N, D] (maskRows' output). */
export async function accumulateCovariance(
  rt: GpuRuntime,
  rows: Tensor,
  cov: Tensor,
): Promise<void> {
  await matmul(rt, rows.transposeView(), rows, cov, { accumulate: true });
}
