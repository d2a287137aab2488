// CPU port of shaders/influence_precondition.wgsl (entry point divide): the damped inverse of a
// diagonal (in the eigenbasis) Fisher applied to a batch of gradient matrices. Layout: g
// [rows, size] row-major from gOffset, lambda [size] from lambdaOffset, out [rows, size] row-major
// from outOffset (not aliasing g). out[r, i] = g[r, i] / (lambda[i] + damping), the denominator
// rounded to f32 as the GPU forms it.
import type { HostCall } from "../../gpu/host/host_kernel.ts";

export function divide(call: HostCall): void {
  const [rows, size, gOffset, lambdaOffset, outOffset] = call.u;
  const [damping] = call.f;
  const g = call.buffers[0].f32;
  const lambda = call.buffers[1].f32;
  const out = call.buffers[2].f32;
  const denom = new Float32Array(size);
  for (let i = 0; i < size; i++) denom[i] = lambda[lambdaOffset + i] + damping;
  for (let r = 0; r < rows; r++) {
    const gr = gOffset + r * size;
    const or = outOffset + r * size;
    for (let i = 0; i < size; i++) out[or + i] = g[gr + i] / denom[i];
  }
}
