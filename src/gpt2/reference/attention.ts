// Float64 reference of causal self-attention with a key padding mask
// (shaders/gpt2_attention.wgsl), forward and backward.

/**
 * Causal self-attention with a key padding mask. qkv [B, T, 3d] (q | k | v, heads contiguous
 * inside each); returns y [B, T, d] and the probabilities [B, H, T, T] (0 where masked; a query
 * with no visible key gets an all-zero row and output 0).
 */
export function attention(
  qkv: ArrayLike<number>,
  keyMask: ArrayLike<number>,
  B: number,
  T: number,
  H: number,
  hs: number,
): { y: Float64Array; probs: Float64Array } {
  const d = H * hs;
  const y = new Float64Array(B * T * d);
  const probs = new Float64Array(B * H * T * T);
  const scale = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * 3 * d + h * hs;
        const row = ((b * H + h) * T + t) * T;
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          if (keyMask[b * T + s] === 0) continue;
          const k = (b * T + s) * 3 * d + d + h * hs;
          let dot = 0;
          for (let j = 0; j < hs; j++) dot += qkv[q + j] * qkv[k + j];
          probs[row + s] = dot * scale;
          max = Math.max(max, dot * scale);
        }
        if (max === -Infinity) continue;
        let sum = 0;
        for (let s = 0; s <= t; s++) {
          if (keyMask[b * T + s] === 0) continue;
          probs[row + s] = Math.exp(probs[row + s] - max);
          sum += probs[row + s];
        }
        for (let s = 0; s <= t; s++) {
          if (keyMask[b * T + s] === 0) continue;
          probs[row + s] /= sum;
          const v = (b * T + s) * 3 * d + 2 * d + h * hs;
          for (let j = 0; j < hs; j++) {
            y[(b * T + t) * d + h * hs + j] += probs[row + s] * qkv[v + j];
          }
        }
      }
    }
  }
  return { y, probs };
}

/** dqkv [B, T, 3d] from dy [B, T, d]. */
export function attentionBackward(
  qkv: ArrayLike<number>,
  probs: ArrayLike<number>,
  dy: ArrayLike<number>,
  B: number,
  T: number,
  H: number,
  hs: number,
): Float64Array {
  const d = H * hs;
  const dqkv = new Float64Array(B * T * 3 * d);
  const scale = 1 / Math.sqrt(hs);
  const dp = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const row = ((b * H + h) * T + t) * T;
        const q = (b * T + t) * 3 * d + h * hs;
        const go = (b * T + t) * d + h * hs;
        let inner = 0;
        for (let s = 0; s <= t; s++) {
          const v = (b * T + s) * 3 * d + 2 * d + h * hs;
          let acc = 0;
          for (let j = 0; j < hs; j++) acc += dy[go + j] * qkv[v + j];
          dp[s] = acc;
          inner += probs[row + s] * acc;
        }
        for (let s = 0; s <= t; s++) {
          const p = probs[row + s];
          if (p === 0) continue;
          const ds = p * (dp[s] - inner) * scale;
          const k = (b * T + s) * 3 * d + d + h * hs;
          const v = k + d;
          for (let j = 0; j < hs; j++) {
            dqkv[q + j] += ds * qkv[k + j];
            dqkv[k + j] += ds * qkv[q + j];
            dqkv[v + j] += p * dy[go + j];
          }
        }
      }
    }
  }
  return dqkv;
}
