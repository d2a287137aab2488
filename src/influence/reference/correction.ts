// Float64 reference of the eigenvalue-correction accumulation
// (src/influence/kernels/correction.ts): lambda[i] + Σ_b g[b, i]² for g [batch, size].
export function squareAccumulateReference(
  g: ArrayLike<number>,
  batch: number,
  size: number,
  lambda: ArrayLike<number>,
): Float64Array {
  const out = Float64Array.from(lambda);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < size; i++) out[i] += g[b * size + i] ** 2;
  }
  return out;
}
