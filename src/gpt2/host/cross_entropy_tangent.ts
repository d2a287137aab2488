// CPU port of shaders/gpt2_cross_entropy_tangent.wgsl (`forward_backward_tangent`): the tangent
// of the token cross-entropy fused with the softmax along a tangent ż of the logits.
// Layout: logits, logitsDot, dlogitsDot [rows, stride] row-major from their offsets, the first V
// columns the vocabulary (dlogitsDot's padding columns are set to 0); targets [rows] (ids as f32),
// weights [rows], lossDot [rows]. Per row, with p = softmax(logits_r[:V]) (the primal's online
// log-sum-exp) and p·ż = Σ_v p_v·ż_v in column order: lossDot_r = p·ż − ż[target_r] and
// dlogitsDot_r = weight_r·p⊙(ż − p·ż). Float64 throughout, stored as f32.
import type { HostCall, HostKernelTable } from "../../gpu/host/host_kernel.ts";

const LOWEST = -3.4028234663852886e38;

let probsScratch = new Float64Array(0);

function forwardBackwardTangent(call: HostCall): void {
  const [rows, V, stride, logitsOff, logitsDotOff, targetsOff, weightsOff, lossDotOff, outOff] =
    call.u;
  const logits = call.buffers[0].f32, logitsDot = call.buffers[1].f32;
  const targets = call.buffers[2].f32, weights = call.buffers[3].f32;
  const lossDot = call.buffers[4].f32, dlogitsDot = call.buffers[5].f32;
  if (probsScratch.length < V) probsScratch = new Float64Array(V);
  const p = probsScratch;
  for (let r = 0; r < rows; r++) {
    const base = logitsOff + r * stride;
    const baseDot = logitsDotOff + r * stride;
    let m = LOWEST, s = 0;
    for (let c = 0; c < V; c++) {
      const v = logits[base + c];
      if (v > m) {
        s = s * Math.exp(m - v) + 1;
        m = v;
      } else {
        s += Math.exp(v - m);
      }
    }
    const lse = m + Math.log(s);
    let meanDot = 0;
    for (let c = 0; c < V; c++) {
      const pc = Math.exp(logits[base + c] - lse);
      p[c] = pc;
      meanDot += pc * logitsDot[baseDot + c];
    }
    const id = targets[targetsOff + r];
    const label = id > 0 ? Math.trunc(id) : 0; // WGSL's u32(f32) saturates at 0
    lossDot[lossDotOff + r] = meanDot - logitsDot[baseDot + label];
    const w = weights[weightsOff + r];
    const out = outOff + r * stride;
    for (let c = 0; c < V; c++) dlogitsDot[out + c] = w * p[c] * (logitsDot[baseDot + c] - meanDot);
    dlogitsDot.fill(0, out + V, out + stride);
  }
}

export const crossEntropyTangentHostKernels: HostKernelTable = {
  "gpt2_cross_entropy_tangent#forward_backward_tangent": forwardBackwardTangent,
};
