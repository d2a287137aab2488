// Launchers of the model's own kernels (shaders/gpt2_*.wgsl). Tensors carry their element
// offsets; parameters and their gradients are views into the model's flat buffers, so several
// of them may share one binding (checked here).
import { grid1d } from "../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";

const WG = 64;

function sameBuffer(kernel: string, ...tensors: Tensor[]): void {
  if (tensors.some((t) => t.buffer !== tensors[0].buffer)) {
    throw new RangeError(`${kernel}: these tensors must share one buffer`);
  }
}

function distinct(kernel: string, out: Tensor, ...inputs: Tensor[]): void {
  if (inputs.some((t) => t.buffer === out.buffer)) {
    throw new RangeError(`${kernel}: the output must not share a buffer with an input`);
  }
}

// ---- embedding ----------------------------------------------------------------------------------

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

// ---- layer norm ---------------------------------------------------------------------------------

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

// ---- attention ----------------------------------------------------------------------------------

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

// ---- cross-entropy ------------------------------------------------------------------------------

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

// ---- optimisers ---------------------------------------------------------------------------------

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
