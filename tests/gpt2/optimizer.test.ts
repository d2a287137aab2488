// The optimiser update kernels (shaders/gpt2_optimizer.wgsl) against hand-written float64
// updates, with the weight-decay split and clipping inside the kernel.
import assert from "node:assert/strict";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { adamwUpdate, sgdUpdate } from "../../src/gpt2/kernels/optimizer.ts";
import { GpuOptimizer, optimizerSchema } from "../../src/gpt2/optimizer.ts";
import { adamState64, adamwStep } from "../../src/gpt2/reference/optimizer.ts";
import { tinyConfig } from "../helpers/model_fixtures.ts";
import { kernelTest, placed, readView, upload } from "./kernel_harness.ts";

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

kernelTest(
  "AdamW epsRoot: 0 is today's update bit for bit, > 0 matches sqrt(v̂ + epsRoot)",
  async (rt) => {
    const n = 29, decayEnd = 11, step = 2;
    const w = randomF32(n, 21), g = randomF32(n, 22), m0 = randomF32(n, 23);
    // Small second moments, so that epsRoot changes the step well beyond the tolerance.
    const v0 = randomF32(n, 24, 0, 1e-4);
    let sq = 0;
    for (const x of g) sq += x * x;
    const base = { lr: 0.05, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, step };
    const run = async (epsRoot: number | undefined): Promise<Float32Array> => {
      const params = placed(rt, w, [n], 5), m = placed(rt, m0, [n], 5), v = placed(rt, v0, [n], 5);
      const range = { params, grads: placed(rt, g, [n], 5), decayEnd, normSq: upload(rt, [sq]) };
      await adamwUpdate(rt, { ...range, maxNorm: 0 }, m, v, { ...base, epsRoot });
      return await readView(rt, params);
    };
    const omitted = await run(undefined), zero = await run(0), smoothed = await run(1e-3);
    assert.deepEqual(zero, omitted, "epsRoot 0 must be bit-identical to the update without it");

    const bc1 = 1 - base.beta1 ** step, bc2 = 1 - base.beta2 ** step;
    const expected = (epsRoot: number, decayEnd: number) =>
      Float64Array.from(w, (x, i) => {
        const mi = base.beta1 * m0[i] + (1 - base.beta1) * g[i];
        const vi = base.beta2 * v0[i] + (1 - base.beta2) * g[i] * g[i];
        const decayed = x - base.lr * (i < decayEnd ? base.weightDecay : 0) * x;
        return decayed - base.lr * (mi / bc1) / (Math.sqrt(vi / bc2 + epsRoot) + base.eps);
      });
    assertClose(zero, expected(0, decayEnd), { abs: 2e-6 }, "epsRoot 0");
    assertClose(smoothed, expected(1e-3, decayEnd), { abs: 2e-6 }, "epsRoot 1e-3");
    // The check above could fail: epsRoot moves the weights by far more than its tolerance.
    const moved = smoothed.reduce((worst, x, i) => Math.max(worst, Math.abs(x - zero[i])), 0);
    assert.ok(moved > 1e-3, `epsRoot 1e-3 moved the weights by only ${moved}`);

    // The float64 reference: epsRoot absent or 0 is the old step bit for bit; > 0 is the formula.
    // c_fc.weight decays, ln_1.weight does not.
    const names = ["h.0.mlp.c_fc.weight", "h.0.ln_1.weight"];
    const after = (epsRoot?: number) => {
      const p = new Map(names.map((k) => [k, Float64Array.from(w)]));
      const grads = new Map(names.map((k) => [k, Float64Array.from(g)]));
      const state = adamState64(p);
      for (const k of names) state.m.get(k)!.set(m0), state.v.get(k)!.set(v0);
      state.step = step - 1;
      const hp = epsRoot === undefined ? base : { ...base, epsRoot };
      adamwStep(p, grads, state, hp, tinyConfig());
      return p;
    };
    const ref = after(undefined), refZero = after(0), refSmoothed = after(1e-3);
    for (const k of names) {
      assert.deepEqual(
        refZero.get(k),
        ref.get(k),
        `reference ${k}, epsRoot 0`,
      );
    }
    assertClose(
      refSmoothed.get(names[0])!,
      expected(1e-3, n),
      { abs: 1e-15 },
      "reference, decayed",
    );
    assertClose(
      refSmoothed.get(names[1])!,
      expected(1e-3, 0),
      { abs: 1e-15 },
      "reference, undecayed",
    );
  },
);

kernelTest("GpuOptimizer passes epsRoot from its config to the update", async (rt) => {
  const n = 19;
  const w = randomF32(n, 31), g = randomF32(n, 32);
  let sq = 0;
  for (const x of g) sq += x * x;
  const defaults = optimizerSchema.parse({ kind: "adamw", lr: 1 });
  assert.equal(defaults.kind === "adamw" && defaults.epsRoot, 0);
  assert.equal(optimizerSchema.safeParse({ kind: "adamw", lr: 1, epsRoot: -1 }).success, false);
  assert.equal(optimizerSchema.safeParse({ kind: "sgd", lr: 1, epsRoot: 1e-8 }).success, false);
  const outcome = async (epsRoot: number) => {
    const optimizer = GpuOptimizer.create(rt, {
      kind: "adamw",
      lr: 0.1,
      weightDecay: 0,
      maxGradNorm: 0,
      epsRoot,
    }, n);
    try {
      const params = upload(rt, w);
      await optimizer.apply(rt, {
        params,
        grads: upload(rt, g),
        decayEnd: 0,
        normSq: upload(rt, [sq]),
      });
      return await rt.readOne(params);
    } finally {
      optimizer.dispose();
    }
  };
  // First step: m̂ = g and v̂ = g², so the step is lr·g/(sqrt(g² + epsRoot) + eps).
  const epsRoot = 0.25;
  const expected = Float64Array.from(
    w,
    (x, i) => x - 0.1 * g[i] / (Math.sqrt(g[i] ** 2 + epsRoot) + 1e-8),
  );
  assertClose(await outcome(epsRoot), expected, { abs: 1e-6 }, "GpuOptimizer with epsRoot");
  const plain = Float64Array.from(w, (x, i) => x - 0.1 * g[i] / (Math.abs(g[i]) + 1e-8));
  assertClose(await outcome(0), plain, { abs: 1e-6 }, "GpuOptimizer without epsRoot");
});
