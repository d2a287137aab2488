// Runs keep their data weights (steps[].weights, MATH.md §7): uploaded and returned as given,
// checked like every field, and read as absent where 0 by the simulators' view of a run.
import assert from "node:assert/strict";
import { presentIds } from "../../src/runs/run_input.ts";
import { toMathRun } from "../../src/simfluence/study_runs.ts";
import { RUNS } from "../../src/runs/run_store.ts";
import { testApp } from "../helpers/app.ts";

const run = (steps: unknown[]) => ({
  study: "weights",
  name: `r-${crypto.randomUUID().slice(0, 6)}`,
  testExamples: ["q"],
  steps,
  losses: [[2], [1.9], [1.8]],
});

const post = (app: Awaited<ReturnType<typeof testApp>>["app"], body: unknown) =>
  app.request("/v1/runs", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

Deno.test("run weights: kept, checked, and weight 0 is absent for simulators", async () => {
  const ctx = await testApp();
  try {
    const steps = [{ batch: ["a", "b"], weights: [1, 0] }, { batch: ["b", "c"] }];
    const res = await post(ctx.app, run(steps));
    assert.equal(res.status, 201, await res.clone().text());
    const { id } = await res.json();
    const back = await (await ctx.app.request(`/v1/runs/${id}?format=json`)).json();
    assert.deepEqual(back.steps, steps);

    const stored = await ctx.store.get(RUNS).load(id);
    assert.deepEqual(stored.run.steps.map(presentIds), [["a"], ["b", "c"]]);
    const index = new Map([["a", 0], ["b", 1], ["c", 2]]);
    assert.deepEqual(toMathRun(stored, index).batches, [[0], [1, 2]]);

    for (
      const [weights, field] of [
        [[1], "steps.0.weights"],
        [[1, -1], "steps.0.weights.1"],
      ] as const
    ) {
      const bad = await post(ctx.app, run([{ batch: ["a", "b"], weights }, { batch: ["c"] }]));
      assert.equal(bad.status, 400);
      assert.equal((await bad.json()).error.details.field, field);
    }
  } finally {
    await ctx.close();
  }
});
