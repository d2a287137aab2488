// Float64 reference for the batched transpose (src/gpu/kernels/transpose.ts).

/** [batches, rows, cols] -> [batches, cols, rows]. */
export function transposeBatched(
  x: ArrayLike<number>,
  batches: number,
  rows: number,
  cols: number,
): Float64Array {
  const out = new Float64Array(batches * rows * cols);
  for (let b = 0; b < batches; b++) {
    const plane = b * rows * cols;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) out[plane + c * rows + r] = x[plane + r * cols + c];
    }
  }
  return out;
}
