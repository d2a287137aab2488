// CPU port of shaders/softmax.wgsl: row softmax (LOG_SUM_EXP false) or row log-sum-exp
// (LOG_SUM_EXP true) over the last axis. x is [rows, cols] row-major from xOffset; the output,
// from outOffset, is [rows, cols] softmax(x) or [rows] log(sum(exp(x))). The running (max, sum of
// exp(v - max)) pair is the shader's online sweep, in float64; both entry points
// (`row_per_invocation`, `row_per_workgroup`) compute it, differing only in which rows their grid
// reaches (the workgroup variant's tree merge equals the sweep up to rounding).
import type { HostCall } from "../host_kernel.ts";
import { defineNumber, reach1d } from "../grid.ts";

// Stands in for -infinity as in the WGSL; exp(v - LOWEST) never makes a NaN.
const LOWEST = -3.4028234663852886e38;

function softmaxRows(call: HostCall, rowCount: number): void {
  const [, cols, xOffset, outOffset] = call.u;
  const logSumExp = call.defines.LOG_SUM_EXP === true;
  const x = call.buffers[0].f32;
  const out = call.buffers[1].f32;
  for (let row = 0; row < rowCount; row++) {
    const base = xOffset + row * cols;
    const end = base + cols;
    let m = LOWEST, s = 0;
    for (let i = base; i < end; i++) {
      const v = x[i];
      if (v > m) {
        s = s * Math.exp(m - v) + 1;
        m = v;
      } else {
        s += Math.exp(v - m);
      }
    }
    if (logSumExp) {
      out[outOffset + row] = m + Math.log(s);
      continue;
    }
    const inv = 1 / s;
    const to = outOffset + row * cols - base;
    for (let i = base; i < end; i++) out[to + i] = Math.exp(x[i] - m) * inv;
  }
}

export function softmaxRowPerInvocation(call: HostCall): void {
  softmaxRows(call, reach1d(call, call.u[0], defineNumber(call, "WG")));
}

export function softmaxRowPerWorkgroup(call: HostCall): void {
  softmaxRows(call, reach1d(call, call.u[0], 1));
}
