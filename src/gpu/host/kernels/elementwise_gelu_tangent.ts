// CPU port of shaders/elementwise_gelu_tangent.wgsl (entry point `gelu_backward_tangent`): the
// tangent of GELU's backward along ẋ and ḋy, out = gelu''(x)·ẋ·dy + gelu'(x)·ḋy (tanh form).
// Layout: bindings x, xDot, dy, dyDot, out are flat f32 buffers, each tensor n contiguous
// elements from its offset (uniform: n, xOffset, xDotOffset, dyOffset, dyDotOffset, outOffset);
// out shares a buffer with none of the inputs. Computed in float64, stored as f32.
import type { HostCall, HostKernelTable } from "../host_kernel.ts";

const GELU_K = 0.7978845608028654; // sqrt(2 / pi)
const GELU_C = 0.044715;

function geluBackwardTangent(call: HostCall): void {
  const [n, xOff, xDotOff, dyOff, dyDotOff, outOff] = call.u;
  const [xb, xDotb, dyb, dyDotb, outb] = call.buffers;
  const x = xb.f32, xDot = xDotb.f32, dy = dyb.f32, dyDot = dyDotb.f32, out = outb.f32;
  for (let i = 0; i < n; i++) {
    const v = x[xOff + i];
    // gelu'(v), gelu''(v) from t = exp(-2|u|) <= 1, as the WGSL (nothing overflows).
    const u = GELU_K * (v + GELU_C * v * v * v);
    const t = Math.exp(-2 * Math.abs(u));
    const inv = 1 / (1 + t);
    const sigmoid2u = (u >= 0 ? 1 : t) * inv;
    let grad = sigmoid2u;
    let grad2 = 0;
    if (t !== 0) {
      const tail = t * inv * inv;
      const du = GELU_K * (1 + 3 * GELU_C * v * v);
      const ddu = 6 * GELU_K * GELU_C * v;
      const tanhU = Math.sign(u) * (1 - t) * inv;
      grad = sigmoid2u + 2 * v * du * tail;
      grad2 = tail * (4 * du + 2 * v * ddu - 4 * v * du * du * tanhU);
    }
    out[outOff + i] = grad2 * xDot[xDotOff + i] * dy[dyOff + i] + grad * dyDot[dyDotOff + i];
  }
}

export const elementwiseGeluTangentKernels: HostKernelTable = {
  "elementwise_gelu_tangent#gelu_backward_tangent": geluBackwardTangent,
};
