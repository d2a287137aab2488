// Jobs across three real nodes (one PostgreSQL, one shared blob folder): runs uploaded to node 1, a
// simulator fit and a training job started on node 2 and run by whichever worker takes them, both
// watched to the end from node 3 over SSE; GET /v1/jobs and /v1/nodes agree on every node; a
// queued job is cancelled at once from any node and never runs; a running job is cancelled from a
// node that does not run it and stops within 2 s.
import assert from "node:assert/strict";
import { TestCluster } from "../helpers/cluster.ts";
import { postgresAvailable } from "../helpers/postgres.ts";
import { createTinyModel, syntheticRun, trainingRequest, watchJob } from "./fixtures.ts";

const skip = !postgresAvailable && Deno.env.get("CI") !== "true";

Deno.test({
  name: "three nodes: started on 2, run by a worker, watched from 3; cancel across nodes",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const cluster = await TestCluster.start({
      nodes: [{ id: "n1" }, { id: "n2", role: "api" }, { id: "n3" }],
      env: { SIMFLUENCE_JOB_HEARTBEAT_SECONDS: "10" },
    });
    try {
      const [n1, n2, n3] = ["n1", "n2", "n3"].map((id) => cluster.node(id));

      await t.step("the launcher's narrow permissions suffice: no node was refused one", () => {
        // pg-boss and node-postgres read system facts (the memory size, the host's name) that
        // deno task start must grant; a refusal is only logged, so look for it.
        for (const id of cluster.nodeIds) {
          assert.ok(!/NotCapable/.test(cluster.node(id).log), `${id}:\n${cluster.node(id).log}`);
        }
      });

      await t.step("GET /v1/nodes lists every node on every node", async () => {
        for (const node of [n1, n2, n3]) {
          const res = await node.api("GET", "/v1/nodes");
          assert.equal(res.status, 200, res.text);
          const byId = new Map(res.body.nodes.map((n: { id: string }) => [n.id, n]));
          assert.deepEqual([...byId.keys()].sort(), ["n1", "n2", "n3"]);
          // deno-lint-ignore no-explicit-any
          assert.equal((byId.get("n2") as any).role, "api");
          // deno-lint-ignore no-explicit-any
          for (const n of byId.values()) assert.equal((n as any).alive, true);
        }
      });

      await t.step("fit and training started on node 2, watched from node 3", async () => {
        const ids: string[] = [];
        for (let r = 0; r < 6; r++) {
          const res = await n1.api("POST", "/v1/runs", syntheticRun(r));
          assert.equal(res.status, 201, res.text);
          ids.push(res.body.id);
        }
        const model = await createTinyModel(n1);
        const fit = await n2.api("POST", "/v1/simulators", {
          study: "fit",
          kind: "linear",
          trainRuns: ids.slice(0, 4),
          validationRuns: ids.slice(4),
        });
        assert.equal(fit.status, 202, fit.text);
        const training = await n2.api("POST", "/v1/training-runs", trainingRequest(model, 2, 6));
        assert.equal(training.status, 202, training.text);

        const [fitEvents, trainingEvents] = await Promise.all([
          watchJob(n3, fit.body.job),
          watchJob(n3, training.body.job),
        ]);
        for (const [events, what] of [[fitEvents, "fit"], [trainingEvents, "training"]] as const) {
          const last = events[events.length - 1];
          assert.equal(last.event, "done", `${what}: ${JSON.stringify(last)}\n${cluster.logs()}`);
          const ids = events.map((e) => Number(e.id));
          assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `${what}: ids in order`);
        }
        // Reconnecting on yet another node with the final event's id: nothing left (204).
        const finalId = trainingEvents[trainingEvents.length - 1].id;
        const replay = await fetch(`${n1.url}/v1/jobs/${training.body.job}/events`, {
          headers: { "last-event-id": finalId },
        });
        await replay.body?.cancel();
        assert.equal(replay.status, 204);
        // Training reports progress as it records: node 3 saw some of it live.
        assert.ok(trainingEvents.filter((e) => e.event === "progress").length >= 2);
        const job = await n3.api("GET", `/v1/jobs/${training.body.job}`);
        assert.equal(job.body.status, "succeeded");
        assert.equal(job.body.result.runs.length, 2);
        const fitted = await n1.api("GET", `/v1/simulators/${fit.body.simulator.id}`);
        assert.equal(fitted.body.status, "ready");
        // Node 2 (api) ran neither: both went to the workers.
        const list = await n2.api("GET", "/v1/jobs?limit=10");
        assert.equal(list.status, 200);
        assert.ok(list.body.jobs.some((j: { id: string }) => j.id === training.body.job));
        const runs = await n3.api("GET", "/v1/runs?study=recorded&limit=100");
        assert.deepEqual(runs.body.runs.map((r: { name: string }) => r.name).sort(), [
          "rec-0",
          "rec-1",
        ]);
      });

      await t.step("cancel across nodes: queued at once, running within 2 s", async () => {
        const model = await createTinyModel(n1);
        // Three long jobs for two workers: two run, one waits in the queue.
        const ids: string[] = [];
        for (let k = 0; k < 3; k++) {
          const started = await n2.api("POST", "/v1/training-runs", {
            ...trainingRequest(model, 3, 400),
            study: `cancelled-${k}`,
          });
          assert.equal(started.status, 202, started.text);
          ids.push(started.body.job);
        }
        let running: string[] = [];
        for (let i = 0; i < 600 && running.length < 2; i++) {
          const list = await n2.api("GET", "/v1/jobs?status=running&limit=10");
          running = list.body.jobs.map((j: { id: string }) => j.id).filter((id: string) =>
            ids.includes(id)
          );
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(running.length, 2, cluster.logs());
        const queued = ids.find((id) => !running.includes(id))!;
        const withdrawn = await n3.api("DELETE", `/v1/jobs/${queued}`);
        assert.equal(withdrawn.status, 200, withdrawn.text);
        assert.equal(withdrawn.body.status, "cancelled");

        const nodes = (await n2.api("GET", "/v1/nodes")).body.nodes;
        for (const id of running) {
          await n2.waitJob(id, (j) => (j.progress?.details?.runStep ?? 0) >= 2);
          const runner = nodes.find((n: { job: string | null }) => n.job === id)?.id;
          assert.ok(runner, `a node reports running ${id}`);
          // From a node that does not run it: the other worker, or the api node.
          const from = cluster.node(["n1", "n3"].find((n) => n !== runner)!);
          const watching = watchJob(n2, id);
          const t0 = performance.now();
          const res = await from.api("DELETE", `/v1/jobs/${id}`);
          assert.equal(res.status, 202, res.text);
          const events = await watching;
          const elapsed = performance.now() - t0;
          assert.equal(events[events.length - 1].event, "cancelled");
          assert.ok(elapsed < 2_000, `stopped after ${elapsed.toFixed(0)} ms`);
          assert.equal((await n3.api("GET", `/v1/jobs/${id}`)).body.status, "cancelled");
          // Finished now: 409 on any node, as on one.
          assert.equal((await n1.api("DELETE", `/v1/jobs/${id}`)).status, 409);
        }
        // The withdrawn job never ran, though the workers are idle again.
        await new Promise((r) => setTimeout(r, 3_000));
        const after = await n1.api("GET", `/v1/jobs/${queued}`);
        assert.equal(after.body.status, "cancelled");
        assert.equal(after.body.startedAt, null);
        const idle = (await n1.api("GET", "/v1/nodes")).body.nodes;
        assert.ok(idle.every((n: { job: string | null }) => n.job === null), JSON.stringify(idle));
      });
    } finally {
      await cluster.close();
    }
  },
});
