// Float64 references for data movement: batched transpose and gathering a strided view.

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

/** The elements of the view (shape, strides, offset) over `buffer`, in row-major order. */
export function gather(
  buffer: ArrayLike<number>,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Float64Array {
  const size = shape.reduce((p, d) => p * d, 1);
  const out = new Float64Array(size);
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < size; i++) {
    let at = offset;
    for (let k = 0; k < shape.length; k++) at += index[k] * strides[k];
    out[i] = buffer[at];
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++index[k] < shape[k]) break;
      index[k] = 0;
    }
  }
  return out;
}
