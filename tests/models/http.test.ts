// Models over HTTP without a GPU: create from a config, checkpoint upload (with and without the
// `transformer.` prefix), weights download, list, delete, and every bad input as a 4xx naming
// what is wrong. GPU losses are in models_losses.test.ts.
import assert from "node:assert/strict";
import { parseGpt2Config } from "../../src/gpt2/config.ts";
import { initParams, loadParams, saveParams } from "../../src/gpt2/params.ts";
import { decodeSafetensors, encodeSafetensors } from "../../src/store/safetensors.ts";
import { MAX_BATCH, planChunks } from "../../src/models/losses.ts";
import { fakeGpu, testApp } from "../helpers/app.ts";
import { tinyTokenizerJson } from "../helpers/tiny_tokenizer.ts";

type AppLike = { request: (p: string, i?: RequestInit) => Response | Promise<Response> };

export const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };

function postJson(app: AppLike, path: string, body: unknown) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

function uploadCheckpoint(
  app: AppLike,
  files: { weights?: Uint8Array; config?: unknown; tokenizer?: unknown; name?: string },
) {
  const form = new FormData();
  if (files.weights) {
    form.set("model.safetensors", new File([files.weights as BlobPart], "model.safetensors"));
  }
  if (files.config !== undefined) {
    const text = typeof files.config === "string" ? files.config : JSON.stringify(files.config);
    form.set("config.json", new File([text], "config.json"));
  }
  if (files.tokenizer !== undefined) {
    form.set("tokenizer.json", new File([JSON.stringify(files.tokenizer)], "tokenizer.json"));
  }
  if (files.name) form.set("name", files.name);
  return app.request("/v1/models", { method: "POST", body: form });
}

async function errorOf(res: Response) {
  const body = await res.json();
  assert.ok(body.error, `JSON error body: ${JSON.stringify(body)}`);
  return body.error as { code: string; message: string; details: Record<string, unknown> };
}

/** saveParams output with every tensor renamed `transformer.<name>`, as HF exports it. */
function withPrefix(bytes: Uint8Array): Uint8Array {
  const { tensors } = decodeSafetensors(bytes);
  return encodeSafetensors(
    Object.fromEntries([...tensors].map(([name, entry]) => [`transformer.${name}`, entry])),
  );
}

/** A safetensors file from a hand-written header and `dataBytes` zero bytes. */
function rawSafetensors(header: unknown, dataBytes: number, declaredLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

Deno.test("models: create, upload, download, list and delete", async (t) => {
  const ctx = await testApp();
  try {
    let created = "";
    const config = parseGpt2Config(TINY);
    await t.step("create from a config: GPT-2 init from the seed, byte tokenizer", async () => {
      const res = await postJson(ctx.app, "/v1/models", { config: TINY, seed: 3, name: "tiny" });
      assert.equal(res.status, 201, await res.clone().text());
      const model = await res.json();
      assert.deepEqual(
        [model.name, model.tokenizer, model.source, model.seed, model.config.n_embd],
        ["tiny", "byte", "init", 3, 16],
      );
      assert.equal(
        model.parameters,
        257 * 16 + 32 * 16 +
          (2 * 16 + 16 * 48 + 48 + 16 * 16 + 16 + 2 * 16 + 16 * 64 + 64 + 64 * 16 + 16) + 2 * 16,
      );
      created = model.id;
    });
    await t.step("weights download: HF names, the seed's initialisation exactly", async () => {
      const res = await ctx.app.request(`/v1/models/${created}/weights`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/octet-stream");
      const params = loadParams(new Uint8Array(await res.arrayBuffer()), config);
      const expected = initParams(config, 3);
      for (const [name, values] of expected.values) {
        assert.deepEqual(params.values.get(name), values, name);
      }
    });
    await t.step("checkpoint upload with and without `transformer.` round-trips", async () => {
      const bytes = saveParams(initParams(config, 11));
      // Model names are unique, so each upload gets its own.
      for (const [weights, name] of [[bytes, "up"], [withPrefix(bytes), "up-prefixed"]] as const) {
        const res = await uploadCheckpoint(ctx.app, { weights, config: TINY, name });
        assert.equal(res.status, 201, await res.clone().text());
        const model = await res.json();
        assert.deepEqual([model.source, model.tokenizer, model.name], ["upload", "byte", name]);
        const back = await ctx.app.request(`/v1/models/${model.id}/weights`);
        assert.deepEqual(new Uint8Array(await back.arrayBuffer()), bytes);
      }
    });
    await t.step("config.json may be left out when the metadata holds one", async () => {
      const res = await uploadCheckpoint(ctx.app, { weights: saveParams(initParams(config, 1)) });
      assert.equal(res.status, 201, await res.clone().text());
    });
    await t.step("a tokenizer.json makes a huggingface tokenizer", async () => {
      const res = await uploadCheckpoint(ctx.app, {
        weights: saveParams(initParams(config, 1)),
        config: TINY,
        tokenizer: tinyTokenizerJson(),
      });
      assert.equal(res.status, 201, await res.clone().text());
      assert.equal((await res.json()).tokenizer, "huggingface");
    });
    await t.step("list, get, delete", async () => {
      const list = await (await ctx.app.request("/v1/models?limit=2")).json();
      assert.equal(list.total, 5);
      assert.equal(list.models.length, 2);
      assert.equal(list.models[0].id, created);
      assert.equal((await ctx.app.request(`/v1/models/${created}`)).status, 200);
      const tensor = (await (await ctx.app.request(`/v1/models/${created}`)).json()).paramsTensor;
      assert.equal(
        (await ctx.app.request(`/v1/models/${created}`, { method: "DELETE" })).status,
        204,
      );
      assert.equal(ctx.store.tensors.info(tensor), null, "weights file deleted");
      for (const path of ["", "/weights"]) {
        assert.equal((await ctx.app.request(`/v1/models/${created}${path}`)).status, 404);
      }
      assert.equal(
        (await ctx.app.request(`/v1/models/${created}`, { method: "DELETE" })).status,
        404,
      );
    });
  } finally {
    await ctx.close();
  }
});

Deno.test("models: bad input is a 4xx that says what is wrong", async (t) => {
  const ctx = await testApp();
  const config = parseGpt2Config(TINY);
  try {
    await t.step("unknown config values", async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ ...TINY, activation_function: "relu" }, "activation_function"],
        [{ ...TINY, n_head: 3 }, "n_head"],
        [{ ...TINY, n_embd: -4 }, "n_embd"],
        [{ ...TINY, model_type: "llama" }, "model_type"],
        [{ ...TINY, tie_word_embeddings: false }, "tie_word_embeddings"],
        // Sizes that would exhaust host memory while initialising are refused up front.
        [{ ...TINY, n_layer: 100_000_000 }, "n_layer"],
        [
          { vocab_size: 1 << 20, n_positions: 1024, n_embd: 16384, n_layer: 40, n_head: 128 },
          "parameters",
        ],
      ];
      for (const [bad, field] of cases) {
        const res = await postJson(ctx.app, "/v1/models", { config: bad, seed: 1 });
        assert.equal(res.status, 400, field);
        const error = await errorOf(res);
        assert.equal(error.code, "invalid_model_config");
        assert.match(error.message, new RegExp(field));
      }
    });
    await t.step("request shape: seed, missing config, content type", async () => {
      const seed = await postJson(ctx.app, "/v1/models", { config: TINY, seed: -1 });
      assert.equal(seed.status, 400);
      assert.match((await errorOf(seed)).message, /field seed/);
      const none = await postJson(ctx.app, "/v1/models", { seed: 1 });
      assert.match((await errorOf(none)).message, /field config/);
      const text = await ctx.app.request("/v1/models", { method: "POST", body: "x" });
      assert.equal(text.status, 415);
    });
    await t.step("tokenizer larger than the vocabulary", async () => {
      const res = await postJson(ctx.app, "/v1/models", {
        config: { ...TINY, vocab_size: 200 },
        seed: 1,
      });
      assert.equal(res.status, 400);
      assert.match((await errorOf(res)).message, /257 ids .* vocab_size is 200/);
      const bpe = await postJson(ctx.app, "/v1/models", {
        config: { ...TINY, vocab_size: 5 },
        tokenizer: tinyTokenizerJson(),
      });
      assert.match((await errorOf(bpe)).message, /9 ids .* vocab_size is 5/);
    });
    await t.step("shape mismatch names the tensor and both shapes", async () => {
      const wide = parseGpt2Config({ ...TINY, n_embd: 8 });
      const res = await uploadCheckpoint(ctx.app, {
        weights: saveParams(initParams(wide, 1)),
        config: TINY,
      });
      assert.equal(res.status, 400);
      const error = await errorOf(res);
      assert.equal(error.code, "invalid_model_weights");
      assert.equal(error.details.tensor, "wte.weight");
      assert.match(error.message, /wte\.weight has shape \[257,8\], expected \[257,16\]/);
    });
    await t.step("a non-finite weight names the tensor and index", async () => {
      const set = initParams(config, 1);
      set.values.get("h.0.mlp.c_fc.bias")![5] = NaN;
      const res = await uploadCheckpoint(ctx.app, { weights: saveParams(set), config: TINY });
      assert.equal(res.status, 400);
      const error = await errorOf(res);
      assert.deepEqual(
        [error.details.tensor, error.details.problem, error.details.index],
        ["h.0.mlp.c_fc.bias", "non_finite", 5],
      );
    });
    await t.step("missing tensor", async () => {
      const { tensors } = decodeSafetensors(saveParams(initParams(config, 1)));
      tensors.delete("ln_f.bias");
      const res = await uploadCheckpoint(ctx.app, {
        weights: encodeSafetensors(Object.fromEntries(tensors)),
        config: TINY,
      });
      assert.equal(res.status, 400);
      assert.match(
        (await errorOf(res)).message,
        /missing tensor ln_f\.bias \(expected shape \[16\]\)/,
      );
    });
    await t.step("malformed safetensors", async () => {
      const cases: [string, Uint8Array, string][] = [
        ["bad header length", rawSafetensors({}, 0, 1n << 40n), "header_length"],
        ["truncated", new Uint8Array(5), "truncated"],
        [
          "offsets out of range",
          rawSafetensors({ "wte.weight": { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, 4),
          "offsets",
        ],
        [
          "unknown dtype",
          rawSafetensors({ "wte.weight": { dtype: "F8", shape: [2], data_offsets: [0, 2] } }, 2),
          "dtype",
        ],
        ["header not JSON", rawSafetensors("x", 0).fill(0x7b, 8), "header_json"],
      ];
      for (const [what, weights, problem] of cases) {
        const res = await uploadCheckpoint(ctx.app, { weights, config: TINY });
        assert.equal(res.status, 400, what);
        const error = await errorOf(res);
        assert.equal(error.code, "invalid_safetensors", what);
        assert.equal(error.details.problem, problem, what);
      }
    });
    await t.step("missing files and unusable config.json / tokenizer.json", async () => {
      const noWeights = await uploadCheckpoint(ctx.app, { config: TINY });
      assert.equal(noWeights.status, 400);
      const noConfig = await uploadCheckpoint(ctx.app, {
        weights: encodeSafetensors({ "wte.weight": { shape: [1], data: new Float32Array(1) } }),
      });
      assert.match((await errorOf(noConfig)).message, /config\.json is required/);
      const weights = saveParams(initParams(config, 1));
      const badJson = await uploadCheckpoint(ctx.app, { weights, config: "{nope" });
      assert.match((await errorOf(badJson)).message, /config\.json is not valid JSON/);
      const { tensors } = decodeSafetensors(weights);
      const badMetadata = await uploadCheckpoint(ctx.app, {
        weights: encodeSafetensors(Object.fromEntries(tensors), { config: "{nope" }),
      });
      assert.equal(badMetadata.status, 400);
      const metadataError = await errorOf(badMetadata);
      assert.equal(metadataError.code, "invalid_model_config");
      assert.match(metadataError.message, /metadata "config" is not JSON/);
      const badTokenizer = await uploadCheckpoint(ctx.app, {
        weights,
        config: TINY,
        tokenizer: [],
      });
      assert.equal((await errorOf(badTokenizer)).code, "invalid_tokenizer");
    });
    await t.step("nothing was stored by the failures", async () => {
      const list = await (await ctx.app.request("/v1/models")).json();
      assert.equal(list.total, 0);
    });
  } finally {
    await ctx.close();
  }
});

Deno.test("losses: request errors come before the GPU; no GPU is a 503", async (t) => {
  const ctx = await testApp({ gpu: fakeGpu() });
  try {
    const model = await (await postJson(ctx.app, "/v1/models", { config: TINY, seed: 1 })).json();
    const losses = (body: unknown, id = model.id) =>
      postJson(ctx.app, `/v1/models/${id}/losses`, body);
    await t.step("an example longer than the context names the example", async () => {
      const res = await losses({
        examples: [{ text: "short" }, { id: "long", text: "x".repeat(33) }],
      });
      assert.equal(res.status, 400);
      const error = await errorOf(res);
      assert.equal(error.code, "context_too_long");
      assert.match(
        error.message,
        /example 1 \("long"\) has 33 tokens, more than the model's context of 32/,
      );
      const prompt = await losses({ examples: [{ prompt: "p".repeat(30), completion: "ab" }] });
      assert.match((await errorOf(prompt)).message, /example 0 has 33 tokens/);
    });
    await t.step("examples or dataset, not both, not neither; unknown keys", async () => {
      for (const body of [{}, { examples: [{ text: "ab" }], dataset: "builtin:skills" }]) {
        assert.equal((await losses(body)).status, 400);
      }
      const extra = await losses({ examples: [{ text: "ab", label: 1 }] });
      assert.equal(extra.status, 400);
      const single = await losses({ examples: [{ text: "a" }] });
      assert.equal((await errorOf(single)).code, "nothing_to_score");
    });
    await t.step("ids not in the dataset, unknown dataset, unknown model", async () => {
      const res = await losses({ dataset: "builtin:skills", ids: ["rev-0", "zzz-1"] });
      assert.equal(res.status, 400);
      assert.match((await errorOf(res)).message, /zzz-1/);
      assert.equal((await losses({ dataset: "nope" })).status, 404);
      assert.equal((await losses({ examples: [{ text: "ab" }] }, "nope")).status, 404);
    });
    await t.step("valid request without a usable GPU: 503 with the reason", async () => {
      const res = await losses({ examples: [{ text: "ab" }] });
      assert.equal(res.status, 503);
      const error = await errorOf(res);
      assert.equal(error.code, "gpu_unavailable");
      assert.match(error.message, /no device/);
    });
  } finally {
    await ctx.close();
  }
  const broken = await testApp({ gpu: fakeGpu({ error: "device lost: test" }) });
  try {
    const model = await (await postJson(broken.app, "/v1/models", { config: TINY })).json();
    const res = await postJson(broken.app, `/v1/models/${model.id}/losses`, {
      examples: [{ text: "ab" }],
    });
    assert.equal(res.status, 503);
    assert.match((await errorOf(res)).message, /device lost: test/);
  } finally {
    await broken.close();
  }
});

Deno.test("losses: chunks respect the batch cap and the buffer budget", () => {
  const lengths = [3, 5, 5, 8, 2];
  const order = [4, 0, 1, 2, 3];
  // perRow(T) = T: a chunk of b examples padded to T costs b·T.
  assert.deepEqual(planChunks(order, lengths, (T) => T, 10), [[4, 0], [1, 2], [3]]);
  assert.deepEqual(planChunks(order, lengths, (T) => T, 15), [[4, 0, 1], [2], [3]]);
  assert.deepEqual(planChunks(order, lengths, (T) => T, 1e9), [order]);
  const many = Array.from({ length: MAX_BATCH + 1 }, (_, i) => i);
  const caps = planChunks(many, many.map(() => 1), () => 1, 1e9);
  assert.deepEqual(caps.map((c) => c.length), [MAX_BATCH, 1]);
});
