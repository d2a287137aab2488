// Config validation, parameter names / shapes / initialisation, safetensors load and save
// (prefixes, ignored buffers, dtypes, shape errors), the byte tokenizer and the LR schedule.
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeSafetensors, type TensorInput } from "../../src/store/safetensors.ts";
import { BatchError, prepareBatch } from "../../src/gpt2/batch.ts";
import { ConfigError, dimsOf, parameterCount, parseGpt2Config } from "../../src/gpt2/config.ts";
import { tokenGroups } from "../../src/gpt2/kernels/embedding.ts";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import { learningRate, scheduleSchema } from "../../src/gpt2/optimizer.ts";
import {
  configFromMetadata,
  initParams,
  loadParams,
  ParamLoadError,
  paramSpecs,
  saveParams,
} from "../../src/gpt2/params.ts";
import { decodeBytes, encodeBytes, END_OF_TEXT } from "../../src/text/byte_tokenizer.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { spreadParams, tinyBatch, tinyConfig } from "../helpers/model_fixtures.ts";

Deno.test("config: HF fields, defaults and clear errors", () => {
  const c = parseGpt2Config({
    vocab_size: 50257,
    n_positions: 1024,
    n_embd: 768,
    n_layer: 12,
    n_head: 12,
    resid_pdrop: 0.1,
    model_type: "gpt2",
  });
  assert.equal(c.layer_norm_epsilon, 1e-5);
  // GPT-2 small has 124,439,808 parameters (tied head).
  assert.equal(parameterCount(c), 124_439_808);
  // The closed form (used to refuse oversized configs before building anything) is the sum of
  // the parameter tensors' sizes, with and without a custom MLP width.
  for (const config of [c, parseGpt2Config({ ...c, n_inner: 1000, n_layer: 3 })]) {
    assert.equal(parameterCount(config), paramSpecs(config).reduce((n, s) => n + s.size, 0));
  }
  assert.throws(
    () => parseGpt2Config({ vocab_size: 10, n_positions: 8, n_embd: 15, n_layer: 1, n_head: 2 }),
    (e) =>
      e instanceof ConfigError && /n_embd \(15\) must be divisible by n_head \(2\)/.test(e.message),
  );
  assert.throws(
    () => parseGpt2Config({ vocab_size: 10, n_positions: 8, n_embd: 16, n_layer: 0, n_head: 2 }),
    (e) =>
      e instanceof ConfigError && e.details.field === "config.n_layer" &&
      e.details.issues.some((d) => d.path === "n_layer"),
  );
  assert.throws(
    () => parseGpt2Config({ ...tinyConfig(), activation_function: "relu" }),
    /tanh-form GELU/,
  );
});

Deno.test("init: HF names and Conv1D shapes, GPT-2 statistics, seeded", () => {
  const config = tinyConfig({ n_embd: 32, n_layer: 3, vocab_size: 101 });
  const specs = new Map(paramSpecs(config).map((s) => [s.name, s.shape]));
  assert.deepEqual(specs.get("wte.weight"), [101, 32]);
  assert.deepEqual(specs.get("h.2.attn.c_attn.weight"), [32, 96]);
  assert.deepEqual(specs.get("h.0.mlp.c_fc.weight"), [32, 128]);
  assert.deepEqual(specs.get("h.0.mlp.c_proj.weight"), [128, 32]);
  const a = initParams(config, 7), b = initParams(config, 7), c = initParams(config, 8);
  assert.deepEqual(a.values.get("wte.weight"), b.values.get("wte.weight"));
  assert.notDeepEqual(a.values.get("wte.weight"), c.values.get("wte.weight"));
  const std = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
  assert.ok(Math.abs(std(a.values.get("h.0.mlp.c_fc.weight")!) - 0.02) < 0.002);
  const scaled = 0.02 / Math.sqrt(6);
  assert.ok(Math.abs(std(a.values.get("h.1.mlp.c_proj.weight")!) - scaled) < 0.1 * scaled);
  assert.ok(a.values.get("h.0.ln_1.weight")!.every((v) => v === 1));
  assert.ok(a.values.get("h.0.attn.c_attn.bias")!.every((v) => v === 0));
});

function toF16(x: number): number {
  // Exact for the values used below (multiples of 1/64 in [-2, 2]).
  const f = new Float32Array([x]);
  const bits = new Uint32Array(f.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  if (x === 0) return sign;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  return sign | (exp << 10) | ((bits >>> 13) & 0x3ff);
}

Deno.test("load: transformer. prefix, ignored buffers, F16 / BF16, shape errors", () => {
  const config = tinyConfig({ n_layer: 1 });
  const specs = paramSpecs(config);
  const values = new Map(specs.map((s, k) => [
    s.name,
    Float32Array.from({ length: s.size }, (_, i) => (((i * 13 + k) % 257) - 128) / 64),
  ]));
  const tensors: Record<string, TensorInput> = {};
  for (const [k, s] of specs.entries()) {
    const v = values.get(s.name)!;
    const name = `transformer.${s.name}`;
    if (k % 3 === 1) {
      tensors[name] = {
        dtype: "F16",
        shape: s.shape,
        data: new Uint8Array(Uint16Array.from(v, toF16).buffer),
      };
    } else if (k % 3 === 2) {
      const bits = new Uint32Array(v.buffer.slice(0));
      tensors[name] = {
        dtype: "BF16",
        shape: s.shape,
        data: new Uint8Array(Uint16Array.from(bits, (b) => b >>> 16).buffer),
      };
    } else tensors[name] = { shape: s.shape, data: v };
  }
  tensors["transformer.h.0.attn.bias"] = { shape: [1, 1, 9, 9], data: new Float32Array(81) };
  tensors["transformer.h.0.attn.masked_bias"] = { shape: [], data: new Float32Array([-1e4]) };
  tensors["lm_head.weight"] = { shape: [37, 16], data: values.get("wte.weight")! };
  const loaded = loadParams(encodeSafetensors(tensors), config);
  for (const s of specs) assert.deepEqual(loaded.values.get(s.name), values.get(s.name), s.name);

  const bad = {
    ...tensors,
    "transformer.h.0.mlp.c_fc.weight": { shape: [64, 16], data: new Float32Array(1024) },
  };
  assert.throws(
    () => loadParams(encodeSafetensors(bad), config),
    (e) =>
      e instanceof ParamLoadError && e.details.tensor === "h.0.mlp.c_fc.weight" &&
      /shape \[64,16\], expected \[16,64\]/.test(e.message),
  );
  const untied = {
    ...tensors,
    "lm_head.weight": { shape: [37, 16], data: new Float32Array(37 * 16) },
  };
  assert.throws(() => loadParams(encodeSafetensors(untied), config), /only tied heads/);
  const missing = { ...tensors };
  delete missing["transformer.ln_f.bias"];
  assert.throws(() => loadParams(encodeSafetensors(missing), config), /missing tensor ln_f\.bias/);
});

Deno.test(
  "save → load round trip gives identical losses (Conv1D layout, tied head)",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const config = tinyConfig();
    const set = spreadParams(config, 11);
    const bytes = saveParams(set);
    assert.deepEqual(dimsOf(configFromMetadata(bytes)!), dimsOf(config));
    const loaded = loadParams(bytes, config);
    const batch = tinyBatch(config);
    const a = Gpt2Model.create(rt, set), b = Gpt2Model.create(rt, loaded);
    try {
      const [la, lb] = [await a.forward(batch), await b.forward(batch)];
      assert.deepEqual(la.tokenLoss, lb.tokenLoss);
      // Transposing a Conv1D weight (the nn.Linear layout) must change the result: layout matters.
      const w = loaded.values.get("h.0.mlp.c_fc.weight")!;
      const [rows, cols] = [16, 64];
      const transposed = Float32Array.from(
        w,
        (_, i) => w[(i % rows) * cols + Math.floor(i / rows)],
      );
      b.setParams({
        config,
        values: new Map([...loaded.values, ["h.0.mlp.c_fc.weight", transposed]]),
      });
      assert.notDeepEqual((await b.forward(batch)).tokenLoss, la.tokenLoss);
    } finally {
      a.dispose();
      b.dispose();
    }
  },
);

Deno.test("byte tokenizer round-trips any string", () => {
  fc.assert(fc.property(fc.string({ unit: "grapheme" }), (s) => decodeBytes(encodeBytes(s)) === s));
  assert.deepEqual(encodeBytes("é", { endOfText: true }), [0xc3, 0xa9, END_OF_TEXT]);
  assert.equal(decodeBytes([104, 105, END_OF_TEXT, 104]), "hi");
});

Deno.test("learning-rate schedule: warm-up, linear and cosine decay", () => {
  const s = scheduleSchema.parse({
    warmupSteps: 4,
    totalSteps: 14,
    decay: "cosine",
    minLrRatio: 0.1,
  });
  assert.equal(learningRate(1, 1, s), 0.25);
  assert.equal(learningRate(1, 4, s), 1);
  assert.ok(Math.abs(learningRate(1, 9, s) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRate(1, 14, s) - 0.1) < 1e-12);
  assert.ok(Math.abs(learningRate(1, 99, s) - 0.1) < 1e-12);
  const lin = scheduleSchema.parse({ totalSteps: 10, decay: "linear" });
  assert.ok(Math.abs(learningRate(2, 5, lin) - 1) < 1e-12);
  assert.throws(() => scheduleSchema.parse({ decay: "linear" }), /totalSteps/);
});

Deno.test("batches: validation errors and counted positions", () => {
  const config = tinyConfig();
  const ok = { B: 1, T: 4, tokens: [1, 2, 3, 4] };
  assert.throws(() => prepareBatch({ ...ok, tokens: [1, 2, 3] }, config), BatchError);
  assert.throws(() => prepareBatch({ ...ok, tokens: [1, 2, 3, 37] }, config), /outside \[0, 37\)/);
  assert.throws(
    () => prepareBatch({ ...ok, T: 10, tokens: new Array(10).fill(0) }, config),
    /n_positions 9/,
  );
  assert.throws(() => prepareBatch({ ...ok, lossMask: [0, 1, 2, 0] }, config), /0 or 1/);
  // Labels 2 and 3 count; label 1 is outside the loss mask.
  const p = prepareBatch({ ...ok, lossMask: [0, 0, 1, 1] }, config);
  assert.deepEqual([...p.targets], [2, 3, 4, 0]);
  assert.deepEqual([...p.exampleWeights], [0, 0.5, 0.5, 0]);
});

Deno.test("token groups: every row exactly once, grouped by id", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 40 }),
      (ids) => {
        const { data, distinct } = tokenGroups(ids);
        const starts = data.subarray(distinct, 2 * distinct + 1);
        const rows = data.subarray(2 * distinct + 1);
        assert.equal(rows.length, ids.length);
        assert.deepEqual([...rows].sort((a, b) => a - b), ids.map((_, i) => i));
        for (let u = 0; u < distinct; u++) {
          for (let k = starts[u]; k < starts[u + 1]; k++) assert.equal(ids[rows[k]], data[u]);
        }
        assert.equal(new Set(ids).size, distinct);
      },
    ),
  );
});
