// The label-sampling kernel (shaders/gpt2_sample.wgsl) against the float64 reference
// (src/gpt2/reference/sample.ts) on odd shapes (13 rows, a vocabulary of 101: neither a multiple
// of the workgroup size) at non-zero offsets: whole rows with padding columns, and the same
// logits as column chunks (one of padding only); rows without a draw keep their target.
//
// The GPU sums e = exp(logit - max) in f32, so a draw within ~1e-6 of a CDF boundary may land on
// either side of it: where the reference's boundary is closer than 1e-5 to the draw, the
// neighbouring column is accepted too (a real bug picks columns far from the draw).
import assert from "node:assert/strict";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { sampleLabels } from "../../src/gpt2/kernels/sample.ts";
import { sampleLabels as sampleLabelsRef } from "../../src/gpt2/reference/sample.ts";
import { seededUniform } from "../../src/random.ts";
import { kernelTest, placed, readView } from "./kernel_harness.ts";

const [rows, V] = [13, 101];
const BOUNDARY = 1e-5;

function fixture() {
  const logits = randomF32(rows * V, 31, -4, 4);
  logits[3 * V + 77] = 60; // a dominant logit far into the row
  for (let c = 0; c < V; c++) logits[4 * V + c] = c === 50 ? 0 : -200; // e underflows to 0 in f32
  for (let c = 0; c < V; c++) logits[5 * V + c] = 1.5; // uniform
  const uniform = seededUniform(32);
  const draws = Float32Array.from({ length: rows }, () => uniform());
  draws[0] = 0; // the first column
  draws[1] = 1 - 2 ** -24; // the last column
  draws[2] = -1; // keeps its target
  draws[9] = -1;
  return { logits, draws };
}

/** The columns a draw may pick: the reference's, and a neighbour whose boundary is very close. */
function allowed(logits: Float32Array, draws: Float32Array, r: number, label: number): number[] {
  const row = Float64Array.from(logits.subarray(r * V, (r + 1) * V));
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  let below = 0;
  for (let c = 0; c < label; c++) below += e[c] / sum;
  const above = below + e[label] / sum;
  const out = [label];
  if (Math.abs(draws[r] - below) < BOUNDARY && label > 0) out.push(label - 1);
  if (Math.abs(draws[r] - above) < BOUNDARY && label + 1 < V) out.push(label + 1);
  return out;
}

function checkLabels(got: Float32Array, logits: Float32Array, draws: Float32Array, what: string) {
  const ref = sampleLabelsRef(logits, rows, V, draws);
  for (let r = 0; r < rows; r++) {
    if (draws[r] < 0) {
      assert.equal(got[r], 1000 + r, `${what}: row ${r} keeps its target`);
      continue;
    }
    const ok = allowed(logits, draws, r, ref[r]);
    assert.ok(ok.includes(got[r]), `${what}: row ${r} drew ${got[r]}, reference ${ok}`);
  }
  assert.equal(got[0], 0, `${what}: a draw of 0 takes the first column`);
  assert.equal(got[1], V - 1, `${what}: a draw just below 1 takes the last column`);
  assert.equal(got[3], 77, `${what}: the dominant logit`);
  assert.equal(got[4], 50, `${what}: the only column with e > 0`);
}

kernelTest(
  "label sampling: inverse-CDF draws from softmax, whole rows and column chunks",
  async (rt) => {
    const { logits, draws } = fixture();
    const ref = sampleLabelsRef(logits, rows, V, draws);
    assert.equal(ref[5], Math.floor(draws[5] * V), "uniform row: column ⌊u·V⌋");
    const targets0 = Float32Array.from({ length: rows }, (_, r) => 1000 + r);
    const drawsT = placed(rt, draws, [rows], 2);

    // Whole rows of V + 3 columns, the padding garbage (it would dominate if it were read).
    const stride = V + 3;
    const padded = new Float32Array(rows * stride).fill(1e4);
    for (let r = 0; r < rows; r++) padded.set(logits.subarray(r * V, (r + 1) * V), r * stride);
    const state = placed(rt, new Float32Array(5 * rows).fill(7), [5 * rows], 4);
    const whole = placed(rt, targets0, [rows], 5);
    await sampleLabels(rt, placed(rt, padded, [rows, stride], 1), drawsT, V, state, whole);
    const wholeLabels = await readView(rt, whole);
    checkLabels(wholeLabels, logits, draws, "whole rows");

    // Chunks of 32, 8, 48, 16 and 8 columns: 112 ≥ V, the last 11 columns padding, the last
    // chunk padding only.
    const widths = [32, 8, 48, 16, 8];
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
    const chunked = placed(rt, targets0, [rows], 6);
    await sampleLabels(rt, chunks, drawsT, V, state, chunked);
    const chunkedLabels = await readView(rt, chunked);
    checkLabels(chunkedLabels, logits, draws, "column chunks");
    assert.deepEqual(chunkedLabels, wholeLabels, "chunks sum in the same order as whole rows");

    // Chunks out of column order, or not covering the vocabulary, are refused.
    await assert.rejects(sampleLabels(rt, [chunks[1], chunks[0]], drawsT, V, state, chunked));
    await assert.rejects(sampleLabels(rt, chunks.slice(0, 2), drawsT, V, state, chunked));
  },
);
