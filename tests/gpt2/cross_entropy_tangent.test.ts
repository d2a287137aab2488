// The cross-entropy's tangent kernel (shaders/gpt2_cross_entropy_tangent.wgsl): the float64
// reference (src/gpt2/reference/cross_entropy_tangent.ts) against central differences of the
// float64 primal (src/gpt2/reference/cross_entropy.ts and the dlogits formula), then the kernel
// against the reference on odd shapes at non-zero offsets, with padded rows.
import assert from "node:assert/strict";
import { assertClose, maxAbs } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { crossEntropyTangent } from "../../src/gpt2/kernels/cross_entropy_tangent.ts";
import { crossEntropy } from "../../src/gpt2/reference/cross_entropy.ts";
import { crossEntropyTangent as crossEntropyTangentRef } from "../../src/gpt2/reference/cross_entropy_tangent.ts";
import { kernelTest, placed, readView } from "./kernel_harness.ts";

/** The primal's loss and weighted dlogits = weights·(softmax - onehot), in float64. */
function lossAndDlogits(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  weights: ArrayLike<number>,
  rows: number,
  V: number,
): [Float64Array, Float64Array] {
  const { loss, probs } = crossEntropy(logits, targets, rows, V);
  const dlogits = Float64Array.from(probs, (p, i) => {
    const r = Math.floor(i / V);
    return weights[r] * (p - (i % V === targets[r] ? 1 : 0));
  });
  return [loss, dlogits];
}

function problem(rows: number, V: number, seed: number) {
  const logits = randomF32(rows * V, seed, -8, 8);
  logits[5 * V + 3] = 60; // a dominant logit must not overflow
  const logitsDot = randomF32(rows * V, seed + 1);
  const targets = Float32Array.from({ length: rows }, (_, r) => (r * 5) % V);
  targets[rows - 1] = V - 1; // the last vocabulary column is a target too
  // Some rows weigh 0: their dlogitsDot is 0, their lossDot is still written.
  const weights = randomF32(rows, seed + 2, 0, 1).map((v, r) => (r % 4 === 0 ? 0 : v));
  return { logits, logitsDot, targets, weights };
}

Deno.test("cross-entropy tangent reference equals central differences of the primal (float64)", () => {
  const [rows, V, h] = [6, 11, 1e-5];
  const { logits, logitsDot, targets, weights } = problem(rows, V, 41);
  const at = (t: number) =>
    lossAndDlogits(
      Float64Array.from(logits, (z, i) => z + t * logitsDot[i]),
      targets,
      weights,
      rows,
      V,
    );
  const [[lossPlus, dPlus], [lossMinus, dMinus]] = [at(h), at(-h)];
  const lossFd = lossPlus.map((v, i) => (v - lossMinus[i]) / (2 * h));
  const dFd = dPlus.map((v, i) => (v - dMinus[i]) / (2 * h));
  const ref = crossEntropyTangentRef(logits, logitsDot, targets, weights, rows, V);
  // Truncation h²·|f'''| and rounding |f|·1e-16/h: far under 1e-8 of the largest.
  assertClose(ref.lossDot, lossFd, { abs: 1e-8 * maxAbs(lossFd) }, "lossDot vs fd");
  assertClose(ref.dlogitsDot, dFd, { abs: 1e-8 * maxAbs(dFd) }, "dlogitsDot vs fd");
  assert.ok(maxAbs(lossFd) > 0.1 && maxAbs(dFd) > 0.01, "the tangents are not trivially 0");
});

kernelTest("cross-entropy tangent: lossDot and weighted dlogitsDot, padded rows", async (rt) => {
  const [rows, V] = [13, 37];
  const { logits, logitsDot, targets, weights } = problem(rows, V, 51);
  const ref = crossEntropyTangentRef(logits, logitsDot, targets, weights, rows, V);
  // Rows of `stride` columns, the last stride - V being padding (garbage, ignored).
  for (const stride of [V, V + 3]) {
    const pad = (data: Float32Array) => {
      const padded = new Float32Array(rows * stride).fill(1e4);
      for (let r = 0; r < rows; r++) padded.set(data.subarray(r * V, (r + 1) * V), r * stride);
      return padded;
    };
    const lossDot = placed(rt, new Float32Array(rows).fill(7), [rows], 4);
    const dlogitsDot = placed(rt, new Float32Array(rows * stride).fill(7), [rows, stride], 5);
    await crossEntropyTangent(
      rt,
      placed(rt, pad(logits), [rows, stride], 1),
      placed(rt, pad(logitsDot), [rows, stride], 3),
      placed(rt, targets, [rows], 2),
      placed(rt, weights, [rows], 6),
      lossDot,
      dlogitsDot,
      V,
    );
    // f32 rounding of lse (|lse| <= 60) shifts every p by ~1e-6 relative; sums of V terms.
    assertClose(await readView(rt, lossDot), ref.lossDot, { abs: 1e-5, rel: 1e-6 }, "lossDot");
    const expected = new Float64Array(rows * stride);
    for (let r = 0; r < rows; r++) {
      expected.set(ref.dlogitsDot.subarray(r * V, (r + 1) * V), r * stride);
    }
    assertClose(await readView(rt, dlogitsDot), expected, { abs: 1e-6 }, `dlogitsDot ${stride}`);
  }
  const [few, wide] = [placed(rt, new Float32Array(rows), [rows]), placed(rt, logits, [rows, V])];
  await assert.rejects(
    crossEntropyTangent(rt, wide, wide, few, few, few, few, V),
    /dlogitsDot must be contiguous/,
  );
  await assert.rejects(
    crossEntropyTangent(rt, wide, wide, few, few, few, wide, V + 1),
    /vocabulary 38/,
  );
});
