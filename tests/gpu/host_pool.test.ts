// The CPU backend's threads (src/gpu/host/pool/): a split kernel computes the same bits in parts
// on several threads as whole on one, a worker's failure reaches the dispatching thread as an
// error (not a hang), and the parts cover every item exactly once.
import assert from "node:assert/strict";
import fc from "fast-check";
import { GpuRuntime } from "../../src/gpu/runtime.ts";
import { HostBuffer } from "../../src/gpu/host/host_buffer.ts";
import { partRange } from "../../src/gpu/host/pool/split.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { attentionBackward, attentionForward } from "../../src/gpt2/kernels/attention.ts";
import { openBlasLibrary } from "../../src/linalg/select.ts";
import { parseGpt2Config } from "../../src/gpt2/config.ts";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import { initParams } from "../../src/gpt2/params.ts";
import { BYTE_VOCAB_SIZE } from "../../src/text/byte_tokenizer.ts";
import { buildBatch } from "../../src/training/encode.ts";
import { sequences } from "../../bench/influence.ts";
import { syntheticStudy } from "../../bench/simfluence.ts";
import { fitSimulator } from "../../src/simfluence/math/fit.ts";

const ignore = !openBlasLibrary();

async function poolOf(threads: number): Promise<GpuRuntime> {
  const rt = await GpuRuntime.create({ backend: "cpu", cpuThreads: threads });
  const started = Date.now();
  while ((rt.pool?.readyWorkers ?? 0) < threads - 1) {
    if (Date.now() - started > 60_000) throw new Error("the CPU workers did not start");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return rt;
}

/** `work` whole on one thread and in parts on three; the pool's split dispatches besides. */
async function wholeAndParts<T>(
  work: (rt: GpuRuntime) => Promise<T>,
): Promise<{ whole: T; parts: T; splits: number }> {
  const one = await GpuRuntime.create({ backend: "cpu", cpuThreads: 1 });
  const three = await poolOf(3);
  try {
    assert.equal(one.pool, null);
    assert.equal(three.pool?.readyWorkers, 2);
    const whole = await work(one);
    const parts = await work(three);
    return { whole, parts, splits: three.pool!.splitDispatches };
  } finally {
    one.close();
    three.close();
  }
}

/** Attention forward and backward with padding; every output, read back. */
async function attentionOutputs(rt: GpuRuntime): Promise<Float32Array[]> {
  // 10 heads over 3 threads: parts of 3, 3 and 4 heads.
  const [B, T, H, hs] = [5, 7, 2, 5];
  const d = H * hs;
  const mask = Float32Array.from({ length: B * T }, (_, i) => (i % T < 2 && i >= 2 * T ? 0 : 1));
  const qkv = rt.tensor(randomF32(B * T * 3 * d, 21, -2, 2), [B * T, 3 * d]);
  const y = rt.zeros([B * T, d]);
  const probs = rt.zeros([B, H, T, T]);
  await attentionForward(rt, { B, T, H, hs }, qkv, rt.tensor(mask, [B * T]), y, probs);
  const dscores = rt.zeros([B, H, T, T]);
  const dqkv = rt.zeros([B * T, 3 * d]);
  const dy = rt.tensor(randomF32(B * T * d, 22), [B * T, d]);
  await attentionBackward(rt, { B, T, H, hs }, qkv, probs, dy, dscores, dqkv);
  return await rt.read([y, probs, dscores, dqkv]);
}

Deno.test({
  name: "attention in parts on three threads equals attention whole on one, bit for bit",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { whole, parts, splits } = await wholeAndParts(attentionOutputs);
    assert.equal(splits, 3);
    const names = ["y", "probs", "dscores", "dqkv"];
    whole.forEach((x, i) => assert.deepEqual(parts[i], x, names[i]));
    assert.ok(whole[0].some((v) => v !== 0));
  },
});

/** Two AdamW training steps of a small GPT-2; the losses and every parameter after them. */
async function trainedParams(rt: GpuRuntime): Promise<{ losses: number[]; params: number[] }> {
  const config = parseGpt2Config({
    vocab_size: BYTE_VOCAB_SIZE,
    n_positions: 16,
    n_embd: 24,
    n_layer: 2,
    n_head: 3,
  });
  const model = Gpt2Model.create(rt, initParams(config, 4));
  const optimizer = model.createOptimizer({ kind: "adamw", lr: 1e-2, weightDecay: 0.1 });
  try {
    const batch = buildBatch(sequences("p", 5, 16, BYTE_VOCAB_SIZE, 3));
    const losses = [];
    for (let step = 0; step < 2; step++) {
      losses.push((await model.trainStep(batch, optimizer)).loss);
    }
    const params = [...(await model.readParams()).values.values()].flatMap((t) => [...t]);
    return { losses, params };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

Deno.test({
  name: "training steps in parts (attention, GELU, LayerNorm, bias sums, AdamW) equal whole",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { whole, parts, splits } = await wholeAndParts(trainedParams);
    // Every split kernel of two steps ran in parts (4 kinds a layer and more).
    assert.ok(splits > 40, `${splits} split`);
    assert.deepEqual(parts.losses, whole.losses);
    assert.equal(parts.params.length, whole.params.length);
    assert.deepEqual(parts.params, whole.params);
  },
});

Deno.test({
  name: "a Simfluence fit with its solver's kernels in parts equals the fit whole",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const n = 60, m = 37;
    const { runs } = syntheticStudy(n, m, 6, 30);
    const universe = {
      trainIds: Array.from({ length: n }, (_, i) => `e${i}`),
      testIds: Array.from({ length: m }, (_, z) => `q${z}`),
    };
    const fit = (rt: GpuRuntime) =>
      fitSimulator(rt, universe, runs, { kind: "linear", lambdaFactor: 0.1 });
    const { whole, parts, splits } = await wholeAndParts(fit);
    assert.ok(splits > 10, `${splits} split`);
    assert.deepEqual(parts.params.A, whole.params.A);
    assert.deepEqual(parts.params.B, whole.params.B);
    assert.ok(whole.params.A.some((v) => v !== 0));
  },
});

Deno.test({
  name: "a worker's failure is the dispatch's error, and the pool goes on",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const rt = await poolOf(2);
    try {
      const call = {
        key: { shader: "none" },
        defines: {},
        overrides: {},
        buffers: [new HostBuffer(16, true)],
        u: [],
        f: [],
        workgroups: [1, 1, 1] as [number, number, number],
      };
      let ranHere = 0;
      assert.throws(
        () => rt.pool!.run("no_such_kernel", call, () => ranHere++),
        /CPU worker failed in no_such_kernel: .*no split CPU port named no_such_kernel/,
      );
      assert.equal(ranHere, 1);
      // The same pool still runs real work in parts.
      const [y] = await attentionOutputs(rt);
      assert.ok(y.some((v) => v !== 0));
    } finally {
      rt.close();
    }
  },
});

Deno.test("the parts of n items cover each exactly once, in order", () => {
  fc.assert(
    fc.property(fc.nat(1000), fc.integer({ min: 1, max: 17 }), (n, count) => {
      let next = 0;
      for (let index = 0; index < count; index++) {
        const [from, to] = partRange(n, { index, count });
        assert.equal(from, next);
        assert.ok(to >= from && to - from <= Math.ceil(n / count));
        next = to;
      }
      assert.equal(next, n);
    }),
  );
});
