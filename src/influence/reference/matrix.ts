// Dense float64 matrix products for the reference (row-major, plain loops along rows), and the
// eigenbasis rotations of a gradient matrix G [dOut, cols]:
//   into the eigenbasis:   R = Q_Sᵀ·G·Q_A
//   back to the original:  G = Q_S·R·Q_Aᵀ
// with Q_S [dOut, dOut] and Q_A [cols, cols] holding one eigenvector per column.
import type { SymmetricEigen } from "../eigh.ts";

/** What a rotation needs of a module's factors (factors.ts's EigenFactors has it). */
interface EigenFactors {
  module: { name: string; dOut: number; cols: number };
  gradientEigen?: SymmetricEigen;
  activationEigen?: SymmetricEigen;
}

/** C [m, n] = A [m, k] · B [k, n]. */
export function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      if (x === 0) continue;
      const row = p * n, out = i * n;
      for (let j = 0; j < n; j++) c[out + j] += x * b[row + j];
    }
  }
  return c;
}

/** C [m, n] = Aᵀ · B with A [k, m], B [k, n]. */
export function matmulTN(a: Float64Array, b: Float64Array, k: number, m: number, n: number) {
  const c = new Float64Array(m * n);
  for (let p = 0; p < k; p++) {
    const row = p * n;
    for (let i = 0; i < m; i++) {
      const x = a[p * m + i];
      if (x === 0) continue;
      const out = i * n;
      for (let j = 0; j < n; j++) c[out + j] += x * b[row + j];
    }
  }
  return c;
}

/** C [m, n] = A · Bᵀ with A [m, k], B [n, k]. */
export function matmulNT(a: Float64Array, b: Float64Array, m: number, k: number, n: number) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += a[i * k + p] * b[j * k + p];
      c[i * n + j] = acc;
    }
  }
  return c;
}

function eigenvectors(f: EigenFactors): { qS: Float64Array; qA: Float64Array } {
  if (!f.gradientEigen || !f.activationEigen) {
    throw new RangeError(`${f.module.name}: the factors have no eigendecompositions`);
  }
  return { qS: f.gradientEigen.vectors, qA: f.activationEigen.vectors };
}

/** Q_Sᵀ·G·Q_A, [dOut, cols]. */
export function rotateIntoEigenbasis(f: EigenFactors, g: Float64Array): Float64Array {
  const { dOut, cols } = f.module;
  const { qS, qA } = eigenvectors(f);
  return matmul(matmulTN(qS, g, dOut, dOut, cols), qA, dOut, cols, cols);
}

/** Q_S·R·Q_Aᵀ, [dOut, cols]. */
export function rotateFromEigenbasis(f: EigenFactors, r: Float64Array): Float64Array {
  const { dOut, cols } = f.module;
  const { qS, qA } = eigenvectors(f);
  return matmulNT(matmul(qS, r, dOut, dOut, cols), qA, dOut, cols, cols);
}

/** ⟨X, Y⟩ = Σ x_i y_i. */
export function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new RangeError(`lengths ${x.length} and ${y.length} differ`);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}
