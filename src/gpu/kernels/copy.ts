// copy: contiguous tensors go through a buffer-to-buffer copy; a strided view (a transposeView,
// a batch slice of one) is gathered into a contiguous tensor by shaders/copy_strided.wgsl.
import type { GpuRuntime } from "../runtime.ts";
import type { Tensor } from "../tensor.ts";
import { requireContiguous, requireDistinctBuffers, requireSameShape } from "./checks.ts";
import { grid1d } from "./grid.ts";

const WG = 64;
const MAX_RANK = 4;

/** Drops size-1 axes and merges axes that are contiguous with each other. */
export function simplifyLayout(
  shape: readonly number[],
  strides: readonly number[],
): { shape: number[]; strides: number[] } {
  const outShape: number[] = [];
  const outStrides: number[] = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    const last = outShape.length - 1;
    if (last >= 0 && outStrides[last] === strides[i] * d) {
      outShape[last] *= d;
      outStrides[last] = strides[i];
    } else {
      outShape.push(d);
      outStrides.push(strides[i]);
    }
  });
  return { shape: outShape, strides: outStrides };
}

/** out = src, element for element in row-major order; `out` must be contiguous. */
export async function copy(rt: GpuRuntime, src: Tensor, out: Tensor): Promise<void> {
  requireSameShape("copy", { src, out });
  requireContiguous("copy", { out });
  requireDistinctBuffers("copy", ["out", out], { src });
  if (src.size === 0) return;
  if (src.isContiguous) {
    rt.copy(src, out);
    return;
  }
  await stridedCopy(rt, src, out);
}

/** Gathers any view of rank <= 4 (after merging contiguous axes) into contiguous `out`. */
export async function stridedCopy(rt: GpuRuntime, src: Tensor, out: Tensor): Promise<void> {
  requireSameShape("stridedCopy", { src, out });
  requireContiguous("stridedCopy", { out });
  requireDistinctBuffers("stridedCopy", ["out", out], { src });
  if (src.size === 0) return;
  if (src.strides.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new RangeError(`stridedCopy: src strides [${src.strides}] must be non-negative integers`);
  }
  const layout = simplifyLayout(src.shape, src.strides);
  if (layout.shape.length > MAX_RANK) {
    throw new RangeError(
      `stridedCopy: src [${src.shape}] with strides [${src.strides}] needs ${layout.shape.length}` +
        ` axes after merging; at most ${MAX_RANK} are supported`,
    );
  }
  const pad = MAX_RANK - layout.shape.length;
  const shape = [...new Array(pad).fill(1), ...layout.shape];
  const strides = [...new Array(pad).fill(0), ...layout.strides];
  await rt.dispatch({
    pipeline: { shader: "copy_strided", defines: { WG } },
    params: {
      u: [src.size, shape[1], shape[2], shape[3], ...strides, src.offset, out.offset],
    },
    bindings: [src, out],
    workgroups: grid1d(src.size, WG),
  });
}

/** `t` itself when contiguous, otherwise a new contiguous copy (the caller disposes it). */
export async function contiguous(rt: GpuRuntime, t: Tensor): Promise<Tensor> {
  if (t.isContiguous) return t;
  const out = rt.zeros(t.shape);
  await stridedCopy(rt, t, out);
  return out;
}
