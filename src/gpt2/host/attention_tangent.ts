// CPU port of shaders/gpt2_attention_tangent.wgsl: tangents of causal self-attention with a key
// padding mask, of its forward (`forward`) and of its backward (`backward_query`, then
// `backward_key`). HS (a define) is the head size, d = H·HS, scale = 1/sqrt(HS) (the uniform's f32).
// Layouts (flat f32, each from its uniform offset): qkv, qkvDot, dqkvDot [B, T, 3d] row-major with
// q | k | v along the last axis and head h in columns h·HS .. h·HS + HS - 1 of each; keyMask
// [B, T]; yDot, dy, dyDot [B, T, d]; probs, probsDot, dscoresDot [B, H, T, T] (row t holds keys s).
// As the WGSL: probsDot is 0 above the diagonal and where p = 0; backward_query leaves ḋs in
// dscoresDot at and below the diagonal and parks I_t (t >= 1) in row t−1's key T−1 slot, which
// backward_key reads back (as f32, like the GPU). Sums run in the WGSL's order, in float64.
import type { HostCall, HostKernelTable } from "../../gpu/host/host_kernel.ts";

function headSize(call: HostCall): number {
  const hs = Number(call.defines.HS);
  if (!Number.isInteger(hs) || hs < 1) throw new Error(`gpt2_attention_tangent: bad HS ${hs}`);
  return hs;
}

function forward(call: HostCall): void {
  const [B, T, H, qkvOff, qkvDotOff, maskOff, probsOff, yDotOff, probsDotOff] = call.u;
  const scale = call.f[0];
  const HS = headSize(call);
  const d = H * HS, row3 = 3 * d;
  const qkv = call.buffers[0].f32, qkvDot = call.buffers[1].f32;
  const mask = call.buffers[2].f32, probs = call.buffers[3].f32;
  const yDot = call.buffers[4].f32, probsDot = call.buffers[5].f32;
  const acc = new Float64Array(HS);
  const scoreDot = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const head = (b * H + h) * T + t;
        const pBase = probsOff + head * T;
        const pDotBase = probsDotOff + head * T;
        const qAt = (b * T + t) * row3 + h * HS;
        const q = qkvOff + qAt, qd = qkvDotOff + qAt;
        // Sweep 1: ṡ and Σ p·ṡ.
        let inner = 0;
        for (let s = 0; s <= t; s++) {
          let sd = 0;
          if (mask[maskOff + b * T + s] !== 0) {
            const kAt = (b * T + s) * row3 + d + h * HS;
            const k = qkvOff + kAt, kd = qkvDotOff + kAt;
            for (let j = 0; j < HS; j++) {
              sd += qkvDot[qd + j] * qkv[k + j] + qkv[q + j] * qkvDot[kd + j];
            }
            sd *= scale;
            inner += probs[pBase + s] * sd;
          }
          scoreDot[s] = sd;
        }
        for (let s = t + 1; s < T; s++) probsDot[pDotBase + s] = 0;
        // Sweep 2: ṗ and ẏ; a masked key (p = 0) gets ṗ = +0 and adds nothing.
        acc.fill(0);
        for (let s = 0; s <= t; s++) {
          const p = probs[pBase + s];
          if (p === 0) {
            probsDot[pDotBase + s] = 0;
            continue;
          }
          const pDot = p * (scoreDot[s] - inner);
          probsDot[pDotBase + s] = pDot;
          const vAt = (b * T + s) * row3 + 2 * d + h * HS;
          const v = qkvOff + vAt, vd = qkvDotOff + vAt;
          for (let j = 0; j < HS; j++) acc[j] += pDot * qkv[v + j] + p * qkvDot[vd + j];
        }
        const yBase = yDotOff + (b * T + t) * d + h * HS;
        for (let j = 0; j < HS; j++) yDot[yBase + j] = acc[j];
      }
    }
  }
}

interface BackwardBindings {
  B: number;
  T: number;
  H: number;
  qkvOff: number;
  qkvDotOff: number;
  probsOff: number;
  probsDotOff: number;
  dyOff: number;
  dyDotOff: number;
  dsOff: number;
  dqkvDotOff: number;
  scale: number;
  HS: number;
  qkv: Float32Array;
  qkvDot: Float32Array;
  probs: Float32Array;
  probsDot: Float32Array;
  dy: Float32Array;
  dyDot: Float32Array;
  dscoresDot: Float32Array;
  dqkvDot: Float32Array;
}

function backwardBindings(call: HostCall): BackwardBindings {
  const [B, T, H, qkvOff, qkvDotOff, probsOff, probsDotOff, dyOff, dyDotOff, dsOff, dqkvDotOff] =
    call.u;
  const f = (i: number) => call.buffers[i].f32;
  return {
    B,
    T,
    H,
    qkvOff,
    qkvDotOff,
    probsOff,
    probsDotOff,
    dyOff,
    dyDotOff,
    dsOff,
    dqkvDotOff,
    scale: call.f[0],
    HS: headSize(call),
    qkv: f(0),
    qkvDot: f(1),
    probs: f(2),
    probsDot: f(3),
    dy: f(4),
    dyDot: f(5),
    dscoresDot: f(6),
    dqkvDot: f(7),
  };
}

function backwardQuery(call: HostCall): void {
  const {
    B,
    T,
    H,
    qkvOff,
    qkvDotOff,
    probsOff,
    probsDotOff,
    dyOff,
    dyDotOff,
    dsOff,
    dqkvDotOff,
    scale,
    HS,
    qkv,
    qkvDot,
    probs,
    probsDot,
    dy,
    dyDot,
    dscoresDot,
    dqkvDot,
  } = backwardBindings(call);
  const d = H * HS, row3 = 3 * d;
  const dqDot = new Float64Array(HS);
  const dpRow = new Float64Array(T);
  const dpDotRow = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const head = (b * H + h) * T + t;
        const pBase = probsOff + head * T;
        const pDotBase = probsDotOff + head * T;
        const dsBase = dsOff + head * T;
        const dyAt = (b * T + t) * d + h * HS;
        const g = dyOff + dyAt, gd = dyDotOff + dyAt;
        // Sweep 1: dp, ḋp, I and İ.
        let inner = 0, innerDot = 0;
        for (let s = 0; s <= t; s++) {
          const vAt = (b * T + s) * row3 + 2 * d + h * HS;
          const v = qkvOff + vAt, vd = qkvDotOff + vAt;
          let dp = 0, dpDot = 0;
          for (let j = 0; j < HS; j++) {
            const vj = qkv[v + j];
            dp += dy[g + j] * vj;
            dpDot += dyDot[gd + j] * vj + dy[g + j] * qkvDot[vd + j];
          }
          dpRow[s] = dp;
          dpDotRow[s] = dpDot;
          const p = probs[pBase + s];
          inner += p * dp;
          innerDot += probsDot[pDotBase + s] * dp + p * dpDot;
        }
        // Sweep 2: ḋs (left in dscoresDot) and ḋq.
        dqDot.fill(0);
        for (let s = 0; s <= t; s++) {
          const p = probs[pBase + s];
          const pDot = probsDot[pDotBase + s];
          let dsDot = 0;
          if (p !== 0 || pDot !== 0) {
            const dpc = dpRow[s] - inner;
            const ds = p * dpc * scale;
            dsDot = (pDot * dpc + p * (dpDotRow[s] - innerDot)) * scale;
            const kAt = (b * T + s) * row3 + d + h * HS;
            const k = qkvOff + kAt, kd = qkvDotOff + kAt;
            for (let j = 0; j < HS; j++) dqDot[j] += dsDot * qkv[k + j] + ds * qkvDot[kd + j];
          }
          dscoresDot[dsBase + s] = dsDot;
        }
        if (t > 0) dscoresDot[dsBase - 1] = inner;
        const dq = dqkvDotOff + (b * T + t) * row3 + h * HS;
        for (let j = 0; j < HS; j++) dqkvDot[dq + j] = dqDot[j];
      }
    }
  }
}

function backwardKey(call: HostCall): void {
  const {
    B,
    T,
    H,
    qkvOff,
    qkvDotOff,
    probsOff,
    probsDotOff,
    dyOff,
    dyDotOff,
    dsOff,
    dqkvDotOff,
    scale,
    HS,
    qkv,
    qkvDot,
    probs,
    probsDot,
    dy,
    dyDot,
    dscoresDot,
    dqkvDot,
  } = backwardBindings(call);
  const d = H * HS, row3 = 3 * d;
  const dkDot = new Float64Array(HS);
  const dvDot = new Float64Array(HS);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const head = (b * H + h) * T * T;
      for (let s = 0; s < T; s++) {
        const v = qkvOff + (b * T + s) * row3 + 2 * d + h * HS;
        dkDot.fill(0);
        dvDot.fill(0);
        for (let t = s; t < T; t++) {
          const at = head + t * T + s;
          const p = probs[probsOff + at];
          const pDot = probsDot[probsDotOff + at];
          if (p === 0 && pDot === 0) continue; // masked key or padded query
          const gAt = (b * T + t) * d + h * HS;
          const g = dyOff + gAt, gd = dyDotOff + gAt;
          let dp = 0;
          for (let j = 0; j < HS; j++) dp += dy[g + j] * qkv[v + j];
          // I_t from backward_query's slot; row 0's single key has I_0 = p_00·dp_00.
          const inner = t > 0 ? dscoresDot[dsOff + head + t * T - 1] : p * dp;
          const ds = p * (dp - inner) * scale;
          const dsDot = dscoresDot[dsOff + at];
          const qAt = (b * T + t) * row3 + h * HS;
          const q = qkvOff + qAt, qd = qkvDotOff + qAt;
          for (let j = 0; j < HS; j++) {
            dkDot[j] += dsDot * qkv[q + j] + ds * qkvDot[qd + j];
            dvDot[j] += pDot * dy[g + j] + p * dyDot[gd + j];
          }
        }
        const dk = dqkvDotOff + (b * T + s) * row3 + d + h * HS;
        for (let j = 0; j < HS; j++) {
          dqkvDot[dk + j] = dkDot[j];
          dqkvDot[dk + d + j] = dvDot[j];
        }
      }
    }
  }
}

export const attentionTangentHostKernels: HostKernelTable = {
  "gpt2_attention_tangent#forward": forward,
  "gpt2_attention_tangent#backward_query": backwardQuery,
  "gpt2_attention_tangent#backward_key": backwardKey,
};
