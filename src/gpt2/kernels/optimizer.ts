// Launchers of the optimiser updates over flat parameter buffers (shaders/gpt2_optimizer.wgsl),
// global-norm clipping folded in. The optimiser state and schedule are src/gpt2/optimizer.ts.
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { WG } from "./common.ts";

export interface UpdateRange {
  /** Elements updated: the whole of `params` (a flat [n] tensor). */
  params: Tensor;
  grads: Tensor;
  /** The first decayEnd elements get weight decay. */
  decayEnd: number;
  /** [1] holding Σ grads² (for clipping). */
  normSq: Tensor;
  /** ≤ 0: no clipping. */
  maxNorm: number;
}

export async function adamwUpdate(
  rt: GpuRuntime,
  r: UpdateRange,
  m: Tensor,
  v: Tensor,
  hp: {
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    /** Added under the square root: sqrt(v̂ + epsRoot) (0: plain AdamW). */
    epsRoot?: number;
    weightDecay: number;
    step: number;
  },
): Promise<void> {
  const n = r.params.size;
  if (r.grads.offset !== r.params.offset || m.offset !== r.params.offset || v.offset !== m.offset) {
    throw new RangeError("adamwUpdate: params, grads, m and v must share one layout");
  }
  await rt.dispatch({
    pipeline: { shader: "gpt2_optimizer", entryPoint: "adamw", defines: { WG } },
    params: {
      u: [n, r.params.offset, r.decayEnd, r.normSq.offset],
      f: [
        hp.lr,
        hp.beta1,
        hp.beta2,
        hp.eps,
        hp.weightDecay,
        1 - hp.beta1 ** hp.step,
        1 - hp.beta2 ** hp.step,
        r.maxNorm,
        hp.epsRoot ?? 0,
      ],
    },
    bindings: [r.params, r.grads, r.normSq, m, v],
    workgroups: grid1d(n, WG),
  });
}

export async function sgdUpdate(
  rt: GpuRuntime,
  r: UpdateRange,
  momentumBuffer: Tensor,
  hp: { lr: number; momentum: number; weightDecay: number },
): Promise<void> {
  const n = r.params.size;
  if (r.grads.offset !== r.params.offset || momentumBuffer.offset !== r.params.offset) {
    throw new RangeError("sgdUpdate: params, grads and the momentum buffer must share one layout");
  }
  await rt.dispatch({
    pipeline: { shader: "gpt2_optimizer", entryPoint: "sgd", defines: { WG } },
    params: {
      u: [n, r.params.offset, r.decayEnd, r.normSq.offset],
      f: [hp.lr, hp.momentum, hp.weightDecay, r.maxNorm],
    },
    bindings: [r.params, r.grads, r.normSq, momentumBuffer],
    workgroups: grid1d(n, WG),
  });
}
