// Launchers of LayerNorm (shaders/gpt2_layernorm.wgsl): forward, the input's gradient (with the
// residual stream's added) and the weight and bias gradients.
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { distinct, sameBuffer, WG } from "./common.ts";

/** y = LayerNorm(x)·w + b over rows of x [rows, d]; stats [2·rows] = [mean | rstd]. */
export async function layerNormForward(
  rt: GpuRuntime,
  x: Tensor,
  w: Tensor,
  b: Tensor,
  eps: number,
  y: Tensor,
  stats: Tensor,
): Promise<void> {
  sameBuffer("layerNormForward", w, b);
  distinct("layerNormForward", y, x, w, stats);
  distinct("layerNormForward", stats, x, w);
  const [rows, d] = [x.size / x.shape[x.rank - 1], x.shape[x.rank - 1]];
  await rt.dispatch({
    pipeline: { shader: "gpt2_layernorm", entryPoint: "forward", defines: { WG } },
    params: { u: [rows, d, x.offset, w.offset, b.offset, y.offset, stats.offset], f: [eps] },
    bindings: [x, w, y, stats],
    workgroups: grid1d(rows, WG),
  });
}

/** dx = (dres +) LayerNorm backward of dy; dres is the residual stream's gradient, if any. */
export async function layerNormBackwardInput(
  rt: GpuRuntime,
  x: Tensor,
  w: Tensor,
  dy: Tensor,
  stats: Tensor,
  dres: Tensor | null,
  dx: Tensor,
): Promise<void> {
  distinct("layerNormBackwardInput", dx, x, w, dy, stats, ...(dres ? [dres] : []));
  const [rows, d] = [x.size / x.shape[x.rank - 1], x.shape[x.rank - 1]];
  await rt.dispatch({
    pipeline: { shader: "gpt2_layernorm", entryPoint: "backward_input", defines: { WG } },
    params: {
      u: [
        rows,
        d,
        x.offset,
        w.offset,
        dy.offset,
        stats.offset,
        dres?.offset ?? 0,
        dx.offset,
        dres ? 1 : 0,
      ],
    },
    bindings: [x, w, dy, stats, dres ?? dy, dx],
    workgroups: grid1d(rows, WG),
  });
}

/** dw += Σ_r dy·x̂, db += Σ_r dy (views into one gradient buffer). */
export async function layerNormBackwardParams(
  rt: GpuRuntime,
  x: Tensor,
  dy: Tensor,
  stats: Tensor,
  dw: Tensor,
  db: Tensor,
): Promise<void> {
  sameBuffer("layerNormBackwardParams", dw, db);
  distinct("layerNormBackwardParams", dw, x, dy, stats);
  const [rows, d] = [x.size / x.shape[x.rank - 1], x.shape[x.rank - 1]];
  await rt.dispatch({
    pipeline: { shader: "gpt2_layernorm", entryPoint: "backward_params", defines: { WG } },
    params: { u: [rows, d, x.offset, dy.offset, stats.offset, dw.offset, db.offset] },
    bindings: [x, dy, stats, dw],
    workgroups: grid1d(d, WG),
  });
}
