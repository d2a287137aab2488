// Float64 reference of a Conv1D linear layer (Hugging Face GPT-2's layout: W [nIn, nOut]), forward
// and backward, for the reference model.

/** y[r, o] = b[o] + Σ_i x[r, i]·W[i, o] (Conv1D layout W [nIn, nOut]). */
export function linear(
  x: Float64Array,
  W: Float64Array,
  b: Float64Array,
  rows: number,
  nIn: number,
) {
  const nOut = b.length;
  const y = new Float64Array(rows * nOut);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < nOut; o++) y[r * nOut + o] = b[o];
    for (let i = 0; i < nIn; i++) {
      const xv = x[r * nIn + i];
      for (let o = 0; o < nOut; o++) y[r * nOut + o] += xv * W[i * nOut + o];
    }
  }
  return y;
}

/** dx = dy·Wᵀ; dW += xᵀ·dy; db += Σ_r dy. */
export function linearBackward(
  x: Float64Array,
  W: Float64Array,
  dy: Float64Array,
  rows: number,
  nIn: number,
  nOut: number,
  dW: Float64Array,
  db: Float64Array,
): Float64Array {
  const dx = new Float64Array(rows * nIn);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < nOut; o++) db[o] += dy[r * nOut + o];
    for (let i = 0; i < nIn; i++) {
      const xv = x[r * nIn + i];
      let acc = 0;
      for (let o = 0; o < nOut; o++) {
        const g = dy[r * nOut + o];
        acc += g * W[i * nOut + o];
        dW[i * nOut + o] += xv * g;
      }
      dx[r * nIn + i] = acc;
    }
  }
  return dx;
}
