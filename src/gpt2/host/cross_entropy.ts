// CPU port of shaders/gpt2_cross_entropy.wgsl: token cross-entropy fused with the softmax,
// `forward`, `forward_backward` and the column-chunked `chunk_stats`, `chunk_loss` and
// `chunk_backward`. Layouts (elements, from each offset): logits and dlogits [rows, stride]
// row-major, of which the first V (chunks: `cols`) columns are real and the rest padding (ignored,
// 0 in dlogits); targets [rows] (ids as f32); weights and loss [rows]; stats [rows, 3] =
// (running max, running Σ exp, target logit) carried from chunk to chunk. The GPU's one-sweep
// online max is computed here as max first, then Σ exp(v - max) in float64, keeping each
// exp(v - max) so that the backward divides by Σ instead of taking a second exponential.
import type { HostCall } from "../../gpu/host/host_kernel.ts";
import { covered, u32OfF32 } from "../../gpu/host/grid.ts";

const LOWEST = -3.4028234663852886e38;

let scratch = new Float64Array(1024);

function scratchOf(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  return scratch;
}

/** `forward`: loss_r = logsumexp(logits_r[:V]) - logits_r[target_r]. */
function forward(call: HostCall): void {
  const [logitsBuf, targetsBuf, lossBuf] = call.buffers;
  const logits = logitsBuf.f32, targets = targetsBuf.f32, loss = lossBuf.f32;
  const [rowsAll, V, stride, logitsOffset, targetsOffset, , lossOffset] = call.u;
  const rows = covered(call, rowsAll);
  for (let r = 0; r < rows; r++) {
    const base = logitsOffset + r * stride, end = base + V;
    let m = LOWEST;
    for (let i = base; i < end; i++) if (logits[i] > m) m = logits[i];
    let s = 0;
    for (let i = base; i < end; i++) s += Math.exp(logits[i] - m);
    const label = u32OfF32(targets[targetsOffset + r]);
    loss[lossOffset + r] = m + Math.log(s) - logits[base + label];
  }
}

/** `forward_backward`: also dlogits_r = weight_r·(softmax(logits_r) - onehot(target_r)). */
function forwardBackward(call: HostCall): void {
  const [logitsBuf, targetsBuf, weightsBuf, lossBuf, dlogitsBuf] = call.buffers;
  const logits = logitsBuf.f32, targets = targetsBuf.f32, weights = weightsBuf.f32;
  const loss = lossBuf.f32, dlogits = dlogitsBuf.f32;
  const [
    rowsAll,
    V,
    stride,
    logitsOffset,
    targetsOffset,
    weightsOffset,
    lossOffset,
    dlogitsOffset,
  ] = call.u;
  const rows = covered(call, rowsAll);
  const e = scratchOf(V);
  for (let r = 0; r < rows; r++) {
    const base = logitsOffset + r * stride;
    let m = LOWEST;
    for (let c = 0; c < V; c++) if (logits[base + c] > m) m = logits[base + c];
    let s = 0;
    for (let c = 0; c < V; c++) {
      const x = Math.exp(logits[base + c] - m);
      e[c] = x;
      s += x;
    }
    const label = u32OfF32(targets[targetsOffset + r]);
    loss[lossOffset + r] = m + Math.log(s) - logits[base + label];
    const w = weights[weightsOffset + r];
    const ws = w / s;
    const out = dlogitsOffset + r * stride;
    for (let c = 0; c < V; c++) dlogits[out + c] = ws * e[c];
    if (label < V) dlogits[out + label] = w * (e[label] / s - 1);
    dlogits.fill(0, out + V, out + stride);
  }
}

/** `chunk_stats`: folds one chunk's columns into (max, Σ exp, target logit). */
function chunkStats(call: HostCall): void {
  const [logitsBuf, targetsBuf, statsBuf] = call.buffers;
  const logits = logitsBuf.f32, targets = targetsBuf.f32, stats = statsBuf.f32;
  const [rowsAll, cols, stride, logitsOffset, targetsOffset, colStart, statsOffset, first] = call.u;
  const rows = covered(call, rowsAll);
  for (let r = 0; r < rows; r++) {
    const at = statsOffset + 3 * r;
    let m = LOWEST, s = 0, targetLogit = 0;
    if (first === 0) {
      m = stats[at];
      s = stats[at + 1];
      targetLogit = stats[at + 2];
    }
    const base = logitsOffset + r * stride, end = base + cols;
    let mc = m;
    for (let i = base; i < end; i++) if (logits[i] > mc) mc = logits[i];
    let sc = 0;
    for (let i = base; i < end; i++) sc += Math.exp(logits[i] - mc);
    if (mc !== m) s *= Math.exp(m - mc);
    s += sc;
    const label = u32OfF32(targets[targetsOffset + r]);
    if (label >= colStart && label < colStart + cols) targetLogit = logits[base + label - colStart];
    stats[at] = mc;
    stats[at + 1] = s;
    stats[at + 2] = targetLogit;
  }
}

/** `chunk_loss`: loss_r = max + log(Σ exp) - target logit, after the last chunk. */
function chunkLoss(call: HostCall): void {
  const [statsBuf, lossBuf] = call.buffers;
  const stats = statsBuf.f32, loss = lossBuf.f32;
  const [rowsAll, statsOffset, lossOffset] = call.u;
  const rows = covered(call, rowsAll);
  for (let r = 0; r < rows; r++) {
    const at = statsOffset + 3 * r;
    loss[lossOffset + r] = stats[at] + Math.log(stats[at + 1]) - stats[at + 2];
  }
}

/** `chunk_backward`: one chunk's dlogits = weight·(softmax - onehot), 0 in padding columns. */
function chunkBackward(call: HostCall): void {
  const [logitsBuf, targetsBuf, statsBuf, weightsBuf, dlogitsBuf] = call.buffers;
  const logits = logitsBuf.f32, targets = targetsBuf.f32, stats = statsBuf.f32;
  const weights = weightsBuf.f32, dlogits = dlogitsBuf.f32;
  const [
    rowsAll,
    cols,
    stride,
    logitsOffset,
    targetsOffset,
    colStart,
    statsOffset,
    weightsOffset,
    dlogitsOffset,
  ] = call.u;
  const rows = covered(call, rowsAll);
  for (let r = 0; r < rows; r++) {
    const at = statsOffset + 3 * r;
    const lse = stats[at] + Math.log(stats[at + 1]);
    const label = u32OfF32(targets[targetsOffset + r]);
    const w = weights[weightsOffset + r];
    const base = logitsOffset + r * stride;
    const out = dlogitsOffset + r * stride;
    for (let c = 0; c < cols; c++) dlogits[out + c] = w * Math.exp(logits[base + c] - lse);
    if (label >= colStart && label < colStart + cols) {
      const c = label - colStart;
      dlogits[out + c] = w * (Math.exp(logits[base + c] - lse) - 1);
    }
    dlogits.fill(0, out + cols, out + stride);
  }
}

export const crossEntropyKernels = {
  "gpt2_cross_entropy#forward": forward,
  "gpt2_cross_entropy#forward_backward": forwardBackward,
  "gpt2_cross_entropy#chunk_stats": chunkStats,
  "gpt2_cross_entropy#chunk_loss": chunkLoss,
  "gpt2_cross_entropy#chunk_backward": chunkBackward,
} as const;
