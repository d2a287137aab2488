// Scores from stored projected gradients, in float64 on the CPU. Φ [M, k] holds the training
// examples' projected gradients (rows), φ_q a query's:
//   dot     φ_qᵀφ_m
//   cosine  φ_qᵀφ_m / (|φ_q||φ_m|)   (0 when either gradient is 0)
//   trak    φ_qᵀ(ΦᵀΦ + λI)⁻¹φ_m       (TRAK's kernel on projected gradients)
// trak is solved in whichever space is smaller: with M ≥ k, Cholesky of ΦᵀΦ + λI [k, k]; with
// M < k, the Woodbury identity gives φ_qᵀ(ΦᵀΦ + λI)⁻¹Φᵀ = ((ΦΦᵀ + λI)⁻¹Φφ_q)ᵀ, so each query's
// row of scores is one solve with ΦΦᵀ + λI [M, M]. λ defaults to 0.1 × the mean eigenvalue of
// ΦᵀΦ (trace / k), the heuristic the influence functions' damping uses.
import { InvalidInputError } from "../errors.ts";

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

/** In-place Cholesky factor (lower) of a symmetric positive definite [n, n]; false if not SPD. */
export function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let p = 0; p < j; p++) d -= a[j * n + p] * a[j * n + p];
    if (!(d > 0)) return false;
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let p = 0; p < j; p++) s -= a[i * n + p] * a[j * n + p];
      a[i * n + j] = s / l;
    }
  }
  return true;
}

/** Solves L·Lᵀ x = b in place for the factor from `cholesky`. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let p = 0; p < i; p++) s -= l[i * n + p] * b[p];
    b[i] = s / l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let p = i + 1; p < n; p++) s -= l[p * n + i] * b[p];
    b[i] = s / l[i * n + i];
  }
}

function rowDot(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number, k: number) {
  let s = 0;
  for (let c = 0; c < k; c++) s += a[i * k + c] * b[j * k + c];
  return s;
}

/** [Q, M] row-major scores, and the λ used (trak; null otherwise). */
export function gradientScores(
  input: GradientScoreInput,
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
