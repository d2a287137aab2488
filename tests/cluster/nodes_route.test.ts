// GET /v1/nodes without PostgreSQL: this node alone, with its role, adapter and running job, as
// the OpenAPI document describes it.
import assert from "node:assert/strict";
import { testApp, until } from "../helpers/app.ts";

Deno.test("GET /v1/nodes on one node: itself, with the job it runs", async () => {
  const t = await testApp({ env: { SIMFLUENCE_NODE_ID: "solo", SIMFLUENCE_ROLE: "all" } });
  try {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const job = t.jobs.submit("test-wait", null, () => gate);
    await new Promise((r) => setTimeout(r, 20));
    const res = await t.app.request("/v1/nodes");
    assert.equal(res.status, 200);
    const { nodes } = await res.json();
    assert.equal(nodes.length, 1);
    const [node] = nodes;
    assert.equal(node.id, "solo");
    assert.equal(node.role, "all");
    assert.equal(node.alive, true);
    assert.equal(node.job, job.id);
    assert.equal(typeof node.adapter.vendor, "string");
    assert.ok(Date.parse(node.heartbeatAt) >= Date.parse(node.startedAt));
    release();
    await until(() => t.jobs.get(job.id)?.status === "succeeded");
    const after = await (await t.app.request("/v1/nodes")).json();
    assert.equal(after.nodes[0].job, null);
    const spec = await (await t.app.request("/openapi.json")).json();
    assert.ok(spec.paths["/v1/nodes"]?.get, "documented");
    assert.ok(spec.components.schemas.Node, "Node schema");
  } finally {
    await t.close();
  }
});
