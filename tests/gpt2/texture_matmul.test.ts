// After tuning on llvmpipe the texture matmul usually becomes the model's kernel for every
// problem large enough: a forward and backward of a small model on it must agree with the same
// model on the default kernels (themselves checked against the float64 reference in
// parity.test.ts), within f32 rounding. The shapes (B·T = 512 rows, d = 128) are large
// enough for the texture path in the MLP and its weight gradients; smaller products skip it.
import assert from "node:assert/strict";
import { assertClose, maxAbs } from "../../src/gpu/reference/compare.ts";
import { DispatchProfiler } from "../../src/gpu/profiler.ts";
import { TEXTURE_CANDIDATES } from "../../src/gpu/kernels/matmul_configs.ts";
import { useMatmulChoice } from "../../src/gpu/kernels/matmul.ts";
import { parseGpt2Config } from "../../src/gpt2/config.ts";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import { initParams } from "../../src/gpt2/params.ts";
import { BYTE_VOCAB_SIZE } from "../../src/text/byte_tokenizer.ts";
import { seededUniform } from "../../src/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

Deno.test("a model on the texture matmul matches the default kernels", gpuTest, async () => {
  const rt = await testRuntime();
  const config = parseGpt2Config({
    vocab_size: BYTE_VOCAB_SIZE,
    n_positions: 64,
    n_embd: 128,
    n_layer: 1,
    n_head: 2,
  });
  const next = seededUniform(5);
  const batch = {
    B: 8,
    T: 64,
    tokens: Array.from({ length: 512 }, () => Math.floor(next() * 256)),
  };
  const params = initParams(config, 11);

  async function run() {
    const model = Gpt2Model.create(rt, params);
    try {
      const { loss } = await model.computeGradients(batch);
      return { loss, logits: await model.readLogits(), grads: await model.readGrads() };
    } finally {
      model.dispose();
    }
  }
  const reference = await run();
  const restore = useMatmulChoice(rt, TEXTURE_CANDIDATES[2]);
  const profiler = new DispatchProfiler(rt.device, 4096);
  let texture;
  try {
    rt.profiler = profiler;
    texture = await run();
  } finally {
    rt.profiler = null;
    restore();
  }
  const kernels = (await profiler.collect()).kernels.map((k) => k.name);
  profiler.dispose();
  assert.ok(kernels.includes("matmul_texture"), `the texture kernel ran: ${kernels}`);
  assert.ok(Math.abs(texture.loss - reference.loss) < 1e-5, `${texture.loss} vs ${reference.loss}`);
  assertClose(texture.logits, reference.logits, { abs: 1e-5 * maxAbs(reference.logits) }, "logits");
  for (const [name, g] of reference.grads) {
    assertClose(texture.grads.get(name)!, g, { abs: 2e-5 * maxAbs(g) + 1e-9 }, name);
  }
});
