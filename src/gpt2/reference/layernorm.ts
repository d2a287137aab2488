// Float64 reference of LayerNorm over the last axis (shaders/gpt2_layernorm.wgsl), forward and
// backward.

export interface LayerNormCache {
  mean: Float64Array;
  rstd: Float64Array;
}

export function layerNorm(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  rows: number,
  d: number,
  eps: number,
): { y: Float64Array } & LayerNormCache {
  const y = new Float64Array(rows * d);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < d; c++) m += x[r * d + c];
    m /= d;
    let v = 0;
    for (let c = 0; c < d; c++) v += (x[r * d + c] - m) ** 2;
    v /= d;
    const s = 1 / Math.sqrt(v + eps);
    mean[r] = m;
    rstd[r] = s;
    for (let c = 0; c < d; c++) y[r * d + c] = (x[r * d + c] - m) * s * w[c] + b[c];
  }
  return { y, mean, rstd };
}

/** dx (returned) and dw, db (accumulated) of LayerNorm. */
export function layerNormBackward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  cache: LayerNormCache,
  dy: ArrayLike<number>,
  rows: number,
  d: number,
  dw: Float64Array,
  db: Float64Array,
): Float64Array {
  const dx = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const m = cache.mean[r], s = cache.rstd[r];
    let meanG = 0, meanGX = 0;
    for (let c = 0; c < d; c++) {
      const xhat = (x[r * d + c] - m) * s;
      const g = dy[r * d + c] * w[c];
      meanG += g;
      meanGX += g * xhat;
      dw[c] += dy[r * d + c] * xhat;
      db[c] += dy[r * d + c];
    }
    meanG /= d;
    meanGX /= d;
    for (let c = 0; c < d; c++) {
      const xhat = (x[r * d + c] - m) * s;
      dx[r * d + c] = s * (dy[r * d + c] * w[c] - meanG - xhat * meanGX);
    }
  }
  return dx;
}
