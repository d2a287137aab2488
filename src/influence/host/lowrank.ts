// CPU port of shaders/influence_lowrank.wgsl (entry points pairs and tokens): scores from rank-k
// query factors and per-token taps. Layout: x and y [B·T, Q·k] row-major from xOffset / yOffset
// (x[b·T + t, q·k + j] = u_{q,j}ᵀ s_{b,t}, y likewise with v and a); `pairs` writes out [B, Q]
// row-major from outOffset, Σ_t Σ_j x·y; `tokens` adds Σ_j x·y into out [Q, B, T] from outOffset.
// Sums run in float64; out may not alias x or y (the launcher checks).
import type { HostCall } from "../../gpu/host/host_kernel.ts";

export function pairs(call: HostCall): void {
  const [Q, B, T, k, xOffset, yOffset, outOffset] = call.u;
  const x = call.buffers[0].f32;
  const y = call.buffers[1].f32;
  const out = call.buffers[2].f32;
  const width = Q * k;
  for (let b = 0; b < B; b++) {
    for (let q = 0; q < Q; q++) {
      let acc = 0;
      for (let t = 0; t < T; t++) {
        const base = (b * T + t) * width + q * k;
        const xb = xOffset + base;
        const yb = yOffset + base;
        let term = 0;
        for (let j = 0; j < k; j++) term += x[xb + j] * y[yb + j];
        acc += Math.fround(term);
      }
      out[outOffset + b * Q + q] = acc;
    }
  }
}

export function tokens(call: HostCall): void {
  const [Q, B, T, k, xOffset, yOffset, outOffset] = call.u;
  const x = call.buffers[0].f32;
  const y = call.buffers[1].f32;
  const out = call.buffers[2].f32;
  const width = Q * k;
  const rows = B * T;
  for (let q = 0; q < Q; q++) {
    const o = outOffset + q * rows;
    for (let row = 0; row < rows; row++) {
      const base = row * width + q * k;
      const xb = xOffset + base;
      const yb = yOffset + base;
      let term = 0;
      for (let j = 0; j < k; j++) term += x[xb + j] * y[yb + j];
      out[o + row] += Math.fround(term);
    }
  }
}
