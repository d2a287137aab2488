// Float64 reference of the tangents (forward-mode derivatives) of causal self-attention with a key
// padding mask (shaders/gpt2_attention_tangent.wgsl): of its forward, and of its backward. With
// these, a Hessian–vector product of the training loss is forward-over-reverse.
// Layouts as in ./attention.ts: qkv [B, T, 3d] (q | k | v, head h in columns h·hs…), keyMask
// [B, T], y and dy [B, T, d], probs [B, H, T, T]. A tangent has its primal's layout.

/**
 * The forward's tangent along qkvDot, at qkv with the primal probabilities `probs` (from
 * attention()): ṡ_ts = scale·(q̇_t·k_s + q_t·k̇_s) over visible keys,
 * ṗ_ts = p_ts·(ṡ_ts − Σ_s' p_ts'·ṡ_ts'), ẏ_t = Σ_s (ṗ_ts·v_s + p_ts·v̇_s).
 * probsDot is 0 wherever probs is masked.
 */
export function attentionTangentForward(
  qkv: ArrayLike<number>,
  qkvDot: ArrayLike<number>,
  keyMask: ArrayLike<number>,
  probs: ArrayLike<number>,
  B: number,
  T: number,
  H: number,
  hs: number,
): { yDot: Float64Array; probsDot: Float64Array } {
  const d = H * hs;
  const yDot = new Float64Array(B * T * d);
  const probsDot = new Float64Array(B * H * T * T);
  const scale = 1 / Math.sqrt(hs);
  const scoreDot = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * 3 * d + h * hs;
        const row = ((b * H + h) * T + t) * T;
        let inner = 0;
        for (let s = 0; s <= t; s++) {
          scoreDot[s] = 0;
          if (keyMask[b * T + s] === 0) continue;
          const k = (b * T + s) * 3 * d + d + h * hs;
          let dot = 0;
          for (let j = 0; j < hs; j++) {
            dot += qkvDot[q + j] * qkv[k + j] + qkv[q + j] * qkvDot[k + j];
          }
          scoreDot[s] = dot * scale;
          inner += probs[row + s] * scoreDot[s];
        }
        for (let s = 0; s <= t; s++) {
          const p = probs[row + s];
          const pDot = p * (scoreDot[s] - inner);
          probsDot[row + s] = pDot;
          const v = (b * T + s) * 3 * d + 2 * d + h * hs;
          for (let j = 0; j < hs; j++) {
            yDot[(b * T + t) * d + h * hs + j] += pDot * qkv[v + j] + p * qkvDot[v + j];
          }
        }
      }
    }
  }
  return { yDot, probsDot };
}

/**
 * The backward's tangent: the derivative of attentionBackward(qkv, probs, dy) along (qkvDot,
 * probsDot, dyDot), where probsDot is the forward's tangent along qkvDot (probs depend on qkv).
 * Returns dqkvDot [B, T, 3d].
 */
export function attentionTangentBackward(
  qkv: ArrayLike<number>,
  qkvDot: ArrayLike<number>,
  probs: ArrayLike<number>,
  probsDot: ArrayLike<number>,
  dy: ArrayLike<number>,
  dyDot: ArrayLike<number>,
  B: number,
  T: number,
  H: number,
  hs: number,
): Float64Array {
  const d = H * hs;
  const dqkvDot = new Float64Array(B * T * 3 * d);
  const scale = 1 / Math.sqrt(hs);
  const dp = new Float64Array(T);
  const dpDot = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const row = ((b * H + h) * T + t) * T;
        const q = (b * T + t) * 3 * d + h * hs;
        const go = (b * T + t) * d + h * hs;
        // inner = Σ p·dp and its tangent Σ (ṗ·dp + p·ḋp).
        let inner = 0;
        let innerDot = 0;
        for (let s = 0; s <= t; s++) {
          const v = (b * T + s) * 3 * d + 2 * d + h * hs;
          let acc = 0;
          let accDot = 0;
          for (let j = 0; j < hs; j++) {
            acc += dy[go + j] * qkv[v + j];
            accDot += dyDot[go + j] * qkv[v + j] + dy[go + j] * qkvDot[v + j];
          }
          dp[s] = acc;
          dpDot[s] = accDot;
          inner += probs[row + s] * acc;
          innerDot += probsDot[row + s] * acc + probs[row + s] * accDot;
        }
        for (let s = 0; s <= t; s++) {
          const p = probs[row + s];
          const pDot = probsDot[row + s];
          if (p === 0 && pDot === 0) continue;
          const ds = p * (dp[s] - inner) * scale;
          const dsDot = (pDot * (dp[s] - inner) + p * (dpDot[s] - innerDot)) * scale;
          const k = (b * T + s) * 3 * d + d + h * hs;
          const v = k + d;
          for (let j = 0; j < hs; j++) {
            dqkvDot[q + j] += dsDot * qkv[k + j] + ds * qkvDot[k + j];
            dqkvDot[k + j] += dsDot * qkv[q + j] + ds * qkvDot[q + j];
            dqkvDot[v + j] += pDot * dy[go + j] + p * dyDot[go + j];
          }
        }
      }
    }
  }
  return dqkvDot;
}
