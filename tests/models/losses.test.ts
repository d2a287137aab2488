// Per-example losses on the GPU through HTTP: finite and positive, token counts right for text and
// prompt → completion, equal to the float64 reference of each example run alone (so batching,
// padding and reordering change nothing), identical for a checkpoint uploaded from saveParams
// with or without the `transformer.` prefix, and BPE-tokenized through a tokenizer.json.
//
// Tolerance: per-example losses are means of O(1) cross-entropies through one tiny layer; f32
// rounding leaves ~1e-6, so 1e-4 absolute is a safe bound that any masking or padding bug exceeds.
import assert from "node:assert/strict";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { prepareBatch } from "../../src/gpt2/batch.ts";
import { parseGpt2Config } from "../../src/gpt2/config.ts";
import { initParams, type ParamSet, saveParams } from "../../src/gpt2/params.ts";
import { referenceForward, toParams64 } from "../../src/gpt2/reference/model.ts";
import { decodeSafetensors, encodeSafetensors } from "../../src/store/safetensors.ts";
import { tokenizeExample } from "../../src/text/example_tokens.ts";
import { hfTokenizer } from "../../src/text/hf_tokenizer.ts";
import { byteTokenizer, type TextTokenizer } from "../../src/text/tokenizer.ts";
import type { DatasetExample } from "../../src/datasets/example.ts";
import { loadModel } from "../../src/models/load.ts";
import { testApp } from "../helpers/app.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { tinyTokenizerJson } from "../helpers/tiny_tokenizer.ts";

const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };

interface LossJson {
  index: number;
  id: string | null;
  loss: number;
  tokens: number;
}

type AppLike = { request: (p: string, i?: RequestInit) => Response | Promise<Response> };

function postJson(app: AppLike, path: string, body: unknown) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** The float64 reference loss of one example on its own (B = 1, no padding). */
function referenceLoss(params: ParamSet, tokenizer: TextTokenizer, e: DatasetExample): number {
  const { tokens, lossMask } = tokenizeExample(tokenizer, e);
  const batch = prepareBatch({ B: 1, T: tokens.length, tokens, lossMask }, params.config);
  return referenceForward(toParams64(params), params.config, batch).perExample[0];
}

const EXAMPLES: DatasetExample[] = [
  { id: "t1", text: "hello there, general" },
  { id: "p1", prompt: "rev 123=", completion: "321" },
  { id: "t2", text: "ab" },
  { id: "p2", prompt: "", completion: "a completion, no prompt" },
  { id: "p3", prompt: "Subject: hi\nLabel:", completion: " ham" },
];

Deno.test({
  name: "losses on the GPU",
  ...gpuTest,
  async fn(t) {
    const gpu = gpuFromRuntime(await testRuntime(), () => ({}), { ownsRuntime: false });
    const ctx = await testApp({ gpu });
    try {
      const created = await (await postJson(ctx.app, "/v1/models", { config: TINY, seed: 5 }))
        .json();
      const params = initParams(parseGpt2Config(TINY), 5);
      const losses = async (id: string, body: unknown) => {
        const res = await postJson(ctx.app, `/v1/models/${id}/losses`, body);
        assert.equal(res.status, 200, await res.clone().text());
        return (await res.json()).losses as LossJson[];
      };
      let base: LossJson[] = [];
      await t.step("finite, positive, token counts, equal to the reference", async () => {
        base = await losses(created.id, { examples: EXAMPLES });
        assert.deepEqual(base.map((l) => l.id), EXAMPLES.map((e) => e.id));
        assert.deepEqual(base.map((l) => l.tokens), [19, 4, 1, 23, 5]);
        EXAMPLES.forEach((e, i) => {
          const l = base[i];
          assert.ok(Number.isFinite(l.loss) && l.loss > 0, `${e.id}: ${l.loss}`);
          // Near-uniform predictions at initialisation: close to ln(257).
          assert.ok(Math.abs(l.loss - Math.log(257)) < 0.5, `${e.id}: ${l.loss}`);
          const expected = referenceLoss(params, byteTokenizer, e);
          assert.ok(Math.abs(l.loss - expected) < 1e-4, `${e.id}: ${l.loss} vs ${expected}`);
        });
      });
      await t.step(
        "uploaded checkpoints (with and without prefix) give identical losses",
        async () => {
          const bytes = saveParams(params);
          const { tensors } = decodeSafetensors(bytes);
          const prefixed = encodeSafetensors(
            Object.fromEntries([...tensors].map(([n, e]) => [`transformer.${n}`, e])),
          );
          for (const weights of [bytes, prefixed]) {
            const form = new FormData();
            form.set("model.safetensors", new File([weights as BlobPart], "model.safetensors"));
            form.set("config.json", new File([JSON.stringify(TINY)], "config.json"));
            const res = await ctx.app.request("/v1/models", { method: "POST", body: form });
            assert.equal(res.status, 201);
            const uploaded = await losses((await res.json()).id, { examples: EXAMPLES });
            assert.deepEqual(uploaded.map((l) => l.loss), base.map((l) => l.loss));
          }
        },
      );
      await t.step("more examples than one batch holds: chunks, order kept", async () => {
        // 70 > 64 per chunk, lengths shuffled so sorting by length reorders them.
        const many: DatasetExample[] = Array.from({ length: 70 }, (_, i) => ({
          id: `m${i}`,
          text: "xyz".repeat(1 + ((i * 7) % 10)),
        }));
        const got = await losses(created.id, { examples: many });
        assert.deepEqual(got.map((l) => l.id), many.map((e) => e.id));
        many.forEach((e, i) => {
          const expected = referenceLoss(params, byteTokenizer, e);
          assert.ok(
            Math.abs(got[i].loss - expected) < 1e-4,
            `${e.id}: ${got[i].loss} vs ${expected}`,
          );
        });
      });
      await t.step("examples from a dataset by id: completion + end-of-text", async () => {
        const ids = ["rev-0", "copy-3", "add1-7"];
        const got = await losses(created.id, { dataset: "builtin:skills", ids });
        assert.deepEqual(got.map((l) => l.id), ids);
        const page = await (await ctx.app.request("/v1/datasets/builtin:skills?limit=1000"))
          .json();
        for (const l of got) {
          const e = page.examples.find((x: DatasetExample) => x.id === l.id);
          assert.equal(l.tokens, e.completion.length + 1);
          assert.ok(Math.abs(l.loss - referenceLoss(params, byteTokenizer, e)) < 1e-4);
        }
      });
      await t.step("a model with a tokenizer.json scores BPE tokens", async () => {
        const res = await postJson(ctx.app, "/v1/models", {
          config: TINY,
          seed: 5,
          tokenizer: tinyTokenizerJson(),
        });
        const model = await res.json();
        const examples = [{ text: "ab abc ab" }, { prompt: "ab", completion: " abc" }];
        const got = await losses(model.id, { examples });
        // "ab abc ab" → ab, Ġabc, Ġab: 2 labels; " abc" + end-of-text: 2 labels.
        assert.deepEqual(got.map((l) => l.tokens), [2, 2]);
        const loaded = await loadModel(ctx.store, model.id);
        assert.equal(loaded.tokenizer.kind, "huggingface");
        const tokenizer = hfTokenizer(tinyTokenizerJson());
        got.forEach((l, i) => {
          const expected = referenceLoss(params, tokenizer, { id: "", ...examples[i] });
          assert.ok(Math.abs(l.loss - expected) < 1e-4, `${l.loss} vs ${expected}`);
        });
      });
    } finally {
      await ctx.close();
    }
  },
});
