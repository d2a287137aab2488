// CPU port of shaders/reduce_cols.wgsl: out[block, c] = sum over r in block of a[r, c], block k
// covering rows [k·rowsPerBlock, min((k+1)·rowsPerBlock, rows)). a is [rows, cols] row-major from
// aOffset; out is [blocks, cols] row-major from outOffset, blocks = the grid's y count; the grid's
// x reaches columns < x·WG. Rows are walked in order into a float64 row of column sums; a part
// (../pool/split.ts) is a range of columns.
import type { HostCall } from "../host_kernel.ts";
import { defineNumber } from "../grid.ts";
import { type HostPart, partRange, WHOLE } from "../pool/split.ts";

export function reduceColsPart(call: HostCall, part: HostPart): void {
  const [rows, cols, rowsPerBlock, aOffset, outOffset] = call.u;
  const [gx, blocks] = call.workgroups;
  const [c0, c1] = partRange(Math.min(cols, gx * defineNumber(call, "WG")), part);
  const width = c1 - c0;
  if (width === 0) return;
  const a = call.buffers[0].f32;
  const out = call.buffers[1].f32;
  const sums = new Float64Array(width);
  for (let block = 0; block < blocks; block++) {
    sums.fill(0);
    const first = block * rowsPerBlock;
    const last = Math.min(first + rowsPerBlock, rows);
    for (let r = first; r < last; r++) {
      const at = aOffset + r * cols + c0;
      for (let c = 0; c < width; c++) sums[c] += a[at + c];
    }
    const to = outOffset + block * cols + c0;
    for (let c = 0; c < width; c++) out[to + c] = sums[c];
  }
}

export function reduceCols(call: HostCall): void {
  reduceColsPart(call, WHOLE);
}
