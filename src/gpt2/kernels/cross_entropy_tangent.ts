// Launcher of the cross-entropy's tangent (shaders/gpt2_cross_entropy_tangent.wgsl): the
// forward-mode derivative of crossEntropyForwardBackward (./cross_entropy.ts) along a tangent of
// the logits, for Hessian–vector products by forward-over-reverse.
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { distinct, WG } from "./common.ts";

/**
 * For logits and logitsDot [N, Vp] whose first V columns are the vocabulary (p = their softmax,
 * p·ż = Σ_{v<V} p_v·ż_v): lossDot[r] = p·ż - ż[r, targets[r]] for every row (the tangent of
 * the loss lse - z[target]) and dlogitsDot[r] = weights[r]·p⊙(ż - p·ż) (the tangent of
 * weights[r]·(p - onehot)), 0 in the padding columns. Whole rows only (no column chunks).
 */
export async function crossEntropyTangent(
  rt: GpuRuntime,
  logits: Tensor,
  logitsDot: Tensor,
  targets: Tensor,
  weights: Tensor,
  lossDot: Tensor,
  dlogitsDot: Tensor,
  V: number,
): Promise<void> {
  const kernel = "crossEntropyTangent";
  if (logits.rank !== 2) throw new RangeError(`${kernel}: logits must be [N, Vp]`);
  const [rows, stride] = logits.shape;
  if (!Number.isInteger(V) || V < 1 || V > stride) {
    throw new RangeError(`${kernel}: vocabulary ${V} must be in [1, ${stride}]`);
  }
  const named = [["logits", logits], ["logitsDot", logitsDot], ["dlogitsDot", dlogitsDot]] as const;
  for (const [name, t] of named) {
    if (t.shape.join() !== logits.shape.join() || !t.isContiguous) {
      throw new RangeError(`${kernel}: ${name} must be contiguous [${logits.shape}]`);
    }
  }
  if (targets.size !== rows || weights.size !== rows || lossDot.size !== rows) {
    throw new RangeError(`${kernel}: targets, weights and lossDot need ${rows} elements`);
  }
  distinct(kernel, lossDot, logits, logitsDot, targets, weights, dlogitsDot);
  distinct(kernel, dlogitsDot, logits, logitsDot, targets, weights);
  await rt.dispatch({
    pipeline: {
      shader: "gpt2_cross_entropy_tangent",
      entryPoint: "forward_backward_tangent",
      defines: { WG },
    },
    params: {
      u: [
        rows,
        V,
        stride,
        logits.offset,
        logitsDot.offset,
        targets.offset,
        weights.offset,
        lossDot.offset,
        dlogitsDot.offset,
      ],
    },
    bindings: [logits, logitsDot, targets, weights, lossDot, dlogitsDot],
    workgroups: grid1d(rows, WG),
  });
}
