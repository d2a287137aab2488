// CPU port of shaders/gpt2_attention.wgsl: causal multi-head self-attention with a key padding
// mask, `forward`, `backward_query` and `backward_key`, one row (b, h, t) at a time as the GPU's
// invocations. Layouts (elements, from each offset): qkv [B, T, 3d] with q | k | v along the last
// axis and head h in columns h·HS .. h·HS + HS - 1 of each; keyMask [B, T] (1 = real token);
// y, dy [B, T, d]; probs, dscores [B, H, T, T] (row t holds keys s, 0 for future or masked keys);
// dqkv [B, T, 3d]. HS is the pipeline's define, scale = 1/sqrt(HS). Sums run in float64: the
// forward's online softmax as two passes (scores and their max, then the exponentials), and
// each weighted sum of rows (Σ_s p_s·v_s, Σ_s dS_s·k_s, Σ_t dS_t·q_t, Σ_t p_t·dy_t) over the
// terms the WGSL adds (visible keys; dS ≠ 0; p or dS ≠ 0), four columns at a time.
import type { HostCall } from "../../gpu/host/host_kernel.ts";
import { covered } from "./grid.ts";

let scratch = new Float64Array(64);

function scratchOf(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  return scratch;
}

/** Σ_j a[aAt + j]·b[bAt + j] over j < n, four partial sums (float64). */
function dot(
  a: Float64Array,
  aAt: number,
  b: Float32Array,
  bAt: number,
  n: number,
): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += a[aAt + j] * b[bAt + j];
    s1 += a[aAt + j + 1] * b[bAt + j + 1];
    s2 += a[aAt + j + 2] * b[bAt + j + 2];
    s3 += a[aAt + j + 3] * b[bAt + j + 3];
  }
  for (; j < n; j++) s0 += a[aAt + j] * b[bAt + j];
  return (s0 + s1) + (s2 + s3);
}

/**
 * out[outAt + j] = scale·Σ_{k < count} w[k]·x[xAt + rows[k]·rowStride + j] for j < n: a weighted
 * sum of rows of x, four columns at a time so that the sums stay in registers.
 */
function weightedRows(
  w: Float64Array,
  rows: Int32Array,
  count: number,
  x: Float32Array,
  xAt: number,
  rowStride: number,
  n: number,
  scale: number,
  out: Float32Array,
  outAt: number,
): void {
  let j = 0;
  for (; j + 3 < n; j += 4) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const col = xAt + j;
    for (let k = 0; k < count; k++) {
      const e = w[k];
      const at = col + rows[k] * rowStride;
      a0 += e * x[at];
      a1 += e * x[at + 1];
      a2 += e * x[at + 2];
      a3 += e * x[at + 3];
    }
    out[outAt + j] = a0 * scale;
    out[outAt + j + 1] = a1 * scale;
    out[outAt + j + 2] = a2 * scale;
    out[outAt + j + 3] = a3 * scale;
  }
  for (; j < n; j++) {
    let a = 0;
    const col = xAt + j;
    for (let k = 0; k < count; k++) a += w[k] * x[col + rows[k] * rowStride];
    out[outAt + j] = a * scale;
  }
}

let weights = new Float64Array(64);
let extra = new Float64Array(64);
let rowList = new Int32Array(64);

function ensure(n: number): void {
  if (weights.length < n) {
    const size = Math.max(n, 2 * weights.length);
    weights = new Float64Array(size);
    extra = new Float64Array(size);
    rowList = new Int32Array(size);
  }
}

/** `forward`: probs rows and y from qkv and the key mask. */
function forward(call: HostCall): void {
  const [qkvBuf, maskBuf, yBuf, probsBuf] = call.buffers;
  const qkv = qkvBuf.f32, mask = maskBuf.f32, y = yBuf.f32, probs = probsBuf.f32;
  const [B, T, H, qkvOffset, maskOffset, yOffset, probsOffset] = call.u;
  const scale = call.f[0];
  const HS = Number(call.defines.HS);
  const d = H * HS, d3 = 3 * d;
  const rows = covered(call, B * H * T);
  const q = scratchOf(HS);
  ensure(T);
  const e = weights, scores = extra, keys = rowList;
  const LOWEST = -3.4028234663852886e38;
  for (let i = 0; i < rows; i++) {
    const b = Math.floor(i / (H * T)), h = Math.floor(i / T) % H, t = i % T;
    const pBase = probsOffset + ((b * H + h) * T + t) * T;
    const mBase = maskOffset + b * T;
    // Row s of the batch element's qkv, head h's columns: q at qCol, k at qCol + d, v + 2d.
    const qCol = qkvOffset + b * T * d3 + h * HS;
    const q0 = qCol + t * d3;
    for (let j = 0; j < HS; j++) q[j] = qkv[q0 + j];
    // Visible keys (s ≤ t with mask ≠ 0), their scores and the max.
    let count = 0;
    let m = LOWEST;
    for (let s = 0; s <= t; s++) {
      if (mask[mBase + s] === 0) {
        probs[pBase + s] = 0;
        continue;
      }
      const score = dot(q, 0, qkv, qCol + s * d3 + d, HS) * scale;
      keys[count] = s;
      scores[count++] = score;
      if (score > m) m = score;
    }
    for (let s = t + 1; s < T; s++) probs[pBase + s] = 0;
    let sum = 0;
    for (let k = 0; k < count; k++) {
      const x = Math.exp(scores[k] - m);
      e[k] = x;
      sum += x;
    }
    // No visible key: probabilities and output stay 0.
    const inv = sum > 0 ? 1 / sum : 0;
    for (let k = 0; k < count; k++) probs[pBase + keys[k]] = e[k] * inv;
    weightedRows(
      e,
      keys,
      count,
      qkv,
      qCol + 2 * d,
      d3,
      HS,
      inv,
      y,
      yOffset + (b * T + t) * d + h * HS,
    );
  }
}

/** `backward_query`: dscores rows (dS) and dq. */
function backwardQuery(call: HostCall): void {
  const [qkvBuf, probsBuf, dyBuf, dscoresBuf, dqkvBuf] = call.buffers;
  const qkv = qkvBuf.f32, probs = probsBuf.f32, dy = dyBuf.f32;
  const dscores = dscoresBuf.f32, dqkv = dqkvBuf.f32;
  const [B, T, H, qkvOffset, probsOffset, dyOffset, dscoresOffset, dqkvOffset] = call.u;
  const scale = call.f[0];
  const HS = Number(call.defines.HS);
  const d = H * HS, d3 = 3 * d;
  const rows = covered(call, B * H * T);
  const g = scratchOf(HS);
  ensure(T);
  const dp = extra, ds = weights, keys = rowList;
  for (let i = 0; i < rows; i++) {
    const b = Math.floor(i / (H * T)), h = Math.floor(i / T) % H, t = i % T;
    const head = (b * H + h) * T + t;
    const pBase = probsOffset + head * T;
    const dsBase = dscoresOffset + head * T;
    const dyBase = dyOffset + (b * T + t) * d + h * HS;
    const qCol = qkvOffset + b * T * d3 + h * HS;
    for (let j = 0; j < HS; j++) g[j] = dy[dyBase + j];
    let inner = 0;
    for (let s = 0; s <= t; s++) {
      const x = dot(g, 0, qkv, qCol + s * d3 + 2 * d, HS);
      dp[s] = x;
      inner += probs[pBase + s] * x;
    }
    let count = 0;
    for (let s = 0; s <= t; s++) {
      const x = probs[pBase + s] * (dp[s] - inner) * scale;
      dscores[dsBase + s] = x;
      if (x !== 0) {
        keys[count] = s;
        ds[count++] = x;
      }
    }
    for (let s = t + 1; s < T; s++) dscores[dsBase + s] = 0;
    weightedRows(
      ds,
      keys,
      count,
      qkv,
      qCol + d,
      d3,
      HS,
      1,
      dqkv,
      dqkvOffset + (b * T + t) * d3 + h * HS,
    );
  }
}

/** `backward_key`, after backward_query: dk and dv of key s over the queries t ≥ s. */
function backwardKey(call: HostCall): void {
  const [qkvBuf, probsBuf, dyBuf, dscoresBuf, dqkvBuf] = call.buffers;
  const qkv = qkvBuf.f32, probs = probsBuf.f32, dy = dyBuf.f32;
  const dscores = dscoresBuf.f32, dqkv = dqkvBuf.f32;
  const [B, T, H, qkvOffset, probsOffset, dyOffset, dscoresOffset, dqkvOffset] = call.u;
  const HS = Number(call.defines.HS);
  const d = H * HS, d3 = 3 * d;
  const rows = covered(call, B * H * T);
  ensure(T);
  const ds = weights, p = extra, queries = rowList;
  for (let i = 0; i < rows; i++) {
    const b = Math.floor(i / (H * T)), h = Math.floor(i / T) % H, s = i % T;
    const head = (b * H + h) * T * T;
    // The queries t ≥ s that see key s (p = 0 and dS = 0 contribute nothing).
    let count = 0;
    for (let t = s; t < T; t++) {
      const at = head + t * T + s;
      const x = dscores[dscoresOffset + at];
      const y = probs[probsOffset + at];
      if (y === 0 && x === 0) continue;
      queries[count] = t;
      ds[count] = x;
      p[count++] = y;
    }
    const dkBase = dqkvOffset + (b * T + s) * d3 + d + h * HS;
    const qCol = qkvOffset + b * T * d3 + h * HS;
    weightedRows(ds, queries, count, qkv, qCol, d3, HS, 1, dqkv, dkBase);
    weightedRows(p, queries, count, dy, dyOffset + b * T * d + h * HS, d, HS, 1, dqkv, dkBase + d);
  }
}

export const attentionKernels = {
  "gpt2_attention#forward": forward,
  "gpt2_attention#backward_query": backwardQuery,
  "gpt2_attention#backward_key": backwardKey,
} as const;
