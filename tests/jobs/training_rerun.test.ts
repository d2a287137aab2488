// A training-runs job runs again from its stored record alone (as a queue worker on another node
// would run it after the first node died): it records only the runs its first attempt did not
// store, and the study ends as an uninterrupted job leaves it.
import assert from "node:assert/strict";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { JobManager } from "../../src/jobs/manager.ts";
import { memoryLogger } from "../../src/log.ts";
import { RUNS } from "../../src/runs/run_store.ts";
import { trainingRunsKind } from "../../src/training/service.ts";
import { testApp } from "../helpers/app.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };

function request(model: string, study: string) {
  return {
    study,
    model,
    dataset: "builtin:skills",
    trainExamples: 12,
    testExamples: 4,
    runs: 3,
    steps: 4,
    batchSize: 4,
    optimizer: { kind: "adamw", lr: 0.01 },
    curriculum: "shuffle",
    seed: 5,
    namePrefix: "r",
  };
}

async function post(app: { request: typeof fetch }, path: string, body: unknown) {
  const res = await app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.status < 300, JSON.stringify(json));
  return json;
}

Deno.test(
  "training-runs: a job re-run from its stored record completes it without duplicates",
  gpuTest,
  async () => {
    const gpu = gpuFromRuntime(await testRuntime(), () => ({}), { ownsRuntime: false });
    const ctx = await testApp({ gpu });
    try {
      const app = ctx.app as unknown as { request: typeof fetch };
      const model = (await post(app, "/v1/models", { config: TINY, seed: 1 })).id as string;

      // The reference: the same request, uninterrupted, in its own study.
      const whole = await post(app, "/v1/training-runs", request(model, "whole"));
      await until(() => ctx.jobs.get(whole.job)!.finishedAt !== null);
      const wholeDone = ctx.jobs.get(whole.job)!;
      assert.equal(wholeDone.status, "succeeded", wholeDone.error ?? "");

      // The first attempt stops as run 2 of 3 begins (its node "dies"): run 1 alone is stored.
      const cut = await post(app, "/v1/training-runs", request(model, "cut"));
      const unsubscribe = ctx.jobs.subscribe(cut.job, (event) => {
        if (event.type === "progress" && event.progress.phase === "run 2/3") {
          ctx.jobs.cancel(cut.job);
        }
      });
      await until(() => ctx.jobs.get(cut.job)!.status === "cancelled");
      unsubscribe?.();
      const interrupted = ctx.store.jobs.get(cut.job)!;
      assert.equal((interrupted.result as { runs: unknown[] }).runs.length, 1);
      assert.equal(ctx.store.get(RUNS).list({ study: "cut", limit: 10, offset: 0 }).total, 1);
      // As a dead node leaves it: still "running" in the store.
      ctx.store.jobs.update(cut.job, { status: "running", finishedAt: null, error: null });

      // Another "node": its own manager over the same store, the kind defined from its own deps.
      const other = new JobManager({ store: ctx.store.jobs, logger: memoryLogger() });
      other.define("training-runs", trainingRunsKind({ store: ctx.store, gpu }));
      const finished = await other.runStored(ctx.store.jobs.get(cut.job)!);
      assert.equal(finished.status, "succeeded", finished.error ?? "");
      const result = finished.result as { runs: { run: number; id: string; name: string }[] };
      assert.deepEqual(result.runs.map((r) => r.run), [0, 1, 2], "the result lists all three");
      assert.equal(
        result.runs[0].id,
        (interrupted.result as { runs: { id: string }[] }).runs[0].id,
      );

      // Running the finished record's job once more stores nothing new.
      ctx.store.jobs.update(cut.job, { status: "running", finishedAt: null });
      const again = await other.runStored(ctx.store.jobs.get(cut.job)!);
      assert.equal(again.status, "succeeded", again.error ?? "");
      assert.deepEqual(
        (again.result as { runs: { id: string }[] }).runs.map((r) => r.id),
        result.runs.map((r) => r.id),
      );

      const runs = ctx.store.get(RUNS);
      const cutRuns = runs.list({ study: "cut", limit: 10, offset: 0 }).runs;
      assert.equal(cutRuns.length, 3, "exactly three runs, none duplicated");
      assert.deepEqual(cutRuns.map((r) => r.name).sort(), ["r-0", "r-1", "r-2"]);
      const wholeRuns = runs.list({ study: "whole", limit: 10, offset: 0 }).runs;
      for (const name of ["r-0", "r-1", "r-2"]) {
        const a = (await runs.load(cutRuns.find((r) => r.name === name)!.id)).run;
        const b = (await runs.load(wholeRuns.find((r) => r.name === name)!.id)).run;
        assert.deepEqual(a.steps, b.steps, `${name}: the same curriculum`);
        assert.equal(a.losses.length, b.losses.length);
        const worst = a.losses.reduce((m, v, i) => Math.max(m, Math.abs(v - b.losses[i])), 0);
        assert.ok(worst <= 1e-6, `${name}: losses differ by ${worst}`);
      }
      await other.shutdown(1_000);
    } finally {
      await ctx.close();
    }
  },
);

async function until(predicate: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
