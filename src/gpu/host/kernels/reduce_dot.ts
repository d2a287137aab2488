// CPU port of shaders/reduce_dot.wgsl, a dot product's first pass: for each of the G launched
// workgroups g, out[outOffset + g] = sum over i ≡ g·WG + lid (mod G·WG), i < n, of
// x[xOffset + i]·y[yOffset + i]. x and y are [n] contiguous from their offsets; out is [G]
// contiguous from outOffset. Each partial accumulates in float64.
import type { HostCall } from "../host_kernel.ts";
import { defineNumber } from "../grid.ts";

export function reduceDot(call: HostCall): void {
  const [n, xOffset, yOffset, outOffset] = call.u;
  const wg = defineNumber(call, "WG");
  const groups = call.workgroups[0];
  const stride = groups * wg;
  const x = call.buffers[0].f32;
  const y = call.buffers[1].f32;
  const out = call.buffers[2].f32;
  // WGSL's groups.y and groups.z repeat the same groups; they write the same values.
  for (let g = 0; g < groups; g++) {
    let sum = 0;
    for (let start = g * wg; start < n; start += stride) {
      const end = Math.min(start + wg, n);
      for (let i = start; i < end; i++) sum += x[xOffset + i] * y[yOffset + i];
    }
    out[outOffset + g] = sum;
  }
}
