// How row-wise kernels (softmax, log-sum-exp, row sums) map rows onto the GPU.
//
// One invocation per row needs no barriers, which matters on llvmpipe where a barrier costs more
// than a short row's arithmetic; one workgroup per row spreads a long row over WG invocations,
// which is what a real GPU needs when rows are few.
import { shapeSize, type Tensor } from "../tensor.ts";
import { requirePowerOfTwo } from "./checks.ts";
import { grid1d } from "./grid.ts";

export type RowStrategy = "row-per-invocation" | "row-per-workgroup";

export interface RowOptions {
  /** Default "auto": per invocation when rows are short or plentiful. */
  strategy?: RowStrategy | "auto";
  /** Invocations per workgroup, a power of two (default 64). */
  workgroupSize?: number;
}

const DEFAULT_WG = 64;
// Heuristic thresholds, not tuned per adapter yet.
const SHORT_ROW = 128;
const MANY_ROWS = 1024;

export function chooseRowStrategy(rows: number, cols: number): RowStrategy {
  return cols <= SHORT_ROW || rows >= MANY_ROWS ? "row-per-invocation" : "row-per-workgroup";
}

export interface RowLaunch {
  entryPoint: "row_per_invocation" | "row_per_workgroup";
  workgroupSize: number;
  workgroups: [number, number];
}

export function rowLaunch(
  kernel: string,
  rows: number,
  cols: number,
  options: RowOptions,
): RowLaunch {
  const wg = options.workgroupSize ?? DEFAULT_WG;
  requirePowerOfTwo(kernel, "workgroupSize", wg);
  const requested = options.strategy ?? "auto";
  const strategy = requested === "auto" ? chooseRowStrategy(rows, cols) : requested;
  if (strategy === "row-per-invocation") {
    return { entryPoint: "row_per_invocation", workgroupSize: wg, workgroups: grid1d(rows, wg) };
  }
  return { entryPoint: "row_per_workgroup", workgroupSize: wg, workgroups: grid1d(rows, 1) };
}

/** Rows and columns of a tensor read as [product of leading axes, last axis]. */
export function rowsAndCols(kernel: string, x: Tensor): { rows: number; cols: number } {
  if (x.rank < 1) throw new RangeError(`${kernel}: x [${x.shape}] needs at least one axis`);
  return { rows: shapeSize(x.shape.slice(0, -1)), cols: x.shape[x.rank - 1] };
}
