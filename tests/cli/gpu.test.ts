// The CLI's GPU commands against a real service on the WebGPU adapter (llvmpipe here): record
// runs by fine-tuning a tiny model, fit influence factors, score queries and show the top examples.
import assert from "node:assert/strict";
import { join } from "node:path";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { startService } from "./harness.ts";

Deno.test("cli: record, influence factors, scores and top on the GPU", gpuTest, async (t) => {
  const gpu = gpuFromRuntime(await testRuntime(), () => ({}), { ownsRuntime: false });
  const service = await startService({ gpu });
  const dir = await Deno.makeTempDir({ prefix: "simfluence-cli-gpu-" });
  try {
    const config = join(dir, "config.json");
    await Deno.writeTextFile(
      config,
      JSON.stringify({ vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 }),
    );
    const created = await service.cli(["--json", "models", "create", "--config", config]);
    assert.equal(created.code, 0, created.stderr);
    const model = JSON.parse(created.stdout).id;

    await t.step("device names the backend the kernels run on", async () => {
      const res = await service.cli(["device"]);
      assert.equal(res.code, 0, res.stderr);
      const runtime = await testRuntime();
      assert.match(res.stdout, new RegExp(`│ kernels on\\s+│ ${runtime.backend} \\(`));
    });

    await t.step("record follows the training job and lists the runs", async () => {
      const res = await service.cli([
        "--json",
        "record",
        "--model",
        model,
        "--dataset",
        "builtin:skills",
        "--study",
        "rec",
        "--train",
        "12",
        "--test",
        "3",
        "--steps",
        "6",
        "--runs",
        "2",
        "--batch-size",
        "4",
        "--checkpoint-every",
        "3",
        "--name-prefix",
        "ck",
      ]);
      assert.equal(res.code, 0, res.stderr);
      const { runs } = JSON.parse(res.stdout);
      assert.deepEqual(runs.map((r: { name: string }) => r.name), ["ck-0", "ck-1"]);
      assert.equal(runs.length, 2);
      for (const run of runs) {
        assert.equal(run.study, "rec");
        assert.equal(run.steps, 6);
        assert.equal(run.testExamples, 3);
      }
    });

    await t.step("a failed record exits 1 with the service's message", async () => {
      const res = await service.cli([
        "record",
        "--model",
        model,
        "--dataset",
        "builtin:skills",
        "--study",
        "rec2",
        "--train",
        "no-such-example",
        "--test",
        "2",
        "--steps",
        "2",
      ]);
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, /^error: trainExamples: ids not in the dataset: no-such-example/m);
    });

    await t.step("influence factors, then scores with the top examples", async () => {
      const ids = ["add1-0", "add1-1", "add1-2", "add1-3", "add1-4", "add1-5"];
      const factors = await service.cli([
        "--json",
        "influence",
        "factors",
        "--model",
        model,
        "--dataset",
        "builtin:skills",
        "--ids",
        ids.join(","),
      ]);
      assert.equal(factors.code, 0, factors.stderr);
      const fitted = JSON.parse(factors.stdout);
      assert.equal(fitted.status, "ready");
      const scores = await service.cli([
        "--json",
        "influence",
        "scores",
        "--factors",
        fitted.id,
        "--queries",
        "builtin:skills",
        "--query-ids",
        "add1-0,add1-3",
        "--top",
        "2",
      ]);
      assert.equal(scores.code, 0, scores.stderr);
      const { scores: set, top } = JSON.parse(scores.stdout);
      assert.deepEqual(set.shape, [2, ids.length]);
      assert.deepEqual(top.map((q: { query: string }) => q.query), ["add1-0", "add1-3"]);
      // Each query is also a training example: the top list agrees with the service's own.
      const direct = await (await fetch(
        `${service.url}/v1/influence/scores/${set.id}/top?query=add1-3&k=2`,
      )).json();
      assert.deepEqual(top[1], direct);
      const table = await service.cli(["influence", "top", set.id, "--query", "add1-0", "-k", "2"]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /query add1-0/);
      assert.match(table.stdout, /helpful|harmful/);
    });

    await t.step("influence tracin over a recorded run's checkpoints", async () => {
      const res = await service.cli([
        "--json",
        "influence",
        "tracin",
        "--run",
        "ck-0",
        "--study",
        "rec",
        "--query",
        "add1 5= 6",
        "--parameters",
        "mlp",
        "--top",
        "3",
      ]);
      assert.equal(res.code, 0, res.stderr);
      const { scores: set, top } = JSON.parse(res.stdout);
      assert.equal(set.method, "tracin");
      // Default training examples: the run's 12, scored against the one query.
      assert.deepEqual(set.shape, [1, 12]);
      assert.equal(top[0].query, "q0");
      assert.ok(top[0].helpful.length + top[0].harmful.length > 0);
    });
    await t.step("influence magic: exact metagradients of a recorded run", async () => {
      const res = await service.cli([
        "--json",
        "influence",
        "magic",
        "--run",
        "ck-0",
        "--study",
        "rec",
        "--query",
        "add1 5= 6",
        "--top",
        "3",
      ]);
      assert.equal(res.code, 0, res.stderr);
      const { scores: set, top } = JSON.parse(res.stdout);
      assert.equal(set.method, "magic");
      // The run's 12 training examples against the one query.
      assert.deepEqual(set.shape, [1, 12]);
      assert.equal(top[0].query, "q0");
      assert.ok(top[0].helpful.length + top[0].harmful.length > 0);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await service.stop();
  }
});
