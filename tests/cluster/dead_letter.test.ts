// A job whose node dies on every attempt: after pg-boss's last retry it lands in the dead-letter
// queue and the row is marked failed ("the nodes that ran it died 4 times"), seen from another
// node. Then every node stops gracefully on SIGTERM (pg-boss stopped, bus closed): exit code 0.
import assert from "node:assert/strict";
import { TestCluster } from "../helpers/cluster.ts";
import { postgresAvailable } from "../helpers/postgres.ts";
import { createTinyModel, trainingRequest } from "./fixtures.ts";

const skip = !postgresAvailable && Deno.env.get("CI") !== "true";
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test({
  name: "a job whose node dies on every attempt is failed after the last retry; SIGTERM stops",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cluster = await TestCluster.start({
      nodes: [{ id: "api", role: "api" }, { id: "w", role: "worker" }],
      env: { SIMFLUENCE_JOB_HEARTBEAT_SECONDS: "10" },
    });
    try {
      const api = cluster.node("api");
      const model = await createTinyModel(api);
      const started = await api.api("POST", "/v1/training-runs", trainingRequest(model, 3, 2000));
      assert.equal(started.status, 202, started.text);
      const id = started.body.job;
      // Four attempts (retryLimit 3): each time the worker takes the job, it is killed.
      for (let attempt = 1; attempt <= 4; attempt++) {
        let runner: string | null = null;
        for (let i = 0; i < 600 && runner === null; i++) {
          const nodes = (await api.api("GET", "/v1/nodes")).body.nodes;
          runner = nodes.find((n: { id: string; job: string | null; alive: boolean }) =>
            n.id === "w" && n.job === id
          )?.id ?? null;
          if (runner === null) {
            await delay(100);
          }
        }
        assert.equal(runner, "w", `attempt ${attempt} never started\n${cluster.logs()}`);
        await cluster.kill("w");
        await cluster.startNode("w");
      }
      const failed = await api.waitJob(id, undefined, 120_000);
      assert.equal(failed.status, "failed", cluster.logs());
      assert.equal(failed.error, "the nodes that ran it died 4 times");
      assert.equal((await cluster.node("w").api("GET", `/v1/jobs/${id}`)).body.status, "failed");

      for (const node of ["api", "w"]) {
        const t0 = performance.now();
        assert.equal(await cluster.stop(node), 0, `${node} exit code`);
        assert.ok(performance.now() - t0 < 15_000, `${node} stopped promptly`);
      }
    } finally {
      await cluster.close();
    }
  },
});
