// Shared by the linear algebra tests: seeded matrices and the OpenBLAS routines. The README's test
// command must pass on a machine with nothing installed, so the tests that need the library are
// skipped where it is missing (said loudly); under CI (.ci/run installs it) a missing library
// fails instead.
import { LapackRoutines } from "../../src/linalg/lapack.ts";
import { OPENBLAS_INSTALL, openOpenBlas } from "../../src/linalg/openblas.ts";
import { seededNormal } from "../../src/random.ts";

/** Whether this machine has OpenBLAS (the tests that compare against it run only then). */
export const openblasPresent = openOpenBlas().ok;

if (!openblasPresent) {
  console.log(
    `\n${"!".repeat(72)}\nSKIPPED OpenBLAS tests: ${OPENBLAS_INSTALL}\n${"!".repeat(72)}\n`,
  );
}

/** A test that needs OpenBLAS: skipped where the library is missing. */
export function openblasTest(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, ignore: !openblasPresent, fn });
}

let lapack: LapackRoutines | null = null;

export function openblasRoutines(): LapackRoutines {
  if (lapack) return lapack;
  const opened = openOpenBlas();
  if (!opened.ok) {
    throw new Error(`OpenBLAS is not installed (${OPENBLAS_INSTALL}): ${opened.reason}`);
  }
  lapack = new LapackRoutines(opened.library);
  return lapack;
}

export function randomMatrix(rows: number, cols: number, seed: number): Float64Array {
  const r = seededNormal(seed);
  return Float64Array.from({ length: rows * cols }, () => r());
}

export function randomSymmetric(n: number, seed: number): Float64Array {
  const r = seededNormal(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = r();
  }
  return a;
}

/** XᵀX + shift·I for a Gaussian X [rows, n]: symmetric positive definite when shift > 0. */
export function randomSpd(n: number, rows: number, shift: number, seed: number): Float64Array {
  const x = randomMatrix(rows, n, seed);
  const a = new Float64Array(n * n);
  for (let t = 0; t < rows; t++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) a[i * n + j] += x[t * n + i] * x[t * n + j];
    }
  }
  for (let i = 0; i < n; i++) a[i * n + i] += shift;
  return a;
}

export function frobenius(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Plain row-major product of [m, k] and [k, n], independent of both backends. */
export function naiveProduct(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  }
  return c;
}

export function transposed(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j];
  return out;
}
