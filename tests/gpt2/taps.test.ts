// The taps contract (src/gpt2/taps.ts) on a tiny model with odd shapes (d = 10, 2 heads of 5,
// V = 37 padded to 40, T = 7, B = 3 with row 1 right-padded and a loss mask on the first two
// tokens): what Gpt2Model.backward's visitor sees against the float64 reference's taps
// (referenceBackward's onLinear), the taps against the weight gradients, the visiting order, and
// sampled labels (the true Fisher's).
//
// Tolerances are f32 rounding over the depth of the computation, as in parity.test.ts. Measured
// on this fixture: inputs a_t within 5.0e-7·max|a| of the reference, output gradients s_t within
// 8.5e-7·max|s|; they are held to 5e-6·max|a| and 1e-5·max|s| (10× margin), far below any real
// bug (a wrong term is O(max)). Sums over tokens against the weight gradients: 1e-5 of the
// gradient's scale, parity.test.ts's bound for the same check.
import assert from "node:assert/strict";
import { assertClose, maxAbs } from "../../src/gpu/reference/compare.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import type { Tensor } from "../../src/gpu/tensor.ts";
import { type Batch, prepareBatch, type PreparedBatch } from "../../src/gpt2/batch.ts";
import type { Gpt2Config } from "../../src/gpt2/config.ts";
import { labelDraws } from "../../src/gpt2/labels.ts";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import {
  referenceBackward,
  referenceForward,
  type ReferenceLinearTap,
  toParams64,
} from "../../src/gpt2/reference/model.ts";
import { sampleLabels } from "../../src/gpt2/reference/sample.ts";
import { UNLABELLED } from "../../src/gpt2/results.ts";
import {
  type BackwardVisitor,
  LINEAR_MODULES,
  type LinearTap,
  meanLoss,
  summedLoss,
} from "../../src/gpt2/taps.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { spreadParams, tinyBatch, tinyConfig } from "../helpers/model_fixtures.ts";

const config = tinyConfig({ n_embd: 10, n_head: 2 });
const rawBatch = tinyBatch(config);
const batch = prepareBatch(rawBatch, config);
const N = batch.B * batch.T;

/** The module names in backward order: layers L-1 … 0, each mlp.c_proj … attn.c_attn. */
function backwardOrder(c: Gpt2Config): string[] {
  const names: string[] = [];
  for (let l = c.n_layer - 1; l >= 0; l--) {
    for (const m of [...LINEAR_MODULES].reverse()) names.push(`h.${l}.${m}`);
  }
  return names;
}

/** A visitor that copies each tap into tensors of its own (GPU work recorded during the call). */
function copyingVisitor(rt: GpuRuntime) {
  const seen: { tap: LinearTap; input: Tensor; outputGrad: Tensor }[] = [];
  const visitor: BackwardVisitor = {
    linear(tap) {
      const input = rt.zeros([...tap.input.shape]),
        outputGrad = rt.zeros([...tap.outputGrad.shape]);
      rt.copy(tap.input, input);
      rt.copy(tap.outputGrad, outputGrad);
      seen.push({ tap, input, outputGrad });
    },
  };
  return { seen, visitor };
}

/** The reference's taps by module name, copied, with the order they came in. */
function referenceTaps(p: PreparedBatch, weights: ArrayLike<number>, seed = 1) {
  const p64 = toParams64(spreadParams(config, seed));
  const fwd = referenceForward(p64, config, p);
  const taps = new Map<string, ReferenceLinearTap>();
  const order: string[] = [];
  const grads = referenceBackward(p64, config, p, fwd, weights, (tap) => {
    order.push(tap.name);
    taps.set(tap.name, {
      name: tap.name,
      input: Float64Array.from(tap.input),
      outputGrad: Float64Array.from(tap.outputGrad),
    });
  });
  return { fwd, taps, order, grads };
}

Deno.test(
  "backward's visitor: taps equal the float64 reference's for the summed loss",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const model = Gpt2Model.create(rt, spreadParams(config, 1));
    const { seen, visitor } = copyingVisitor(rt);
    try {
      const objective = summedLoss();
      const weights = objective.weights(batch);
      assert.deepEqual([...weights], [...batch.exampleWeights].map((w) => (w > 0 ? 1 : 0)));
      assert.equal(weights.reduce((a, b) => a + b, 0), 12); // counted predictions 5 + 2 + 5
      const result = await model.backward(rawBatch, objective, visitor);
      const ref = referenceTaps(batch, weights);

      assert.deepEqual(seen.map((s) => s.tap.name), backwardOrder(config));
      assert.deepEqual(ref.order, backwardOrder(config));
      const { B, T } = batch;
      for (const { tap, input, outputGrad } of seen) {
        const [l, module] = [tap.layer, tap.module];
        assert.equal(tap.name, `h.${l}.${module}`);
        const [dIn, dOut] = tap.weight.shape;
        assert.deepEqual(tap.input.shape, [B, T, dIn], `${tap.name} input shape`);
        assert.deepEqual(tap.outputGrad.shape, [B, T, dOut], `${tap.name} output shape`);
        assert.deepEqual(tap.bias.shape, [dOut]);
        const expected = ref.taps.get(tap.name)!;
        const [a, s] = await rt.read([input, outputGrad]);
        const aTol = { abs: 5e-6 * maxAbs(expected.input) };
        const sTol = { abs: 1e-5 * maxAbs(expected.outputGrad) };
        assertClose(a, expected.input, aTol, `${tap.name} input a_t`);
        assertClose(s, expected.outputGrad, sTol, `${tap.name} output gradient s_t`);
        input.dispose();
        outputGrad.dispose();
      }
      // The result: the data's labels where the batch counts a prediction, and Σ_t ce_t.
      for (let r = 0; r < N; r++) {
        assert.equal(result.labels[r], weights[r] > 0 ? batch.targets[r] : UNLABELLED);
      }
      const summed = ref.fwd.tokenLoss.reduce((acc, ce, r) => acc + weights[r] * ce, 0);
      assert.ok(Math.abs(result.objective - summed) < 1e-5 * summed, "the objective's value");
      assert.ok(Math.abs(result.loss - ref.fwd.loss) < 1e-5, "the batch loss");
    } finally {
      model.dispose();
    }
  },
);

Deno.test(
  "Σ_t s_t a_tᵀ and Σ_t s_t of the visited taps equal each layer's weight and bias gradient",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const model = Gpt2Model.create(rt, spreadParams(config, 2));
    try {
      const sums = new Map<string, { dw: Float64Array; db: Float64Array }>();
      // An async visitor that reads each tap back inside the call (slow, but within contract).
      await model.backward(rawBatch, summedLoss({ kind: "sampled", seed: 3 }), {
        async linear(tap) {
          const [a, s] = await rt.read([tap.input, tap.outputGrad]);
          const [dIn, dOut] = tap.weight.shape;
          const dw = new Float64Array(dIn * dOut), db = new Float64Array(dOut);
          for (let r = 0; r < N; r++) {
            for (let o = 0; o < dOut; o++) {
              const g = s[r * dOut + o];
              db[o] += g;
              for (let i = 0; i < dIn; i++) dw[i * dOut + o] += a[r * dIn + i] * g;
            }
          }
          sums.set(tap.name, { dw, db });
        },
      });
      const grads = await model.readGrads();
      assert.equal(sums.size, 4 * config.n_layer);
      for (const [name, { dw, db }] of sums) {
        const gw = grads.get(`${name}.weight`)!, gb = grads.get(`${name}.bias`)!;
        assertClose(gw, dw, { abs: 1e-5 * maxAbs(dw) + 1e-9 }, `${name} weight from taps`);
        assertClose(gb, db, { abs: 1e-5 * maxAbs(db) + 1e-9 }, `${name} bias from taps`);
      }
    } finally {
      model.dispose();
    }
  },
);

Deno.test(
  "the visitor is called once per module in backward order, and awaited",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const model = Gpt2Model.create(rt, spreadParams(config, 1));
    try {
      const events: string[] = [];
      await model.backward(rawBatch, meanLoss(), {
        async linear(tap) {
          events.push(`start ${tap.name}`);
          await new Promise((resolve) => setTimeout(resolve, 1));
          events.push(`end ${tap.name}`);
        },
      });
      assert.deepEqual(events, backwardOrder(config).flatMap((n) => [`start ${n}`, `end ${n}`]));
      // A visitor without `linear` is allowed; mean-loss gradients are computeGradients'.
      await model.backward(rawBatch, meanLoss(), {});
      const viaBackward = await model.readGrads();
      await model.computeGradients(rawBatch);
      assert.deepEqual(await model.readGrads(), viaBackward);
      // The deprecated linearTaps still lists every module, in forward order.
      assert.deepEqual(
        model.linearTaps().map((t) => t.name),
        backwardOrder(config).reverse(),
      );
      await assert.rejects(
        () => model.backward(rawBatch, { weights: () => new Float32Array(N - 1) }),
        /expected B·T/,
      );
    } finally {
      model.dispose();
    }
  },
);

/** A model's sampled labels for a batch and seed, with the logits they were drawn from. */
async function sampled(model: Gpt2Model, raw: Batch, seed: number) {
  const result = await model.backward(raw, summedLoss({ kind: "sampled", seed }));
  return { labels: result.labels, logits: await model.readLogits(), result };
}

Deno.test(
  "sampled labels: seeded, the reference's draws, unlabelled positions stay unlabelled",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const set = spreadParams(config, 4);
    const model = Gpt2Model.create(rt, set);
    // V = 101 split into 3 column chunks of the logits (see split.test.ts).
    const wideConfig = tinyConfig({ n_embd: 10, n_head: 2, vocab_size: 101 });
    const wideSet = spreadParams(wideConfig, 4);
    const wide = Gpt2Model.create(rt, wideSet);
    const split = Gpt2Model.create(rt, wideSet, { maxBindingElements: 1024 });
    try {
      const a = await sampled(model, rawBatch, 11);
      const again = await sampled(model, rawBatch, 11);
      const other = await sampled(model, rawBatch, 12);
      assert.deepEqual(again.labels, a.labels, "the same seed draws the same labels");
      assert.notDeepEqual(other.labels, a.labels, "another seed draws others");
      const draws = labelDraws(batch, 11);
      const ref = sampleLabels(a.logits, N, config.vocab_size, draws);
      for (let r = 0; r < N; r++) {
        if (batch.exampleWeights[r] > 0) {
          assert.equal(a.labels[r], ref[r], `position ${r}: the reference's draw`);
        } else {
          assert.equal(a.labels[r], UNLABELLED, `position ${r} stays unlabelled`);
          assert.equal(draws[r], -1);
        }
      }
      // The losses are against the sampled labels.
      const p64 = toParams64(set);
      const sampledBatch = {
        ...batch,
        targets: Float32Array.from(a.labels, (label, r) => label >= 0 ? label : batch.targets[r]),
      };
      const fwd = referenceForward(p64, config, sampledBatch);
      assertClose(a.result.tokenLoss, fwd.tokenLoss, { abs: 1e-5 }, "losses of the sampled labels");
      // A label depends on (seed, example, position) and the logits there, not on other rows.
      const firstRows = (x: ArrayLike<number>) => Array.from(x).slice(0, 2 * batch.T);
      const firstTwo: Batch = {
        B: 2,
        T: batch.T,
        tokens: firstRows(rawBatch.tokens),
        attentionMask: firstRows(rawBatch.attentionMask!),
        lossMask: firstRows(rawBatch.lossMask!),
      };
      const partial = await sampled(model, firstTwo, 11);
      assert.deepEqual(partial.labels, a.labels.slice(0, 2 * batch.T));

      // Logits split into column chunks draw what whole rows draw.
      const wideBatch = tinyBatch(wideConfig);
      const whole = await sampled(wide, wideBatch, 11);
      const chunked = await sampled(split, wideBatch, 11);
      assert.deepEqual(chunked.labels, whole.labels, "split vocabulary");
    } finally {
      model.dispose();
      wide.dispose();
      split.dispose();
    }
  },
);

Deno.test(
  "sampled labels follow softmax(logits): 2048 draws on one row (chi-square and per class)",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const model = Gpt2Model.create(rt, spreadParams(config, 5));
    try {
      // 256 copies of one example: position 1 has the same logits in every copy.
      const B = 256, T = 3, t = 1;
      const tokens = Array.from({ length: B * T }, (_, i) => [4, 17, 29][i % T]);
      const counts = new Float64Array(config.vocab_size);
      let probs: Float64Array | null = null;
      const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
      for (const seed of seeds) {
        const { labels, logits } = await sampled(model, { B, T, tokens }, seed);
        for (let b = 0; b < B; b++) counts[labels[b * T + t]]++;
        const V = config.vocab_size;
        const row = Float64Array.from(logits.subarray(t * V, (t + 1) * V));
        const max = Math.max(...row);
        const e = row.map((v) => Math.exp(v - max));
        const sum = e.reduce((x, y) => x + y, 0);
        probs ??= e.map((v) => v / sum);
      }
      const n = B * seeds.length;
      // Per class: within 5 standard deviations of the binomial count (plus one for rounding).
      probs!.forEach((p, c) => {
        const sd = Math.sqrt(n * p * (1 - p));
        assert.ok(
          Math.abs(counts[c] - n * p) <= 5 * sd + 1,
          `class ${c}: ${counts[c]} draws, expected ${(n * p).toFixed(1)} ± ${sd.toFixed(1)}`,
        );
      });
      // Chi-square over classes expected ≥ 5 times (the rest pooled): below df + 5·√(2·df),
      // about 5 standard deviations of the statistic's distribution above its mean.
      let chi2 = 0, df = -1, restCount = 0, restExpected = 0;
      probs!.forEach((p, c) => {
        if (n * p >= 5) {
          chi2 += (counts[c] - n * p) ** 2 / (n * p);
          df++;
        } else {
          restCount += counts[c];
          restExpected += n * p;
        }
      });
      if (restExpected > 0) {
        chi2 += (restCount - restExpected) ** 2 / restExpected;
        df++;
      }
      assert.ok(df >= 5, `the test needs a spread distribution (df ${df})`);
      assert.ok(chi2 < df + 5 * Math.sqrt(2 * df), `chi-square ${chi2.toFixed(1)} with df ${df}`);
    } finally {
      model.dispose();
    }
  },
);

Deno.test(
  "backward without parameter gradients: the same taps, in the same order",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const model = Gpt2Model.create(rt, spreadParams(config, 1));
    try {
      const withGrads = copyingVisitor(rt);
      const full = await model.backward(rawBatch, summedLoss(), withGrads.visitor);
      const tapsOnly = copyingVisitor(rt);
      const light = await model.backward(rawBatch, summedLoss(), tapsOnly.visitor, {
        parameterGradients: false,
      });
      assert.deepEqual(tapsOnly.seen.map((s) => s.tap.name), backwardOrder(config));
      assert.equal(light.objective, full.objective);
      for (const [i, { input, outputGrad }] of tapsOnly.seen.entries()) {
        const other = withGrads.seen[i];
        const [a, s, a0, s0] = await rt.read([input, outputGrad, other.input, other.outputGrad]);
        assert.deepEqual(a, a0, `${other.tap.name} input`);
        assert.deepEqual(s, s0, `${other.tap.name} output gradient`);
        for (const t of [input, outputGrad, other.input, other.outputGrad]) t.dispose();
      }
      await assert.rejects(() => model.readGrads(), /no gradients/);
    } finally {
      model.dispose();
    }
  },
);
