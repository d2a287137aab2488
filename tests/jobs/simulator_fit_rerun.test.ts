// A simulator-fit job run more than once from its stored record (two nodes at once, a node taking
// it while the first still holds it, a retry after a crash) stores one simulator and one file.
import assert from "node:assert/strict";
import { JobManager } from "../../src/jobs/manager.ts";
import { memoryLogger } from "../../src/log.ts";
import { generateRuns, randomModel } from "../../src/simfluence/math/synthetic.ts";
import { simulatorFitKind } from "../../src/simfluence/service.ts";
import { SIMULATORS } from "../../src/simfluence/simulator_store.ts";
import { fakeGpu, testApp, until } from "../helpers/app.ts";
import { simulatorFiles } from "../helpers/simulator_files.ts";

const M = 3;

async function uploadStudy(app: { request: typeof fetch }): Promise<string[]> {
  const model = randomModel(2, {
    n: 6,
    m: M,
    aMean: -0.01,
    aSpread: 0.004,
    bMean: 0,
    bSpread: 0.01,
  });
  const initial = Float32Array.from({ length: M }, (_, z) => 2 + 0.25 * z);
  const runs = generateRuns(4, model, { runs: 3, steps: 8, batch: 2, noise: 1e-4, initial });
  const ids: string[] = [];
  for (const [r, run] of runs.entries()) {
    const losses: number[][] = [];
    for (let t = 0; t <= run.batches.length; t++) {
      losses.push(Array.from(run.losses.subarray(t * M, (t + 1) * M)));
    }
    const res = await app.request("/v1/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        study: "s",
        name: `run-${r}`,
        testExamples: Array.from({ length: M }, (_, z) => `q${z}`),
        steps: (run.batches as number[][]).map((b) => ({ batch: b.map((i) => `e${i}`) })),
        losses,
      }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    ids.push((await res.json()).id);
  }
  return ids;
}

Deno.test("simulator-fit: running the same job twice leaves one simulator and one file", async () => {
  const ctx = await testApp();
  try {
    const app = ctx.app as unknown as { request: typeof fetch };
    const runIds = await uploadStudy(app);
    // Hold this node's queue so the fit stays queued while another node takes it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    ctx.jobs.submit("block", null, () => held);
    const res = await app.request("/v1/simulators", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ study: "s", kind: "linear", trainRuns: runIds, lambda: 0.01 }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { simulator, job } = await res.json();
    const queued = ctx.store.jobs.get(job)!;
    assert.equal(queued.status, "queued");

    // Two other nodes take it at once (as a retry racing a node thought dead): both fit, one stores.
    const node = () => {
      const jobs = new JobManager({ store: ctx.store.jobs, logger: memoryLogger() });
      jobs.define("simulator-fit", simulatorFitKind({ store: ctx.store, gpu: fakeGpu() }));
      return jobs;
    };
    const [other, third] = [node(), node()];
    const attempts = await Promise.all([other.runStored(queued), third.runStored(queued)]);
    for (const attempt of attempts) assert.equal(attempt.status, "succeeded", attempt.error ?? "");
    const first = attempts[0];
    assert.equal((first.result as { simulator: string }).simulator, simulator.id);
    const simulators = ctx.store.get(SIMULATORS);
    const fitted = simulators.get(simulator.id)!;
    assert.equal(fitted.status, "ready");
    const files = simulatorFiles(ctx.store, simulator.id);
    assert.equal(files.length, 1);

    // The same record once more on the other node, then on this one when its queue frees.
    const second = await other.runStored({ ...queued });
    assert.equal(second.status, "succeeded", second.error ?? "");
    release();
    await until(() => ctx.jobs.get(job)!.finishedAt !== null, 10_000);
    assert.equal(ctx.jobs.get(job)!.status, "succeeded", ctx.jobs.get(job)!.error ?? "");
    assert.equal((ctx.jobs.get(job)!.result as { simulator: string }).simulator, simulator.id);

    assert.equal(simulators.list({ study: "s", limit: 10, offset: 0 }).total, 1);
    assert.deepEqual(simulatorFiles(ctx.store, simulator.id), files, "no second parameters file");
    assert.deepEqual(simulators.get(simulator.id)!.fit, fitted.fit, "the first fit stands");
    await other.shutdown(1_000);
    await third.shutdown(1_000);
  } finally {
    await ctx.close();
  }
});
