// Row softmax and row log-sum-exp over the last axis (shaders/softmax.wgsl), numerically stable
// for any finite input; rows = product of the leading axes.
import type { GpuRuntime } from "../runtime.ts";
import type { Tensor } from "../tensor.ts";
import { requireContiguous, requireDistinctBuffers, sameShape, shapeText } from "./checks.ts";
import { rowLaunch, type RowOptions, rowsAndCols } from "./rows.ts";

export type { RowOptions, RowStrategy } from "./rows.ts";

async function launch(
  rt: GpuRuntime,
  kernel: string,
  logSumExp: boolean,
  x: Tensor,
  out: Tensor,
  options: RowOptions,
): Promise<void> {
  requireContiguous(kernel, { x, out });
  requireDistinctBuffers(kernel, ["out", out], { x });
  const { rows, cols } = rowsAndCols(kernel, x);
  if (cols === 0) throw new RangeError(`${kernel}: x ${shapeText(x)} has empty rows`);
  if (rows === 0) return;
  const plan = rowLaunch(kernel, rows, cols, options);
  await rt.dispatch({
    pipeline: {
      shader: "softmax",
      entryPoint: plan.entryPoint,
      defines: { WG: plan.workgroupSize, LOG_SUM_EXP: logSumExp },
    },
    params: { u: [rows, cols, x.offset, out.offset] },
    bindings: [x, out],
    workgroups: plan.workgroups,
  });
}

/** out[..., c] = exp(x[..., c]) / sum_c' exp(x[..., c']); out has x's shape. */
export async function softmax(
  rt: GpuRuntime,
  x: Tensor,
  out: Tensor,
  options: RowOptions = {},
): Promise<void> {
  if (!sameShape(x.shape, out.shape)) {
    throw new RangeError(`softmax: out ${shapeText(out)} does not match x ${shapeText(x)}`);
  }
  await launch(rt, "softmax", false, x, out, options);
}

/** out[...] = log sum_c exp(x[..., c]); out has x's leading axes (or is flat [rows]). */
export async function logSumExp(
  rt: GpuRuntime,
  x: Tensor,
  out: Tensor,
  options: RowOptions = {},
): Promise<void> {
  const leading = x.shape.slice(0, -1);
  const { rows } = rowsAndCols("logSumExp", x);
  if (!sameShape(out.shape, leading) && !sameShape(out.shape, [rows])) {
    throw new RangeError(
      `logSumExp: out ${shapeText(out)} must be [${leading.join(", ")}] or [${rows}] for x ${
        shapeText(x)
      }`,
    );
  }
  await launch(rt, "logSumExp", true, x, out, options);
}
