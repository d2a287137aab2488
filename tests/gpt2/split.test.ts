// Models larger than one storage binding (GPT-2-124M on llvmpipe's 128 MiB): parameters in
// several segments, wte in vocabulary blocks, logits in column chunks. The GPU path is forced
// on a tiny model by lowering the binding limit the model plans for, and checked against the
// float64 reference with the tolerances of parity.test.ts.
import assert from "node:assert/strict";
import { assertClose, maxAbs } from "../../src/gpu/reference/compare.ts";
import { prepareBatch } from "../../src/gpt2/batch.ts";
import { dimsOf, parameterCount, parseGpt2Config } from "../../src/gpt2/config.ts";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import { BatchTooLargeError } from "../../src/gpt2/workspace.ts";
import {
  maxSegmentElements,
  packParams,
  paramLayout,
  unpackParams,
} from "../../src/gpt2/layout.ts";
import {
  type Params64,
  referenceBackward,
  referenceForward,
  toParams64,
} from "../../src/gpt2/reference/model.ts";
import { adamState64, adamwStep, clipGradNorm } from "../../src/gpt2/reference/optimizer.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { spreadParams, tinyBatch, tinyConfig } from "../helpers/model_fixtures.ts";
import { toApiError } from "../../src/http/api_error.ts";

Deno.test("GPT-2-124M under a 128 MiB binding: segments, vocabulary blocks, decay split", () => {
  const config = parseGpt2Config({
    vocab_size: 50257,
    n_positions: 1024,
    n_embd: 768,
    n_layer: 12,
    n_head: 12,
  });
  const max = maxSegmentElements({ maxStorageBufferBindingSize: 128 * 1024 * 1024 });
  const layout = paramLayout(config, max);
  assert.equal(layout.paddedVocab, 50260);
  assert.deepEqual(layout.vocabBlocks.map((b) => [b.start, b.rows]), [[0, 43688], [43688, 6572]]);
  assert.ok(layout.segments.length > 1);
  assert.ok(layout.segments.every((s) => s.size <= max && s.decayEnd <= s.size));
  // Every element is a parameter, wte's 3 padding rows, or 4-alignment (none at d = 768).
  assert.equal(layout.total, parameterCount(config) + 3 * 768);
  // Slots never overlap or leave their segment; decayed ones lie below their segment's decayEnd.
  for (const slot of layout.slots.filter((s) => s.name !== "wte.weight")) {
    const segment = layout.segments[slot.segment];
    assert.ok(slot.offset + slot.reserved <= segment.size, slot.name);
    assert.equal(slot.offset + slot.size <= segment.decayEnd, slot.decay, slot.name);
    assert.equal(slot.offset % 4, 0);
  }
  // Layer-norm weight and bias share a buffer (their kernels bind one).
  for (const prefix of ["h.0.ln_1", "h.11.ln_2", "ln_f"]) {
    const w = layout.byName.get(`${prefix}.weight`)!, b = layout.byName.get(`${prefix}.bias`)!;
    assert.equal(w.segment, b.segment);
  }
  // Without a limit: one segment, as before.
  const whole = paramLayout(config);
  assert.equal(whole.segments.length, 1);
  assert.equal(whole.vocabBlocks.length, 1);
  assert.equal(whole.total, layout.total);
});

Deno.test("pack / unpack round-trips across segments and vocabulary blocks", () => {
  const config = tinyConfig({ vocab_size: 101 });
  const set = spreadParams(config, 7);
  for (const max of [Infinity, 1024, 1600]) {
    const layout = paramLayout(config, max);
    const flats = packParams(layout, set.values);
    assert.deepEqual(flats.map((f) => f.length), layout.segments.map((s) => s.size));
    const back = unpackParams(layout, flats);
    for (const [name, v] of set.values) assert.deepEqual(back.get(name), v, `${name} (max ${max})`);
  }
  assert.throws(() => paramLayout(config, 512), /exceeds the largest buffer this GPU can bind/);
});

Deno.test("a model split across bindings matches the float64 reference", gpuTest, async () => {
  const rt = await testRuntime();
  // V = 101 (104 padded rows of 16): blocks of 64 rows; 21 rows of logits: chunks of 48 columns.
  const config = tinyConfig({ vocab_size: 101 });
  const rawBatch = tinyBatch(config);
  const batch = prepareBatch(rawBatch, config);
  const set = spreadParams(config, 1);
  const model = Gpt2Model.create(rt, set, { maxBindingElements: 1024 });
  const hp = {
    kind: "adamw" as const,
    lr: 1e-2,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: 0.1,
    maxGradNorm: 0.5,
  };
  const optimizer = model.createOptimizer(hp);
  try {
    assert.ok(model.layout.segments.length > 2, "parameters span several buffers");
    assert.deepEqual(model.layout.vocabBlocks.map((b) => [b.start, b.rows]), [[0, 64], [64, 40]]);
    const p64 = toParams64(set);
    const ref = referenceForward(p64, config, batch);
    const evalOnly = await model.forward(rawBatch);
    assert.throws(() => model.logits(), /3 column chunks/);
    assertClose(await model.readLogits(), ref.logits, { abs: 1e-5 }, "logits");
    assertClose(evalOnly.tokenLoss, ref.tokenLoss, { abs: 1e-5 }, "token losses");
    assertClose(evalOnly.perExample, ref.perExample, { abs: 1e-5 }, "per-example losses");

    const res = await model.computeGradients(rawBatch);
    assert.ok(Math.abs(res.loss - ref.loss) < 1e-5);
    const g64 = referenceBackward(p64, config, batch, ref);
    const grads = await model.readGrads();
    for (const [name, g] of g64) {
      assertClose(grads.get(name)!, g, { abs: 2e-5 * maxAbs(g) + 1e-9 }, `gradient ${name}`);
    }
    let sq = 0;
    for (const g of g64.values()) for (const v of g) sq += v * v;
    assert.ok(Math.abs(res.gradNorm - Math.sqrt(sq)) < 1e-5 * Math.sqrt(sq), "norm over segments");

    // AdamW with clipping on the global norm, every segment updated with its own decay split.
    // Adam divides by √v, so an element whose gradient is below the GPU's rounding error
    // (2e-5·max|g| of its tensor) moves by a noise-driven ±lr: such elements are only held to
    // |Δ| ≤ 2·lr·steps (parity.test.ts does so for the key bias, whose gradient is 0).
    const adam = adamState64(p64);
    const steps = 3;
    const noisy = new Map([...p64].map(([name, v]) => [name, new Uint8Array(v.length)]));
    for (let step = 0; step < steps; step++) {
      const gpu = await model.trainStep(rawBatch, optimizer);
      const fwd = referenceForward(p64, config, batch);
      const g: Params64 = referenceBackward(p64, config, batch, fwd);
      for (const [name, v] of g) {
        const floor = 2e-5 * maxAbs(v);
        v.forEach((x, i) => Math.abs(x) <= floor && (noisy.get(name)![i] = 1));
      }
      const norm = clipGradNorm(g, hp.maxGradNorm);
      assert.ok(norm > hp.maxGradNorm, "clipping must be active in this test");
      assert.ok(Math.abs(gpu.loss - fwd.loss) < 1e-5, `step ${step} loss`);
      assert.ok(Math.abs(gpu.gradNorm - norm) < 1e-5 * norm, `step ${step} norm`);
      adamwStep(p64, g, adam, hp, config);
    }
    const after = await model.readParams();
    let checked = 0;
    for (const [name, expected] of p64) {
      const got = after.values.get(name)!;
      for (let i = 0; i < got.length; i++) {
        const bound = noisy.get(name)![i] ? 2 * hp.lr * steps : 2e-6;
        checked += noisy.get(name)![i] ? 0 : 1;
        assert.ok(
          Math.abs(got[i] - expected[i]) <= bound,
          `${name}[${i}]: ${got[i]} vs ${expected[i]}`,
        );
      }
    }
    // The exemption stays rare: the key biases (32 elements, all noise) and a few tiny gradients.
    const all = [...p64.values()].reduce((n, v) => n + v.length, 0);
    assert.ok(checked >= 0.97 * all, `only ${checked} of ${all} elements held to 2e-6`);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
});

Deno.test(
  "a batch whose activations exceed one binding is refused before any GPU work",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const config = tinyConfig({ n_positions: 1024 });
    const model = Gpt2Model.create(rt, spreadParams(config, 1));
    try {
      const { H } = dimsOf(config);
      const bindable = maxSegmentElements(rt.device.limits);
      // Attention probabilities [B, H, T, T] just past the binding limit.
      const T = 1024;
      const B = Math.floor(bindable / (H * T * T)) + 1;
      const batch = { B, T, tokens: new Array(B * T).fill(5) };
      await assert.rejects(
        () => model.forward(batch),
        (e) =>
          e instanceof BatchTooLargeError && toApiError(e)?.status === 400 &&
          e.details.batchSize === B &&
          /use a smaller batch/.test(e.message),
      );
    } finally {
      model.dispose();
    }
  },
);
