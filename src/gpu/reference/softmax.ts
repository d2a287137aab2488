// Float64 references for row softmax and row log-sum-exp over the last axis of [rows, cols].

function rowMax(x: ArrayLike<number>, base: number, cols: number): number {
  let m = -Infinity;
  for (let c = 0; c < cols; c++) m = Math.max(m, x[base + c]);
  return m;
}

export function softmaxRows(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const m = rowMax(x, base, cols);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += out[base + c] = Math.exp(x[base + c] - m);
    for (let c = 0; c < cols; c++) out[base + c] /= sum;
  }
  return out;
}

export function logSumExpRows(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const m = rowMax(x, base, cols);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(x[base + c] - m);
    out[r] = m + Math.log(sum);
  }
  return out;
}

/**
 * Per-element error scales, in units of the f32 unit roundoff, for comparing an f32 softmax or
 * log-sum-exp with these references: exp(z) may be off by 3 + 2|z| ULP (WGSL's bound), z = x - max
 * carries |z|·u from its own rounding, and the row sum adds up to cols·u.
 */
export function softmaxErrorScale(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const p = softmaxRows(x, rows, cols);
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const m = rowMax(x, base, cols);
    for (let c = 0; c < cols; c++) {
      out[base + c] = p[base + c] * (8 + 5 * Math.abs(x[base + c] - m) + cols);
    }
  }
  return out;
}

export function logSumExpErrorScale(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
): Float64Array {
  const p = softmaxRows(x, rows, cols);
  const lse = logSumExpRows(x, rows, cols);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const m = rowMax(x, base, cols);
    let weighted = 0;
    for (let c = 0; c < cols; c++) weighted += p[base + c] * (8 + 5 * Math.abs(x[base + c] - m));
    out[r] = Math.abs(lse[r]) + Math.abs(m) + cols + weighted;
  }
  return out;
}
