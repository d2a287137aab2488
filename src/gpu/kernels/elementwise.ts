// Elementwise kernels over contiguous tensors of any length (the grid folds past 65535 groups):
// add (optionally scaled), scale, axpy, and tanh-form GELU forward/backward, with in-place forms
// where the output is exactly an input (shaders/elementwise_*.wgsl), and the tangent of GELU's
// backward (shaders/elementwise_gelu_tangent.wgsl) for forward-over-reverse.
import type { GpuRuntime } from "../runtime.ts";
import type { Tensor } from "../tensor.ts";
import {
  isSameRegion,
  requireContiguous,
  requireDistinctBuffers,
  requirePowerOfTwo,
  requireSameShape,
} from "./checks.ts";
import { grid1d } from "./grid.ts";

export interface ElementwiseOptions {
  /** Invocations per workgroup (default 64). */
  workgroupSize?: number;
}

const DEFAULT_WG = 64;

function workgroupSize(kernel: string, options: ElementwiseOptions): number {
  const wg = options.workgroupSize ?? DEFAULT_WG;
  requirePowerOfTwo(kernel, "workgroupSize", wg);
  return wg;
}

async function launch(
  rt: GpuRuntime,
  shader: string,
  entryPoint: string,
  wg: number,
  n: number,
  params: { u: number[]; f: number[] },
  bindings: Tensor[],
): Promise<void> {
  if (n === 0) return;
  await rt.dispatch({
    pipeline: { shader, entryPoint, defines: { WG: wg } },
    params,
    bindings,
    workgroups: grid1d(n, wg),
  });
}

/** out = s·x; `out` may be `x` itself (in place). */
export async function scale(
  rt: GpuRuntime,
  x: Tensor,
  s: number,
  out: Tensor,
  options: ElementwiseOptions = {},
): Promise<void> {
  const wg = workgroupSize("scale", options);
  requireSameShape("scale", { x, out });
  requireContiguous("scale", { x, out });
  if (isSameRegion(x, out)) {
    await launch(rt, "elementwise_in_place", "scale", wg, x.size, {
      u: [x.size, x.offset],
      f: [s],
    }, [x]);
    return;
  }
  requireDistinctBuffers("scale", ["out", out], { x });
  await launch(rt, "elementwise_unary", "scale", wg, x.size, {
    u: [x.size, x.offset, out.offset],
    f: [s],
  }, [x, out]);
}

export interface AddOptions extends ElementwiseOptions {
  /** out = scale·(a + b); default 1. */
  scale?: number;
}

/** out = scale·(a + b); `out` may be `a` or `b` (in place: axpy, then a scale if needed). */
export async function add(
  rt: GpuRuntime,
  a: Tensor,
  b: Tensor,
  out: Tensor,
  options: AddOptions = {},
): Promise<void> {
  const wg = workgroupSize("add", options);
  const s = options.scale ?? 1;
  requireSameShape("add", { a, b, out });
  requireContiguous("add", { a, b, out });
  const inPlaceOf = isSameRegion(a, out) ? b : isSameRegion(b, out) ? a : null;
  if (inPlaceOf && inPlaceOf.buffer !== out.buffer) {
    await axpy(rt, 1, inPlaceOf, out, options);
    if (s !== 1) await scale(rt, out, s, out, options);
    return;
  }
  requireDistinctBuffers("add", ["out", out], { a, b });
  await launch(rt, "elementwise_binary", "add", wg, a.size, {
    u: [a.size, a.offset, b.offset, out.offset],
    f: [s],
  }, [a, b, out]);
}

/** y += alpha·x. */
export async function axpy(
  rt: GpuRuntime,
  alpha: number,
  x: Tensor,
  y: Tensor,
  options: ElementwiseOptions = {},
): Promise<void> {
  const wg = workgroupSize("axpy", options);
  requireSameShape("axpy", { x, y });
  requireContiguous("axpy", { x, y });
  requireDistinctBuffers("axpy", ["y", y], { x });
  await launch(rt, "elementwise_update", "axpy", wg, x.size, {
    u: [x.size, x.offset, y.offset],
    f: [alpha],
  }, [x, y]);
}

/** out = gelu(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); `out` may be `x` (in place). */
export async function gelu(
  rt: GpuRuntime,
  x: Tensor,
  out: Tensor,
  options: ElementwiseOptions = {},
): Promise<void> {
  const wg = workgroupSize("gelu", options);
  requireSameShape("gelu", { x, out });
  requireContiguous("gelu", { x, out });
  if (isSameRegion(x, out)) {
    await launch(rt, "elementwise_in_place", "gelu_forward", wg, x.size, {
      u: [x.size, x.offset],
      f: [0],
    }, [x]);
    return;
  }
  requireDistinctBuffers("gelu", ["out", out], { x });
  await launch(rt, "elementwise_unary", "gelu_forward", wg, x.size, {
    u: [x.size, x.offset, out.offset],
    f: [0],
  }, [x, out]);
}

/** dx = dy·gelu'(x); `dx` may be `dy` (in place), never `x`. */
export async function geluBackward(
  rt: GpuRuntime,
  x: Tensor,
  dy: Tensor,
  dx: Tensor,
  options: ElementwiseOptions = {},
): Promise<void> {
  const wg = workgroupSize("geluBackward", options);
  requireSameShape("geluBackward", { x, dy, dx });
  requireContiguous("geluBackward", { x, dy, dx });
  if (isSameRegion(dy, dx)) {
    requireDistinctBuffers("geluBackward", ["dx", dx], { x });
    await launch(rt, "elementwise_update", "gelu_backward_in_place", wg, x.size, {
      u: [x.size, x.offset, dx.offset],
      f: [0],
    }, [x, dx]);
    return;
  }
  requireDistinctBuffers("geluBackward", ["dx", dx], { x, dy });
  await launch(rt, "elementwise_binary", "gelu_backward", wg, x.size, {
    u: [x.size, x.offset, dy.offset, dx.offset],
    f: [0],
  }, [x, dy, dx]);
}

/**
 * out = gelu''(x)·ẋ·dy + gelu'(x)·ḋy: the tangent of geluBackward's dx along ẋ (xDot) and ḋy
 * (dyDot). `out` shares a buffer with no input. (geluBackward(x, ẋ) is gelu's own tangent.)
 */
export async function geluBackwardTangent(
  rt: GpuRuntime,
  x: Tensor,
  xDot: Tensor,
  dy: Tensor,
  dyDot: Tensor,
  out: Tensor,
  options: ElementwiseOptions = {},
): Promise<void> {
  const wg = workgroupSize("geluBackwardTangent", options);
  requireSameShape("geluBackwardTangent", { x, xDot, dy, dyDot, out });
  requireContiguous("geluBackwardTangent", { x, xDot, dy, dyDot, out });
  requireDistinctBuffers("geluBackwardTangent", ["out", out], { x, xDot, dy, dyDot });
  await launch(rt, "elementwise_gelu_tangent", "gelu_backward_tangent", wg, x.size, {
    u: [x.size, x.offset, xDot.offset, dy.offset, dyDot.offset, out.offset],
    f: [],
  }, [x, xDot, dy, dyDot, out]);
}
