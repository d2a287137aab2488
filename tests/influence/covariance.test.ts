// influence_covariance against its float64 reference: masked, bias-augmented rows on odd shapes
// (padding rows holding garbage, even non-finite), then the Gram accumulation.
import assert from "node:assert/strict";
import { accumulateCovariance, maskRows } from "../../src/influence/kernels/covariance.ts";
import { gramReference, maskRowsReference } from "../../src/influence/reference/covariance.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

Deno.test(
  "influence covariance: masked rows and C += rowsᵀ·rows on odd shapes",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    for (
      const [rows, cols, appendOne] of [[1, 1, true], [7, 5, true], [37, 33, false], [
        65,
        19,
        true,
      ]] as const
    ) {
      const x = randomF32(rows * cols, rows + cols);
      const mask = Float32Array.from({ length: rows }, (_, r) => (r % 3 === 2 ? 0 : 1));
      // A padded row's activations must not leak, whatever they are.
      if (rows > 2) x[2 * cols] = NaN;
      const outCols = cols + (appendOne ? 1 : 0);
      const xT = rt.tensor(x, [rows, cols]);
      const maskT = rt.tensor(mask);
      const masked = rt.zeros([rows, outCols]);
      await maskRows(rt, xT, maskT, masked, appendOne);
      const want = maskRowsReference(x, mask, rows, cols, appendOne);
      const got = await rt.readOne(masked);
      assertClose(got, want, { abs: 0 }, `masked rows ${rows}x${cols}`);

      const before = randomF32(outCols * outCols, 7);
      const cov = rt.tensor(before, [outCols, outCols]);
      await accumulateCovariance(rt, masked, cov);
      const gram = gramReference(want, rows, outCols);
      const expected = gram.values.map((v, i) => v + before[i]);
      const scale = gram.scale.map((s, i) => s + Math.abs(before[i]));
      assertClose(
        await rt.readOne(cov),
        expected,
        { rel: (rows + 3) * 2 ** -24, scale },
        "covariance",
      );
      for (const t of [xT, maskT, masked, cov]) t.dispose();
    }
  },
);

Deno.test("influence covariance: shapes that disagree are RangeErrors", gpuTest, async () => {
  const rt = await testRuntime();
  const x = rt.zeros([4, 3]);
  await assert.rejects(() => maskRows(rt, x, rt.zeros([4]), rt.zeros([4, 3]), true), RangeError);
  await assert.rejects(() => maskRows(rt, x, rt.zeros([5]), rt.zeros([5, 4]), true), RangeError);
});
