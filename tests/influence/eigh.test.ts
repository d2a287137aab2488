// The float64 symmetric eigensolver: reconstruction A = QΛQᵀ and orthogonality QᵀQ = I to ~1e-13
// relative on random symmetric, PSD, rank-deficient and degenerate matrices of odd sizes; known
// spectra recovered; ascending order; edge cases (n = 0, 1, diagonal, zero, identity). Sizes above
// 32 go through the divide-and-conquer merges (deflation of zero components and of near-equal
// eigenvalues, the secular equation, Löwner's formula), which get their own hard cases.
import assert from "node:assert/strict";
import { eigh } from "../../src/influence/eigh.ts";
import { tridiagonalEigen } from "../../src/influence/tridiagonal.ts";
import { seededNormal } from "../../src/random.ts";

function randomSymmetric(n: number, seed: number): Float64Array {
  const r = seededNormal(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = r();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

/** XᵀX / rows for a rows × n Gaussian X: PSD, rank min(rows, n). */
function randomGram(n: number, rows: number, seed: number): Float64Array {
  const r = seededNormal(seed);
  const x = Float64Array.from({ length: rows * n }, () => r());
  const a = new Float64Array(n * n);
  for (let t = 0; t < rows; t++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) a[i * n + j] += x[t * n + i] * x[t * n + j] / rows;
    }
  }
  return a;
}

/** A random orthogonal matrix: a product of n Householder reflections (independent of eigh). */
function randomOrthogonal(n: number, seed: number): Float64Array {
  const r = seededNormal(seed);
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let k = 0; k < n; k++) {
    const v = Float64Array.from({ length: n }, () => r());
    const vv = v.reduce((s, x) => s + x * x, 0);
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let j = 0; j < n; j++) t += q[i * n + j] * v[j];
      for (let j = 0; j < n; j++) q[i * n + j] -= (2 * t / vv) * v[j];
    }
  }
  return q;
}

/** Q·diag(values)·Qᵀ. */
function compose(q: Float64Array, values: ArrayLike<number>, n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * values[k] * q[j * n + k];
      a[i * n + j] = s;
    }
  }
  return a;
}

function frobenius(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** ‖A − QΛQᵀ‖_F / ‖A‖_F, ‖QᵀQ − I‖_F, and the order check. */
function checkDecomposition(a: Float64Array, n: number, tol = 1e-13) {
  const { values, vectors } = eigh(a, n);
  assert.equal(values.length, n);
  assert.equal(vectors.length, n * n);
  for (let j = 1; j < n; j++) assert.ok(values[j - 1] <= values[j], `ascending at ${j}`);
  const back = compose(vectors, values, n);
  const diff = back.map((v, i) => v - a[i]);
  const scale = Math.max(frobenius(a), Number.MIN_VALUE);
  const reconstruction = frobenius(diff) / scale;
  assert.ok(
    reconstruction <= tol * Math.max(1, Math.sqrt(n)),
    `n=${n}: ‖A − QΛQᵀ‖/‖A‖ = ${reconstruction}`,
  );
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[k * n + i] * vectors[k * n + j];
      gram[i * n + j] = s - (i === j ? 1 : 0);
    }
  }
  const orthogonality = frobenius(gram);
  assert.ok(
    orthogonality <= tol * Math.max(1, Math.sqrt(n)),
    `n=${n}: ‖QᵀQ − I‖ = ${orthogonality}`,
  );
  return { values, vectors, reconstruction, orthogonality };
}

Deno.test("eigh: random symmetric matrices of odd sizes; values only (QL) agrees", () => {
  for (const n of [1, 2, 3, 7, 33, 100]) {
    const a = randomSymmetric(n, 10 + n);
    const { values } = checkDecomposition(a, n);
    const only = eigh(a, n, { valuesOnly: true });
    assert.equal(only.vectors.length, 0);
    const top = Math.max(Math.abs(values[0]), Math.abs(values[n - 1]));
    only.values.forEach((v, i) =>
      assert.ok(Math.abs(v - values[i]) <= 1e-13 * top, `n=${n}: λ${i}`)
    );
  }
});

Deno.test("eigh: PSD and rank-deficient Gram matrices (eigenvalues ≥ −ε, zeros found)", () => {
  for (const [n, rows] of [[7, 50], [33, 10], [100, 3], [100, 400]]) {
    const { values } = checkDecomposition(randomGram(n, rows, n + rows), n);
    const top = values[n - 1];
    assert.ok(values[0] >= -1e-13 * top, `n=${n}: smallest ${values[0]}`);
    // A rank-r Gram matrix has n − r zero eigenvalues (to rounding) and r positive ones.
    const rank = Math.min(n, rows);
    for (let j = 0; j < n - rank; j++) assert.ok(Math.abs(values[j]) <= 1e-13 * top);
    assert.ok(values[n - rank] > 1e-6 * top);
  }
});

Deno.test("eigh: a known spectrum with repeated eigenvalues is recovered", () => {
  for (const n of [7, 33, 100]) {
    const spectrum = Array.from(
      { length: n },
      (_, i) => [-2, 0, 0, 1, 1, 1, 5][i % 7] + (i % 7 === 6 ? i : 0),
    );
    const q = randomOrthogonal(n, n);
    const a = compose(q, spectrum, n);
    const { values } = checkDecomposition(a, n);
    const sorted = [...spectrum].sort((x, y) => x - y);
    const top = Math.max(...sorted.map(Math.abs));
    sorted.forEach((v, i) =>
      assert.ok(
        Math.abs(values[i] - v) <= 1e-13 * top * n,
        `n=${n}: λ${i} = ${values[i]}, expected ${v}`,
      )
    );
    // A repeated eigenvalue's eigenvectors still span its eigenspace: A·q = λ·q column by column.
    const { vectors } = eigh(a, n);
    for (let j = 0; j < n; j++) {
      let worst = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k] * vectors[k * n + j];
        worst = Math.max(worst, Math.abs(s - values[j] * vectors[i * n + j]));
      }
      assert.ok(worst <= 1e-12 * top, `n=${n}: column ${j} residual ${worst}`);
    }
  }
});

Deno.test("eigh: edge cases (empty, 1 × 1, zero, identity, diagonal, already tridiagonal)", () => {
  assert.deepEqual(eigh(new Float64Array(0), 0).values, new Float64Array(0));
  const one = eigh(Float64Array.of(-3.5), 1);
  assert.deepEqual([...one.values, ...one.vectors], [-3.5, 1]);
  const zero = eigh(new Float64Array(25), 5);
  assert.deepEqual([...zero.values], [0, 0, 0, 0, 0]);
  checkDecomposition(new Float64Array(25), 5);
  const identity = new Float64Array(49);
  for (let i = 0; i < 7; i++) identity[i * 7 + i] = 1;
  assert.deepEqual([...eigh(identity, 7).values], [1, 1, 1, 1, 1, 1, 1]);
  checkDecomposition(identity, 7);
  const diagonal = new Float64Array(16);
  [3, -1, 2, 0].forEach((v, i) => (diagonal[i * 4 + i] = v));
  const dec = eigh(diagonal, 4);
  assert.deepEqual([...dec.values], [-1, 0, 2, 3]);
  // Eigenvector of −1 is ±e_1 (column 0 holds it).
  assert.equal(Math.abs(dec.vectors[1 * 4 + 0]), 1);
  const tri = new Float64Array(9 * 9);
  for (let i = 0; i < 9; i++) {
    tri[i * 9 + i] = 2;
    if (i + 1 < 9) tri[i * 9 + i + 1] = tri[(i + 1) * 9 + i] = -1;
  }
  const { values } = checkDecomposition(tri, 9);
  // The 1-D Laplacian: λ_k = 2 − 2cos(kπ/(n+1)).
  values.forEach((v, k) =>
    assert.ok(Math.abs(v - (2 - 2 * Math.cos((k + 1) * Math.PI / 10))) < 1e-14)
  );
});

Deno.test("eigh: only the upper triangle is read; bad input is refused", () => {
  const a = randomSymmetric(7, 3);
  const upper = Float64Array.from(a, (v, idx) => (idx % 7 >= Math.floor(idx / 7) ? v : 999));
  assert.deepEqual(eigh(upper, 7).values, eigh(a, 7).values);
  assert.throws(() => eigh(new Float64Array(8), 3), RangeError);
  assert.throws(() => eigh(Float64Array.of(1, NaN, NaN, 1), 2), RangeError);
  const big = eigh(Float64Array.of(1e300, 1e300, 1e300, 1e300), 2).values;
  assert.ok(Math.abs(big[1] - 2e300) <= 1e286 && Math.abs(big[0]) <= 1e286);
  const tiny = eigh(Float64Array.of(1e-300, 2e-300, 2e-300, 1e-300), 2).values;
  assert.ok(Math.abs(tiny[0] + 1e-300) <= 1e-314 && Math.abs(tiny[1] - 3e-300) <= 1e-314);
});

Deno.test("eigh: divide and conquer on hard spectra (clusters, grading, heavy deflation)", () => {
  const n = 201;
  const cases: [string, (i: number) => number][] = [
    // Tight clusters: near-equal eigenvalues that deflate by rotation, and some that do not.
    ["clusters", (i) => Math.floor(i / 10) + (i % 10) * 1e-9],
    // Graded like a covariance spectrum: 1 down to 1e-14.
    ["graded", (i) => 10 ** (-14 * i / (n - 1))],
    // Mostly zeros with a few large values: most z components deflate.
    ["low rank", (i) => (i % 50 === 0 ? 3 + i : 0)],
    // Evenly spaced, both signs.
    ["spaced", (i) => i - 100],
  ];
  for (const [name, value] of cases) {
    const spectrum = Array.from({ length: n }, (_, i) => value(i));
    const a = compose(randomOrthogonal(n, 7), spectrum, n);
    const { values } = checkDecomposition(a, n);
    const sorted = [...spectrum].sort((x, y) => x - y);
    const top = Math.max(...sorted.map(Math.abs));
    sorted.forEach((v, i) =>
      assert.ok(
        Math.abs(values[i] - v) <= 1e-13 * top * Math.sqrt(n),
        `${name}: λ${i} = ${values[i]} vs ${v}`,
      )
    );
  }
});

Deno.test("tridiagonal divide and conquer: Wilkinson W⁺ (pairs agreeing to many digits) and glued blocks", () => {
  for (const n of [21, 101, 257]) {
    // W⁺: d_i = |i − (n−1)/2|, e = 1; its largest eigenvalues come in pairs closer than 1e-13.
    const d = Float64Array.from({ length: n }, (_, i) => Math.abs(i - (n - 1) / 2));
    const e = new Float64Array(n - 1).fill(1);
    // Glue: a few tiny couplings split T into nearly independent blocks.
    if (n > 100) { for (let i = 37; i < n - 1; i += 50) e[i] = 1e-12; }
    const { values, rows } = tridiagonalEigen(d, e, n);
    let worst = 0, orth = 0;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const tv = d[i] * rows[j * n + i] + (i > 0 ? e[i - 1] * rows[j * n + i - 1] : 0) +
          (i + 1 < n ? e[i] * rows[j * n + i + 1] : 0);
        worst = Math.max(worst, Math.abs(tv - values[j] * rows[j * n + i]));
      }
      for (let k = 0; k <= j; k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += rows[j * n + i] * rows[k * n + i];
        orth = Math.max(orth, Math.abs(s - (j === k ? 1 : 0)));
      }
      if (j > 0) assert.ok(values[j - 1] <= values[j]);
    }
    const norm = Math.max(...values.map(Math.abs));
    assert.ok(worst <= 1e-14 * n * norm, `n=${n}: residual ${worst}`);
    assert.ok(orth <= 1e-14 * n, `n=${n}: orthogonality ${orth}`);
  }
});
