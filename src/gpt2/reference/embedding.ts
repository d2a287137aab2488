// Float64 reference of the token + position embedding (shaders/gpt2_embedding.wgsl), forward and
// backward. Rows r = b·T + t of N = B·T; token ids index wte [V, d], positions wpe [P, d].

/** x [N, d]: x[r] = wte[tokens[r]] + wpe[r mod T]. */
export function embedding(
  tokens: ArrayLike<number>,
  wte: ArrayLike<number>,
  wpe: ArrayLike<number>,
  T: number,
  d: number,
): Float64Array {
  const x = new Float64Array(tokens.length * d);
  for (let r = 0; r < tokens.length; r++) {
    const id = tokens[r], t = r % T;
    for (let c = 0; c < d; c++) x[r * d + c] = wte[id * d + c] + wpe[t * d + c];
  }
  return x;
}

/** Adds dx [N, d] into dwte[tokens[r]] and dwpe[r mod T], row by row. */
export function embeddingBackward(
  tokens: ArrayLike<number>,
  dx: ArrayLike<number>,
  T: number,
  d: number,
  dwte: Float64Array,
  dwpe: Float64Array,
): void {
  for (let r = 0; r < tokens.length; r++) {
    const id = tokens[r], t = r % T;
    for (let c = 0; c < d; c++) {
      dwte[id * d + c] += dx[r * d + c];
      dwpe[t * d + c] += dx[r * d + c];
    }
  }
}
