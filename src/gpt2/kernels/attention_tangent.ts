// Launchers of the tangents of causal self-attention (shaders/gpt2_attention_tangent.wgsl): of
// its forward and of its backward, the attention's part of a forward-over-reverse
// Hessian–vector product. A tangent ẋ ("xDot") has its primal x's layout.
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import type { AttentionShape } from "./attention.ts";
import { distinct, WG } from "./common.ts";

const SHADER = "gpt2_attention_tangent";

/**
 * yDot [B, T, d] and probsDot [B, H, T, T]: the tangent of attentionForward along qkvDot
 * [B, T, 3d], at qkv with its primal probabilities `probs` (from attentionForward).
 */
export async function attentionTangentForward(
  rt: GpuRuntime,
  s: AttentionShape,
  qkv: Tensor,
  qkvDot: Tensor,
  keyMask: Tensor,
  probs: Tensor,
  yDot: Tensor,
  probsDot: Tensor,
): Promise<void> {
  distinct("attentionTangentForward", yDot, qkv, qkvDot, keyMask, probs, probsDot);
  distinct("attentionTangentForward", probsDot, qkv, qkvDot, keyMask, probs);
  await rt.dispatch({
    pipeline: { shader: SHADER, entryPoint: "forward", defines: { WG, HS: s.hs } },
    params: {
      u: [
        s.B,
        s.T,
        s.H,
        qkv.offset,
        qkvDot.offset,
        keyMask.offset,
        probs.offset,
        yDot.offset,
        probsDot.offset,
      ],
      f: [1 / Math.sqrt(s.hs)],
    },
    bindings: [qkv, qkvDot, keyMask, probs, yDot, probsDot],
    workgroups: grid1d(s.B * s.H * s.T, WG),
  });
}

/**
 * dqkvDot [B, T, 3d]: the tangent of attentionBackward along (qkvDot, probsDot, dyDot), where
 * probsDot is attentionTangentForward's along the same qkvDot. dscoresDot [B, H, T, T] is
 * scratch (left holding the scores' gradient's tangent at and below the diagonal).
 */
export async function attentionTangentBackward(
  rt: GpuRuntime,
  s: AttentionShape,
  qkv: Tensor,
  qkvDot: Tensor,
  probs: Tensor,
  probsDot: Tensor,
  dy: Tensor,
  dyDot: Tensor,
  dscoresDot: Tensor,
  dqkvDot: Tensor,
): Promise<void> {
  const inputs = [qkv, qkvDot, probs, probsDot, dy, dyDot];
  distinct("attentionTangentBackward", dqkvDot, ...inputs, dscoresDot);
  distinct("attentionTangentBackward", dscoresDot, ...inputs);
  const params = {
    u: [
      s.B,
      s.T,
      s.H,
      qkv.offset,
      qkvDot.offset,
      probs.offset,
      probsDot.offset,
      dy.offset,
      dyDot.offset,
      dscoresDot.offset,
      dqkvDot.offset,
    ],
    f: [1 / Math.sqrt(s.hs)],
  };
  for (const entryPoint of ["backward_query", "backward_key"]) {
    await rt.dispatch({
      pipeline: { shader: SHADER, entryPoint, defines: { WG, HS: s.hs } },
      params,
      bindings: [qkv, qkvDot, probs, probsDot, dy, dyDot, dscoresDot, dqkvDot],
      workgroups: grid1d(s.B * s.H * s.T, WG),
    });
  }
}
