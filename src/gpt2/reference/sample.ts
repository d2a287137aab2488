// Float64 reference of label sampling (shaders/gpt2_sample.wgsl): inverse-CDF draws from
// softmax(logits) per row.

/**
 * For each row of logits [rows, V] with draws[r] ≥ 0: the first column with positive probability
 * at which the cumulative softmax probability reaches draws[r]; -1 for rows with draws[r] < 0.
 */
export function sampleLabels(
  logits: ArrayLike<number>,
  rows: number,
  V: number,
  draws: ArrayLike<number>,
): Int32Array {
  const labels = new Int32Array(rows).fill(-1);
  for (let r = 0; r < rows; r++) {
    const u = draws[r];
    if (u < 0) continue;
    let max = -Infinity;
    for (let c = 0; c < V; c++) max = Math.max(max, logits[r * V + c]);
    let sum = 0;
    for (let c = 0; c < V; c++) sum += Math.exp(logits[r * V + c] - max);
    let cumulative = 0;
    for (let c = 0; c < V; c++) {
      const p = Math.exp(logits[r * V + c] - max) / sum;
      cumulative += p;
      if (p > 0) labels[r] = c; // the last column with p > 0, should rounding leave u unreached
      if (p > 0 && cumulative >= u) break;
    }
  }
  return labels;
}
