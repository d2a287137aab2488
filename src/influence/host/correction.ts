// CPU port of shaders/influence_correction.wgsl (entry point square_accumulate): EK-FAC's
// eigenvalue correction accumulated over a batch. Layout: g [batch, size] row-major from gOffset,
// lambda [size] from lambdaOffset, updated in place: lambda[i] += Σ_b g[b, i]² (the sum of squares
// in float64, added once, as the kernel adds its accumulator once).
import type { HostCall } from "../../gpu/host/host_kernel.ts";

export function squareAccumulate(call: HostCall): void {
  const [batch, size, gOffset, lambdaOffset] = call.u;
  const g = call.buffers[0].f32;
  const lambda = call.buffers[1].f32;
  const acc = new Float64Array(size);
  for (let b = 0; b < batch; b++) {
    const row = gOffset + b * size;
    for (let i = 0; i < size; i++) {
      const v = g[row + i];
      acc[i] += v * v;
    }
  }
  for (let i = 0; i < size; i++) lambda[lambdaOffset + i] += acc[i];
}
