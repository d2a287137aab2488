// Preconditioning by a damped diagonal (in the eigenbasis) Fisher
// (shaders/influence_precondition.wgsl): out[r, i] = g[r, i] / (Λ[i] + damping).
import { requireContiguous, requireDistinctBuffers, shapeText } from "../../gpu/kernels/checks.ts";
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";

const WG = 64;

/** out [rows, size] = g [rows, size] ⊘ (lambda [size] + damping), row by row. */
export async function precondition(
  rt: GpuRuntime,
  g: Tensor,
  lambda: Tensor,
  damping: number,
  out: Tensor,
): Promise<void> {
  requireContiguous("precondition", { g, lambda, out });
  requireDistinctBuffers("precondition", ["out", out], { g, lambda });
  const [rows, size] = g.shape;
  if (g.rank !== 2 || lambda.size !== size || out.size !== g.size) {
    throw new RangeError(
      `precondition: g ${shapeText(g)}, lambda ${shapeText(lambda)}, out ${shapeText(out)}`,
    );
  }
  if (!Number.isFinite(damping)) throw new RangeError(`precondition: damping ${damping}`);
  await rt.dispatch({
    pipeline: { shader: "influence_precondition", entryPoint: "divide", defines: { WG } },
    params: { u: [rows, size, g.offset, lambda.offset, out.offset], f: [damping] },
    bindings: [g, lambda, out],
    workgroups: grid1d(rows * size, WG),
  });
}
