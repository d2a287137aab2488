// A verification cancelled after its first run keeps that run in the study, marked as recorded by
// a cancelled verification; the search's result stays; resuming starts the same request afresh.
import assert from "node:assert/strict";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { testApp } from "../helpers/app.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { finishedJob, postJson } from "../simfluence/score_set_fixture.ts";

const TINY = { vocab_size: 257, n_positions: 24, n_embd: 16, n_layer: 2, n_head: 2 };

Deno.test("a cancelled verification keeps its runs, marked", gpuTest, async () => {
  const runtime = await testRuntime();
  const ctx = await testApp({ gpu: gpuFromRuntime(runtime, () => ({}), { ownsRuntime: false }) });
  try {
    const app = ctx.app;
    const model = (await (await postJson(app, "/v1/models", { config: TINY, seed: 1 })).json()).id;
    const recorded = await postJson(app, "/v1/training-runs", {
      study: "v",
      model,
      dataset: "builtin:skills",
      trainExamples: ["sort-0", "sort-1", "rev-0", "rev-1", "copy-0", "copy-1"],
      testExamples: ["sort-200", "rev-200"],
      runs: 1,
      steps: 3,
      batchSize: 3,
      optimizer: { kind: "adamw", lr: 0.01, epsRoot: 1e-8 },
      namePrefix: "base",
    });
    assert.equal((await finishedJob(app, (await recorded.json()).job)).status, "succeeded");
    const runs = await (await app.request("/v1/runs?study=v")).json();
    const base = runs.runs[0].id;
    const magic = await postJson(app, "/v1/influence/metagradients", {
      run: base,
      queries: { dataset: "builtin:skills", ids: ["sort-200"] },
    });
    const magicBody = await magic.json();
    assert.equal((await finishedJob(app, magicBody.job)).status, "succeeded");
    const started = await postJson(app, "/v1/curricula/optimize", {
      study: "v",
      objective: { tests: ["sort-200"] },
      budget: { subsetSize: 3 },
      method: { scores: magicBody.scores.id },
      verify: { runs: 16 },
    });
    assert.equal(started.status, 202, await started.clone().text());
    const { optimization, job } = await started.json();
    const path = `/v1/curricula/optimizations/${optimization.id}`;
    // Cancel once the first verification run is stored.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const record = await (await app.request(path)).json();
      if ((record.verification?.runs.length ?? 0) >= 1) break;
      assert.ok(Date.now() < deadline, "no verification run within 120 s");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await app.request(`/v1/jobs/${job}`, { method: "DELETE" });
    assert.equal((await finishedJob(app, job)).status, "cancelled");
    const record = await (await app.request(path)).json();
    assert.equal(record.status, "cancelled");
    assert.ok(record.result.curriculum.kept.length === 3, "the search's result stays");
    const verification = record.verification;
    assert.equal(verification.status, "cancelled");
    assert.ok(verification.runs.length >= 1 && verification.runs.length < 17);
    assert.equal(verification.observed, null);
    for (const run of verification.runs) {
      assert.equal(run.cancelled, true);
      const stored = await app.request(`/v1/runs/${run.run}`);
      assert.equal(stored.status, 200, "the recorded run stays in the study");
    }
    assert.equal(verification.runs[0].kind, "optimized");
  } finally {
    await ctx.close();
  }
});
