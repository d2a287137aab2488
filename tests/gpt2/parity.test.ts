// The GPU model against the float64 reference (src/gpt2/reference/model.ts) on a tiny config
// (2 layers, d = 16, 2 heads, V = 37, T = 7, B = 3; row 1 right-padded, a loss mask on the
// first two tokens): logits, losses, every parameter's gradient, the per-token linear-layer taps,
// and the weights after 5 AdamW steps (with clipping active) and 3 SGD steps.
//
// Tolerances are f32 rounding over the depth of the computation: values of size ~1 carry
// errors ~1e-6 (measured ≤ 1.4e-6 for logits, ≤ 2.2e-6·max|g| for gradients); the bounds below
// leave ~5-10× margin and are still far below any real bug (a wrong term is O(max|g|)).
import assert from "node:assert/strict";
import { assertClose, maxAbs } from "../../src/gpu/reference/compare.ts";
import { prepareBatch } from "../../src/gpt2/batch.ts";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import { GpuOptimizer } from "../../src/gpt2/optimizer.ts";
import {
  type Params64,
  referenceBackward,
  referenceForward,
  toParams64,
  zerosLike,
} from "../../src/gpt2/reference/model.ts";
import {
  adamState64,
  adamwStep,
  clipGradNorm,
  sgdStep,
} from "../../src/gpt2/reference/optimizer.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { spreadParams, tinyBatch, tinyConfig } from "../helpers/model_fixtures.ts";

const config = tinyConfig();
const rawBatch = tinyBatch(config);
const batch = prepareBatch(rawBatch, config);

function assertGradsClose(actual: Map<string, Float32Array>, expected: Params64, what: string) {
  for (const [name, ref] of expected) {
    assertClose(actual.get(name)!, ref, { abs: 2e-5 * maxAbs(ref) + 1e-9 }, `${what} ${name}`);
  }
}

Deno.test("GPU forward and gradients match the float64 reference", gpuTest, async () => {
  const rt = await testRuntime();
  const set = spreadParams(config, 1);
  const model = Gpt2Model.create(rt, set);
  try {
    const p64 = toParams64(set);
    const ref = referenceForward(p64, config, batch);
    const evalOnly = await model.forward(rawBatch);
    const logits = await model.readLogits();
    assert.equal(model.logits().shape[1], 40); // 37 padded to a multiple of 4
    assertClose(logits, ref.logits, { abs: 1e-5 }, "logits");
    assertClose(evalOnly.tokenLoss, ref.tokenLoss, { abs: 1e-5 }, "token losses");
    assertClose(evalOnly.perExample, ref.perExample, { abs: 1e-5 }, "per-example losses");
    assert.ok(Math.abs(evalOnly.loss - ref.loss) < 1e-5);
    // The padded row has fewer counted tokens: its mean covers exactly those.
    assert.deepEqual(batch.counts, [5, 2, 5]);

    const res = await model.computeGradients(rawBatch);
    assert.ok(Math.abs(res.loss - ref.loss) < 1e-5);
    const g64 = referenceBackward(p64, config, batch, ref);
    assertGradsClose(await model.readGrads(), g64, "gradient");
    let sq = 0;
    for (const g of g64.values()) for (const v of g) sq += v * v;
    assert.ok(Math.abs(res.gradNorm - Math.sqrt(sq)) < 1e-5 * Math.sqrt(sq));

    // A custom objective: the summed token loss over the loss mask (the influence convention).
    const summed = batch.exampleWeights.map((w) => (w > 0 ? 1 : 0));
    await model.computeGradients(rawBatch, { weights: summed });
    assertGradsClose(
      await model.readGrads(),
      referenceBackward(p64, config, batch, ref, summed),
      "summed-loss gradient",
    );
  } finally {
    model.dispose();
  }
});

Deno.test(
  "linear taps: Σ_t s_t a_tᵀ and Σ_t s_t equal each layer's weight and bias gradients",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const model = Gpt2Model.create(rt, spreadParams(config, 2));
    try {
      await model.computeGradients(rawBatch);
      const taps = model.linearTaps();
      assert.equal(taps.length, 4 * config.n_layer);
      const grads = await model.readGrads();
      for (const tap of taps) {
        const [a, s] = await rt.read([tap.input, tap.outputGrad]);
        const [B, T, dIn] = tap.input.shape;
        const dOut = tap.outputGrad.shape[2];
        assert.deepEqual(tap.weight.shape, [dIn, dOut]);
        const dw = new Float64Array(dIn * dOut);
        const db = new Float64Array(dOut);
        for (let r = 0; r < B * T; r++) {
          for (let o = 0; o < dOut; o++) {
            db[o] += s[r * dOut + o];
            for (let i = 0; i < dIn; i++) dw[i * dOut + o] += a[r * dIn + i] * s[r * dOut + o];
          }
        }
        const gw = grads.get(`${tap.name}.weight`)!;
        assertClose(gw, dw, { abs: 1e-5 * maxAbs(dw) + 1e-9 }, `${tap.name} weight from taps`);
        assertClose(
          grads.get(`${tap.name}.bias`)!,
          db,
          { abs: 1e-5 * maxAbs(db) + 1e-9 },
          `${tap.name} bias`,
        );
        // Padding rows get no gradient at their outputs.
        for (let o = 0; o < dOut; o++) assert.equal(Math.abs(s[(1 * T + T - 1) * dOut + o]), 0);
      }
    } finally {
      model.dispose();
    }
  },
);

Deno.test(
  "5 AdamW steps (clipping active) and 3 SGD steps match the reference",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const set = spreadParams(config, 3);
    const d = config.n_embd;
    for (const kind of ["adamw", "sgd"] as const) {
      const model = Gpt2Model.create(rt, set);
      const hp = kind === "adamw"
        ? { kind, lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 0.5 }
        : { kind, lr: 5e-2, momentum: 0.9, weightDecay: 0.1, maxGradNorm: 0.5 };
      const optimizer = GpuOptimizer.create(rt, hp, model.layout.total);
      try {
        const p64 = toParams64(set);
        const adam = adamState64(p64);
        const momentum = zerosLike(p64);
        const steps = kind === "adamw" ? 5 : 3;
        for (let step = 0; step < steps; step++) {
          const gpu = await model.trainStep(rawBatch, optimizer);
          const fwd = referenceForward(p64, config, batch);
          const grads = referenceBackward(p64, config, batch, fwd);
          const norm = clipGradNorm(grads, hp.maxGradNorm);
          assert.ok(norm > hp.maxGradNorm, "clipping must be active in this test");
          assert.ok(Math.abs(gpu.loss - fwd.loss) < 1e-5, `${kind} step ${step} loss`);
          assert.ok(Math.abs(gpu.gradNorm - norm) < 1e-5 * norm, `${kind} step ${step} norm`);
          if (hp.kind === "adamw") adamwStep(p64, grads, adam, hp, config);
          else sgdStep(p64, grads, momentum, hp, config);
        }
        const after = await model.readParams();
        // Fixed-order reductions, no atomics: a second model retraced step by step is bit-identical.
        if (kind === "sgd") {
          const twin = Gpt2Model.create(rt, set);
          const twinOptimizer = twin.createOptimizer(hp);
          try {
            for (let step = 0; step < steps; step++) await twin.trainStep(rawBatch, twinOptimizer);
            assert.deepEqual(await rt.readOne(twin.params), await rt.readOne(model.params));
          } finally {
            twinOptimizer.dispose();
            twin.dispose();
          }
        }
        // wte's padding rows (37 → 40) get zero gradient and stay exactly zero.
        const flat = await rt.readOne(model.params);
        const wte = model.layout.byName.get("wte.weight")!;
        assert.ok(
          flat.subarray(wte.offset + wte.size, wte.offset + wte.reserved).every((v) => v === 0),
        );
        for (const [name, ref] of p64) {
          const got = after.values.get(name)!;
          if (name.endsWith("attn.c_attn.bias") && kind === "adamw") {
            // The key bias (columns d..2d) has an exactly zero gradient (softmax ignores a shift
            // shared by all keys); Adam's g/√v turns each side's rounding noise into ±lr steps,
            // so only the bound |Δ| ≤ 2·lr·steps holds there. The q and v parts are compared.
            for (let i = 0; i < got.length; i++) {
              const bound = i >= d && i < 2 * d ? 2 * hp.lr * steps : 2e-6;
              assert.ok(
                Math.abs(got[i] - ref[i]) <= bound,
                `${name}[${i}]: ${got[i]} vs ${ref[i]}`,
              );
            }
            continue;
          }
          assertClose(got, ref, { abs: 2e-6 }, `${kind} weights ${name}`);
        }
      } finally {
        optimizer.dispose();
        model.dispose();
      }
    }
  },
);
