// projection_dense against its float64 reference on odd shapes, and its signs against the
// TypeScript hash bit for bit.
import assert from "node:assert/strict";
import { hashProject } from "../../src/projection/kernels/dense.ts";
import { hashProjectReference } from "../../src/projection/reference/dense.ts";
import { projectionSign } from "../../src/projection/hash.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

const EPS = 2 ** -24;

Deno.test("projection dense: x·P on odd shapes, strided output, accumulate", gpuTest, async () => {
  const rt = await testRuntime();
  const cases: [number, number, number, number][] = [
    [1, 1, 1, 0],
    [3, 67, 5, 7],
    [9, 1001, 130, 0],
    [13, 5003, 67, 1 << 20],
    [1, 20011, 33, 3],
  ];
  for (const [rows, p, k, base] of cases) {
    const what = `${rows}x${p} → ${k} (base ${base})`;
    const x = randomF32(rows * p, rows * 7 + p);
    const scale = 1 / Math.sqrt(k);
    const seed = 1000 + p;
    const want = hashProjectReference(x, rows, p, k, seed, scale, base);
    // Σ_i |x_ri|·scale bounds each output's rounding error.
    const bound = new Float64Array(rows * k);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let i = 0; i < p; i++) s += Math.abs(x[r * p + i]);
      bound.fill(s * scale, r * k, (r + 1) * k);
    }
    // out is a column block [rows, k] at column 2 of a [rows, k + 3] matrix.
    const wide = k + 3;
    const prior = Float32Array.from(randomF32(rows * wide, 99, -1, 1));
    const xT = rt.tensor(x, [rows, p]);
    const outT = rt.tensor(prior, [rows, wide]);
    const view = outT.view([rows, k], [wide, 1], 2);
    const scratch = rt.zeros([rows * k * 16]);
    for (const accumulate of [false, true]) {
      rt.write(outT, prior);
      await hashProject(rt, xT, view, scratch, { seed, scale, base, accumulate });
      const got = await rt.readOne(outT);
      const expected = Float64Array.from(prior);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < k; j++) {
          expected[r * wide + 2 + j] = (accumulate ? prior[r * wide + 2 + j] : 0) + want[r * k + j];
        }
      }
      const tol = Float64Array.from(expected, (_, e) => {
        const r = Math.floor(e / wide), j = (e % wide) - 2;
        return j >= 0 && j < k ? bound[r * k + j] + 1 : 0;
      });
      assertClose(got, expected, { rel: (p + 16) * EPS, scale: tol }, `${what} acc=${accumulate}`);
    }
    xT.dispose();
    outT.dispose();
    scratch.dispose();
  }
});

Deno.test(
  "projection dense: the kernel's signs are the TypeScript hash's, bit for bit",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    // Projecting the identity reads P out exactly: each entry is a single ±1 term.
    const p = 203, k = 77, base = 4_000_000_001 - p, seed = 0xdeadbeef;
    const eye = new Float32Array(p * p);
    for (let i = 0; i < p; i++) eye[i * p + i] = 1;
    const xT = rt.tensor(eye, [p, p]);
    const outT = rt.zeros([p, k]);
    const scratch = rt.zeros([p * k * 4]);
    await hashProject(rt, xT, outT, scratch, { seed, scale: 1, base });
    const got = await rt.readOne(outT);
    let negatives = 0;
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < k; j++) {
        const want = projectionSign(seed, base + i, j);
        if (got[i * k + j] !== want) {
          assert.fail(`P[${i}, ${j}] is ${got[i * k + j]} on the GPU, ${want} in TypeScript`);
        }
        if (want < 0) negatives++;
      }
    }
    // A fair sign: 15,631 draws, within 5 standard deviations of half.
    assert.ok(
      Math.abs(negatives - (p * k) / 2) < 5 * Math.sqrt(p * k) / 2,
      `${negatives} negatives`,
    );
    xT.dispose();
    outT.dispose();
    scratch.dispose();
  },
);
