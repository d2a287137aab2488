// CPU port of shaders/elementwise_update.wgsl, in-place updates of y from x:
// y[yOffset + i] = op(x[xOffset + i], y[yOffset + i]), i in [0, n); x and y are flat f32 buffers,
// each tensor n contiguous elements from its offset, in different buffers.
// Entry points: `axpy` (y + s·x) and `gelu_backward_in_place` (y·gelu'(x); from GELU_WASM_MIN
// elements on through the WebAssembly SIMD module of ../wasm/gelu.ts).
import type { HostCall } from "../host_kernel.ts";
import { geluGrad } from "./gelu.ts";
import { defineNumber, reach1d } from "../grid.ts";
import { GELU_WASM_MIN, geluBackwardF32 } from "../wasm/gelu.ts";
import { type HostPart, partRange, WHOLE } from "../pool/split.ts";

export function updateAxpy(call: HostCall): void {
  const [n, xOffset, yOffset] = call.u;
  const count = reach1d(call, n, defineNumber(call, "WG"));
  const s = call.f[0];
  const x = call.buffers[0].f32;
  const y = call.buffers[1].f32;
  for (let i = 0; i < count; i++) y[yOffset + i] += s * x[xOffset + i];
}

/** Part of gelu_backward_in_place (../pool/split.ts); WebAssembly or not by the whole count. */
export function updateGeluBackwardInPlacePart(call: HostCall, part: HostPart): void {
  const [n, xOffset, yOffset] = call.u;
  const count = reach1d(call, n, defineNumber(call, "WG"));
  const [from, to] = partRange(count, part);
  const x = call.buffers[0].f32;
  const y = call.buffers[1].f32;
  if (count >= GELU_WASM_MIN) {
    const [xAt, yAt] = [xOffset + from, yOffset + from];
    return geluBackwardF32(x, xAt, y, yAt, y, yAt, to - from);
  }
  for (let i = from; i < to; i++) y[yOffset + i] *= geluGrad(x[xOffset + i]);
}

export function updateGeluBackwardInPlace(call: HostCall): void {
  updateGeluBackwardInPlacePart(call, WHOLE);
}
