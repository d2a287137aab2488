// Float64 reference of the cross-entropy's tangent (shaders/gpt2_cross_entropy_tangent.wgsl):
// the directional derivatives, along logits' tangent ż, of the per-row loss lse(z) - z[target]
// and of the weighted dlogits = weight·(softmax(z) - onehot(target)) of
// src/gpt2/reference/cross_entropy.ts. With p = softmax(z) and p·ż = Σ_v p_v·ż_v:
//   lossDot = p·ż - ż[target]        dlogitsDot = weight·p⊙(ż - p·ż)
import { crossEntropy } from "./cross_entropy.ts";

/** lossDot [rows] and dlogitsDot [rows, V] for logits and logitsDot [rows, V]. */
export function crossEntropyTangent(
  logits: ArrayLike<number>,
  logitsDot: ArrayLike<number>,
  targets: ArrayLike<number>,
  weights: ArrayLike<number>,
  rows: number,
  V: number,
): { lossDot: Float64Array; dlogitsDot: Float64Array } {
  const { probs } = crossEntropy(logits, targets, rows, V);
  const lossDot = new Float64Array(rows);
  const dlogitsDot = new Float64Array(rows * V);
  for (let r = 0; r < rows; r++) {
    let meanDot = 0;
    for (let c = 0; c < V; c++) meanDot += probs[r * V + c] * logitsDot[r * V + c];
    lossDot[r] = meanDot - logitsDot[r * V + targets[r]];
    for (let c = 0; c < V; c++) {
      dlogitsDot[r * V + c] = weights[r] * probs[r * V + c] * (logitsDot[r * V + c] - meanDot);
    }
  }
  return { lossDot, dlogitsDot };
}
