// Influence functions over HTTP, end to end on the real GPU runtime: the kronfluence fixture's
// model uploaded in Hugging Face's layout, its examples as datasets, then factors → scores →
// matrix / top / tokens / modules, BM25 search, and every bad input as a 4xx that stores nothing.
import assert from "node:assert/strict";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { INFLUENCE } from "../../src/influence/store.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { parseSse, testApp } from "../helpers/app.ts";
import { influenceFixture } from "./fixture.ts";
import { pearson } from "../helpers/score_agreement.ts";

type App = Awaited<ReturnType<typeof testApp>>["app"];
const FIXTURE = new URL("../fixtures/influence/", import.meta.url);

function post(app: App, path: string, body: unknown) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function uploadFixture(app: App) {
  const form = new FormData();
  for (const name of ["model.safetensors", "config.json", "tokenizer.json"]) {
    form.set(name, new File([Deno.readFileSync(new URL(name, FIXTURE))], name));
  }
  const model = await app.request("/v1/models", { method: "POST", body: form });
  assert.equal(model.status, 201, await model.clone().text());
  const datasets: Record<string, string> = {};
  for (const name of ["train", "queries"]) {
    const res = await app.request(`/v1/datasets?name=fixture-${name}`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: Deno.readFileSync(new URL(`${name}.jsonl`, FIXTURE)),
    });
    assert.equal(res.status, 201, await res.clone().text());
    datasets[name] = (await res.json()).id;
  }
  return { model: (await model.json()).id as string, ...datasets } as {
    model: string;
    train: string;
    queries: string;
  };
}

/** Waits for a job through its SSE stream; returns the final event. */
async function finish(app: App, job: string) {
  const events = parseSse(await (await app.request(`/v1/jobs/${job}/events`)).text());
  return events[events.length - 1];
}

async function errorOf(res: Response, status: number) {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.ok(body.error?.code && body.error?.message, JSON.stringify(body));
  return body.error as { code: string; message: string; details: Record<string, unknown> };
}

Deno.test(
  "influence over HTTP: factors → scores → matrix, top, tokens, modules",
  gpuTest,
  async (t) => {
    const gpu = gpuFromRuntime(await testRuntime(), () => ({}), { ownsRuntime: false });
    const ctx = await testApp({ gpu });
    const { app } = ctx;
    try {
      const ids = await uploadFixture(app);
      const expected = influenceFixture().expected;
      let factorsId = "";

      await t.step("factors fit as a job and describe themselves", async () => {
        const res = await post(app, "/v1/influence/factors", {
          model: ids.model,
          dataset: ids.train,
          fisher: "empirical",
        });
        assert.equal(res.status, 202);
        const body = await res.json();
        factorsId = body.factors.id;
        assert.equal(body.factors.strategy, "ekfac");
        assert.equal((await finish(app, body.job)).event, "done");
        const got = await (await app.request(`/v1/influence/factors/${factorsId}`)).json();
        assert.equal(got.status, "ready");
        assert.equal(got.examples, 24);
        assert.deepEqual(got.modules.map((m: { name: string }) => m.name), [
          "h.0.mlp.c_fc",
          "h.0.mlp.c_proj",
          "h.1.mlp.c_fc",
          "h.1.mlp.c_proj",
        ]);
        assert.deepEqual(got.modules[0].shape, [128, 33]);
        assert.ok(got.modules.every((m: { meanEigenvalue: number }) => m.meanEigenvalue > 0));
        const counts = expected.conventions.token_counts as { train: number[] };
        assert.equal(got.tokens, counts.train.reduce((a, b) => a + b), "kronfluence's token count");
        const list = await (await app.request("/v1/influence/factors")).json();
        assert.equal(list.total, 1);
      });

      await t.step(
        "scores agree with kronfluence; tokens and modules sum to the score",
        async () => {
          const res = await post(app, "/v1/influence/scores", {
            factors: factorsId,
            queries: { dataset: ids.queries },
            perModule: true,
            perToken: true,
          });
          assert.equal(res.status, 202, await res.clone().text());
          const { scores, job } = await res.json();
          assert.equal((await finish(app, job)).event, "done");
          const meta = await (await app.request(`/v1/influence/scores/${scores.id}`)).json();
          assert.equal(meta.status, "ready");
          assert.deepEqual(meta.shape, [4, 24]);
          const matrix = await (await app.request(`/v1/influence/scores/${scores.id}/matrix`))
            .json();
          assert.deepEqual(matrix.queries, expected.query_ids);
          assert.deepEqual(matrix.train, expected.train_ids);
          const want = expected.settings["ekfac-mlp"].scores.flat();
          const r = pearson(matrix.scores.flat(), want);
          assert.ok(r >= 0.99, `Pearson ${r}`);

          const top = await (await app.request(
            `/v1/influence/scores/${scores.id}/top?query=q0&k=3`,
          )).json();
          const row = matrix.scores[0] as number[];
          const best = row.indexOf(Math.max(...row));
          assert.equal(top.helpful[0].id, expected.train_ids[best]);
          assert.ok(top.helpful[0].example, "the training example's text comes along");
          assert.ok(top.harmful.every((h: { score: number }) => h.score < 0));

          const pair = `query=q1&train=${expected.train_ids[0]}`;
          const tokens =
            await (await app.request(`/v1/influence/scores/${scores.id}/tokens?${pair}`))
              .json();
          const sum = tokens.tokens.reduce((a: number, x: { score: number }) => a + x.score, 0);
          assert.ok(Math.abs(sum - tokens.total) <= 1e-5 * Math.abs(tokens.total) + 1e-6);
          assert.ok(tokens.tokens.every((x: { text: string }) => typeof x.text === "string"));
          const modules =
            await (await app.request(`/v1/influence/scores/${scores.id}/modules?${pair}`))
              .json();
          const moduleSum = modules.modules.reduce(
            (a: number, x: { score: number }) => a + x.score,
            0,
          );
          assert.ok(Math.abs(moduleSum - modules.total) <= 1e-5 * Math.abs(modules.total) + 1e-6);

          const file = await app.request(
            `/v1/influence/scores/${scores.id}/matrix?format=safetensors`,
          );
          assert.equal(file.headers.get("content-type"), "application/octet-stream");
          assert.ok((await file.arrayBuffer()).byteLength > 4 * 4 * 24);
        },
      );

      await t.step("self-influence and a BM25 filter with null for skipped pairs", async () => {
        const self = await (await post(app, "/v1/influence/scores", {
          factors: factorsId,
          mode: "self",
        })).json();
        assert.equal((await finish(app, self.job)).event, "done");
        const selfMatrix =
          await (await app.request(`/v1/influence/scores/${self.scores.id}/matrix`))
            .json();
        assert.equal(selfMatrix.scores.length, 24);
        assert.ok(selfMatrix.scores.every((v: number) => v > 0), "self-influence is positive");

        const filtered = await (await post(app, "/v1/influence/scores", {
          factors: factorsId,
          queries: { examples: [{ id: "mine", prompt: "add 11 46 =", completion: " 57" }] },
          filter: { method: "bm25", top: 5 },
        })).json();
        assert.equal((await finish(app, filtered.job)).event, "done");
        const m = await (await app.request(`/v1/influence/scores/${filtered.scores.id}/matrix`))
          .json();
        assert.deepEqual(m.queries, ["mine"]);
        const scored = (m.scores[0] as (number | null)[]).filter((v) => v !== null);
        assert.equal(scored.length, 5);
        const search = await (await post(app, `/v1/datasets/${ids.train}/search`, {
          query: "add 11 46 = 57",
          top: 3,
          model: ids.model,
        })).json();
        assert.equal(search.results.length, 3);
        assert.ok(search.results[0].score >= search.results[2].score);
        assert.ok(m.scores[0][m.train.indexOf(search.results[0].id)] !== null);
      });

      await t.step("bad input is a 4xx naming the problem, and stores nothing", async () => {
        const influence = ctx.store.get(INFLUENCE);
        const before = influence.list("factors", 100, 0).total +
          influence.list("scores", 100, 0).total;
        const base = { model: ids.model, dataset: ids.train };
        const unknown = await errorOf(
          await post(app, "/v1/influence/factors", { ...base, modules: ["h.0.mlp.c_fcx"] }),
          400,
        );
        assert.equal(unknown.details.field, "modules");
        await errorOf(await post(app, "/v1/influence/factors", { ...base, ids: [] }), 400);
        await errorOf(await post(app, "/v1/influence/factors", { ...base, modules: "attn" }), 400);
        const long = await errorOf(
          await post(app, "/v1/influence/scores", {
            factors: factorsId,
            queries: { examples: [{ text: "x ".repeat(200) }] },
          }),
          400,
        );
        assert.equal(long.code, "context_too_long");
        const rank = await errorOf(
          await post(app, "/v1/influence/scores", {
            factors: factorsId,
            queries: { dataset: ids.queries },
            queryRank: 33,
          }),
          400,
        );
        assert.equal(rank.details.field, "queryRank");
        await errorOf(
          await post(app, "/v1/influence/scores", {
            factors: factorsId,
            queries: { dataset: ids.queries },
            filter: { method: "bm25", top: 0 },
          }),
          400,
        );
        const infinite = await app.request("/v1/influence/scores", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body:
            `{"factors": "${factorsId}", "queries": {"dataset": "${ids.queries}"}, "damping": 1e999}`,
        });
        await errorOf(infinite, 400);
        const other = await errorOf(
          await post(app, "/v1/influence/scores", {
            factors: factorsId,
            model: "another-model",
            queries: { dataset: ids.queries },
          }),
          400,
        );
        assert.equal(other.code, "factors_of_another_model");
        await errorOf(
          await post(app, "/v1/influence/scores", { factors: "nope", mode: "self" }),
          404,
        );
        const after = influence.list("factors", 100, 0).total +
          influence.list("scores", 100, 0).total;
        assert.equal(after, before, "nothing was stored");
      });

      await t.step(
        "scoring with factors still fitting is a 409; a cancel leaves no file",
        async () => {
          const files = () => [...Deno.readDirSync(ctx.dataDir + "/tensors")].length;
          const fileCount = files();
          const res = await (await post(app, "/v1/influence/factors", {
            model: ids.model,
            dataset: ids.train,
          })).json();
          const busy = await errorOf(
            await post(app, "/v1/influence/scores", { factors: res.factors.id, mode: "self" }),
            409,
          );
          assert.equal(busy.code, "factors_not_ready");
          await app.request(`/v1/jobs/${res.job}`, { method: "DELETE" });
          assert.equal((await finish(app, res.job)).event, "cancelled");
          const got = await (await app.request(`/v1/influence/factors/${res.factors.id}`)).json();
          assert.equal(got.status, "cancelled");
          assert.equal(files(), fileCount, "no factor file was left behind");
          const del = await app.request(`/v1/influence/factors/${res.factors.id}`, {
            method: "DELETE",
          });
          assert.equal(del.status, 204);
          await errorOf(await app.request(`/v1/influence/factors/${res.factors.id}`), 404);
        },
      );
    } finally {
      await ctx.close();
    }
  },
);
