// TracIn over HTTP, end to end: record a tiny study with checkpoints (POST /v1/training-runs),
// score it with POST /v1/influence/tracin ("mlp" and the default "all"), check the stored score
// set against the float64 reference computed from the downloaded checkpoints and the run's
// learning rates, read it through matrix/top/modules; a projected TracIn; then every refusal,
// each leaving nothing stored.
import assert from "node:assert/strict";
import { loadDatasetExamples } from "../../src/datasets/load.ts";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { initParams, loadParams, saveParams } from "../../src/gpt2/params.ts";
import { encodeSequences } from "../../src/influence/inputs.ts";
import { INFLUENCE } from "../../src/influence/store.ts";
import { loadModel } from "../../src/models/load.ts";
import { projectGradients } from "../../src/projection/engine.ts";
import { RUNS } from "../../src/runs/run_store.ts";
import { referenceTracin } from "../../src/tracin/reference/tracin.ts";
import { parseSse, testApp } from "../helpers/app.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { relativeError } from "../helpers/score_agreement.ts";

type AppLike = { request: (p: string, i?: RequestInit) => Response | Promise<Response> };

const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };
// f32 on the GPU against float64: as in tests/tracin/engine.test.ts.
const TOLERANCE = 1e-5;

function postJson(app: AppLike, path: string, body: unknown) {
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

async function record(app: AppLike, model: string, study: string, checkpointEvery?: number) {
  const res = await postJson(app, "/v1/training-runs", {
    study,
    model,
    dataset: "builtin:skills",
    trainExamples: 7,
    testExamples: 3,
    runs: 1,
    steps: 4,
    batchSize: 3,
    // A decaying rate, so that each checkpoint's η differs (and an off-by-one step would show).
    optimizer: {
      kind: "adamw",
      lr: 0.02,
      schedule: { decay: "linear", totalSteps: 4, minLrRatio: 0.1 },
    },
    seed: 5,
    ...(checkpointEvery ? { checkpointEvery } : {}),
  });
  assert.equal(res.status, 202, await res.clone().text());
  const events = await finish(app, (await res.json()).job);
  return JSON.parse(events.at(-1)!.data).result.runs[0].id as string;
}

Deno.test("tracin over HTTP: recorded run, scores, readers, refusals", gpuTest, async (t) => {
  const gpu = gpuFromRuntime(await testRuntime(), () => ({}), { ownsRuntime: false });
  const ctx = await testApp({ gpu });
  const { app, store } = ctx;
  const scoreSets = () => store.get(INFLUENCE).list("scores", 100, 0).total;
  const files = () => [...Deno.readDirSync(`${ctx.dataDir}/tensors`)].length;
  try {
    const created = await postJson(app, "/v1/models", { config: TINY, seed: 1 });
    assert.equal(created.status, 201);
    const model = (await created.json()).id as string;
    const runId = await record(app, model, "tracin-study", 2);
    const exported = await (await app.request(`/v1/runs/${runId}?format=json`)).json();
    const steps = exported.steps as { batch: string[]; lr: number }[];
    const trainIds = [...new Set(steps.flatMap((s) => s.batch))].sort();

    await t.step("a recorded run keeps the model and dataset it was recorded from", () => {
      const provenance = store.get(RUNS).provenance(runId)!;
      assert.deepEqual([provenance.model, provenance.dataset], [model, "builtin:skills"]);
      assert.ok(provenance.training, "and what a replay needs");
    });

    const loaded = await loadModel(store, model);
    const checkpoints = await Promise.all([2, 4].map(async (step) => {
      const res = await app.request(`/v1/runs/${runId}/checkpoints/${step}`);
      assert.equal(res.status, 200);
      return {
        lr: steps[step - 1].lr,
        params: loadParams(new Uint8Array(await res.arrayBuffer()), loaded.config),
      };
    }));
    assert.equal(new Set(steps.map((s) => s.lr)).size, 4, "every step has its own rate");
    assert.ok(checkpoints[0].lr > checkpoints[1].lr && checkpoints[1].lr > 0);
    const trainExamples = await loadDatasetExamples(store, "builtin:skills", trainIds);
    const train = encodeSequences(loaded.tokenizer, trainExamples, 32, "train");

    await t.step('"mlp" with inline queries matches the float64 reference', async () => {
      const inline = [{ id: "a", text: "rev 123=321" }, { prompt: "add 2 3=", completion: "5" }];
      const res = await postJson(app, "/v1/influence/tracin", {
        run: runId,
        queries: { examples: inline },
        parameters: "mlp",
      });
      assert.equal(res.status, 202, await res.clone().text());
      const started = await res.json();
      assert.equal(started.scores.method, "tracin");
      assert.equal(started.scores.factors, null);
      const events = await finish(app, started.job);
      const progress = events.filter((e) => e.event === "progress").map((e) => JSON.parse(e.data));
      assert.ok(progress.some((p) => /^checkpoint 2\/2/.test(p.phase)), "progress per checkpoint");
      const id = started.scores.id as string;
      const described = await (await app.request(`/v1/influence/scores/${id}`)).json();
      assert.equal(described.status, "ready");
      assert.deepEqual(described.tracin, {
        run: runId,
        parameters: "mlp",
        checkpoints: [{ step: 2, lr: steps[1].lr }, { step: 4, lr: steps[3].lr }],
        projection: null,
      });
      assert.deepEqual(described.modules, ["h.0.mlp.c_fc", "h.0.mlp.c_proj"]);
      assert.deepEqual(described.shape, [2, trainIds.length]);

      const matrix = await (await app.request(`/v1/influence/scores/${id}/matrix`)).json();
      assert.deepEqual(matrix.queries, ["a", "q1"]);
      assert.deepEqual(matrix.train, trainIds);
      const queries = encodeSequences(
        loaded.tokenizer,
        [{ id: "a", text: inline[0].text! }, { id: "q1", ...inline[1] }] as never,
        32,
        "queries",
      );
      const want = referenceTracin(checkpoints, "mlp", train, queries);
      const got = (matrix.scores as number[][]).flat();
      const err = relativeError(got, want.total);
      console.log(`mlp over HTTP: error ${err.toExponential(2)} of the largest score`);
      assert.ok(err <= TOLERANCE, `error ${err.toExponential(2)} of the largest score`);

      const top = await (await app.request(`/v1/influence/scores/${id}/top?query=a&k=3`)).json();
      const row = (matrix.scores as number[][])[0];
      const ranked = trainIds.map((m, j) => ({ m, s: row[j] })).sort((x, y) => y.s - x.s);
      const helpful = ranked.filter((e) => e.s > 0).slice(0, 3).map((e) => e.m);
      const harmful = ranked.reverse().filter((e) => e.s < 0).slice(0, 3).map((e) => e.m);
      assert.deepEqual(top.helpful.map((e: { id: string }) => e.id), helpful);
      assert.deepEqual(top.harmful.map((e: { id: string }) => e.id), harmful);
      assert.ok(helpful.length + harmful.length > 0);
      assert.equal(
        top.helpful[0]?.example.id ?? top.harmful[0].example.id,
        [...helpful, ...harmful][0],
      );
      const pair = await (await app.request(
        `/v1/influence/scores/${id}/modules?query=q1&train=${trainIds[1]}`,
      )).json();
      const sum = pair.modules.reduce((s: number, m: { score: number }) => s + m.score, 0);
      assert.ok(Math.abs(sum - pair.total) <= 1e-5 * Math.abs(pair.total) + 1e-12);
      assert.ok(Math.abs(pair.total - matrix.scores[1][1]) <= 1e-6 * Math.abs(pair.total));
    });

    await t.step('default "all" with dataset queries matches the reference', async () => {
      const queryIds = exported.testExamples as string[];
      const res = await postJson(app, "/v1/influence/tracin", {
        run: runId,
        queries: { dataset: "builtin:skills", ids: queryIds },
      });
      assert.equal(res.status, 202, await res.clone().text());
      const started = await res.json();
      await finish(app, started.job);
      const id = started.scores.id as string;
      const described = await (await app.request(`/v1/influence/scores/${id}`)).json();
      assert.equal(described.tracin.parameters, "all");
      assert.deepEqual(described.modules, [
        "wte",
        "wpe",
        "h.0.ln_1",
        "h.0.attn.c_attn",
        "h.0.attn.c_proj",
        "h.0.ln_2",
        "h.0.mlp.c_fc",
        "h.0.mlp.c_proj",
        "ln_f",
      ]);
      const matrix = await (await app.request(`/v1/influence/scores/${id}/matrix`)).json();
      const queries = encodeSequences(
        loaded.tokenizer,
        await loadDatasetExamples(store, "builtin:skills", queryIds),
        32,
        "queries",
      );
      const want = referenceTracin(checkpoints, "all", train, queries);
      const err = relativeError((matrix.scores as number[][]).flat(), want.total);
      console.log(`all over HTTP: error ${err.toExponential(2)} of the largest score`);
      assert.ok(err <= TOLERANCE, `error ${err.toExponential(2)} of the largest score`);
      const wte = await (await app.request(`/v1/influence/scores/${id}/matrix?module=wte`)).json();
      const wantWte = want.perModule[want.modules.indexOf("wte")];
      assert.ok(relativeError((wte.scores as number[][]).flat(), wantWte) <= TOLERANCE);
    });

    await t.step("a Kronecker projection: Σ_c η_c ⟨φ_q, φ_m⟩, one term", async () => {
      const projection = { kind: "kronecker", dim: 8, seed: 4 } as const;
      const res = await postJson(app, "/v1/influence/tracin", {
        run: runId,
        queries: { examples: [{ id: "p", text: "rev 4821=1284" }] },
        parameters: "linear",
        projection,
      });
      assert.equal(res.status, 202, await res.clone().text());
      const started = await res.json();
      await finish(app, started.job);
      const id = started.scores.id as string;
      const described = await (await app.request(`/v1/influence/scores/${id}`)).json();
      assert.deepEqual(described.tracin.projection, projection);
      assert.deepEqual(described.modules, ["projection"]);
      const matrix = await (await app.request(`/v1/influence/scores/${id}/matrix`)).json();
      const [query] = encodeSequences(
        loaded.tokenizer,
        [{ id: "p", text: "rev 4821=1284" }],
        32,
        "queries",
      );
      const runtime = await testRuntime();
      const want = new Float64Array(trainIds.length);
      for (const c of checkpoints) {
        const project = (sequences: typeof train) =>
          projectGradients({
            runtime,
            params: c.params,
            sequences,
            projection,
            parameters: "linear",
          });
        const pq = await project([query]);
        const pm = await project(train);
        for (let m = 0; m < trainIds.length; m++) {
          let dot = 0;
          for (let j = 0; j < 8; j++) dot += pq[j] * pm[m * 8 + j];
          want[m] += c.lr * dot;
        }
      }
      const err = relativeError(matrix.scores[0], want);
      assert.ok(err <= TOLERANCE, `error ${err.toExponential(2)} of the largest score`);
    });

    await t.step("a cancelled TracIn job leaves a cancelled score set and no file", async () => {
      const filesBefore = files();
      const body = { run: runId, queries: { examples: [{ text: "rev 12=21" }] } };
      const first = await (await postJson(app, "/v1/influence/tracin", body)).json();
      const second = await (await postJson(app, "/v1/influence/tracin", body)).json();
      // Jobs run one at a time: the second is still queued behind the first.
      // A queued job is cancelled at once (200).
      assert.equal((await app.request(`/v1/jobs/${second.job}`, { method: "DELETE" })).status, 200);
      await finish(app, first.job);
      const events = parseSse(await (await app.request(`/v1/jobs/${second.job}/events`)).text())
        .filter((e) => e.event !== "comment");
      assert.equal(events.at(-1)!.event, "cancelled");
      const cancelled = await (await app.request(`/v1/influence/scores/${second.scores.id}`))
        .json();
      assert.equal(cancelled.status, "cancelled");
      const matrix = await app.request(`/v1/influence/scores/${second.scores.id}/matrix`);
      assert.equal(matrix.status, 409);
      assert.equal(files(), filesBefore + 1, "only the first job's score file");
    });

    await t.step("refusals are 4xx naming the problem and store nothing", async () => {
      const before = { sets: scoreSets(), files: files() };
      const refuse = async (body: unknown, status: number, pattern: RegExp, field?: string) => {
        const res = await postJson(app, "/v1/influence/tracin", body);
        const text = await res.text();
        assert.equal(res.status, status, text);
        assert.match(text, pattern);
        if (field) assert.equal(JSON.parse(text).error.details.field, field, text);
      };
      const queries = { examples: [{ text: "rev 12=21" }] };
      await refuse({ run: "nope", queries }, 404, /run nope/);
      await refuse({ run: runId }, 400, /queries/);
      await refuse({ run: runId, queries, parameters: "attn" }, 400, /parameters/);
      await refuse({ run: runId, queries, extra: 1 }, 400, /extra/);
      await refuse({ run: runId, queries, projection: { dim: 64 } }, 400, /kind/);
      await refuse(
        { run: runId, queries, projection: { kind: "kronecker", dim: 8 } },
        400,
        /linear layers/,
        "parameters",
      );
      await refuse(
        { run: runId, queries, parameters: "mlp", projection: { kind: "dense", dim: 1e6 } },
        400,
        /projection.dim/,
        "projection.dim",
      );
      await refuse(
        { run: runId, queries, train: { dataset: "builtin:skills", ids: ["no-such-id"] } },
        400,
        /no-such-id/,
        "train.ids",
      );
      await refuse(
        { run: runId, queries: { dataset: "no-such-dataset" } },
        404,
        /no-such-dataset/,
        "queries.dataset",
      );
      await refuse(
        { run: runId, queries: { examples: [{ text: "x".repeat(40) }] } },
        400,
        /context/,
        "queries",
      );
      await refuse({ run: runId, queries: { examples: [{ text: "x" }] } }, 400, /no token/);

      // A run recorded without checkpoints.
      const bare = await record(app, model, "bare-study");
      assert.equal(files(), before.files + 1, "the bare run stores its losses only");
      await refuse({ run: bare, queries }, 409, /checkpointEvery/, "run");

      // A run stored like an upload (no provenance) that has a checkpoint: train is required;
      // with train, its unknown model is a 409.
      const tensor = await store.tensors.putEncoded(saveParams(initParams(loaded.config, 9)));
      const uploaded = await store.get(RUNS).create(
        {
          study: "uploaded",
          name: "u",
          testExamples: ["t0"],
          steps: [{ batch: [trainIds[0]], lr: 0.1 }],
          losses: new Float32Array(2),
        },
        "json",
        [{ step: 1, tensor: tensor.id }],
      );
      assert.deepEqual(store.get(RUNS).provenance(uploaded.id), {
        model: null,
        dataset: null,
        training: null,
      });
      const afterUpload = files();
      await refuse({ run: uploaded.id, queries }, 400, /give `train`/, "train");
      await refuse(
        { run: uploaded.id, queries, train: { dataset: "builtin:skills", ids: [trainIds[0]] } },
        409,
        /does not record the model/,
      );

      assert.equal(files(), afterUpload, "no file written by a refused request");

      // The run's model deleted (its weights file with it): 409 naming it.
      assert.equal((await app.request(`/v1/models/${model}`, { method: "DELETE" })).status, 204);
      await refuse({ run: runId, queries }, 409, new RegExp(`model ${model}.*no longer exists`));
      assert.equal(files(), afterUpload - 1);
      assert.equal(scoreSets(), before.sets);
    });
  } finally {
    await ctx.close();
  }
});
