// Float64 reference of the covariance kernels (src/influence/kernels/covariance.ts).
// Layouts: x [rows, cols] row-major, mask [rows]; masked rows [rows, cols (+1)].

/** mask[r]·x[r, c], with a last column equal to mask[r] when `appendOne`. */
export function maskRowsReference(
  x: ArrayLike<number>,
  mask: ArrayLike<number>,
  rows: number,
  cols: number,
  appendOne: boolean,
): Float64Array {
  const outCols = cols + (appendOne ? 1 : 0);
  const out = new Float64Array(rows * outCols);
  for (let r = 0; r < rows; r++) {
    if (mask[r] === 0) continue;
    for (let c = 0; c < cols; c++) out[r * outCols + c] = mask[r] * x[r * cols + c];
    if (appendOne) out[r * outCols + cols] = mask[r];
  }
  return out;
}

/** rowsᵀ·rows [D, D] for rows [N, D], with Σ|terms| per entry (the f32 rounding scale). */
export function gramReference(
  rows: ArrayLike<number>,
  N: number,
  D: number,
): { values: Float64Array; scale: Float64Array } {
  const values = new Float64Array(D * D);
  const scale = new Float64Array(D * D);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < D; i++) {
      const xi = rows[n * D + i];
      if (xi === 0) continue;
      for (let j = 0; j < D; j++) {
        const p = xi * rows[n * D + j];
        values[i * D + j] += p;
        scale[i * D + j] += Math.abs(p);
      }
    }
  }
  return { values, scale };
}
