// CPU port of shaders/elementwise_binary.wgsl, out-of-place binary maps:
// out[outOffset + i] = op(a[aOffset + i], b[bOffset + i]), i in [0, n); a, b and out are flat f32
// buffers, each tensor n contiguous elements from its offset; out shares no buffer with a or b.
// Entry points: `add` (s·(a + b)) and `gelu_backward` (b·gelu'(a): a = GELU input, b = dy; from
// GELU_WASM_MIN elements on through the WebAssembly SIMD module of ../wasm/gelu.ts).
import type { HostCall } from "../host_kernel.ts";
import { geluGrad } from "./gelu.ts";
import { defineNumber, reach1d } from "../grid.ts";
import { GELU_WASM_MIN, geluBackwardF32 } from "../wasm/gelu.ts";

export function binaryAdd(call: HostCall): void {
  const [n, aOffset, bOffset, outOffset] = call.u;
  const count = reach1d(call, n, defineNumber(call, "WG"));
  const s = call.f[0];
  const a = call.buffers[0].f32;
  const b = call.buffers[1].f32;
  const out = call.buffers[2].f32;
  for (let i = 0; i < count; i++) out[outOffset + i] = s * (a[aOffset + i] + b[bOffset + i]);
}

export function binaryGeluBackward(call: HostCall): void {
  const [n, aOffset, bOffset, outOffset] = call.u;
  const count = reach1d(call, n, defineNumber(call, "WG"));
  const a = call.buffers[0].f32;
  const b = call.buffers[1].f32;
  const out = call.buffers[2].f32;
  if (count >= GELU_WASM_MIN) {
    return geluBackwardF32(a, aOffset, b, bOffset, out, outOffset, count);
  }
  for (let i = 0; i < count; i++) out[outOffset + i] = b[bOffset + i] * geluGrad(a[aOffset + i]);
}
