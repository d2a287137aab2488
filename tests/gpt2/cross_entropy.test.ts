// The cross-entropy kernels (shaders/gpt2_cross_entropy.wgsl) against the float64 reference
// (src/gpt2/reference/cross_entropy.ts), on odd shapes at non-zero offsets, with padded rows and
// with the logits split into column chunks.
import assert from "node:assert/strict";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import {
  crossEntropyChunked,
  crossEntropyForward,
  crossEntropyForwardBackward,
} from "../../src/gpt2/kernels/cross_entropy.ts";
import { crossEntropy } from "../../src/gpt2/reference/cross_entropy.ts";
import { kernelTest, placed, readView } from "./kernel_harness.ts";

kernelTest("cross-entropy fused with softmax: losses and weighted dlogits", async (rt) => {
  const [rows, V] = [13, 29];
  const logits = randomF32(rows * V, 11, -8, 8);
  logits[5 * V + 3] = 60; // a dominant logit must not overflow
  const targets = Float32Array.from({ length: rows }, (_, r) => (r * 5) % V);
  const weights = randomF32(rows, 12, 0, 1).map((v, r) => (r % 4 === 0 ? 0 : v));
  const ref = crossEntropy(logits, targets, rows, V);
  const dRef = Float64Array.from(
    ref.probs,
    (p, i) => weights[Math.floor(i / V)] * (p - (i % V === targets[Math.floor(i / V)] ? 1 : 0)),
  );
  // Rows of `stride` columns, the last stride - V being vocabulary padding (garbage, ignored).
  for (const stride of [V, V + 3]) {
    const padded = new Float32Array(rows * stride).fill(1e4);
    for (let r = 0; r < rows; r++) padded.set(logits.subarray(r * V, (r + 1) * V), r * stride);
    const lT = placed(rt, padded, [rows, stride], 1);
    const tT = placed(rt, targets, [rows], 2);
    const lossOnly = placed(rt, new Float32Array(rows), [rows], 3);
    await crossEntropyForward(rt, lT, tT, lossOnly, V);
    const tol = { abs: 1e-5, rel: 1e-6 };
    assertClose(await readView(rt, lossOnly), ref.loss, tol, `loss (forward, stride ${stride})`);
    const loss = placed(rt, new Float32Array(rows), [rows], 4);
    const dl = placed(rt, new Float32Array(rows * stride).fill(7), [rows, stride], 5);
    await crossEntropyForwardBackward(rt, lT, tT, placed(rt, weights, [rows], 6), loss, dl, V);
    assertClose(await readView(rt, loss), ref.loss, tol, `loss (stride ${stride})`);
    const dPadded = new Float64Array(rows * stride);
    for (let r = 0; r < rows; r++) dPadded.set(dRef.subarray(r * V, (r + 1) * V), r * stride);
    assertClose(await readView(rt, dl), dPadded, { abs: 1e-6 }, `dlogits (stride ${stride})`);
  }
});

kernelTest("cross-entropy over column chunks equals the one-sweep kernels", async (rt) => {
  const [rows, V] = [13, 29];
  const logits = randomF32(rows * V, 21, -8, 8);
  logits[5 * V + 20] = 60; // the dominant logit sits in a later chunk than the row's start
  const targets = Float32Array.from({ length: rows }, (_, r) => (r * 5) % V);
  const weights = randomF32(rows, 22, 0, 1).map((v, r) => (r % 4 === 0 ? 0 : v));
  const ref = crossEntropy(logits, targets, rows, V);
  const dRef = Float64Array.from(
    ref.probs,
    (p, i) => weights[Math.floor(i / V)] * (p - (i % V === targets[Math.floor(i / V)] ? 1 : 0)),
  );
  // Chunks of 8, 4, 12 and 8 columns: 32 ≥ V, the last 3 columns padding (garbage, ignored),
  // then a chunk of padding only.
  const widths = [8, 4, 12, 8, 4];
  const chunks = widths.map((w, k) => {
    const colStart = widths.slice(0, k).reduce((a, b) => a + b, 0);
    const data = new Float32Array(rows * w).fill(1e4);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < w && colStart + c < V; c++) {
        data[r * w + c] = logits[r * V + colStart + c];
      }
    }
    return { logits: placed(rt, data, [rows, w], 1 + k), colStart };
  });
  const tT = placed(rt, targets, [rows], 2);
  const stats = placed(rt, new Float32Array(3 * rows).fill(5), [3 * rows], 3);
  const loss = placed(rt, new Float32Array(rows), [rows], 4);
  const dlogits = widths.map((w, k) =>
    placed(rt, new Float32Array(rows * w).fill(7), [rows, w], k)
  );
  const tol = { abs: 1e-5, rel: 1e-6 };
  await crossEntropyChunked(rt, chunks, tT, V, stats, loss);
  assertClose(await readView(rt, loss), ref.loss, tol, "loss (forward only)");
  await crossEntropyChunked(rt, chunks, tT, V, stats, loss, {
    weights: placed(rt, weights, [rows], 6),
    dlogits,
  });
  assertClose(await readView(rt, loss), ref.loss, tol, "loss");
  const parts = await Promise.all(dlogits.map((t) => readView(rt, t)));
  parts.forEach((part, k) => {
    const w = widths[k], colStart = chunks[k].colStart;
    const expected = Float64Array.from({ length: rows * w }, (_, i) => {
      const r = Math.floor(i / w), col = colStart + (i % w);
      return col < V ? dRef[r * V + col] : 0;
    });
    assertClose(part, expected, { abs: 1e-6 }, `dlogits chunk ${k}`);
  });
  // Chunks out of column order, or not covering the vocabulary, are refused.
  await assert.rejects(crossEntropyChunked(rt, [chunks[1], chunks[0]], tT, V, stats, loss));
  await assert.rejects(crossEntropyChunked(rt, chunks.slice(0, 2), tT, V, stats, loss));
});
