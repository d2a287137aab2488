// The model's own kernels (shaders/model_*.wgsl) one by one against the float64 references of
// src/model/reference.ts, on odd shapes (nothing a multiple of a workgroup), at non-zero tensor
// offsets, including a left-padded row whose first query sees no key at all.
import assert from "node:assert/strict";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import type { Tensor } from "../../src/gpu/tensor.ts";
import {
  adamwUpdate,
  attentionBackward,
  attentionForward,
  crossEntropyChunked,
  crossEntropyForward,
  crossEntropyForwardBackward,
  embeddingBackward,
  embeddingForward,
  layerNormBackwardInput,
  layerNormBackwardParams,
  layerNormForward,
  sgdUpdate,
  tokenGroups,
} from "../../src/gpt2/kernels.ts";
import {
  attention,
  attentionBackward as attentionBackwardRef,
  crossEntropy,
  layerNorm,
  layerNormBackward,
} from "../../src/gpt2/reference/model.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

// Every buffer a test makes, disposed when it ends.
const made: Tensor[] = [];

function upload(rt: GpuRuntime, data: ArrayLike<number>): Tensor {
  const t = rt.tensor(data);
  made.push(t);
  return t;
}

function disposeAll(): void {
  for (const t of made.splice(0)) t.dispose();
}

/** A tensor of `data` placed at element offset `at` of a larger zero buffer (offsets matter). */
function placed(rt: GpuRuntime, data: Float32Array, shape: number[], at = 3): Tensor {
  const buffer = new Float32Array(at + data.length + 5);
  buffer.set(data, at);
  return upload(rt, buffer).view(shape, undefined, at);
}

/** A GPU test whose buffers are released afterwards. */
function kernelTest(name: string, body: (rt: GpuRuntime) => Promise<void>): void {
  Deno.test(name, gpuTest, async () => {
    const rt = await testRuntime();
    try {
      await body(rt);
    } finally {
      disposeAll();
    }
  });
}

async function readView(rt: GpuRuntime, t: Tensor): Promise<Float32Array> {
  const whole = await rt.readOne(t.view([t.buffer.size / 4], undefined, 0));
  return whole.slice(t.offset, t.offset + t.size);
}

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
  const expected = Float64Array.from({ length: N * d }, (_, i) => {
    const r = Math.floor(i / d), c = i % d;
    return wte[tokens[r] * d + c] + wpe[(r % T) * d + c];
  });
  const groups = tokenGroups(tokens);
  assert.ok(groups.distinct < N, "the test needs repeated ids");
  const ids = groups.data.subarray(0, groups.distinct);
  const gT = placed(rt, groups.data, [groups.data.length], 1);
  const dxT = placed(rt, dx, [N, d], 5);
  const gradRef = Float64Array.from(weights, (v) => v / 2);
  const scale = Float64Array.from(gradRef, Math.abs);
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < d; c++) {
      gradRef[4 + tokens[r] * d + c] += dx[r * d + c];
      gradRef[4 + V * d + 2 + (r % T) * d + c] += dx[r * d + c];
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
  const wpeAt = 4 + V * d + 2;
  assertClose(
    dwpeGot,
    refOf(wpeAt, P * d),
    { rel: 2 ** -22, scale: scaleOf(wpeAt, P * d) },
    "dwpe",
  );
});

kernelTest("layer norm forward, input and parameter backward", async (rt) => {
  const [rows, d, eps] = [19, 23, 1e-5];
  // A large shared mean tests the two-pass variance.
  const x = randomF32(rows * d, 4).map((v, i) => v + (i % 5 === 0 ? 30 : 0));
  const w = randomF32(d, 5, 0.5, 1.5), b = randomF32(d, 6);
  const dy = randomF32(rows * d, 7), dres = randomF32(rows * d, 8);
  const wb = new Float32Array(2 * d + 6);
  wb.set(w, 2);
  wb.set(b, d + 4);
  const wbT = upload(rt, wb);
  const xT = placed(rt, x, [rows, d]);
  const y = placed(rt, new Float32Array(rows * d), [rows, d], 7);
  const stats = placed(rt, new Float32Array(2 * rows), [2 * rows], 1);
  await layerNormForward(
    rt,
    xT,
    wbT.view([d], undefined, 2),
    wbT.view([d], undefined, d + 4),
    eps,
    y,
    stats,
  );
  const ref = layerNorm(x, w, b, rows, d, eps);
  assertClose(await readView(rt, y), ref.y, { abs: 2e-5 }, "layer norm forward");
  const st = await readView(rt, stats);
  assertClose(st.subarray(0, rows), ref.mean, { abs: 1e-5 }, "mean");
  assertClose(st.subarray(rows), ref.rstd, { abs: 0, rel: 2e-5 }, "rstd");

  const dwRef = new Float64Array(d), dbRef = new Float64Array(d);
  const dxRef = layerNormBackward(x, w, ref, dy, rows, d, dwRef, dbRef);
  for (const residual of [false, true]) {
    const dx = placed(rt, new Float32Array(rows * d), [rows, d], 2);
    await layerNormBackwardInput(
      rt,
      xT,
      wbT.view([d], undefined, 2),
      placed(rt, dy, [rows, d], 4),
      stats,
      residual ? placed(rt, dres, [rows, d], 6) : null,
      dx,
    );
    const expected = dxRef.map((v, i) => v + (residual ? dres[i] : 0));
    assertClose(
      await readView(rt, dx),
      expected,
      { abs: 1e-4 },
      `layer norm dx (residual ${residual})`,
    );
  }
  const grads = upload(rt, new Float32Array(2 * d + 9).fill(0.25));
  await layerNormBackwardParams(
    rt,
    xT,
    placed(rt, dy, [rows, d], 4),
    stats,
    grads.view([d], undefined, 1),
    grads.view([d], undefined, d + 5),
  );
  const g = await rt.readOne(grads);
  assertClose(g.subarray(1, 1 + d), dwRef.map((v) => v + 0.25), { abs: 1e-4 }, "dw");
  assertClose(g.subarray(d + 5, 2 * d + 5), dbRef.map((v) => v + 0.25), { abs: 1e-5 }, "db");
  assert.equal(g[0], 0.25);
});

kernelTest("causal attention with padding: forward and backward", async (rt) => {
  const [B, T, H, hs] = [3, 6, 3, 5];
  const d = H * hs;
  const qkv = randomF32(B * T * 3 * d, 9, -2, 2);
  const dy = randomF32(B * T * d, 10);
  // Row 0 full, row 1 left-padded by two (its first two queries see no key), row 2 right-padded.
  const mask = Float32Array.from({ length: B * T }, (_, i) => {
    const b = Math.floor(i / T), t = i % T;
    return (b === 1 && t < 2) || (b === 2 && t >= 4) ? 0 : 1;
  });
  const qkvT = placed(rt, qkv, [B * T, 3 * d], 1);
  const y = placed(rt, new Float32Array(B * T * d).fill(9), [B * T, d], 2);
  const probs = placed(rt, new Float32Array(B * H * T * T).fill(9), [B, H, T, T], 3);
  await attentionForward(rt, { B, T, H, hs }, qkvT, placed(rt, mask, [B * T], 4), y, probs);
  const ref = attention(qkv, mask, B, T, H, hs);
  assertClose(await readView(rt, y), ref.y, { abs: 1e-5 }, "attention output");
  const p = await readView(rt, probs);
  assertClose(p, ref.probs, { abs: 1e-6 }, "attention probabilities");
  // The fully masked query (b = 1, t = 0) has an all-zero row and output.
  for (let h = 0; h < H; h++) assert.equal(p[((1 * H + h) * T + 0) * T], 0);

  const dscores = placed(rt, new Float32Array(B * H * T * T), [B, H, T, T], 5);
  const dqkv = placed(rt, new Float32Array(B * T * 3 * d).fill(9), [B * T, 3 * d], 6);
  await attentionBackward(
    rt,
    { B, T, H, hs },
    qkvT,
    probs,
    placed(rt, dy, [B * T, d], 7),
    dscores,
    dqkv,
  );
  const dRef = attentionBackwardRef(qkv, ref.probs, dy, B, T, H, hs);
  assertClose(await readView(rt, dqkv), dRef, { abs: 2e-5 }, "dqkv");
});

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

kernelTest("AdamW and SGD updates with decay split and in-kernel clipping", async (rt) => {
  const n = 37, decayEnd = 20;
  const w = randomF32(n, 13),
    g = randomF32(n, 14),
    m0 = randomF32(n, 15),
    v0 = randomF32(n, 16, 0, 1);
  let sq = 0;
  for (const x of g) sq += x * x;
  const norm = Math.sqrt(sq);
  for (const maxNorm of [0, norm / 3]) {
    const coef = maxNorm > 0 ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
    const hp = { lr: 0.03, beta1: 0.8, beta2: 0.9, eps: 1e-6, weightDecay: 0.2, step: 3 };
    const params = upload(rt, w), m = upload(rt, m0), v = upload(rt, v0);
    const range = {
      params,
      grads: upload(rt, g),
      decayEnd,
      normSq: upload(rt, [sq]),
      maxNorm,
    };
    await adamwUpdate(rt, range, m, v, hp);
    const [wg, mg, vg] = await rt.read([params, m, v]);
    const bc1 = 1 - hp.beta1 ** 3, bc2 = 1 - hp.beta2 ** 3;
    const mr = m0.map((x, i) => hp.beta1 * x + (1 - hp.beta1) * coef * g[i]);
    const vr = v0.map((x, i) => hp.beta2 * x + (1 - hp.beta2) * (coef * g[i]) ** 2);
    const wr = Float64Array.from(w, (x, i) => {
      const decayed = x - hp.lr * (i < decayEnd ? hp.weightDecay : 0) * x;
      return decayed - hp.lr * (mr[i] / bc1) / (Math.sqrt(vr[i] / bc2) + hp.eps);
    });
    assertClose(mg, mr, { abs: 1e-6 }, "adam m");
    assertClose(vg, vr, { abs: 1e-6 }, "adam v");
    assertClose(wg, wr, { abs: 2e-6 }, `adamw weights (maxNorm ${maxNorm})`);

    const sgdParams = upload(rt, w), buf = upload(rt, m0);
    await sgdUpdate(rt, { ...range, params: sgdParams }, buf, {
      lr: 0.1,
      momentum: 0.7,
      weightDecay: 0.2,
    });
    const [ws, bs] = await rt.read([sgdParams, buf]);
    const br = Float64Array.from(m0, (x, i) => 0.7 * x + coef * g[i]);
    assertClose(bs, br, { abs: 1e-6 }, "sgd buffer");
    assertClose(
      ws,
      Float64Array.from(w, (x, i) => x - 0.1 * (i < decayEnd ? 0.2 : 0) * x - 0.1 * br[i]),
      { abs: 1e-6 },
      "sgd weights",
    );
  }
});
