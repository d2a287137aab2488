// Launchers of LayerNorm's tangents (shaders/gpt2_layernorm_tangent.wgsl): forward-mode
// derivatives of layerNormForward, layerNormBackwardInput and layerNormBackwardParams
// (./layernorm.ts) along tangents of their inputs, for Hessian–vector products by
// forward-over-reverse. A tangent argument is named after its primal with `Dot` (ẋ = xDot).
import { axpy } from "../../gpu/kernels/elementwise.ts";
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { distinct, sameBuffer, WG } from "./common.ts";

const SHADER = "gpt2_layernorm_tangent";

function rowsAndWidth(x: Tensor): [number, number] {
  const d = x.shape[x.rank - 1];
  return [x.size / d, d];
}

/**
 * ẏ = ẇ⊙x̂ + w⊙ẋ̂ + ḃ, the tangent of layerNormForward's y, with x̂ = (x - mean)·rstd from the
 * forward's stats [2·rows] = [mean | rstd] and ẋ̂ = rstd·(ẋ - mean(ẋ) - x̂·mean(x̂⊙ẋ)).
 * wDot and bDot are views into one buffer (like w and b).
 */
export async function layerNormTangentForward(
  rt: GpuRuntime,
  x: Tensor,
  w: Tensor,
  stats: Tensor,
  xDot: Tensor,
  wDot: Tensor,
  bDot: Tensor,
  yDot: Tensor,
): Promise<void> {
  sameBuffer("layerNormTangentForward", wDot, bDot);
  distinct("layerNormTangentForward", yDot, x, w, stats, xDot, wDot);
  const [rows, d] = rowsAndWidth(x);
  await rt.dispatch({
    pipeline: { shader: SHADER, entryPoint: "forward_tangent", defines: { WG } },
    params: {
      u: [
        rows,
        d,
        x.offset,
        w.offset,
        stats.offset,
        xDot.offset,
        wDot.offset,
        bDot.offset,
        yDot.offset,
      ],
    },
    bindings: [x, w, stats, xDot, wDot, yDot],
    workgroups: grid1d(rows, WG),
  });
}

/**
 * ḋx = the tangent of layerNormBackwardInput's dx (without its dres) along ẋ, ẇ and ḋy, plus
 * dresDot when given (the residual stream's gradient tangent, added by a second kernel: the
 * first already binds the 8 storage buffers every adapter allows).
 */
export async function layerNormTangentBackwardInput(
  rt: GpuRuntime,
  x: Tensor,
  w: Tensor,
  stats: Tensor,
  dy: Tensor,
  xDot: Tensor,
  wDot: Tensor,
  dyDot: Tensor,
  dresDot: Tensor | null,
  dxDot: Tensor,
): Promise<void> {
  distinct(
    "layerNormTangentBackwardInput",
    dxDot,
    x,
    w,
    stats,
    dy,
    xDot,
    wDot,
    dyDot,
    ...(dresDot ? [dresDot] : []),
  );
  const [rows, d] = rowsAndWidth(x);
  await rt.dispatch({
    pipeline: { shader: SHADER, entryPoint: "backward_input_tangent", defines: { WG } },
    params: {
      u: [
        rows,
        d,
        x.offset,
        w.offset,
        stats.offset,
        dy.offset,
        xDot.offset,
        wDot.offset,
        dyDot.offset,
        dxDot.offset,
      ],
    },
    bindings: [x, w, stats, dy, xDot, wDot, dyDot, dxDot],
    workgroups: grid1d(rows, WG),
  });
  if (dresDot) await axpy(rt, 1, dresDot.reshape([rows * d]), dxDot.reshape([rows * d]));
}

// Per-row scratch [mean(ẋ) | mean(x̂⊙ẋ)] for layerNormTangentBackwardParams, one per runtime,
// grown when a call needs more (replacing it flushes the recorded work that may still read it).
const rowScratch = new WeakMap<GpuRuntime, Tensor>();

function rowStatsScratch(rt: GpuRuntime, rows: number): Tensor {
  let scratch = rowScratch.get(rt);
  if (!scratch || scratch.size < 2 * rows || scratch.generation !== rt.generation) {
    scratch?.dispose();
    scratch = rt.zeros([Math.max(2 * rows, 2 * (scratch?.size ?? 0))]);
    rowScratch.set(rt, scratch);
  }
  return scratch;
}

/**
 * ḋw += Σ_r ḋy⊙x̂ + dy⊙ẋ̂ and ḋb += Σ_r ḋy, the tangents of layerNormBackwardParams' dw and db
 * along ẋ and ḋy. Accumulates, like the primal (views into one gradient-tangent buffer). Rows are
 * summed in a fixed order; the per-row mean(ẋ) and mean(x̂⊙ẋ) come first from a row kernel,
 * into a scratch buffer kept per runtime.
 */
export async function layerNormTangentBackwardParams(
  rt: GpuRuntime,
  x: Tensor,
  stats: Tensor,
  dy: Tensor,
  xDot: Tensor,
  dyDot: Tensor,
  dwDot: Tensor,
  dbDot: Tensor,
): Promise<void> {
  sameBuffer("layerNormTangentBackwardParams", dwDot, dbDot);
  distinct("layerNormTangentBackwardParams", dwDot, x, stats, dy, xDot, dyDot);
  const [rows, d] = rowsAndWidth(x);
  const statsKey = { shader: SHADER, entryPoint: "row_tangent_stats", defines: { WG } };
  const paramsKey = { shader: SHADER, entryPoint: "backward_params_tangent", defines: { WG } };
  const statsPipeline = await rt.pipelines.get(statsKey);
  const paramsPipeline = await rt.pipelines.get(paramsKey);
  // Both kernels are recorded with no await between them, so no other call's use of the
  // scratch can come in between.
  const scratch = rowStatsScratch(rt, rows);
  rt.record(statsPipeline, {
    pipeline: statsKey,
    params: { u: [rows, d, x.offset, stats.offset, xDot.offset, scratch.offset] },
    bindings: [x, stats, xDot, scratch],
    workgroups: grid1d(rows, WG),
  });
  rt.record(paramsPipeline, {
    pipeline: paramsKey,
    params: {
      u: [
        rows,
        d,
        x.offset,
        stats.offset,
        dy.offset,
        xDot.offset,
        dyDot.offset,
        scratch.offset,
        dwDot.offset,
        dbDot.offset,
      ],
    },
    bindings: [x, stats, dy, xDot, dyDot, scratch, dwDot],
    workgroups: grid1d(d, WG),
  });
}
