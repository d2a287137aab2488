// Float64 reference of the token cross-entropy and its softmax (shaders/gpt2_cross_entropy.wgsl).

/** Per-row cross-entropy of logits [rows, V] against targets, and its softmax. */
export function crossEntropy(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  rows: number,
  V: number,
): { loss: Float64Array; probs: Float64Array } {
  const loss = new Float64Array(rows);
  const probs = new Float64Array(rows * V);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < V; c++) max = Math.max(max, logits[r * V + c]);
    let sum = 0;
    for (let c = 0; c < V; c++) sum += Math.exp(logits[r * V + c] - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < V; c++) probs[r * V + c] = Math.exp(logits[r * V + c] - lse);
    loss[r] = lse - logits[r * V + targets[r]];
  }
  return { loss, probs };
}
