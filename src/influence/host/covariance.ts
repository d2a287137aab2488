// CPU port of shaders/influence_covariance.wgsl (entry point augment): the masked, bias-augmented
// per-token rows whose Gram matrix is a Kronecker factor. Layout: x [rows, cols] row-major from
// xOffset, mask [rows] from maskOffset, out [rows, outCols] row-major from outOffset (outCols =
// cols + 1 when a constant-1 column is appended). out[r, c] = mask[r] ≠ 0 ? x[r, c] : 0 (a
// select, so a padded row's non-finite activations never leak); out[r, cols] = mask[r].
import type { HostCall } from "../../gpu/host/host_kernel.ts";

export function augment(call: HostCall): void {
  const [rows, cols, outCols, xOffset, maskOffset, outOffset] = call.u;
  const x = call.buffers[0].f32;
  const mask = call.buffers[1].f32;
  const out = call.buffers[2].f32;
  for (let r = 0; r < rows; r++) {
    const m = mask[maskOffset + r];
    const o = outOffset + r * outCols;
    if (m !== 0) {
      const xr = xOffset + r * cols;
      for (let c = 0; c < cols; c++) out[o + c] = x[xr + c];
    } else {
      for (let c = 0; c < cols; c++) out[o + c] = 0;
    }
    for (let c = cols; c < outCols; c++) out[o + c] = m;
  }
}
