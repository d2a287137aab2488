// CPU port of shaders/transpose.wgsl: out[b, c, r] = x[b, r, c] for batches b in
// [batchBase, batchBase + z). x is [batches, rows, cols] row-major from xOffset; out is
// [batches, cols, rows] row-major from outOffset (both contiguous). The grid reaches rows
// < y·TILE and columns < x·TILE. Walked in square blocks so that both sides stay in cache.
import type { HostCall } from "../host_kernel.ts";
import { defineNumber } from "../grid.ts";

const BLOCK = 32;

export function transpose(call: HostCall): void {
  const [rows, cols, batchBase, xOffset, outOffset] = call.u;
  const tile = defineNumber(call, "TILE");
  const [gx, gy, gz] = call.workgroups;
  const rowEnd = Math.min(rows, gy * tile);
  const colEnd = Math.min(cols, gx * tile);
  const x = call.buffers[0].f32;
  const out = call.buffers[1].f32;
  const planeSize = rows * cols;
  for (let z = 0; z < gz; z++) {
    const plane = (batchBase + z) * planeSize;
    const xb = xOffset + plane, ob = outOffset + plane;
    for (let r0 = 0; r0 < rowEnd; r0 += BLOCK) {
      const r1 = Math.min(r0 + BLOCK, rowEnd);
      for (let c0 = 0; c0 < colEnd; c0 += BLOCK) {
        const c1 = Math.min(c0 + BLOCK, colEnd);
        for (let c = c0; c < c1; c++) {
          const from = xb + c;
          const to = ob + c * rows;
          for (let r = r0; r < r1; r++) out[to + r] = x[from + r * cols];
        }
      }
    }
  }
}
