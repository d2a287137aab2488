// CPU port of shaders/projection_dense_sum.wgsl (entry point sum_partials): projection_dense's
// second pass, out[r, j] (+)= Σ_c parts[c, r, j]. Layout: parts [chunks, rows, k] row-major from
// 0; out [rows, k] from outOffset with row stride outStride (a column block of a wider matrix),
// overwritten (accumulate 0) or added to (accumulate 1). The chunk sum runs in float64.
import type { HostCall } from "../../gpu/host/host_kernel.ts";

export function sumPartials(call: HostCall): void {
  const [rows, , k, , outOffset, outStride, , , , chunks, accumulate] = call.u;
  const parts = call.buffers[0].f32;
  const out = call.buffers[1].f32;
  const plane = rows * k;
  for (let r = 0; r < rows; r++) {
    const o = outOffset + r * outStride;
    const pr = r * k;
    for (let j = 0; j < k; j++) {
      let acc = 0;
      for (let c = 0, at = pr + j; c < chunks; c++, at += plane) acc += parts[at];
      if (accumulate === 1) out[o + j] += Math.fround(acc);
      else out[o + j] = acc;
    }
  }
}
