// Float64 references for the reductions, each with the sum of |terms| per output: the scale
// that bounds an f32 summation's rounding error (|error| <= ~n·2^-24·sum|terms|).

export interface Sums {
  value: Float64Array;
  /** sum of |terms| per output. */
  magnitude: Float64Array;
}

export function rowSums(
  a: ArrayLike<number>,
  rows: number,
  cols: number,
  b?: ArrayLike<number>,
): Sums {
  const value = new Float64Array(rows);
  const magnitude = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const term = b ? a[i] * b[i] : a[i];
      value[r] += term;
      magnitude[r] += Math.abs(term);
    }
  }
  return { value, magnitude };
}

export function colSums(a: ArrayLike<number>, rows: number, cols: number): Sums {
  const value = new Float64Array(cols);
  const magnitude = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const term = a[r * cols + c];
      value[c] += term;
      magnitude[c] += Math.abs(term);
    }
  }
  return { value, magnitude };
}

export function dot(x: ArrayLike<number>, y: ArrayLike<number>): Sums {
  return rowSums(x, 1, x.length, y);
}
