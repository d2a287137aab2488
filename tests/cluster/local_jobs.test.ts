// Jobs of a local kind (device-tune: it measures the node's own adapter) never enter the queue:
// they run on the node that took the request, no other node takes them when it dies, and they are
// marked failed (`interrupted`) as it rejoins. (A DELETE from another node reaches them over the
// bus; the tuner does not check its signal, so that is not timed here: a tune takes minutes.)
import assert from "node:assert/strict";
import { TestCluster } from "../helpers/cluster.ts";
import { postgresAvailable } from "../helpers/postgres.ts";

const skip = !postgresAvailable && Deno.env.get("CI") !== "true";

Deno.test({
  name: "local jobs: not taken by another node, failed as interrupted when their node rejoins",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cluster = await TestCluster.start({
      nodes: [{ id: "a" }, { id: "b" }],
      env: { SIMFLUENCE_JOB_HEARTBEAT_SECONDS: "10" },
    });
    try {
      const again = await cluster.node("a").api("POST", "/v1/device/tune", { quick: true });
      assert.equal(again.status, 202, again.text);
      await cluster.node("b").waitJob(again.body.job, (j) => j.status === "running");
      await cluster.kill("a");
      const midway = await cluster.node("b").api("GET", `/v1/jobs/${again.body.job}`);
      assert.equal(midway.body.status, "running", "nobody else takes a local job");
      await cluster.startNode("a");
      const after = await cluster.node("b").api("GET", `/v1/jobs/${again.body.job}`);
      assert.equal(after.body.status, "failed");
      assert.equal(after.body.error, "interrupted");
    } finally {
      await cluster.close();
    }
  },
});
