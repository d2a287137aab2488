// Recording training runs over HTTP, end to end: fine-tune a tiny model under seeded curricula,
// store the runs in a study, fit Simfluence-Linear on them and evaluate on a held-out run.
import assert from "node:assert/strict";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { parseGpt2Config } from "../../src/gpt2/config.ts";
import { loadParams } from "../../src/gpt2/params.ts";
import { parseSse, testApp } from "../helpers/app.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { RUNS } from "../../src/runs/run_store.ts";

type AppLike = { request: (p: string, i?: RequestInit) => Response | Promise<Response> };

const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };

function postJson(app: AppLike, path: string, body: unknown) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function withGpuApp() {
  const gpu = gpuFromRuntime(await testRuntime(), () => ({}), { ownsRuntime: false });
  const ctx = await testApp({ gpu });
  const res = await postJson(ctx.app, "/v1/models", { config: TINY, seed: 1 });
  assert.equal(res.status, 201, await res.clone().text());
  return { ctx, model: (await res.json()).id as string };
}

function request(model: string, overrides: Record<string, unknown> = {}) {
  return {
    study: "recorded",
    model,
    dataset: "builtin:skills",
    trainExamples: 12,
    testExamples: 4,
    runs: 3,
    steps: 6,
    batchSize: 4,
    optimizer: { kind: "adamw", lr: 0.01 },
    curriculum: "subsample",
    subsampleFraction: 0.5,
    seed: 3,
    checkpointEvery: 3,
    ...overrides,
  };
}

async function finish(app: AppLike, job: string) {
  return parseSse(await (await app.request(`/v1/jobs/${job}/events`)).text())
    .filter((e) => e.event !== "comment");
}

Deno.test("training runs: record, store, fit and evaluate", gpuTest, async (t) => {
  const { ctx, model } = await withGpuApp();
  try {
    const res = await postJson(ctx.app, "/v1/training-runs", request(model));
    assert.equal(res.status, 202, await res.clone().text());
    const { job, runNames } = await res.json();
    assert.equal(runNames.length, 3);
    const events = await finish(ctx.app, job);
    await t.step("progress names the run and step; the job finishes", () => {
      const progress = events.filter((e) => e.event === "progress").map((e) => JSON.parse(e.data));
      assert.ok(progress.some((p) => /^run 3\/3$/.test(p.phase) && p.total === 18));
      assert.ok(progress.some((p) => /train loss \d/.test(p.message)));
      const last = progress.at(-1);
      assert.equal(last.throughputUnit, "tokens");
      assert.ok(last.throughput > 0 && last.throughput === last.details.tokensPerSecond);
      assert.deepEqual([last.details.run, last.details.runs, last.details.runSteps], [2, 3, 6]);
      assert.ok(Number.isFinite(last.details.trainLoss));
      assert.ok(progress.every((p) => p.etaSeconds === null || p.etaSeconds >= 0));
      assert.equal(events.at(-1)!.event, "done", events.at(-1)!.data);
    });
    const result = JSON.parse(events.at(-1)!.data).result;
    await t.step(
      "every run is stored with the loss after every step; checkpoints kept",
      async () => {
        assert.equal(result.runs.length, 3);
        assert.equal(result.checkpoints.length, 6);
        const page = await (await ctx.app.request("/v1/runs?study=recorded")).json();
        assert.equal(page.total, 3);
        for (const run of page.runs) {
          assert.deepEqual([run.steps, run.testExamples, run.source], [6, 4, "training"]);
        }
        const exported = await (await ctx.app.request(`/v1/runs/${result.runs[0].id}?format=json`))
          .json();
        assert.equal(exported.losses.length, 7);
        assert.ok(exported.steps.every((s: { batch: string[] }) => s.batch.length <= 4));
        // Row 0 (the base model) is shared by every run of the study.
        const other = await (await ctx.app.request(`/v1/runs/${result.runs[1].id}?format=json`))
          .json();
        assert.deepEqual(other.losses[0], exported.losses[0]);
      },
    );
    await t.step("the recorded study fits and evaluates without conversion", async () => {
      const ids = result.runs.map((r: { id: string }) => r.id);
      const fit = await (await postJson(ctx.app, "/v1/simulators", {
        study: "recorded",
        kind: "linear",
        trainRuns: ids.slice(0, 2),
        lambda: 0.01,
      })).json();
      const fitEvents = await finish(ctx.app, fit.job);
      assert.equal(fitEvents.at(-1)!.event, "done", fitEvents.at(-1)!.data);
      const evaluation = await postJson(ctx.app, `/v1/simulators/${fit.simulator.id}/evaluate`, {
        runs: [ids[2]],
      });
      assert.equal(evaluation.status, 200);
      const pooled = (await evaluation.json()).pooled;
      assert.ok(Number.isFinite(pooled.allStepsMse) && pooled.allStepsMse >= 0);
    });
    await t.step(
      "each run owns its checkpoints: listed, downloadable, deleted with it",
      async () => {
        const runId = result.runs[0].id;
        const list = await (await ctx.app.request(`/v1/runs/${runId}/checkpoints`)).json();
        assert.deepEqual(list.checkpoints.map((k: { step: number }) => k.step), [3, 6]);
        const weights = async (step: number) => {
          const res = await ctx.app.request(`/v1/runs/${runId}/checkpoints/${step}`);
          assert.equal(res.status, 200);
          assert.equal(res.headers.get("content-type"), "application/octet-stream");
          return loadParams(new Uint8Array(await res.arrayBuffer()), parseGpt2Config(TINY));
        };
        const [at3, at6] = [await weights(3), await weights(6)];
        const fc3 = at3.values.get("h.0.mlp.c_fc.weight")!;
        const fc6 = at6.values.get("h.0.mlp.c_fc.weight")!;
        assert.ok(
          fc3.some((v, i) => v !== fc6[i]),
          "training moved the weights between checkpoints",
        );
        const missing = await ctx.app.request(`/v1/runs/${runId}/checkpoints/4`);
        assert.equal(missing.status, 404);
        assert.deepEqual((await missing.json()).error.details.steps.ids, ["3", "6"]);
        assert.equal((await ctx.app.request(`/v1/runs/${runId}/checkpoints/x`)).status, 400);

        const tensors = ctx.store.get(RUNS).checkpoints(runId).map((k) => k.tensor);
        assert.equal(tensors.length, 2);
        // A simulator was fitted on this run above: only a forced delete goes through.
        assert.equal(
          (await ctx.app.request(`/v1/runs/${runId}`, { method: "DELETE" })).status,
          409,
        );
        assert.equal(
          (await ctx.app.request(`/v1/runs/${runId}?force=true`, { method: "DELETE" })).status,
          204,
        );
        assert.ok(tensors.every((id) => ctx.store.tensors.info(id) === null), "files deleted too");
        assert.equal((await ctx.app.request(`/v1/runs/${runId}/checkpoints`)).status, 404);
      },
    );
    await t.step("the same run names again are a 409", async () => {
      const again = await postJson(
        ctx.app,
        "/v1/training-runs",
        request(model, { namePrefix: "x" }),
      );
      await finish(ctx.app, (await again.json()).job);
      const taken = await postJson(
        ctx.app,
        "/v1/training-runs",
        request(model, { namePrefix: "x" }),
      );
      assert.equal(taken.status, 409);
    });
  } finally {
    await ctx.close();
  }
});

Deno.test(
  "training runs: bad input is a 4xx; divergence fails the job at its step",
  gpuTest,
  async (t) => {
    const { ctx, model } = await withGpuApp();
    try {
      const cases: [Record<string, unknown>, number, RegExp][] = [
        [{ batchSize: 50 }, 400, /batch/i],
        [{ trainExamples: ["rev-1", "nope"] }, 400, /nope/],
        [{ testExamples: 5000 }, 400, /available/],
        [{ epochs: 2 }, 400, /exactly one of/],
        [{ model: "missing" }, 404, /model/],
        [{ dataset: "missing" }, 404, /dataset/],
        [{ curriculum: "subsample", subsampleFraction: undefined }, 400, /subsampleFraction/],
        [{ optimizer: { kind: "adamw", lr: -1 } }, 400, /lr/],
        [{ optimizer: { kind: "adamw", lr: Infinity } }, 400, /lr/],
        // A misspelt hyperparameter is an error, not a silently applied default.
        [{ optimizer: { kind: "adamw", lr: 0.01, weight_decay: 0.1 } }, 400, /weight_decay/],
        [
          { optimizer: { kind: "adamw", lr: 0.01, schedule: { warmupSteps: 50 } } },
          400,
          /warmupSteps cannot exceed totalSteps/,
        ],
        [{ curriculum: "shuffle", subsampleFraction: 0.5 }, 400, /applies only to curriculum/],
        // 1000 runs × 1e6 steps × 4 would plan 4e9 batch entries up front.
        [{ runs: 1000, steps: 1_000_000 }, 400, /training_request_too_large/],
        [{ runs: 1, steps: 1_000_000, testExamples: 60 }, 400, /loss matrix/],
      ];
      for (const [overrides, status, pattern] of cases) {
        await t.step(`${status} ${pattern}`, async () => {
          const res = await postJson(ctx.app, "/v1/training-runs", request(model, overrides));
          assert.equal(res.status, status);
          assert.match(JSON.stringify(await res.json()), pattern);
        });
      }
      await t.step("a NaN loss fails the job and names the step; no run is stored", async () => {
        const res = await postJson(
          ctx.app,
          "/v1/training-runs",
          request(model, { study: "diverged", optimizer: { kind: "sgd", lr: 1e30 } }),
        );
        const events = await finish(ctx.app, (await res.json()).job);
        assert.equal(events.at(-1)!.event, "failed");
        assert.match(JSON.parse(events.at(-1)!.data).error, /step 1/);
        assert.equal((await (await ctx.app.request("/v1/runs?study=diverged")).json()).total, 0);
      });
    } finally {
      await ctx.close();
    }
  },
);

Deno.test("training runs: without a GPU the request is a 503", async () => {
  const ctx = await testApp();
  try {
    const res = await postJson(ctx.app, "/v1/training-runs", request("any"));
    assert.equal(res.status, 503);
  } finally {
    await ctx.close();
  }
});
