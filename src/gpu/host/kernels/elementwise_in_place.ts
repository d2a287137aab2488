// CPU port of shaders/elementwise_in_place.wgsl, in-place unary maps:
// data[offset + i] = op(data[offset + i]), i in [0, n); data is a flat f32 buffer, the tensor
// n contiguous elements from `offset`.
// Entry points: `scale` (s·x) and `gelu_forward` (tanh-form GELU; from GELU_WASM_MIN elements on
// through the WebAssembly SIMD module of ../wasm/gelu.ts).
import type { HostCall } from "../host_kernel.ts";
import { gelu } from "./gelu.ts";
import { defineNumber, reach1d } from "../grid.ts";
import { GELU_WASM_MIN, geluForwardF32 } from "../wasm/gelu.ts";

export function inPlaceScale(call: HostCall): void {
  const [n, offset] = call.u;
  const count = reach1d(call, n, defineNumber(call, "WG"));
  const s = call.f[0];
  const data = call.buffers[0].f32;
  for (let i = offset, end = offset + count; i < end; i++) data[i] = s * data[i];
}

export function inPlaceGeluForward(call: HostCall): void {
  const [n, offset] = call.u;
  const count = reach1d(call, n, defineNumber(call, "WG"));
  const data = call.buffers[0].f32;
  if (count >= GELU_WASM_MIN) return geluForwardF32(data, offset, data, offset, count);
  for (let i = offset, end = offset + count; i < end; i++) data[i] = gelu(data[i]);
}
