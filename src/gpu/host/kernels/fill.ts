// CPU port of shaders/fill.wgsl: out[offset + i] = value for i in [0, n). out is a flat f32
// buffer; the tensor is n contiguous elements from `offset`.
import type { HostCall } from "../host_kernel.ts";
import { defineNumber, reach1d } from "../grid.ts";

export function fill(call: HostCall): void {
  const [n, offset] = call.u;
  const count = reach1d(call, n, defineNumber(call, "WG"));
  call.buffers[0].f32.fill(call.f[0], offset, offset + count);
}
