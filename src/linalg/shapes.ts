// Input checks shared by both backends, with the messages of src/influence/eigh.ts and svd.ts.

/** A square n × n matrix whose upper triangle (row-major) is finite, as eigh requires. */
export function checkSquare(a: ArrayLike<number>, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`matrix size ${n} is not a size`);
  if (a.length !== n * n) {
    throw new RangeError(`matrix has ${a.length} entries, expected ${n}·${n} = ${n * n}`);
  }
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      if (!Number.isFinite(a[i * n + j])) {
        throw new RangeError(`matrix entry (${i}, ${j}) is ${a[i * n + j]}`);
      }
    }
  }
}

export function checkShape(m: ArrayLike<number>, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`shape [${rows}, ${cols}] is not a shape`);
  }
  if (m.length !== rows * cols) {
    throw new RangeError(`matrix has ${m.length} entries, expected ${rows}·${cols}`);
  }
}
