// CPU port of shaders/gpt2_attention.wgsl: causal multi-head self-attention with a key padding
// mask, `forward`, `backward_query` and `backward_key`, one row (b, h, t) at a time as the GPU's
// invocations. Layouts (elements, from each offset): qkv [B, T, 3d] with q | k | v along the last
// axis and head h in columns h·HS .. h·HS + HS - 1 of each; keyMask [B, T] (1 = real token);
// y, dy [B, T, d]; probs, dscores [B, H, T, T] (row t holds keys s, 0 for future or masked keys);
// dqkv [B, T, 3d]. HS is the pipeline's define, scale = 1/sqrt(HS). The forward's online softmax
// is computed in two passes over float64 scores (the same values up to rounding).
import type { HostCall } from "../../gpu/host/host_kernel.ts";
import { covered } from "./grid.ts";

let scratch = new Float64Array(64);

function scratchOf(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  return scratch;
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
  // [scores or e (T) | q (HS) | acc (HS)]
  const work = scratchOf(T + 2 * HS);
  const qOff = T, accOff = T + HS;
  const LOWEST = -3.4028234663852886e38;
  for (let i = 0; i < rows; i++) {
    const b = Math.floor(i / (H * T)), h = Math.floor(i / T) % H, t = i % T;
    const pBase = probsOffset + ((b * H + h) * T + t) * T;
    const mBase = maskOffset + b * T;
    const headCol = qkvOffset + h * HS;
    const q0 = headCol + (b * T + t) * d3;
    for (let j = 0; j < HS; j++) {
      work[qOff + j] = qkv[q0 + j];
      work[accOff + j] = 0;
    }
    let m = LOWEST;
    for (let s = 0; s <= t; s++) {
      if (mask[mBase + s] === 0) continue;
      const k = headCol + (b * T + s) * d3 + d;
      let dot = 0;
      for (let j = 0; j < HS; j++) dot += work[qOff + j] * qkv[k + j];
      const score = dot * scale;
      work[s] = score;
      if (score > m) m = score;
    }
    let sum = 0;
    for (let s = 0; s <= t; s++) {
      if (mask[mBase + s] === 0) continue;
      const e = Math.exp(work[s] - m);
      work[s] = e;
      sum += e;
      const v = headCol + (b * T + s) * d3 + 2 * d;
      for (let j = 0; j < HS; j++) work[accOff + j] += e * qkv[v + j];
    }
    // No visible key: probabilities and output stay 0.
    const inv = sum > 0 ? 1 / sum : 0;
    for (let s = 0; s <= t; s++) probs[pBase + s] = mask[mBase + s] === 0 ? 0 : work[s] * inv;
    for (let s = t + 1; s < T; s++) probs[pBase + s] = 0;
    const yBase = yOffset + (b * T + t) * d + h * HS;
    for (let j = 0; j < HS; j++) y[yBase + j] = work[accOff + j] * inv;
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
  // [dp (T) | g (HS) | dq (HS)]
  const work = scratchOf(T + 2 * HS);
  const gOff = T, dqOff = T + HS;
  for (let i = 0; i < rows; i++) {
    const b = Math.floor(i / (H * T)), h = Math.floor(i / T) % H, t = i % T;
    const head = (b * H + h) * T + t;
    const pBase = probsOffset + head * T;
    const dsBase = dscoresOffset + head * T;
    const dyBase = dyOffset + (b * T + t) * d + h * HS;
    const headCol = qkvOffset + h * HS;
    for (let j = 0; j < HS; j++) {
      work[gOff + j] = dy[dyBase + j];
      work[dqOff + j] = 0;
    }
    let inner = 0;
    for (let s = 0; s <= t; s++) {
      const v = headCol + (b * T + s) * d3 + 2 * d;
      let dp = 0;
      for (let j = 0; j < HS; j++) dp += work[gOff + j] * qkv[v + j];
      work[s] = dp;
      inner += probs[pBase + s] * dp;
    }
    for (let s = 0; s <= t; s++) {
      const ds = probs[pBase + s] * (work[s] - inner) * scale;
      dscores[dsBase + s] = ds;
      if (ds !== 0) {
        const k = headCol + (b * T + s) * d3 + d;
        for (let j = 0; j < HS; j++) work[dqOff + j] += ds * qkv[k + j];
      }
    }
    for (let s = t + 1; s < T; s++) dscores[dsBase + s] = 0;
    const dqBase = dqkvOffset + (b * T + t) * d3 + h * HS;
    for (let j = 0; j < HS; j++) dqkv[dqBase + j] = work[dqOff + j];
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
  // [dk (HS) | dv (HS)]
  const work = scratchOf(2 * HS);
  for (let i = 0; i < rows; i++) {
    const b = Math.floor(i / (H * T)), h = Math.floor(i / T) % H, s = i % T;
    const head = (b * H + h) * T * T;
    const headCol = qkvOffset + h * HS;
    work.fill(0, 0, 2 * HS);
    for (let t = s; t < T; t++) {
      const at = head + t * T + s;
      const ds = dscores[dscoresOffset + at];
      const p = probs[probsOffset + at];
      if (p === 0 && ds === 0) continue; // masked key or padded query: contributes nothing
      const q = headCol + (b * T + t) * d3;
      const g = dyOffset + (b * T + t) * d + h * HS;
      for (let j = 0; j < HS; j++) {
        work[j] += ds * qkv[q + j];
        work[HS + j] += p * dy[g + j];
      }
    }
    const dkBase = dqkvOffset + (b * T + s) * d3 + d + h * HS;
    for (let j = 0; j < HS; j++) {
      dqkv[dkBase + j] = work[j];
      dqkv[dkBase + d + j] = work[HS + j];
    }
  }
}

export const attentionKernels = {
  "gpt2_attention#forward": forward,
  "gpt2_attention#backward_query": backwardQuery,
  "gpt2_attention#backward_key": backwardKey,
} as const;
