// CPU port of shaders/copy_strided.wgsl: dst[dstOffset + i] = src[srcOffset + i0·s0 + i1·s1 +
// i2·s2 + i3·s3], (i0, i1, i2, i3) the row-major multi-index of i in [d0, d1, d2, d3] (d0 implied
// by n). src is a flat f32 buffer read through the view (element offset, non-negative strides);
// dst is contiguous from dstOffset. The loops walk the four axes directly, no division per element.
import type { HostCall } from "../host_kernel.ts";
import { defineNumber, reach1d } from "../grid.ts";

export function copyStrided(call: HostCall): void {
  const [n, d1, d2, d3, s0, s1, s2, s3, srcOffset, dstOffset] = call.u;
  const count = reach1d(call, n, defineNumber(call, "WG"));
  if (count === 0 || d1 === 0 || d2 === 0 || d3 === 0) return;
  const src = call.buffers[0].f32;
  const dst = call.buffers[1].f32;
  let i = 0;
  let out = dstOffset;
  for (let i0 = 0; i < count; i0++) {
    const b0 = srcOffset + i0 * s0;
    for (let i1 = 0; i1 < d1 && i < count; i1++) {
      const b1 = b0 + i1 * s1;
      for (let i2 = 0; i2 < d2 && i < count; i2++) {
        const b2 = b1 + i2 * s2;
        const m = Math.min(d3, count - i);
        if (s3 === 1 && m >= 32) {
          dst.set(src.subarray(b2, b2 + m), out);
          out += m;
        } else {
          for (let i3 = 0, at = b2; i3 < m; i3++, at += s3) dst[out++] = src[at];
        }
        i += m;
      }
    }
  }
}
