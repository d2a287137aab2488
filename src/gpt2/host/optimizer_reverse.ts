// CPU port of shaders/gpt2_optimizer_reverse.wgsl: the reverse of one AdamW (`adamw_reverse`) or
// SGD (`sgd_reverse`) step, and the pull-back through global-norm clipping (`clip_reverse`).
// Layout: every tensor is a flat f32 segment of n elements at its own element offset (uniform
// `*Off`); elements k < decayEnd get weight decay; normSq[normOff] = Σ g² over all segments;
// gDot[gDotOff] = gᵀ·ḡ̃ over all segments. θ̄, m̄, v̄ (or θ̄, b̄) are updated in place and ḡ
// written to gBar (clip_reverse rescales it in place). The clipping coefficient is the forward
// kernel's f32 expression (rounded step by step with Math.fround) so both sides agree on where
// clipping acted; the rest is computed in float64 and stored as f32.
import type { HostCall, HostKernelTable } from "../../gpu/host/host_kernel.ts";

const F32_1E_6 = Math.fround(1e-6);

/** gpt2_optimizer.wgsl's clip_coef, in f32: min(1, maxNorm / (sqrt(normSq) + 1e-6)), or 1. */
function clipCoef(maxNorm: number, normSq: number): number {
  if (maxNorm <= 0) return 1;
  const denom = Math.fround(Math.fround(Math.sqrt(normSq)) + F32_1E_6);
  return Math.min(1, Math.fround(maxNorm / denom));
}

function adamwReverse(call: HostCall): void {
  const [n, decayEnd, gradOff, normOff, gBarOff, mOff, vOff, thetaBarOff, mBarOff, vBarOff] =
    call.u;
  const [lr, beta1, beta2, eps, epsRoot, weightDecay, c1, c2, maxNorm] = call.f;
  const grads = call.buffers[0].f32, normSq = call.buffers[1].f32, gBar = call.buffers[2].f32;
  const m = call.buffers[3].f32, v = call.buffers[4].f32, thetaBar = call.buffers[5].f32;
  const mBar = call.buffers[6].f32, vBar = call.buffers[7].f32;
  const coef = clipCoef(maxNorm, normSq[normOff]);
  const oneMinusB1 = 1 - beta1, oneMinusB2 = 1 - beta2;
  const decay = 1 - lr * weightDecay;
  for (let k = 0; k < n; k++) {
    const gt = coef * grads[gradOff + k];
    const mi = beta1 * m[mOff + k] + oneMinusB1 * gt;
    const vi = beta2 * v[vOff + k] + oneMinusB2 * gt * gt;
    const mHat = mi / c1;
    const s = Math.sqrt(vi / c2 + epsRoot);
    const d = s + eps;
    const tb = thetaBar[thetaBarOff + k];
    const u = -lr * tb;
    const bigM = mBar[mBarOff + k] + u / (c1 * d);
    let bigV = vBar[vBarOff + k];
    // Grouped as (ū/d)·(m̂/d)/s so that no product of small numbers underflows.
    if (s > 0) bigV -= 0.5 * (u / d) * (mHat / d) / (s * c2);
    thetaBar[thetaBarOff + k] = k < decayEnd ? tb * decay : tb;
    mBar[mBarOff + k] = beta1 * bigM;
    vBar[vBarOff + k] = beta2 * bigV;
    gBar[gBarOff + k] = oneMinusB1 * bigM + 2 * oneMinusB2 * gt * bigV;
  }
}

function clipReverse(call: HostCall): void {
  const [n, gradOff, normOff, gBarOff, gDotOff] = call.u;
  const maxNorm = call.f[0];
  const grads = call.buffers[0].f32, normSq = call.buffers[1].f32;
  const gBar = call.buffers[2].f32, gDot = call.buffers[3].f32;
  const coef = clipCoef(maxNorm, normSq[normOff]);
  const norm = Math.fround(Math.sqrt(normSq[normOff]));
  // coef = 1 (clipping did not act) has zero derivative in ‖g‖; so does g = 0.
  if (coef >= 1 || norm <= 0) return;
  // maxNorm/((‖g‖+1e-6)²·‖g‖) = coef/((‖g‖+1e-6)·‖g‖) where coef < 1.
  const slopeDot = coef / ((norm + F32_1E_6) * norm) * gDot[gDotOff];
  for (let k = 0; k < n; k++) {
    const i = gBarOff + k;
    gBar[i] = coef * gBar[i] - slopeDot * grads[gradOff + k];
  }
}

function sgdReverse(call: HostCall): void {
  const [n, decayEnd, thetaBarOff, bufBarOff, gBarOff] = call.u;
  const [lr, momentum, weightDecay] = call.f;
  const thetaBar = call.buffers[0].f32, bufBar = call.buffers[1].f32;
  const gBar = call.buffers[2].f32;
  const decay = 1 - lr * weightDecay;
  for (let k = 0; k < n; k++) {
    const tb = thetaBar[thetaBarOff + k];
    const bigB = bufBar[bufBarOff + k] - lr * tb;
    thetaBar[thetaBarOff + k] = k < decayEnd ? tb * decay : tb;
    bufBar[bufBarOff + k] = momentum * bigB;
    gBar[gBarOff + k] = bigB;
  }
}

export const optimizerReverseHostKernels: HostKernelTable = {
  "gpt2_optimizer_reverse#adamw_reverse": adamwReverse,
  "gpt2_optimizer_reverse#clip_reverse": clipReverse,
  "gpt2_optimizer_reverse#sgd_reverse": sgdReverse,
};
