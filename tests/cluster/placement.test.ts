// Placement: a worker without a WebGPU adapter serves only the CPU queue. A simulator fit (CPU)
// runs on it; a training job (GPU) waits queued until a worker with an adapter joins, which then
// takes it at once.
import assert from "node:assert/strict";
import { TestCluster } from "../helpers/cluster.ts";
import { postgresAvailable } from "../helpers/postgres.ts";
import { createTinyModel, syntheticRun, trainingRequest } from "./fixtures.ts";

const skip = !postgresAvailable && Deno.env.get("CI") !== "true";

Deno.test({
  name: "a worker without a GPU takes CPU jobs only; GPU jobs wait for a worker with one",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cluster = await TestCluster.start({
      nodes: [{ id: "api", role: "api" }, { id: "cpu", role: "worker", noGpu: true }],
      env: { SIMFLUENCE_JOB_HEARTBEAT_SECONDS: "10" },
    });
    try {
      const api = cluster.node("api");
      const nodes = (await api.api("GET", "/v1/nodes")).body.nodes;
      assert.equal(nodes.find((n: { id: string }) => n.id === "cpu").adapter, null);
      assert.notEqual(nodes.find((n: { id: string }) => n.id === "api").adapter, null);

      const model = await createTinyModel(api);
      const training = await api.api("POST", "/v1/training-runs", trainingRequest(model, 1, 4));
      assert.equal(training.status, 202, training.text);
      const ids: string[] = [];
      for (let r = 0; r < 4; r++) {
        ids.push((await api.api("POST", "/v1/runs", syntheticRun(r))).body.id);
      }
      const fit = await api.api("POST", "/v1/simulators", {
        study: "fit",
        kind: "linear",
        trainRuns: ids.slice(0, 3),
        validationRuns: ids.slice(3),
      });
      assert.equal(fit.status, 202, fit.text);
      const fitted = await api.waitJob(fit.body.job, undefined, 120_000);
      assert.equal(fitted.status, "succeeded", `${fitted.error}\n${cluster.logs()}`);
      // Past the idle worker's poll (2 s here): the GPU job is still waiting.
      await new Promise((r) => setTimeout(r, 3_000));
      assert.equal((await api.api("GET", `/v1/jobs/${training.body.job}`)).body.status, "queued");

      await cluster.addNode({ id: "gpu", role: "worker" });
      const trained = await api.waitJob(training.body.job, undefined, 120_000);
      assert.equal(trained.status, "succeeded", `${trained.error}\n${cluster.logs()}`);
    } finally {
      await cluster.close();
    }
  },
});
