// Float64 reference of the preconditioning kernel (src/influence/kernels/precondition.ts):
// g [rows, size] ⊘ (lambda [size] + damping), row by row.
export function preconditionReference(
  g: ArrayLike<number>,
  rows: number,
  size: number,
  lambda: ArrayLike<number>,
  damping: number,
): Float64Array {
  const out = new Float64Array(rows * size);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < size; i++) out[r * size + i] = g[r * size + i] / (lambda[i] + damping);
  }
  return out;
}
