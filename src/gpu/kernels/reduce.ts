// Reductions: row sums and batched row dot products (shaders/reduce_rows.wgsl), column sums
// (shaders/reduce_cols.wgsl) and the dot product of two vectors (shaders/reduce_dot.wgsl, then a
// row reduction of the partials: deterministic, no atomics).
import type { GpuRuntime } from "../runtime.ts";
import type { Tensor } from "../tensor.ts";
import {
  requireContiguous,
  requireDistinctBuffers,
  requirePowerOfTwo,
  requireSameShape,
  sameShape,
  shapeText,
} from "./checks.ts";
import { MAX_GROUPS_PER_DIM } from "./grid.ts";
import { rowLaunch, type RowOptions } from "./rows.ts";

export type { RowOptions, RowStrategy } from "./rows.ts";

function matrixDims(kernel: string, a: Tensor): { rows: number; cols: number } {
  if (a.rank !== 2) throw new RangeError(`${kernel}: a ${shapeText(a)} must be [rows, cols]`);
  return { rows: a.shape[0], cols: a.shape[1] };
}

function requireVector(kernel: string, name: string, t: Tensor, length: number, of: Tensor) {
  if (!sameShape(t.shape, [length])) {
    throw new RangeError(
      `${kernel}: ${name} ${shapeText(t)} must be [${length}] for ${shapeText(of)}`,
    );
  }
}

async function rowReduce(
  rt: GpuRuntime,
  kernel: string,
  a: Tensor,
  b: Tensor | null,
  out: Tensor,
  options: RowOptions,
): Promise<void> {
  const { rows, cols } = matrixDims(kernel, a);
  requireVector(kernel, "out", out, rows, a);
  requireContiguous(kernel, b ? { a, b, out } : { a, out });
  requireDistinctBuffers(kernel, ["out", out], b ? { a, b } : { a });
  if (rows === 0) return;
  const plan = rowLaunch(kernel, rows, cols, options);
  await rt.dispatch({
    pipeline: {
      shader: "reduce_rows",
      entryPoint: plan.entryPoint,
      defines: { WG: plan.workgroupSize, PRODUCT: b !== null },
    },
    params: { u: [rows, cols, a.offset, (b ?? a).offset, out.offset] },
    // Without a product the shader never reads its second input; bind `a` there.
    bindings: [a, b ?? a, out],
    workgroups: plan.workgroups,
  });
}

/** out[r] = sum_c a[r, c] for a [rows, cols]. */
export async function rowSum(
  rt: GpuRuntime,
  a: Tensor,
  out: Tensor,
  options: RowOptions = {},
): Promise<void> {
  await rowReduce(rt, "rowSum", a, null, out, options);
}

/** out[r] = sum_c a[r, c]·b[r, c]: a batch of dot products, one per row. */
export async function rowDot(
  rt: GpuRuntime,
  a: Tensor,
  b: Tensor,
  out: Tensor,
  options: RowOptions = {},
): Promise<void> {
  requireSameShape("rowDot", { a, b });
  await rowReduce(rt, "rowDot", a, b, out, options);
}

export interface ColSumOptions {
  /** Rows summed by one invocation before a second launch combines blocks (default 256). */
  rowsPerBlock?: number;
  workgroupSize?: number;
}

/** out[c] = sum_r a[r, c] for a [rows, cols]; tall inputs are split into row blocks. */
export async function colSum(
  rt: GpuRuntime,
  a: Tensor,
  out: Tensor,
  options: ColSumOptions = {},
): Promise<void> {
  const { rows, cols } = matrixDims("colSum", a);
  requireVector("colSum", "out", out, cols, a);
  requireContiguous("colSum", { a, out });
  requireDistinctBuffers("colSum", ["out", out], { a });
  const wg = options.workgroupSize ?? 64;
  requirePowerOfTwo("colSum", "workgroupSize", wg);
  const rowsPerBlock = options.rowsPerBlock ?? 256;
  if (!Number.isInteger(rowsPerBlock) || rowsPerBlock < 1) {
    throw new RangeError(`colSum: rowsPerBlock ${rowsPerBlock} must be a positive integer`);
  }
  if (cols === 0) return;
  const columnGroups = Math.ceil(cols / wg);
  if (columnGroups > MAX_GROUPS_PER_DIM) {
    throw new RangeError(
      `colSum: a ${shapeText(a)} has more than ${MAX_GROUPS_PER_DIM * wg} columns`,
    );
  }
  const blocks = Math.max(1, Math.ceil(rows / rowsPerBlock));
  if (blocks > MAX_GROUPS_PER_DIM) {
    throw new RangeError(
      `colSum: a ${shapeText(a)} needs ${blocks} row blocks; raise rowsPerBlock`,
    );
  }
  const direct = blocks === 1;
  // Partial sums per block, reduced by a second (recursive) column sum.
  const target = direct ? out : rt.zeros([blocks, cols]);
  const perBlock = direct ? Math.max(rows, 1) : rowsPerBlock;
  await rt.dispatch({
    pipeline: { shader: "reduce_cols", defines: { WG: wg } },
    params: { u: [rows, cols, perBlock, a.offset, target.offset] },
    bindings: [a, target],
    workgroups: [columnGroups, blocks],
  });
  if (!direct) {
    // At least two rows per block from here on, so the recursion always shrinks.
    await colSum(rt, target, out, { ...options, rowsPerBlock: Math.max(rowsPerBlock, 2) });
    target.dispose();
  }
}

export interface DotOptions {
  /** Invocations per workgroup, a power of two (default 64). */
  workgroupSize?: number;
  /** Most first-pass workgroups, i.e. partial sums (default 256). */
  maxPartials?: number;
}

/** out[0] = sum_i x[i]·y[i] for vectors x, y; out is [1] (or a scalar []). */
export async function dot(
  rt: GpuRuntime,
  x: Tensor,
  y: Tensor,
  out: Tensor,
  options: DotOptions = {},
): Promise<void> {
  if (x.rank !== 1) throw new RangeError(`dot: x ${shapeText(x)} must be a vector`);
  requireSameShape("dot", { x, y });
  if (out.size !== 1 || out.rank > 1) {
    throw new RangeError(`dot: out ${shapeText(out)} must be [1] or []`);
  }
  requireContiguous("dot", { x, y, out });
  requireDistinctBuffers("dot", ["out", out], { x, y });
  const wg = options.workgroupSize ?? 64;
  requirePowerOfTwo("dot", "workgroupSize", wg);
  const maxPartials = options.maxPartials ?? 256;
  if (!Number.isInteger(maxPartials) || maxPartials < 1 || maxPartials > MAX_GROUPS_PER_DIM) {
    throw new RangeError(`dot: maxPartials ${maxPartials} must be in [1, ${MAX_GROUPS_PER_DIM}]`);
  }
  const n = x.size;
  const groups = Math.max(1, Math.min(Math.ceil(n / wg), maxPartials));
  const target = groups === 1 ? out : rt.zeros([groups]);
  await rt.dispatch({
    pipeline: { shader: "reduce_dot", defines: { WG: wg } },
    params: { u: [n, x.offset, y.offset, target.offset] },
    bindings: [x, y, target],
    workgroups: [groups],
  });
  if (groups > 1) {
    await rowSum(rt, target.reshape([1, groups]), out.reshape([1]), {
      strategy: "row-per-workgroup",
      workgroupSize: wg,
    });
    target.dispose();
  }
}
