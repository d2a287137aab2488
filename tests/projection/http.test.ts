// Gradient projection over HTTP, end to end on the real GPU runtime: a tiny model and a recorded
// run's checkpoint, POST /v1/gradients (dense and Kronecker) → GET, the safetensors download
// (equal to the engine's own result), scores from stored gradients (dot, cosine, trak) through
// the score-set readers; then every refusal, each leaving nothing stored.
import assert from "node:assert/strict";
import { loadDatasetExamples } from "../../src/datasets/load.ts";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { loadParams } from "../../src/gpt2/params.ts";
import { encodeSequences } from "../../src/influence/inputs.ts";
import { INFLUENCE } from "../../src/influence/store.ts";
import { loadModel } from "../../src/models/load.ts";
import { projectGradients } from "../../src/projection/engine.ts";
import { gradientScores } from "../../src/projection/scores.ts";
import { GRADIENTS } from "../../src/projection/store.ts";
import { decodeSafetensors, toFloat32 } from "../../src/store/safetensors.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { parseSse, testApp } from "../helpers/app.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

type AppLike = { request: (p: string, i?: RequestInit) => Response | Promise<Response> };

const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 2, n_head: 2 };
const DATASET = "builtin:skills";

function post(app: AppLike, path: string, body: unknown) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function finish(app: AppLike, job: string) {
  const events = parseSse(await (await app.request(`/v1/jobs/${job}/events`)).text())
    .filter((e) => e.event !== "comment");
  assert.equal(events.at(-1)!.event, "done", events.at(-1)!.data);
  return events;
}

async function errorOf(res: Response, status: number) {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.ok(body.error?.code && body.error?.message, JSON.stringify(body));
  return body.error as { code: string; message: string; details: Record<string, unknown> };
}

Deno.test("gradients over HTTP: project, describe, download, score, refuse", gpuTest, async (t) => {
  const runtime = await testRuntime();
  const gpu = gpuFromRuntime(runtime, () => ({}), { ownsRuntime: false });
  const ctx = await testApp({ gpu });
  const { app, store } = ctx;
  const gradientSets = () => store.get(GRADIENTS).list(100, 0).total;
  const scoreSets = () => store.get(INFLUENCE).list("scores", 100, 0).total;
  try {
    const created = await post(app, "/v1/models", { config: TINY, seed: 1 });
    assert.equal(created.status, 201);
    const model = (await created.json()).id as string;
    const all = await loadDatasetExamples(store, DATASET);
    const trainIds = all.slice(0, 9).map((e) => e.id);
    const queryIds = all.slice(9, 12).map((e) => e.id);
    const loaded = await loadModel(store, model);
    const encode = (ids: string[]) =>
      encodeSequences(loaded.tokenizer, all.filter((e) => ids.includes(e.id)), 32, "x");

    /** POSTs a projection, waits for it, and returns its id, description and matrix. */
    const project = async (body: Record<string, unknown>) => {
      const res = await post(app, "/v1/gradients", { dataset: DATASET, ...body });
      assert.equal(res.status, 202, await res.clone().text());
      const { gradients, job } = await res.json();
      assert.equal(gradients.status, "running");
      await finish(app, job);
      const meta = await (await app.request(`/v1/gradients/${gradients.id}`)).json();
      const data = await app.request(`/v1/gradients/${gradients.id}/data`);
      assert.equal(data.status, 200);
      const file = decodeSafetensors(new Uint8Array(await data.arrayBuffer()));
      const entry = file.tensors.get("gradients")!;
      return { id: gradients.id as string, meta, file, entry, data: toFloat32(entry) };
    };

    const sets: Record<string, string> = {};
    await t.step("dense over every parameter: stored = the engine's result", async () => {
      const got = await project({
        model,
        ids: trainIds,
        projection: { kind: "dense", dim: 96, seed: 3 },
        parameters: "all",
      });
      assert.equal(got.meta.status, "ready");
      assert.deepEqual(got.meta.shape, [9, 96]);
      assert.equal(got.meta.ids, 9);
      assert.equal(got.meta.model, model);
      assert.equal(got.meta.dataset, DATASET);
      assert.deepEqual(got.meta.projection, { kind: "dense", dim: 96, seed: 3 });
      assert.equal(got.meta.parameters, "all");
      assert.deepEqual(got.entry.shape, [9, 96]);
      assert.deepEqual(JSON.parse(got.file.metadata.ids), trainIds);
      const want = await projectGradients({
        runtime,
        params: loaded.params,
        sequences: encode(trainIds),
        projection: { kind: "dense", dim: 96, seed: 3 },
        parameters: "all",
      });
      assert.deepEqual(got.data, want);
      assert.ok(want.some((v) => v !== 0));
    });

    await t.step("Kronecker on the MLPs, training set and queries", async () => {
      for (const [name, ids] of [["train", trainIds], ["queries", queryIds]] as const) {
        const got = await project({
          model,
          ids,
          projection: { kind: "kronecker", dim: 64, seed: 4 },
          parameters: "mlp",
        });
        const want = await projectGradients({
          runtime,
          params: loaded.params,
          sequences: encode([...ids]),
          projection: { kind: "kronecker", dim: 64, seed: 4 },
          parameters: "mlp",
        });
        assert.deepEqual(got.data, want, name);
        assert.deepEqual(got.meta.shape, [ids.length, 64]);
        sets[name] = got.id;
      }
      const list = await (await app.request("/v1/gradients")).json();
      assert.equal(list.total, 3);
    });

    await t.step("scores from stored gradients: dot, cosine, trak; matrix and top", async () => {
      const download = async (id: string) =>
        toFloat32(
          decodeSafetensors(
            new Uint8Array(await (await app.request(`/v1/gradients/${id}/data`)).arrayBuffer()),
          ).tensors.get("gradients")!,
        );
      const train = await download(sets.train);
      const queries = await download(sets.queries);
      for (const method of ["dot", "cosine", "trak"] as const) {
        const res = await post(app, "/v1/influence/scores", {
          gradients: { train: sets.train, queries: sets.queries },
          method,
        });
        assert.equal(res.status, 202, await res.clone().text());
        const { scores, job } = await res.json();
        assert.equal(scores.method, "gradients");
        await finish(app, job);
        const meta = await (await app.request(`/v1/influence/scores/${scores.id}`)).json();
        assert.equal(meta.status, "ready");
        assert.deepEqual(meta.shape, [3, 9]);
        assert.deepEqual(meta.gradients, { train: sets.train, queries: sets.queries, method });
        const matrix = await (await app.request(`/v1/influence/scores/${scores.id}/matrix`))
          .json();
        assert.deepEqual(matrix.queries, queryIds);
        assert.deepEqual(matrix.train, trainIds);
        const want = gradientScores({ train, queries, M: 9, Q: 3, k: 64, method }).scores;
        assertClose(matrix.scores.flat(), want, {
          rel: 1e-6,
          abs: 1e-6 * Math.max(...want.map(Math.abs)),
        }, method);
        const top = await (await app.request(
          `/v1/influence/scores/${scores.id}/top?query=${queryIds[0]}&k=2`,
        )).json();
        const row = matrix.scores[0] as number[];
        const best = row.indexOf(Math.max(...row));
        if (row[best] > 0) {
          assert.equal(top.helpful[0].id, trainIds[best]);
          assert.ok(top.helpful[0].example, "the training example comes along");
        }
      }
    });

    await t.step("a recorded run's checkpoint; a missing step is a 404", async () => {
      const res = await post(app, "/v1/training-runs", {
        study: "projection-study",
        model,
        dataset: DATASET,
        trainExamples: 6,
        testExamples: 2,
        runs: 1,
        steps: 2,
        batchSize: 3,
        optimizer: { kind: "adamw", lr: 0.02 },
        seed: 2,
        checkpointEvery: 2,
      });
      assert.equal(res.status, 202, await res.clone().text());
      const events = await finish(app, (await res.json()).job);
      const run = JSON.parse(events.at(-1)!.data).result.runs[0].id as string;
      const got = await project({
        run,
        step: 2,
        ids: queryIds,
        projection: { kind: "kronecker", dim: 64, seed: 4 },
        parameters: "mlp",
      });
      assert.equal(got.meta.model, `run:${run}@2`);
      assert.deepEqual(got.meta.source, { run, step: 2, tokenizer: `model ${model}` });
      const bytes = new Uint8Array(
        await (await app.request(`/v1/runs/${run}/checkpoints/2`))
          .arrayBuffer(),
      );
      const want = await projectGradients({
        runtime,
        params: loadParams(bytes, loaded.config),
        sequences: encode(queryIds),
        projection: { kind: "kronecker", dim: 64, seed: 4 },
        parameters: "mlp",
      });
      assert.deepEqual(got.data, want);
      const before = gradientSets();
      const missing = await post(app, "/v1/gradients", {
        run,
        step: 1,
        dataset: DATASET,
        projection: { kind: "dense", dim: 8 },
      });
      const error = await errorOf(missing, 404);
      assert.equal(error.details.field, "step");
      // Gradients of another model (the checkpoint) against the model's: a 400.
      const scoresBefore = scoreSets();
      const mixed = await post(app, "/v1/influence/scores", {
        gradients: { train: sets.train, queries: got.id },
      });
      assert.equal((await errorOf(mixed, 400)).details.field, "gradients");
      assert.equal(scoreSets(), scoresBefore);
      assert.equal(gradientSets(), before);
    });

    await t.step("scoring running gradients is a 409; a cancel leaves no file", async () => {
      const files = () => [...Deno.readDirSync(`${ctx.dataDir}/tensors`)].length;
      const fileCount = files();
      const res = await (await post(app, "/v1/gradients", {
        model,
        dataset: DATASET,
        projection: { kind: "kronecker", dim: 64, seed: 4 },
        parameters: "mlp",
      })).json();
      const busy = await errorOf(
        await post(app, "/v1/influence/scores", {
          gradients: { train: res.gradients.id, queries: sets.queries },
        }),
        409,
      );
      assert.equal(busy.code, "gradients_not_ready");
      await app.request(`/v1/jobs/${res.job}`, { method: "DELETE" });
      const events = parseSse(await (await app.request(`/v1/jobs/${res.job}/events`)).text())
        .filter((e) => e.event !== "comment");
      assert.equal(events.at(-1)!.event, "cancelled");
      const got = await (await app.request(`/v1/gradients/${res.gradients.id}`)).json();
      assert.equal(got.status, "cancelled");
      assert.equal(files(), fileCount, "no gradients file was left behind");
      await errorOf(await app.request(`/v1/gradients/${res.gradients.id}/data`), 409);
      const del = await app.request(`/v1/gradients/${res.gradients.id}`, { method: "DELETE" });
      assert.equal(del.status, 204);
      await errorOf(await app.request(`/v1/gradients/${res.gradients.id}`), 404);
    });

    await t.step("bad input is a 4xx naming the field and stores nothing", async () => {
      const before = gradientSets();
      const scoresBefore = scoreSets();
      const base = { model, dataset: DATASET, ids: trainIds.slice(0, 2) };
      const cases: [Record<string, unknown>, number, string][] = [
        [{ ...base, projection: { kind: "dense", dim: 0 } }, 400, "projection.dim"],
        [{ ...base, projection: { kind: "dense", dim: 10_000_000 } }, 400, "projection.dim"],
        [
          { ...base, projection: { kind: "kronecker", dim: 64 }, parameters: "all" },
          400,
          "parameters",
        ],
        [
          { ...base, projection: { kind: "kronecker", dim: 63 }, parameters: "mlp" },
          400,
          "projection.dim",
        ],
        [
          { ...base, projection: { kind: "kronecker", dim: 4 * 4096 }, parameters: "mlp" },
          400,
          "projection.dim",
        ],
        [{ ...base, model: "nope", projection: { kind: "dense", dim: 8 } }, 404, "model"],
        [{ ...base, dataset: "nope", projection: { kind: "dense", dim: 8 } }, 404, "dataset"],
        [{ ...base, ids: ["no-such-id"], projection: { kind: "dense", dim: 8 } }, 400, "ids"],
        [{ ...base, run: "x", step: 1, projection: { kind: "dense", dim: 8 } }, 400, "run"],
        [{ dataset: DATASET, projection: { kind: "dense", dim: 8 } }, 400, "model"],
        [{ dataset: DATASET, step: 1, projection: { kind: "dense", dim: 8 } }, 400, "run"],
        [
          { dataset: DATASET, run: "nope", step: 1, projection: { kind: "dense", dim: 8 } },
          404,
          "run",
        ],
      ];
      for (const [body, status, field] of cases) {
        const error = await errorOf(await post(app, "/v1/gradients", body), status);
        assert.equal(error.details.field, field, `${JSON.stringify(body)}: ${error.message}`);
      }
      // Dense and Kronecker gradients in one score; unknown sets; damping outside trak.
      const dense = (await (await app.request("/v1/gradients?limit=100")).json()).gradients
        .find((g: { projection: { kind: string } }) => g.projection.kind === "dense").id;
      const refusals: [Record<string, unknown>, number, string][] = [
        [{ gradients: { train: dense, queries: sets.queries } }, 400, "gradients"],
        [{ gradients: { train: "nope", queries: sets.queries } }, 404, "gradients.train"],
        [{ gradients: { train: sets.train, queries: "nope" } }, 404, "gradients.queries"],
        [{ gradients: { train: sets.train, queries: sets.queries }, damping: 1 }, 400, "damping"],
      ];
      for (const [body, status, field] of refusals) {
        const error = await errorOf(await post(app, "/v1/influence/scores", body), status);
        assert.equal(error.details.field, field, `${JSON.stringify(body)}: ${error.message}`);
      }
      const malformed = await errorOf(
        await post(app, "/v1/influence/scores", {
          gradients: { train: sets.train },
          method: "dot",
        }),
        400,
      );
      assert.match(malformed.message, /gradients\.queries/);
      assert.equal(gradientSets(), before);
      assert.equal(scoreSets(), scoresBefore);
      assert.equal((await app.request("/v1/gradients/nope")).status, 404);
      assert.equal((await app.request("/v1/gradients/nope/data")).status, 404);
    });
  } finally {
    await ctx.close();
  }
});
