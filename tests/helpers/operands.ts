// GPU operands for the matmul tests: seeded values laid out strided, transposed, padded or
// offset, with their logical values for the float64 reference.
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import type { Tensor } from "../../src/gpu/tensor.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";

/** A logical [batch?, rows, cols] operand: its values and how to lay it out on the GPU. */
export interface OperandSpec {
  batch: number | null; // null: rank 2
  rows: number;
  cols: number;
  /** Stored transposed ([cols, rows] per batch item) and viewed through transposeView(). */
  transposed?: boolean;
  /** Extra elements after each stored row (odd leading strides). */
  pad?: number;
  /** Extra elements between batch items. */
  batchPad?: number;
  /** Element offset of the view into its buffer. */
  offset?: number;
  seed: number;
}

export interface Operand {
  tensor: Tensor;
  /** Logical value at [z, r, c] (z ignored for rank 2). */
  at: (z: number, r: number, c: number) => number;
}

export function makeOperand(rt: GpuRuntime, spec: OperandSpec): Operand {
  const z = spec.batch ?? 1;
  const storedRows = spec.transposed ? spec.cols : spec.rows;
  const storedCols = spec.transposed ? spec.rows : spec.cols;
  const ld = storedCols + (spec.pad ?? 0);
  const itemStride = storedRows * ld + (spec.batchPad ?? 0);
  const offset = spec.offset ?? 0;
  const total = offset + z * itemStride;
  const values = randomF32(Math.max(total, 1), spec.seed);
  const base = rt.tensor(values, [values.length]);
  const shape = spec.batch === null ? [storedRows, storedCols] : [z, storedRows, storedCols];
  const strides = spec.batch === null ? [ld, 1] : [itemStride, ld, 1];
  let tensor = base.view(shape, strides, offset);
  if (spec.transposed) tensor = tensor.transposeView();
  const at = (b: number, r: number, c: number) => {
    const [sr, sc] = spec.transposed ? [c, r] : [r, c];
    return values[offset + (spec.batch === null ? 0 : b) * itemStride + sr * ld + sc];
  };
  return { tensor, at };
}
