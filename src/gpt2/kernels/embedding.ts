// Launchers of the token + position embedding (shaders/gpt2_embedding.wgsl): forward, and an
// atomics-free backward over token groups (a counting sort on the CPU, tokenGroups).
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { distinct, WG } from "./common.ts";

/** Rows [start, start + rows) of wte as a view [rows, d]; a large vocabulary comes in blocks. */
export interface VocabRows {
  weight: Tensor;
  start: number;
}

const blocksOf = (wte: Tensor | readonly VocabRows[]): readonly VocabRows[] =>
  Array.isArray(wte) ? wte : [{ weight: wte as Tensor, start: 0 }];

/** x[r] = wte[tokens[r]] + wpe[r mod T]; tokens [N] as f32, x [N, d]; wte whole or in blocks. */
export async function embeddingForward(
  rt: GpuRuntime,
  tokens: Tensor,
  wte: Tensor | readonly VocabRows[],
  wpe: Tensor,
  T: number,
  x: Tensor,
): Promise<void> {
  const d = wpe.shape[1];
  for (const [k, block] of blocksOf(wte).entries()) {
    distinct("embeddingForward", x, tokens, block.weight, wpe);
    const rows = block.weight.shape[0];
    await rt.dispatch({
      pipeline: { shader: "gpt2_embedding", entryPoint: "forward", defines: { WG } },
      params: {
        u: [
          x.size,
          T,
          d,
          tokens.offset,
          block.weight.offset,
          wpe.offset,
          x.offset,
          block.start,
          block.start + rows,
          k === 0 ? 1 : 0,
        ],
      },
      bindings: [tokens, block.weight, wpe, x],
      workgroups: grid1d(x.size, WG),
    });
  }
}

/**
 * Rows grouped by token id (a counting sort): [ids (U) | starts (U+1) | rows (N)] and U, the
 * number of distinct ids. This is what lets the embedding backward run without atomics.
 */
export function tokenGroups(
  tokens: ArrayLike<number>,
): { data: Float32Array<ArrayBuffer>; distinct: number } {
  const order = Array.from({ length: tokens.length }, (_, r) => r);
  order.sort((a, b) => tokens[a] - tokens[b] || a - b);
  const ids: number[] = [];
  const starts: number[] = [];
  order.forEach((r, k) => {
    if (k === 0 || tokens[r] !== tokens[order[k - 1]]) {
      ids.push(tokens[r]);
      starts.push(k);
    }
  });
  starts.push(order.length);
  return { data: Float32Array.from([...ids, ...starts, ...order]), distinct: ids.length };
}

/** The first index of ascending `ids` at or above `value`. */
function lowerBound(ids: ArrayLike<number>, value: number): number {
  let lo = 0, hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * dwte[id] += Σ dx over rows holding id; dwpe[t] += Σ_b dx[b, t]. dx [B·T, d]; `ids` are the
 * distinct token ids ascending (tokenGroups' first U entries), groups their GPU copy.
 */
export async function embeddingBackward(
  rt: GpuRuntime,
  groups: Tensor,
  ids: ArrayLike<number>,
  B: number,
  T: number,
  dx: Tensor,
  dwte: Tensor | readonly VocabRows[],
  dwpe: Tensor,
): Promise<void> {
  const d = dx.shape[dx.rank - 1];
  const U = ids.length;
  for (const block of blocksOf(dwte)) {
    distinct("embeddingBackward", block.weight, groups, dx);
    const rows = block.weight.shape[0];
    const u0 = lowerBound(ids, block.start), u1 = lowerBound(ids, block.start + rows);
    if (u1 === u0) continue;
    await rt.dispatch({
      pipeline: { shader: "gpt2_embedding", entryPoint: "backward_tokens", defines: { WG } },
      params: { u: [U, u0, u1, d, groups.offset, dx.offset, block.weight.offset, block.start] },
      bindings: [groups, dx, block.weight],
      workgroups: grid1d((u1 - u0) * d, WG),
    });
  }
  distinct("embeddingBackward", dwpe, dx);
  await rt.dispatch({
    pipeline: { shader: "gpt2_embedding", entryPoint: "backward_positions", defines: { WG } },
    params: { u: [B, T, d, dx.offset, dwpe.offset] },
    bindings: [dx, dwpe],
    workgroups: grid1d(T * d, WG),
  });
}
