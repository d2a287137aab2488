// Float64 reference of the low-rank scoring kernels (src/influence/kernels/lowrank.ts).
// Layouts: x, y [B·T, Q·k] row-major; pairs [B, Q]; tokens [Q, B, T].

export interface LowRankScores {
  pairs: Float64Array;
  tokens: Float64Array;
  /** Σ|terms| per pair: the f32 rounding scale of `pairs`. */
  pairScale: Float64Array;
}

export function lowRankScoresReference(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  Q: number,
  B: number,
  T: number,
  k: number,
): LowRankScores {
  const pairs = new Float64Array(Q * B);
  const pairScale = new Float64Array(Q * B);
  const tokens = new Float64Array(Q * B * T);
  const width = Q * k;
  for (let q = 0; q < Q; q++) {
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const base = (b * T + t) * width + q * k;
        let acc = 0;
        for (let j = 0; j < k; j++) {
          const p = x[base + j] * y[base + j];
          acc += p;
          pairScale[b * Q + q] += Math.abs(p);
        }
        tokens[(q * B + b) * T + t] = acc;
        pairs[b * Q + q] += acc;
      }
    }
  }
  return { pairs, tokens, pairScale };
}
