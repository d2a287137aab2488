// CPU port of shaders/gpt2_optimizer.wgsl: the `adamw` and `sgd` updates over flat f32 buffers of
// one layout (params, grads, and m, v or the momentum buffer), elements [offset, offset + n), the
// first decayEnd of them with weight decay; normSq[normOffset] holds Σ grads² for the global-norm
// clipping coefficient min(1, maxNorm / (sqrt(normSq) + 1e-6)) (1 when maxNorm ≤ 0), computed
// once per dispatch. Each element's update runs in float64 and is stored as f32.
import type { HostCall } from "../../gpu/host/host_kernel.ts";
import { covered } from "../../gpu/host/grid.ts";
import { type HostPart, type HostSplitTable, partRange, WHOLE } from "../../gpu/host/pool/split.ts";

function clipCoef(maxNorm: number, normSq: number): number {
  if (maxNorm <= 0) return 1;
  return Math.min(1, maxNorm / (Math.sqrt(normSq) + 1e-6));
}

/** `adamw`: m, v ← moments of g; p ← p - lr·wd·p - lr·(m/bc1)/(sqrt(v/bc2 + epsRoot) + eps). */
function adamw(call: HostCall, part: HostPart): void {
  const [paramsBuf, gradsBuf, normBuf, mBuf, vBuf] = call.buffers;
  const params = paramsBuf.f32, grads = gradsBuf.f32, m = mBuf.f32, v = vBuf.f32;
  const [nAll, offset, decayEnd, normOffset] = call.u;
  const [lr, beta1, beta2, eps, weightDecay, bc1, bc2, maxNorm, epsRoot] = call.f;
  const n = covered(call, nAll);
  const coef = clipCoef(maxNorm, normBuf.f32[normOffset]);
  const c1 = 1 - beta1, c2 = 1 - beta2;
  const stepScale = lr / bc1, inv2 = 1 / bc2;
  const split = offset + Math.min(decayEnd, n);
  const [from, to] = partRange(n, part);
  const decay = 1 - lr * weightDecay;
  for (let i = offset + from; i < offset + to; i++) {
    const g = coef * grads[i];
    const mi = beta1 * m[i] + c1 * g;
    const vi = beta2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    const p = i < split ? params[i] * decay : params[i];
    params[i] = p - stepScale * mi / (Math.sqrt(vi * inv2 + epsRoot) + eps);
  }
}

/** `sgd`: buf ← μ·buf + g; p ← p - lr·wd·p - lr·buf. */
function sgd(call: HostCall): void {
  const [paramsBuf, gradsBuf, normBuf, bufBuf] = call.buffers;
  const params = paramsBuf.f32, grads = gradsBuf.f32, buf = bufBuf.f32;
  const [nAll, offset, decayEnd, normOffset] = call.u;
  const [lr, momentum, weightDecay, maxNorm] = call.f;
  const n = covered(call, nAll);
  const coef = clipCoef(maxNorm, normBuf.f32[normOffset]);
  const split = offset + Math.min(decayEnd, n), end = offset + n;
  const decay = 1 - lr * weightDecay;
  for (let i = offset; i < end; i++) {
    const b = momentum * buf[i] + coef * grads[i];
    buf[i] = b;
    const p = i < split ? params[i] * decay : params[i];
    params[i] = p - lr * b;
  }
}

export const optimizerKernels = {
  "gpt2_optimizer#adamw": (call: HostCall) => adamw(call, WHOLE),
  "gpt2_optimizer#sgd": sgd,
} as const;

/** AdamW by element ranges, on several threads. */
export const optimizerSplitKernels: HostSplitTable = {
  "gpt2_optimizer#adamw": adamw,
};
