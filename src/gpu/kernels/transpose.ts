// Transpose of the last two axes, [R, C] -> [C, R] or batched [B, R, C] -> [B, C, R], tiled
// through workgroup memory (shaders/transpose.wgsl). For a transposed *view* without moving
// data use Tensor.transposeView; to materialise one, copy.ts.
import type { GpuRuntime } from "../runtime.ts";
import type { Tensor } from "../tensor.ts";
import { requireContiguous, requireDistinctBuffers, sameShape, shapeText } from "./checks.ts";
import { MAX_GROUPS_PER_DIM } from "./grid.ts";

export interface TransposeOptions {
  /** Tile edge; the workgroup is tile×tile invocations (default 16, so 256). */
  tile?: number;
}

export async function transpose(
  rt: GpuRuntime,
  x: Tensor,
  out: Tensor,
  options: TransposeOptions = {},
): Promise<void> {
  if (x.rank !== 2 && x.rank !== 3) {
    throw new RangeError(
      `transpose: x ${shapeText(x)} must be [rows, cols] or [batch, rows, cols]`,
    );
  }
  const expected = [...x.shape];
  [expected[x.rank - 2], expected[x.rank - 1]] = [expected[x.rank - 1], expected[x.rank - 2]];
  if (!sameShape(out.shape, expected)) {
    throw new RangeError(
      `transpose: out ${shapeText(out)} must be [${expected.join(", ")}] for x ${shapeText(x)}`,
    );
  }
  requireContiguous("transpose", { x, out });
  requireDistinctBuffers("transpose", ["out", out], { x });
  const tile = options.tile ?? 16;
  const maxInvocations = rt.device.limits.maxComputeInvocationsPerWorkgroup;
  if (!Number.isInteger(tile) || tile < 1 || tile * tile > maxInvocations) {
    throw new RangeError(
      `transpose: tile ${tile} must be a positive integer with tile² <= ${maxInvocations}`,
    );
  }
  const batches = x.rank === 3 ? x.shape[0] : 1;
  const rows = x.shape[x.rank - 2];
  const cols = x.shape[x.rank - 1];
  if (x.size === 0) return;
  const tilesX = Math.ceil(cols / tile);
  const tilesY = Math.ceil(rows / tile);
  if (tilesX > MAX_GROUPS_PER_DIM || tilesY > MAX_GROUPS_PER_DIM) {
    throw new RangeError(
      `transpose: x ${shapeText(x)} needs more than ${MAX_GROUPS_PER_DIM} tiles per axis`,
    );
  }
  for (let base = 0; base < batches; base += MAX_GROUPS_PER_DIM) {
    await rt.dispatch({
      pipeline: { shader: "transpose", defines: { TILE: tile } },
      params: { u: [rows, cols, base, x.offset, out.offset] },
      bindings: [x, out],
      workgroups: [tilesX, tilesY, Math.min(MAX_GROUPS_PER_DIM, batches - base)],
    });
  }
}
