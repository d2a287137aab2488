// The token + position embedding kernels (shaders/gpt2_embedding.wgsl) against the float64
// reference (src/gpt2/reference/embedding.ts), on odd shapes at non-zero offsets, with wte whole
// and in row blocks.
import assert from "node:assert/strict";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import {
  embeddingBackward,
  embeddingForward,
  tokenGroups,
} from "../../src/gpt2/kernels/embedding.ts";
import {
  embedding,
  embeddingBackward as embeddingBackwardRef,
} from "../../src/gpt2/reference/embedding.ts";
import { kernelTest, placed, readView, upload } from "./kernel_harness.ts";

kernelTest("embedding forward and atomics-free backward", async (rt) => {
  const [B, T, V, P, d] = [3, 5, 11, 7, 13];
  const N = B * T;
  const tokens = Float32Array.from({ length: N }, (_, i) => (i * 7 + (i % 3)) % V);
  const wte = randomF32(V * d, 1), wpe = randomF32(P * d, 2), dx = randomF32(N * d, 3);
  const weights = new Float32Array(V * d + P * d + 8);
  weights.set(wte, 4);
  weights.set(wpe, 4 + V * d + 2);
  const wt = upload(rt, weights);
  const wteT = wt.view([V, d], undefined, 4), wpeT = wt.view([P, d], undefined, 4 + V * d + 2);
  const tok = placed(rt, tokens, [N], 2);
  const expected = embedding(tokens, wte, wpe, T, d);
  const groups = tokenGroups(tokens);
  assert.ok(groups.distinct < N, "the test needs repeated ids");
  const ids = groups.data.subarray(0, groups.distinct);
  const gT = placed(rt, groups.data, [groups.data.length], 1);
  const dxT = placed(rt, dx, [N, d], 5);
  const gradRef = Float64Array.from(weights, (v) => v / 2);
  const scale = Float64Array.from(gradRef, Math.abs);
  const wpeAt = 4 + V * d + 2;
  embeddingBackwardRef(
    tokens,
    dx,
    T,
    d,
    gradRef.subarray(4, 4 + V * d),
    gradRef.subarray(wpeAt, wpeAt + P * d),
  );
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < d; c++) {
      scale[4 + tokens[r] * d + c] += Math.abs(dx[r * d + c]);
      scale[4 + V * d + 2 + (r % T) * d + c] += Math.abs(dx[r * d + c]);
    }
  }

  // wte whole, in the buffer that holds wpe.
  const x = placed(rt, new Float32Array(N * d), [N, d], 1);
  await embeddingForward(rt, tok, wteT, wpeT, T, x);
  assertClose(await readView(rt, x), expected, { abs: 0, rel: 2 ** -24 }, "embedding forward");
  const grads = upload(rt, weights.map((v) => v / 2)); // backward adds into existing values
  await embeddingBackward(
    rt,
    gT,
    ids,
    B,
    T,
    dxT,
    grads.view([V, d], undefined, 4),
    grads.view([P, d], undefined, 4 + V * d + 2),
  );
  assertClose(await rt.readOne(grads), gradRef, { rel: 2 ** -22, scale }, "embedding backward");

  // wte as row blocks [0, 4), [4, 5), [5, 11) in buffers of their own, x starting as garbage.
  const starts = [0, 4, 5, V];
  const blocks = (source: Float32Array, at: number) =>
    starts.slice(0, -1).map((start, k) => {
      const rows = starts[k + 1] - start;
      const part = source.slice(at + start * d, at + (start + rows) * d);
      return { weight: placed(rt, part, [rows, d], 2 + k), start };
    });
  const xBlocks = placed(rt, new Float32Array(N * d).fill(3), [N, d], 1);
  await embeddingForward(rt, tok, blocks(weights, 4), wpeT, T, xBlocks);
  assertClose(await readView(rt, xBlocks), expected, { abs: 0, rel: 2 ** -24 }, "forward, blocks");
  const halves = weights.map((v) => v / 2);
  const gradBlocks = blocks(halves, 4);
  const dwpe = placed(rt, halves.slice(4 + V * d + 2, 4 + V * d + 2 + P * d), [P, d], 3);
  await embeddingBackward(rt, gT, ids, B, T, dxT, gradBlocks, dwpe);
  const [dwpeGot, ...dwteGot] = await Promise.all([
    readView(rt, dwpe),
    ...gradBlocks.map((b) => readView(rt, b.weight)),
  ]);
  const dwteAll = new Float32Array(V * d);
  dwteGot.forEach((part, k) => dwteAll.set(part, starts[k] * d));
  const refOf = (from: number, n: number) => gradRef.slice(from, from + n);
  const scaleOf = (from: number, n: number) => scale.slice(from, from + n);
  assertClose(
    dwteAll,
    refOf(4, V * d),
    { rel: 2 ** -22, scale: scaleOf(4, V * d) },
    "dwte, blocks",
  );
  assertClose(
    dwpeGot,
    refOf(wpeAt, P * d),
    { rel: 2 ** -22, scale: scaleOf(wpeAt, P * d) },
    "dwpe",
  );
});
