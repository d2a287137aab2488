// Scores from stored projected gradients, in float64 on the CPU. Φ [M, k] holds the training
// examples' projected gradients (rows), φ_q a query's:
//   dot     φ_qᵀφ_m
//   cosine  φ_qᵀφ_m / (|φ_q||φ_m|)   (0 when either gradient is 0)
//   trak    φ_qᵀ(ΦᵀΦ + λI)⁻¹φ_m       (TRAK's kernel on projected gradients)
// trak is solved in whichever space is smaller: with M ≥ k, Cholesky of ΦᵀΦ + λI [k, k]; with
// M < k, the Woodbury identity gives φ_qᵀ(ΦᵀΦ + λI)⁻¹Φᵀ = ((ΦΦᵀ + λI)⁻¹Φφ_q)ᵀ, so each query's
// row of scores is one solve with ΦΦᵀ + λI [M, M]. λ defaults to 0.1 × the mean eigenvalue of
// ΦᵀΦ (trace / k), the heuristic the influence functions' damping uses.
// With OpenBLAS (src/linalg/), trak is three BLAS/LAPACK calls over all queries at once; the loops
// below stay as the TypeScript path and the reference.
import { InvalidInputError } from "../errors.ts";
import { cholesky, choleskySolve } from "../linalg/cholesky.ts";
import { type LinearAlgebra, linearAlgebra } from "../linalg/select.ts";

export const GRADIENT_SCORE_METHODS = ["dot", "cosine", "trak"] as const;
export type GradientScoreMethod = typeof GRADIENT_SCORE_METHODS[number];

export interface GradientScoreInput {
  /** Φ [M, k] row-major. */
  train: ArrayLike<number>;
  /** [Q, k] row-major. */
  queries: ArrayLike<number>;
  M: number;
  Q: number;
  k: number;
  method: GradientScoreMethod;
  /** trak's λ; null: 0.1 × trace(ΦᵀΦ) / k. */
  damping?: number | null;
}

/** The default λ of `trak`: 0.1 × the mean eigenvalue of ΦᵀΦ. */
export function defaultDamping(train: ArrayLike<number>, M: number, k: number): number {
  let trace = 0;
  for (let e = 0; e < M * k; e++) trace += train[e] * train[e];
  return (0.1 * trace) / k;
}

export { cholesky, choleskySolve };

function rowDot(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number, k: number) {
  let s = 0;
  for (let c = 0; c < k; c++) s += a[i * k + c] * b[j * k + c];
  return s;
}

/** [Q, M] row-major scores, and the λ used (trak; null otherwise). */
export function gradientScores(
  input: GradientScoreInput,
  la: LinearAlgebra = linearAlgebra(),
): { scores: Float64Array; damping: number | null } {
  const { train, queries, M, Q, k, method } = input;
  const scores = new Float64Array(Q * M);
  if (method === "dot" || method === "cosine") {
    const norm = (x: ArrayLike<number>, i: number) => Math.sqrt(rowDot(x, i, x, i, k));
    const trainNorms = Array.from({ length: M }, (_, m) => norm(train, m));
    for (let q = 0; q < Q; q++) {
      const qn = norm(queries, q);
      for (let m = 0; m < M; m++) {
        const d = rowDot(queries, q, train, m, k);
        scores[q * M + m] = method === "dot"
          ? d
          : (qn > 0 && trainNorms[m] > 0 ? d / (qn * trainNorms[m]) : 0);
      }
    }
    return { scores, damping: null };
  }
  const lambda = input.damping ?? defaultDamping(train, M, k);
  const singular = () =>
    new InvalidInputError(
      `damping ${lambda} leaves ΦᵀΦ + λI singular: give a positive damping`,
      { field: "damping", damping: lambda },
      "singular",
    );
  if (la.backend !== "typescript") {
    const products = trakWithProducts(input, lambda, la);
    if (!products) throw singular();
    return { scores: products, damping: lambda };
  }
  if (M >= k) {
    const h = new Float64Array(k * k);
    for (let m = 0; m < M; m++) {
      for (let a = 0; a < k; a++) {
        const v = train[m * k + a];
        if (v === 0) continue;
        for (let b = 0; b <= a; b++) h[a * k + b] += v * train[m * k + b];
      }
    }
    for (let a = 0; a < k; a++) h[a * k + a] += lambda;
    if (!cholesky(h, k)) throw singular();
    const x = new Float64Array(k);
    for (let q = 0; q < Q; q++) {
      for (let c = 0; c < k; c++) x[c] = queries[q * k + c];
      choleskySolve(h, k, x);
      for (let m = 0; m < M; m++) scores[q * M + m] = rowDot(x, 0, train, m, k);
    }
  } else {
    const g = new Float64Array(M * M);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j <= i; j++) g[i * M + j] = rowDot(train, i, train, j, k);
      g[i * M + i] += lambda;
    }
    if (!cholesky(g, M)) throw singular();
    const u = new Float64Array(M);
    for (let q = 0; q < Q; q++) {
      for (let m = 0; m < M; m++) u[m] = rowDot(train, m, queries, q, k);
      choleskySolve(g, M, u);
      scores.set(u, q * M);
    }
  }
  return { scores, damping: lambda };
}

/**
 * trak through dgemm and a multi-right-hand-side Cholesky solve: with M ≥ k, scores = (H⁻¹Φ_qᵀ)ᵀΦᵀ
 * for H = ΦᵀΦ + λI; with M < k, scores = (G⁻¹ΦΦ_qᵀ)ᵀ for G = ΦΦᵀ + λI. Null when not SPD.
 */
function trakWithProducts(
  input: GradientScoreInput,
  lambda: number,
  la: LinearAlgebra,
): Float64Array | null {
  const { M, Q, k } = input;
  const phi = Float64Array.from(input.train);
  const scores = new Float64Array(Q * M);
  if (M >= k) {
    const h = new Float64Array(k * k);
    la.dgemm(true, false, k, k, M, 1, phi, phi, 0, h);
    for (let a = 0; a < k; a++) h[a * k + a] += lambda;
    if (!la.cholesky(h, k)) return null;
    const x = Float64Array.from(input.queries);
    la.choleskySolve(h, k, x, Q);
    la.dgemm(false, true, Q, M, k, 1, x, phi, 0, scores);
  } else {
    const g = new Float64Array(M * M);
    la.dgemm(false, true, M, M, k, 1, phi, phi, 0, g);
    for (let m = 0; m < M; m++) g[m * M + m] += lambda;
    if (!la.cholesky(g, M)) return null;
    la.dgemm(false, true, Q, M, k, 1, input.queries, phi, 0, scores);
    la.choleskySolve(g, M, scores, Q);
  }
  return scores;
}
