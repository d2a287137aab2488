// Float64 reference of the hashed dense projection (src/projection/kernels/dense.ts):
// out[r, j] = Σ_i x[r, i] · sign(seed, base + i, j) · scale.
import { projectionSign } from "../hash.ts";

/** P [p, k] row-major, entries ±scale (what the kernel never materialises). */
export function projectionMatrix(
  seed: number,
  p: number,
  k: number,
  scale: number,
  base = 0,
): Float64Array {
  const P = new Float64Array(p * k);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < k; j++) P[i * k + j] = projectionSign(seed, base + i, j) * scale;
  }
  return P;
}

/** x [rows, p] · P → [rows, k], in float64. */
export function hashProjectReference(
  x: ArrayLike<number>,
  rows: number,
  p: number,
  k: number,
  seed: number,
  scale: number,
  base = 0,
): Float64Array {
  const P = projectionMatrix(seed, p, k, scale, base);
  const out = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < p; i++) {
      const v = x[r * p + i];
      if (v === 0) continue;
      for (let j = 0; j < k; j++) out[r * k + j] += v * P[i * k + j];
    }
  }
  return out;
}
