// CPU port of shaders/reduce_rows.wgsl: out[row] = sum_c a[row, c] (PRODUCT false) or
// sum_c a[row, c]·b[row, c] (PRODUCT true). a and b are [rows, cols] row-major from aOffset /
// bOffset; out is [rows] from outOffset. Both entry points (`row_per_invocation`,
// `row_per_workgroup`) compute the same sums; they differ in which rows their grid reaches.
// Sums accumulate in float64.
import type { HostCall } from "../host_kernel.ts";
import { defineNumber, reach1d } from "../grid.ts";

function reduceRows(call: HostCall, rowCount: number): void {
  const [, cols, aOffset, bOffset, outOffset] = call.u;
  const product = call.defines.PRODUCT === true;
  const a = call.buffers[0].f32;
  const b = call.buffers[1].f32;
  const out = call.buffers[2].f32;
  for (let row = 0; row < rowCount; row++) {
    const ra = aOffset + row * cols;
    let sum = 0;
    if (product) {
      const rb = bOffset + row * cols;
      for (let c = 0; c < cols; c++) sum += a[ra + c] * b[rb + c];
    } else {
      for (let c = 0; c < cols; c++) sum += a[ra + c];
    }
    out[outOffset + row] = sum;
  }
}

export function reduceRowsPerInvocation(call: HostCall): void {
  reduceRows(call, reach1d(call, call.u[0], defineNumber(call, "WG")));
}

export function reduceRowsPerWorkgroup(call: HostCall): void {
  reduceRows(call, reach1d(call, call.u[0], 1));
}
