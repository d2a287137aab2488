// Launcher of label sampling (shaders/gpt2_sample.wgsl): inverse-CDF draws from softmax(logits)
// per row, over whole logits rows or over column chunks (a vocabulary larger than one binding).
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { distinct, WG } from "./common.ts";
import type { LogitsChunk } from "./cross_entropy.ts";

/** Elements of sampling state per row. */
export const SAMPLE_STATE = 5;

/**
 * targets[r] ← a label drawn from softmax(logits[r, :V]) for each row with draws[r] in [0, 1):
 * the first column with positive probability at which the cumulative probability reaches
 * draws[r]. Rows with draws[r] < 0 keep their target. The logits come whole (one chunk at
 * colStart 0, [rows, stride ≥ V]) or as column chunks in column order; columns from V on are
 * padding. state [SAMPLE_STATE·rows] is scratch.
 */
export async function sampleLabels(
  rt: GpuRuntime,
  logits: Tensor | readonly LogitsChunk[],
  draws: Tensor,
  V: number,
  state: Tensor,
  targets: Tensor,
): Promise<void> {
  const chunks: readonly LogitsChunk[] = Array.isArray(logits)
    ? logits
    : [{ logits: logits as Tensor, colStart: 0 }];
  const rows = chunks[0].logits.shape[0];
  if (draws.size !== rows || targets.size !== rows || state.size < SAMPLE_STATE * rows) {
    throw new RangeError(
      `sampleLabels: draws and targets need ${rows} elements, state ${SAMPLE_STATE * rows}`,
    );
  }
  let covered = 0;
  const cols = chunks.map(({ logits, colStart }) => {
    if (logits.rank !== 2 || logits.shape[0] !== rows || colStart !== covered) {
      throw new RangeError("sampleLabels: chunks must be [rows, ·] in column order");
    }
    covered += logits.shape[1];
    return Math.max(0, Math.min(logits.shape[1], V - colStart));
  });
  if (!Number.isInteger(V) || V < 1 || V > covered) {
    throw new RangeError(`sampleLabels: vocabulary ${V} must be in [1, ${covered}]`);
  }
  for (const entryPoint of ["row_max", "row_sum", "pick"]) {
    for (const [k, { logits, colStart }] of chunks.entries()) {
      distinct("sampleLabels", state, logits, draws);
      await rt.dispatch({
        pipeline: { shader: "gpt2_sample", entryPoint, defines: { WG } },
        params: {
          u: [
            rows,
            cols[k],
            logits.shape[1],
            logits.offset,
            draws.offset,
            state.offset,
            colStart,
            k === 0 ? 1 : 0,
          ],
        },
        bindings: [logits, draws, state],
        workgroups: grid1d(rows, WG),
      });
    }
  }
  distinct("sampleLabels", targets, draws, state);
  await rt.dispatch({
    pipeline: { shader: "gpt2_sample", entryPoint: "finish", defines: { WG } },
    params: { u: [rows, draws.offset, state.offset, targets.offset] },
    bindings: [draws, state, targets],
    workgroups: grid1d(rows, WG),
  });
}
