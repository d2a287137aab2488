// EK-FAC eigenvalue-correction accumulation (shaders/influence_correction.wgsl): Λ += Σ_b g_b²
// over a batch of per-sequence gradient matrices (rotated into the eigenbasis for EK-FAC, as they
// are for the diagonal Fisher).
import { requireContiguous, shapeText } from "../../gpu/kernels/checks.ts";
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";

const WG = 64;

/** lambda [size] += Σ_b g[b, :]² for g [batch, size]. */
export async function squareAccumulate(rt: GpuRuntime, g: Tensor, lambda: Tensor): Promise<void> {
  requireContiguous("squareAccumulate", { g, lambda });
  const [batch, size] = g.shape;
  if (g.rank !== 2 || lambda.size !== size) {
    throw new RangeError(`squareAccumulate: g ${shapeText(g)} and lambda ${shapeText(lambda)}`);
  }
  await rt.dispatch({
    pipeline: { shader: "influence_correction", entryPoint: "square_accumulate", defines: { WG } },
    params: { u: [batch, size, g.offset, lambda.offset] },
    bindings: [g, lambda],
    workgroups: grid1d(size, WG),
  });
}
