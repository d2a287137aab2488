// Launchers of the token cross-entropy fused with the softmax (shaders/gpt2_cross_entropy.wgsl):
// over whole logits rows, or over logits split into column chunks (a vocabulary larger than one
// binding).
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { distinct, WG } from "./common.ts";

/**
 * loss[r] = logsumexp(logits[r, :V]) - logits[r, targets[r]] for logits [rows, stride]; columns
 * from V on (vocabulary padding) are ignored. V defaults to the full row.
 */
export async function crossEntropyForward(
  rt: GpuRuntime,
  logits: Tensor,
  targets: Tensor,
  loss: Tensor,
  V = logits.shape[1],
): Promise<void> {
  distinct("crossEntropyForward", loss, logits, targets);
  const [rows, stride] = logits.shape;
  checkVocab(V, stride);
  await rt.dispatch({
    pipeline: { shader: "gpt2_cross_entropy", entryPoint: "forward", defines: { WG } },
    params: { u: [rows, V, stride, logits.offset, targets.offset, 0, loss.offset, 0] },
    bindings: [logits, targets, loss],
    workgroups: grid1d(rows, WG),
  });
}

function checkVocab(V: number, stride: number): void {
  if (!Number.isInteger(V) || V < 1 || V > stride) {
    throw new RangeError(`crossEntropy: vocabulary ${V} must be in [1, ${stride}]`);
  }
}

/**
 * Also dlogits[r] = weights[r]·(softmax(logits[r]) - onehot(targets[r])), with dlogits
 * [rows, stride] zero in the padding columns.
 */
export async function crossEntropyForwardBackward(
  rt: GpuRuntime,
  logits: Tensor,
  targets: Tensor,
  weights: Tensor,
  loss: Tensor,
  dlogits: Tensor,
  V = logits.shape[1],
): Promise<void> {
  distinct("crossEntropyForwardBackward", loss, logits, targets, weights, dlogits);
  distinct("crossEntropyForwardBackward", dlogits, logits, targets, weights);
  const [rows, stride] = logits.shape;
  checkVocab(V, stride);
  await rt.dispatch({
    pipeline: { shader: "gpt2_cross_entropy", entryPoint: "forward_backward", defines: { WG } },
    params: {
      u: [
        rows,
        V,
        stride,
        logits.offset,
        targets.offset,
        weights.offset,
        loss.offset,
        dlogits.offset,
      ],
    },
    bindings: [logits, targets, weights, loss, dlogits],
    workgroups: grid1d(rows, WG),
  });
}

/** Columns [colStart, colStart + stride) of the logits as their own tensor [rows, stride]. */
export interface LogitsChunk {
  logits: Tensor;
  colStart: number;
}

/**
 * crossEntropyForward (and, given `backward`, crossEntropyForwardBackward) over logits split
 * into column chunks, in column order; columns from V on are padding. stats [3·rows] is
 * scratch; backward.dlogits[k] has chunk k's shape.
 */
export async function crossEntropyChunked(
  rt: GpuRuntime,
  chunks: readonly LogitsChunk[],
  targets: Tensor,
  V: number,
  stats: Tensor,
  loss: Tensor,
  backward?: { weights: Tensor; dlogits: readonly Tensor[] },
): Promise<void> {
  const rows = chunks[0].logits.shape[0];
  if (stats.size < 3 * rows || loss.size !== rows) {
    throw new RangeError(`crossEntropyChunked: stats needs ${3 * rows} and loss ${rows} elements`);
  }
  let covered = 0;
  const cols = chunks.map(({ logits, colStart }) => {
    if (logits.rank !== 2 || logits.shape[0] !== rows || colStart !== covered) {
      throw new RangeError("crossEntropyChunked: chunks must be [rows, ·] in column order");
    }
    covered += logits.shape[1];
    return Math.max(0, Math.min(logits.shape[1], V - colStart));
  });
  checkVocab(V, covered);
  for (const [k, { logits, colStart }] of chunks.entries()) {
    distinct("crossEntropyChunked", stats, logits, targets);
    await rt.dispatch({
      pipeline: { shader: "gpt2_cross_entropy", entryPoint: "chunk_stats", defines: { WG } },
      params: {
        u: [
          rows,
          cols[k],
          logits.shape[1],
          logits.offset,
          targets.offset,
          colStart,
          stats.offset,
          k === 0 ? 1 : 0,
        ],
      },
      bindings: [logits, targets, stats],
      workgroups: grid1d(rows, WG),
    });
  }
  distinct("crossEntropyChunked", loss, stats);
  await rt.dispatch({
    pipeline: { shader: "gpt2_cross_entropy", entryPoint: "chunk_loss", defines: { WG } },
    params: { u: [rows, stats.offset, loss.offset] },
    bindings: [stats, loss],
    workgroups: grid1d(rows, WG),
  });
  if (!backward) return;
  for (const [k, { logits, colStart }] of chunks.entries()) {
    const dlogits = backward.dlogits[k];
    if (dlogits.shape.join() !== logits.shape.join() || !dlogits.isContiguous) {
      throw new RangeError(
        `crossEntropyChunked: dlogits ${k} must be contiguous [${logits.shape}]`,
      );
    }
    distinct("crossEntropyChunked", dlogits, logits, targets, stats, backward.weights);
    await rt.dispatch({
      pipeline: { shader: "gpt2_cross_entropy", entryPoint: "chunk_backward", defines: { WG } },
      params: {
        u: [
          rows,
          cols[k],
          logits.shape[1],
          logits.offset,
          targets.offset,
          colStart,
          stats.offset,
          backward.weights.offset,
          dlogits.offset,
        ],
      },
      bindings: [logits, targets, stats, backward.weights, dlogits],
      workgroups: grid1d(rows, WG),
    });
  }
}
