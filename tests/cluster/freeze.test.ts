// A worker frozen (SIGSTOP) in the middle of a training job for longer than the job's heartbeat:
// the other worker takes the job over; when the frozen node wakes (SIGCONT) it finds its attempt
// gone and the row held by the other node, and stops its copy without writing: the job never runs
// on two nodes at once, and the study holds exactly the runs of an uninterrupted job.
import assert from "node:assert/strict";
import { TestCluster } from "../helpers/cluster.ts";
import { postgresAvailable } from "../helpers/postgres.ts";
import type { ServiceProcess } from "../helpers/service_process.ts";
import { createTinyModel, trainingRequest } from "./fixtures.ts";

const skip = !postgresAvailable && Deno.env.get("CI") !== "true";
const RUNS = 3;
const STEPS = 16;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runNames(node: ServiceProcess, study: string) {
  const list = await node.api("GET", `/v1/runs?study=${study}&limit=100`);
  return list.body.runs.map((r: { name: string }) => r.name).sort();
}

async function losses(node: ServiceProcess, study: string): Promise<Map<string, number[][]>> {
  const list = await node.api("GET", `/v1/runs?study=${study}&limit=100`);
  const out = new Map<string, number[][]>();
  for (const run of list.body.runs) {
    out.set(run.name, (await node.api("GET", `/v1/runs/${run.id}?format=json`)).body.losses);
  }
  return out;
}

Deno.test({
  name: "a worker frozen past its heartbeat: the job moves, the woken node stops its copy",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cluster = await TestCluster.start({
      nodes: [{ id: "api", role: "api" }, { id: "w1", role: "worker" }, {
        id: "w2",
        role: "worker",
      }],
      env: { SIMFLUENCE_JOB_HEARTBEAT_SECONDS: "10" },
    });
    let frozen: ServiceProcess | null = null;
    try {
      const api = cluster.node("api");
      const model = await createTinyModel(api);
      const request = (study: string) => ({ ...trainingRequest(model, RUNS, STEPS), study });
      const ref = await api.api("POST", "/v1/training-runs", request("reference"));
      assert.equal((await api.waitJob(ref.body.job)).status, "succeeded");

      const started = await api.api("POST", "/v1/training-runs", request("frozen"));
      assert.equal(started.status, 202, started.text);
      const id = started.body.job;
      await api.waitJob(id, (j) => (j.progress?.details?.run ?? 0) >= 1);
      const nodes = (await api.api("GET", "/v1/nodes")).body.nodes;
      const runner: string = nodes.find((n: { job: string | null }) => n.job === id).id;
      const other = runner === "w1" ? "w2" : "w1";
      frozen = cluster.node(runner);
      Deno.kill(-frozen.child.pid, "SIGSTOP");

      // The other worker takes it once the queue heartbeat (10 s) has expired.
      let takenOver = false;
      for (let i = 0; i < 600 && !takenOver; i++) {
        const now = (await api.api("GET", "/v1/nodes")).body.nodes;
        takenOver = now.some((n: { id: string; job: string | null }) =>
          n.id === other && n.job === id
        );
        if (!takenOver) await delay(100);
      }
      assert.ok(takenOver, `${other} never took the job over\n${cluster.logs()}`);
      Deno.kill(-frozen.child.pid, "SIGCONT");
      frozen = null;

      const done = await api.waitJob(id, undefined, 120_000);
      assert.equal(done.status, "succeeded", `${done.error}\n${cluster.logs()}`);
      assert.deepEqual(await runNames(api, "frozen"), ["rec-0", "rec-1", "rec-2"]);
      const want = await losses(api, "reference");
      const got = await losses(api, "frozen");
      for (const [name, rows] of want) {
        rows.forEach((row, i) =>
          row.forEach((loss, j) => {
            const diff = Math.abs(got.get(name)![i][j] - loss);
            assert.ok(diff <= 1e-5 * Math.max(1, Math.abs(loss)), `${name}[${i}][${j}]`);
          })
        );
      }
      // The woken node saw its attempt gone and stopped its copy.
      for (let i = 0; i < 100 && !cluster.node(runner).log.includes("taken over"); i++) {
        await delay(100);
      }
      assert.match(cluster.node(runner).log, /job taken over by another node/);
      // Still succeeded: the woken node wrote nothing over the other's final state.
      await delay(1_000);
      assert.equal((await api.api("GET", `/v1/jobs/${id}`)).body.status, "succeeded");
    } finally {
      if (frozen) Deno.kill(-frozen.child.pid, "SIGCONT");
      await cluster.close();
    }
  },
});
