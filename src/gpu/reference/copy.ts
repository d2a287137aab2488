// Float64 reference for copies (src/gpu/kernels/copy.ts): gathering a strided view.

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
