// The optimiser update kernels (shaders/gpt2_optimizer.wgsl) against hand-written float64
// updates, with the weight-decay split and clipping inside the kernel.
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { adamwUpdate, sgdUpdate } from "../../src/gpt2/kernels/optimizer.ts";
import { kernelTest, upload } from "./kernel_harness.ts";

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
