// CPU port of shaders/elementwise_unary.wgsl, out-of-place unary maps:
// dst[dstOffset + i] = op(src[srcOffset + i]), i in [0, n); src and dst are flat f32 buffers,
// each tensor n contiguous elements from its offset, in different buffers.
// Entry points: `scale` (s·x) and `gelu_forward` (tanh-form GELU; from GELU_WASM_MIN elements on
// through the WebAssembly SIMD module of ../wasm/gelu.ts).
import type { HostCall } from "../host_kernel.ts";
import { gelu } from "./gelu.ts";
import { defineNumber, reach1d } from "../grid.ts";
import { GELU_WASM_MIN, geluForwardF32 } from "../wasm/gelu.ts";
import { type HostPart, partRange, WHOLE } from "../pool/split.ts";

export function unaryScale(call: HostCall): void {
  const [n, srcOffset, dstOffset] = call.u;
  const count = reach1d(call, n, defineNumber(call, "WG"));
  const s = call.f[0];
  const src = call.buffers[0].f32;
  const dst = call.buffers[1].f32;
  for (let i = 0; i < count; i++) dst[dstOffset + i] = s * src[srcOffset + i];
}

/** Part of gelu_forward (../pool/split.ts); WebAssembly or not is decided on the whole count. */
export function unaryGeluForwardPart(call: HostCall, part: HostPart): void {
  const [n, srcOffset, dstOffset] = call.u;
  const count = reach1d(call, n, defineNumber(call, "WG"));
  const [from, to] = partRange(count, part);
  const src = call.buffers[0].f32;
  const dst = call.buffers[1].f32;
  if (count >= GELU_WASM_MIN) {
    return geluForwardF32(src, srcOffset + from, dst, dstOffset + from, to - from);
  }
  for (let i = from; i < to; i++) dst[dstOffset + i] = gelu(src[srcOffset + i]);
}

export function unaryGeluForward(call: HostCall): void {
  unaryGeluForwardPart(call, WHOLE);
}
