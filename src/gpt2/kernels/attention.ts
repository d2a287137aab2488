// Launchers of causal self-attention with a key padding mask (shaders/gpt2_attention.wgsl),
// forward and backward.
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { distinct, WG } from "./common.ts";

export interface AttentionShape {
  B: number;
  T: number;
  H: number;
  hs: number;
}

/** y [B, T, d] and probs [B, H, T, T] from qkv [B, T, 3d] and keyMask [B, T]. */
export async function attentionForward(
  rt: GpuRuntime,
  s: AttentionShape,
  qkv: Tensor,
  keyMask: Tensor,
  y: Tensor,
  probs: Tensor,
): Promise<void> {
  distinct("attentionForward", y, qkv, keyMask, probs);
  distinct("attentionForward", probs, qkv, keyMask);
  const rows = s.B * s.H * s.T;
  await rt.dispatch({
    pipeline: { shader: "gpt2_attention", entryPoint: "forward", defines: { WG, HS: s.hs } },
    params: {
      u: [s.B, s.T, s.H, qkv.offset, keyMask.offset, y.offset, probs.offset],
      f: [1 / Math.sqrt(s.hs)],
    },
    bindings: [qkv, keyMask, y, probs],
    workgroups: grid1d(rows, WG),
  });
}

/** dqkv [B, T, 3d] from dy [B, T, d]; dscores [B, H, T, T] is scratch (left holding dS). */
export async function attentionBackward(
  rt: GpuRuntime,
  s: AttentionShape,
  qkv: Tensor,
  probs: Tensor,
  dy: Tensor,
  dscores: Tensor,
  dqkv: Tensor,
): Promise<void> {
  distinct("attentionBackward", dqkv, qkv, probs, dy, dscores);
  distinct("attentionBackward", dscores, qkv, probs, dy);
  const rows = s.B * s.H * s.T;
  const params = {
    u: [s.B, s.T, s.H, qkv.offset, probs.offset, dy.offset, dscores.offset, dqkv.offset],
    f: [1 / Math.sqrt(s.hs)],
  };
  for (const entryPoint of ["backward_query", "backward_key"]) {
    await rt.dispatch({
      pipeline: { shader: "gpt2_attention", entryPoint, defines: { WG, HS: s.hs } },
      params,
      bindings: [qkv, probs, dy, dscores, dqkv],
      workgroups: grid1d(rows, WG),
    });
  }
}
